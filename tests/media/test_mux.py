"""The dub's ffmpeg passes as argument lists (read, never run): each language's encoder and its filter
graph, and the final pass that copies the mixes in; and the output kinds."""
from __future__ import annotations

from pathlib import Path

import pytest

from dubber.errors import OptionError
from dubber.media.carry import InputStream, carry_plan
from dubber.media.mux import (KINDS, DubMix, EncodeSpec, MuxSpec, Track, build_encode_args,
                              build_mux_args, default_suffix, mix_muxer, mix_rate, output_kind)

VIDEO = InputStream(0, "video", "h264", dispositions=("default",))
MAIN = InputStream(1, "audio", "aac", "eng", None, ("default",))
COMMENTARY = InputStream(2, "audio", "ac3", "eng", "Director", ("comment",))
SRT = InputStream(3, "subtitle", "subrip", "fra", "French", ("forced",))
PGS = InputStream(4, "subtitle", "hdmv_pgs_subtitle", "deu")
FONT = InputStream(5, "attachment", "font/ttf", title="font.ttf")


def _spec(kind: str = "mp4", streams=(VIDEO, MAIN), keep: bool = True, subtitles=Path("subs.srt"), **changes) -> MuxSpec:
    """A one-language spec (the run's shape before several languages), or ``dubs=`` given."""
    mix = DubMix(Path("mix.mp4"), subtitles, Track("zho", "Chinese dub"), Track("zho", "Chinese"))
    values = dict(input=Path("in." + kind), audio_index=1, dubs=(mix,), output=Path("out.part"), kind=KINDS[kind],
                  original=Track("eng", "Original") if keep else None,
                  carry=carry_plan(streams, KINDS[kind].holds(), keep))
    values.update(changes)
    return MuxSpec(**values)


def _encode(kind: str = "mp4", stereo: bool = True) -> EncodeSpec:
    return EncodeSpec(input=Path("in.mp4"), audio_index=1, feed_rate=24000, kind=KINDS[kind], rate=48000,
                      stereo=stereo, output=Path(f"fr/mix.{mix_muxer(KINDS[kind])}"))


