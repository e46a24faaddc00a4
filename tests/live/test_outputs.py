"""The live outputs as a player and an editor see them: every file written, then parsed back by its library —
the rolling WebVTT and the segments by webvtt-py, the SRT by ``srt``, the playlist by ``m3u8`` and played
through each ffmpeg build's HLS demuxer — at each step of a run fed as a live run feeds it."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import m3u8
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dubber.errors import OutputError
from dubber.live.outputs import LiveWriter, overlaps, read_back
from dubber.media.tool import run_ffmpeg
from dubber.models import Cue
from dubber.subtitles.writers import to_srt, to_vtt
from tests.support.cues import read_ass, read_srt, read_vtt
from tests.support.ffmpeg import builds

S = 6000
# Windows as a live run hands them over: each batch, then the frontier the caller then knows (the next
# window's start). Cues cross segment boundaries (5500-6500), span three segments (11000-19000), overlap
# the one before (12500 < 19000), touch a boundary exactly (24000), and leave segments 5-7 empty.
BATCHES = [
    ([Cue(500, 2500, "Bonjour à tous"), Cue(3000, 5000, "a <b>bold</b> & --> arrow")], 5500),
    ([Cue(5500, 6500, "à cheval\nsur la limite")], 11000),
    ([Cue(11000, 19000, "三段にまたがる字幕"), Cue(12500, 14000, "重なる")], 20000),
    ([Cue(20000, 24000, "fin pile sur la limite"), Cue(24000, 25000, "début pile")], 50000),
    ([Cue(50000, 52500, "après un silence &amp; &lt;")], 53000),
]
END_MS = 53100  # the last segment (48000-53100) is 5.1 s
CUES = [cue for batch, _ in BATCHES for cue in batch]


def as_tuples(cues):
    return [(c.start_ms, c.end_ms, c.text) for c in cues]


def listed(writer: LiveWriter) -> m3u8.M3U8:
    return m3u8.loads(writer.playlist.read_text(encoding="utf-8"))


def live_run(folder: Path, *, end_ms: int = END_MS, batches=BATCHES, segment_ms: int = S) -> LiveWriter:
    writer = LiveWriter(folder, "fr", segment_ms=segment_ms)
    for batch, frontier in batches:
        writer.add(batch)
        writer.advance(frontier)
    writer.close(end_ms)
    return writer


def test_the_rolling_vtt_holds_exactly_the_cues_handed_over_at_every_step(tmp_path: Path):
    writer = LiveWriter(tmp_path, "fr", segment_ms=S)
    assert read_vtt(writer.vtt) == []  # a header alone: already a valid file
    given_so_far: list[Cue] = []
    for batch, frontier in BATCHES:
        writer.add(batch)
        given_so_far += batch
        assert read_vtt(writer.vtt) == as_tuples(given_so_far)  # before any advance: at once
        writer.advance(frontier)
        assert read_vtt(writer.vtt) == as_tuples(given_so_far)
    writer.close(END_MS)
    assert read_vtt(writer.vtt) == as_tuples(CUES)
    assert read_srt(writer.srt) == [(c.start_ms, c.end_ms, c.text.replace("-->", "->")) for c in CUES]
    # the same cues, the same bytes as dubber's file writers make (the rolling file keeps its last blank line)
    assert writer.vtt.read_text(encoding="utf-8") == to_vtt(CUES) + "\n"
    assert writer.srt.read_text(encoding="utf-8") == to_srt(CUES)


def test_the_playlist_played_through_m3u8_gives_back_the_cues(tmp_path: Path):
    writer = live_run(tmp_path)
    playlist = listed(writer)
    assert (playlist.version, playlist.target_duration, playlist.media_sequence) == (3, 6, 0)
    assert playlist.playlist_type == "event" and playlist.is_endlist
    assert [s.uri for s in playlist.segments] == [f"subs.fr.{n}.vtt" for n in range(9)]
    durations = [round(s.duration * 1000) for s in playlist.segments]
    assert durations == [S] * 8 + [5100] and sum(durations) == END_MS
    seen: list[tuple[int, int, str]] = []
    for n, segment in enumerate(playlist.segments):
        path = tmp_path / segment.uri
        assert path.read_text(encoding="utf-8").startswith(
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n")
        held = read_vtt(path)
        assert held == as_tuples(c for c in CUES if overlaps(c, n * S, (n + 1) * S)), n
        seen += [cue for cue in held if cue not in seen]  # a cue across a boundary comes once per segment
    assert seen == read_vtt(writer.vtt) == as_tuples(CUES)
    assert read_vtt(tmp_path / "subs.fr.1.vtt")[0] == (5500, 6500, "à cheval\nsur la limite")
    assert [len(read_vtt(tmp_path / f"subs.fr.{n}.vtt")) for n in range(9)] == [3, 2, 2, 2, 1, 0, 0, 0, 1]
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize("build", builds(), ids=lambda b: b.name)
def test_each_ffmpeg_build_plays_the_rendition(tmp_path: Path, build):
    if build.path is None:
        pytest.skip(build.missing)
    writer = live_run(tmp_path / "out")
    ass = tmp_path / "played.ass"
    # The static 4.2.2 and 7.0.2 builds refuse a ".vtt" segment by default (allowed_extensions) and then
    # exit 0 with nothing read; Debian's 5.1 and the wheel's 9.0 take it as it is. Every build drops the
    # repeats of a cue across a boundary itself.
    run_ffmpeg(["-allowed_extensions", "ALL", "-i", str(writer.playlist), "-f", "ass", str(ass)],
               what="play the HLS subtitle rendition", exe=build.path)
    # ASS keeps centiseconds: every time in CUES is a whole one
    assert read_ass(ass) == as_tuples(CUES)


def test_a_segment_is_listed_only_once_the_frontier_has_passed_its_end(tmp_path: Path):
    writer = LiveWriter(tmp_path, "fr", segment_ms=S)
    assert listed(writer).segments == [] and not listed(writer).is_endlist
    writer.add([Cue(1000, 2000, "un")])
    writer.advance(5999)  # a cue may still start at 5999, inside segment 0
    assert listed(writer).segments == [] and not (tmp_path / "subs.fr.0.vtt").exists()
    writer.advance(6000)
    assert [s.uri for s in listed(writer).segments] == ["subs.fr.0.vtt"]
    assert read_vtt(tmp_path / "subs.fr.0.vtt") == [(1000, 2000, "un")]
    writer.add([Cue(6000, 13000, "deux")])
    writer.advance(17999)
    assert [s.uri for s in listed(writer).segments] == ["subs.fr.0.vtt", "subs.fr.1.vtt"]
    assert not (tmp_path / "subs.fr.2.vtt").exists() and writer.held == 1  # "deux" still reaches segment 2
    writer.advance(3000)  # a frontier behind the last one changes nothing
    assert len(listed(writer).segments) == 2 and not listed(writer).is_endlist
    writer.close(18000)  # the end on a boundary: no empty last segment
    assert [round(s.duration * 1000) for s in listed(writer).segments] == [S, S, S]
    assert listed(writer).is_endlist and writer.held == 0


def test_memory_holds_only_the_cues_of_unwritten_segments(tmp_path: Path):
    n_cues = 600  # an hour of captions, one every 6 s (each step fsyncs three files: kept short)
    writer = LiveWriter(tmp_path, "fr", segment_ms=S)
    for n in range(n_cues):
        writer.add([Cue(n * S + 1000, n * S + 4000, f"cue {n}")])
        writer.advance((n + 1) * S)
        assert writer.held == 0
    writer.add([Cue(n_cues * S, n_cues * S + 9000, "long")])
    writer.advance((n_cues + 1) * S)
    assert writer.held == 1  # it still reaches the next segment
    writer.close((n_cues + 2) * S)
    assert len(read_vtt(writer.vtt)) == len(read_srt(writer.srt)) == n_cues + 1
    assert len(listed(writer).segments) == n_cues + 2


HOSTILE = ["<b>not bold</b>", "a & b &amp; c &lt;", "x --> y", "00:00:01.000 --> 00:00:02.000", "WEBVTT",
           "NOTE this is text", "STYLE", "字幕のテスト、中文字幕。", "مرحبا بالعالم", "  leading and trailing  ",
           "line one\nline two\nline three", "emoji 👋🏽 and ZWJ 👨‍👩‍👧"]


def test_any_text_a_cue_can_hold_comes_back_intact(tmp_path: Path):
    cues = [Cue(i * 1000, i * 1000 + 900, text) for i, text in enumerate(HOSTILE)]
    writer = LiveWriter(tmp_path, "ja", segment_ms=S)
    writer.add(cues)
    writer.close(len(cues) * 1000)
    assert read_vtt(writer.vtt) == as_tuples(cues)
    assert list(read_back(writer.vtt)) == cues
    assert read_srt(writer.srt) == [(c.start_ms, c.end_ms, re.sub(r"-{2,}>", "->", c.text)) for c in cues]
    segments = [tmp_path / s.uri for s in listed(writer).segments]
    assert [c for path in segments for c in read_vtt(path)] == as_tuples(cues)  # none crosses a boundary


def test_text_webvtt_cannot_hold_is_refused_before_anything_is_written(tmp_path: Path):
    writer = LiveWriter(tmp_path, "fr")
    with pytest.raises(ValueError, match="blank line"):
        writer.add([Cue(0, 1000, "fine"), Cue(1000, 2000, "one\n\ntwo")])
    assert writer.vtt.read_text(encoding="utf-8") == "WEBVTT\n\n" and writer.held == 0


def test_write_failures_are_output_errors_naming_the_file(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(OutputError) as caught:
        LiveWriter(blocker / "out", "fr")
    assert caught.value.path == blocker / "out"
    writer = LiveWriter(tmp_path / "out", "fr")
    writer.add([Cue(0, 1000, "un")])
    shutil.rmtree(tmp_path / "out")  # the folder is gone under a running stream
    with pytest.raises(OutputError) as caught:
        writer.advance(S)
    assert caught.value.path == tmp_path / "out" / "subs.fr.0.vtt"


def test_a_closed_writer_takes_nothing_more(tmp_path: Path):
    writer = live_run(tmp_path)
    with pytest.raises(ValueError, match="closed"):
        writer.add([Cue(60000, 61000, "trop tard")])


# Cues in time order of start, any lengths (zero included), batches cut anywhere, each frontier the next
# batch's first start: the property of the whole rendition, for any segment length.
_cue_spans = st.lists(st.tuples(st.integers(0, 9000), st.integers(0, 20000)), max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=_cue_spans, cuts=st.lists(st.integers(0, 25), max_size=6), segment_ms=st.sampled_from([1000, 2500, 6000]),
       tail=st.integers(0, 7000))
def test_any_run_gives_segments_that_hold_exactly_their_overlapping_cues(tmp_path_factory, spans, cuts,
                                                                         segment_ms, tail):
    starts, t = [], 0
    for gap, _ in spans:
        t += gap
        starts.append(t)
    cues = [Cue(start, start + length, f"c{i}") for i, (start, (_, length)) in enumerate(zip(starts, spans))]
    bounds = sorted({0, len(cues), *(c for c in cuts if c <= len(cues))})
    batches = [(cues[a:b], cues[b].start_ms if b < len(cues) else t) for a, b in zip(bounds, bounds[1:])]
    end_ms = max([t + 1, *(c.end_ms for c in cues)]) + tail
    folder = tmp_path_factory.mktemp("run")
    writer = live_run(folder, end_ms=end_ms, batches=batches, segment_ms=segment_ms)
    playlist = listed(writer)
    assert sum(round(s.duration * 1000) for s in playlist.segments) == end_ms
    assert playlist.target_duration == -(-segment_ms // 1000)
    seen: list[tuple[int, int, str]] = []
    for n, segment in enumerate(playlist.segments):
        held = read_vtt(folder / segment.uri)
        assert held == as_tuples(c for c in cues if overlaps(c, n * segment_ms, (n + 1) * segment_ms))
        seen += [cue for cue in held if cue not in seen]
    assert sorted(seen) == sorted(as_tuples(cues)) and read_vtt(writer.vtt) == as_tuples(cues)
    assert writer.held == 0