def _after(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def test_mux_args_for_mp4_copy_video_then_dub_then_original_then_subtitles():
    args = build_mux_args(_spec())
    assert _after(args, "-i") == ["in.mp4", "mix.mp4", "subs.srt"] and "-filter_complex" not in args
    assert _after(args, "-map") == ["0:0", "1:a:0", "0:1", "2:s"]
    assert _after(args, "-c:v:0") == ["copy"] and _after(args, "-c:a:0") == ["copy"]  # the mix was encoded already
    assert _after(args, "-c:a:1") == ["copy"] and _after(args, "-c:s:0") == ["mov_text"]
    assert _after(args, "-disposition:a:0") == ["default"] and _after(args, "-disposition:a:1") == ["0"]
    assert "language=zho" in _after(args, "-metadata:s:a:0") and "language=eng" in _after(args, "-metadata:s:a:1")
    assert "language=zho" in _after(args, "-metadata:s:s:0")
    assert _after(args, "-f")[-1] == "mp4" and args[-1] == "out.part"


def test_the_encoder_reads_the_dub_and_the_gain_from_stdin():
    """Its graph is run through every ffmpeg build in tests/compat (what it computes is checked there)."""
    args = build_encode_args(_encode())
    assert _after(args, "-i") == ["in.mp4", "pipe:0"] and _after(args, "-f") == ["f32le", "mp4"]
    assert _after(args, "-ac") == ["2"] and _after(args, "-ar") == ["24000"] and args[-1] == "fr/mix.mp4"
    assert _after(args, "-map") == ["[mix]"] and _after(args, "-c:a") == ["aac"] and _after(args, "-b:a:0") == ["160k"]


def test_each_mix_waits_in_a_container_that_keeps_its_priming_for_the_copy():
    assert {name: mix_muxer(kind) for name, kind in KINDS.items()} == {
        "mp4": "mp4", "m4v": "mp4", "mov": "mp4", "mkv": "matroska", "webm": "matroska", "mka": "matroska",
        "m4a": "mp4", "ogg": "ogg", "mp3": "mp3", "wav": "wav", "flac": "flac"}
    assert _after(build_encode_args(_encode("mkv")), "-c:a") == ["libopus"]
    assert _after(build_encode_args(_encode("mp4")), "-aac_coder") == ["fast"]
    assert "-aac_coder" not in build_encode_args(_encode("mkv"))


def test_kinds_that_hold_one_stream_or_no_subtitles():
    wav = build_mux_args(_spec("wav", subtitles=None))
    assert _after(wav, "-map") == ["1:a:0"] and _after(wav, "-c:a:0") == ["copy"]
    m4a = build_mux_args(_spec("m4a", subtitles=None))
    assert _after(m4a, "-map") == ["1:a:0", "0:1"] and "-c:s" not in m4a
    webm = build_mux_args(_spec("webm", streams=(InputStream(0, "video", "vp9"), MAIN), subtitles=Path("s.vtt")))
    assert _after(webm, "-c:a:1") == ["libopus"] and _after(webm, "-c:s:0") == ["webvtt"]  # aac cannot go in webm
    assert KINDS["webm"].subtitle_sidecar == "vtt" and KINDS["mkv"].subtitle_sidecar == "srt"
    dropped = build_mux_args(_spec(keep=False))
    assert "0:1" not in _after(dropped, "-map")


def test_every_stream_of_a_rich_mkv_is_carried_in_order_with_only_the_dub_default():
    args = build_mux_args(_spec("mkv", streams=(VIDEO, MAIN, COMMENTARY, SRT, PGS, FONT)))
    assert _after(args, "-map") == ["0:0", "1:a:0", "0:1", "0:2", "2:s", "0:3", "0:4", "0:5"]
    assert _after(args, "-c:a:1") == _after(args, "-c:a:2") == ["copy"]  # Matroska holds any codec
    assert _after(args, "-c:s:1") == _after(args, "-c:s:2") == ["copy"] and _after(args, "-c:t:0") == ["copy"]
    assert _after(args, "-disposition:a:0") == ["default"] and _after(args, "-disposition:a:1") == ["0"]
    assert _after(args, "-disposition:a:2") == ["comment"] and _after(args, "-disposition:s:1") == ["forced"]
    assert _after(args, "-metadata:s:a:2") == ["language=eng", "title=Director"]  # its own, written out
    assert _after(args, "-map_chapters") == ["0"] and _after(args, "-map_metadata") == ["0"]


def _mixes(subtitles: bool = True) -> tuple[DubMix, ...]:
    return tuple(DubMix(Path(f"{code}/mix.mka"), Path(f"{code}.srt") if subtitles else None, Track(iso, f"{name} dub"),
                        Track(iso, name))
                 for code, iso, name in [("fr", "fra", "French"), ("ja", "jpn", "Japanese")])


def test_several_languages_get_a_dub_and_a_subtitle_track_each_before_the_carried_ones():
    args = build_mux_args(_spec("mkv", streams=(VIDEO, MAIN, COMMENTARY, SRT, PGS, FONT), dubs=_mixes()))
    # inputs: 0 the original; 1-2 the French and Japanese mixes; 3-4 their subtitles
    assert _after(args, "-i")[1:] == ["fr/mix.mka", "ja/mix.mka", "fr.srt", "ja.srt"]
    assert _after(args, "-map") == ["0:0", "1:a:0", "2:a:0", "0:1", "0:2", "3:s", "4:s", "0:3", "0:4", "0:5"]
    assert _after(args, "-c:a:0") == _after(args, "-c:a:1") == _after(args, "-c:a:2") == ["copy"]
    assert _after(args, "-c:s:0") == _after(args, "-c:s:1") == ["subrip"]
    assert _after(args, "-metadata:s:a:0") == ["language=fra", "title=French dub"]
    assert _after(args, "-metadata:s:a:1") == ["language=jpn", "title=Japanese dub"]
    assert _after(args, "-metadata:s:a:2") == ["language=eng", "title=Original"]
    assert _after(args, "-metadata:s:s:0") == ["language=fra", "title=French"]
    assert _after(args, "-metadata:s:s:1") == ["language=jpn", "title=Japanese"]
    assert _after(args, "-metadata:s:s:2") == ["language=fra", "title=French"]  # the input's own subtitles
    assert [_after(args, f"-disposition:a:{k}") for k in range(4)] == [["default"], ["0"], ["0"], ["comment"]]
    assert [_after(args, f"-disposition:s:{k}") for k in range(4)] == [["0"], ["0"], ["forced"], ["0"]]


def test_a_language_without_cues_gets_no_subtitle_track_and_the_next_ones_move_up():
    fr, ja = _mixes()
    args = build_mux_args(_spec("mkv", streams=(VIDEO, MAIN, SRT), dubs=(DubMix(fr.encoded, None, fr.audio,
                                                                                 fr.subtitle), ja)))
    assert _after(args, "-map") == ["0:0", "1:a:0", "2:a:0", "0:1", "3:s", "0:3"]
    assert _after(args, "-metadata:s:s:0") == ["language=jpn", "title=Japanese"]


def test_mp4_converts_text_subtitles_and_drops_pictures_and_fonts_naming_why():
    plan = carry_plan((VIDEO, MAIN, COMMENTARY, SRT, PGS, FONT), KINDS["mp4"].holds())
    assert [(c.stream.index, c.codec) for c in plan.audio] == [(1, None), (2, None)]  # mp4 holds ac3
    assert [(c.stream.index, c.codec) for c in plan.subtitles] == [(3, "mov_text")]
    assert {d.stream.index: d.reason for d in plan.dropped} == {
        4: "it holds text subtitles only (mov_text); this one is pictures",
        5: "only Matroska holds attachments (fonts)"}
    webm = carry_plan((InputStream(0, "video", "h264"), COMMENTARY), KINDS["webm"].holds())
    assert [c.codec for c in webm.audio] == ["libopus"] and webm.dropped[0].stream.index == 0


def test_output_kinds_and_rates():
    assert output_kind(Path("a.MKV")).muxer == "matroska"
    with pytest.raises(OptionError, match=r"\.avi"):
        output_kind(Path("a.avi"))
    assert default_suffix(Path("a.avi"), True) == "mkv" and default_suffix(Path("a.aiff"), False) == "mka"
    assert mix_rate(KINDS["webm"], 16000) == 48000 and mix_rate(KINDS["mp4"], 16000) == 16000
    assert mix_rate(KINDS["mp3"], 96000) == 48000



def test_a_mov_gets_the_language_codes_quicktime_knows():
    mov = build_mux_args(_spec("mov", dubs=_mixes()[:1] + (DubMix(Path("de/mix.mp4"), Path("de.srt"),
                                                               Track("deu", "German dub"), Track("deu", "German")),)))
    assert _after(mov, "-metadata:s:a:0")[0] == "language=fra" and _after(mov, "-metadata:s:a:1")[0] == "language=ger"
    assert _after(mov, "-metadata:s:s:1")[0] == "language=ger"
    assert _after(build_mux_args(_spec("mp4")), "-metadata:s:a:0")[0] == "language=zho"  # mp4 takes any code
    assert _after(build_mux_args(_spec("mov")), "-metadata:s:a:0")[0] == "language=chi"
