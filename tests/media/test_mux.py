"""The final ffmpeg pass's argument list and filter graph (read, never run), and the output kinds."""
from __future__ import annotations

from pathlib import Path

import pytest

from dubber.errors import OptionError
from dubber.media.carry import InputStream, carry_plan
from dubber.media.mux import (ENVELOPE_RATE, KINDS, DubMix, MuxSpec, Track, build_filter_graph, build_mux_args,
                              default_suffix, mix_rate, output_kind)

VIDEO = InputStream(0, "video", "h264", dispositions=("default",))
MAIN = InputStream(1, "audio", "aac", "eng", None, ("default",))
COMMENTARY = InputStream(2, "audio", "ac3", "eng", "Director", ("comment",))
SRT = InputStream(3, "subtitle", "subrip", "fra", "French", ("forced",))
PGS = InputStream(4, "subtitle", "hdmv_pgs_subtitle", "deu")
FONT = InputStream(5, "attachment", "font/ttf", title="font.ttf")


def _spec(kind: str = "mp4", streams=(VIDEO, MAIN), keep: bool = True, envelope=Path("duck.f32"),
          subtitles=Path("subs.srt"), **changes) -> MuxSpec:
    """A one-language spec (the run's shape before several languages), or ``dubs=`` given."""
    mix = DubMix(Path("dub.pcm"), envelope, subtitles, Track("zho", "Chinese dub"), Track("zho", "Chinese"),
                 "volume=-3.00dB")
    values = dict(input=Path("in." + kind), audio_index=1, original_codec="aac", dubs=(mix,), dub_rate=24000,
                  output=Path("out.part"), kind=KINDS[kind], rate=48000, stereo=True,
                  original=Track("eng", "Original") if keep else None,
                  carry=carry_plan(streams, KINDS[kind].holds(), keep))
    values.update(changes)
    return MuxSpec(**values)


def _after(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def test_mux_args_for_mp4_copy_video_then_dub_then_original_then_subtitles():
    args = build_mux_args(_spec())
    assert _after(args, "-map") == ["0:0", "[mix]", "0:1", "3:s"]
    assert _after(args, "-c:v:0") == ["copy"] and _after(args, "-c:a:0") == ["aac"]
    assert _after(args, "-c:a:1") == ["copy"] and _after(args, "-c:s:0") == ["mov_text"]
    assert _after(args, "-disposition:a:0") == ["default"] and _after(args, "-disposition:a:1") == ["0"]
    assert "language=zho" in _after(args, "-metadata:s:a:0") and "language=eng" in _after(args, "-metadata:s:a:1")
    assert "language=zho" in _after(args, "-metadata:s:s:0")
    assert _after(args, "-f")[-1] == "mp4" and args[-1] == "out.part"
    assert f"-ar {ENVELOPE_RATE}" in " ".join(args)


def test_filter_graph_ducks_with_the_envelope_or_mutes_for_replace():
    duck = build_filter_graph(_spec())
    assert "[orig][env]amultiply[bed]" in duck and "normalize=0" in duck and "duration=first" in duck
    assert duck.index("volume=-3.00dB") < duck.index("[dub]") and "pan=stereo|c0=c0|c1=c0" in duck
    replace = _spec(envelope=None)
    assert "[orig]volume=0[bed]" in build_filter_graph(replace) and "amultiply" not in build_filter_graph(replace)
    assert _after(build_mux_args(replace), "-map")[-1] == "2:s"  # no envelope input: subtitles move up


def test_kinds_that_hold_one_stream_or_no_subtitles():
    wav = build_mux_args(_spec("wav", original_codec="pcm_s16le", subtitles=None))
    assert _after(wav, "-map") == ["[mix]"] and _after(wav, "-c:a:0") == ["pcm_s16le"]
    m4a = build_mux_args(_spec("m4a", subtitles=None))
    assert _after(m4a, "-map") == ["[mix]", "0:1"] and "-c:s" not in m4a
    webm = build_mux_args(_spec("webm", streams=(InputStream(0, "video", "vp9"), MAIN), subtitles=Path("s.vtt")))
    assert _after(webm, "-c:a:1") == ["libopus"] and _after(webm, "-c:s:0") == ["webvtt"]  # aac cannot go in webm
    assert KINDS["webm"].subtitle_sidecar == "vtt" and KINDS["mkv"].subtitle_sidecar == "srt"
    dropped = build_mux_args(_spec(keep=False))
    assert "0:1" not in _after(dropped, "-map")


def test_every_stream_of_a_rich_mkv_is_carried_in_order_with_only_the_dub_default():
    args = build_mux_args(_spec("mkv", streams=(VIDEO, MAIN, COMMENTARY, SRT, PGS, FONT)))
    assert _after(args, "-map") == ["0:0", "[mix]", "0:1", "0:2", "3:s", "0:3", "0:4", "0:5"]
    assert _after(args, "-c:a:1") == _after(args, "-c:a:2") == ["copy"]  # Matroska holds any codec
    assert _after(args, "-c:s:1") == _after(args, "-c:s:2") == ["copy"] and _after(args, "-c:t:0") == ["copy"]
    assert _after(args, "-disposition:a:0") == ["default"] and _after(args, "-disposition:a:1") == ["0"]
    assert _after(args, "-disposition:a:2") == ["comment"] and _after(args, "-disposition:s:1") == ["forced"]
    assert _after(args, "-metadata:s:a:2") == ["language=eng", "title=Director"]  # its own, written out
    assert _after(args, "-map_chapters") == ["0"] and _after(args, "-map_metadata") == ["0"]


def _mixes(envelopes: bool = True, subtitles: bool = True) -> tuple[DubMix, ...]:
    return tuple(DubMix(Path(f"{code}.pcm"), Path(f"{code}.f32") if envelopes else None,
                        Path(f"{code}.srt") if subtitles else None, Track(iso, f"{name} dub"), Track(iso, name),
                        f"volume=-{3 + k}.00dB")
                 for k, (code, iso, name) in enumerate([("fr", "fra", "French"), ("ja", "jpn", "Japanese")]))


def test_several_languages_get_a_dub_and_a_subtitle_track_each_before_the_carried_ones():
    args = build_mux_args(_spec("mkv", streams=(VIDEO, MAIN, COMMENTARY, SRT, PGS, FONT), dubs=_mixes()))
    # inputs: 0 the original; 1-2 French dub and envelope, 3-4 Japanese; 5-6 their subtitles
    assert _after(args, "-i")[1:] == ["fr.pcm", "fr.f32", "ja.pcm", "ja.f32", "fr.srt", "ja.srt"]
    assert _after(args, "-map") == ["0:0", "[mix0]", "[mix1]", "0:1", "0:2", "5:s", "6:s", "0:3", "0:4", "0:5"]
    assert _after(args, "-c:a:0") == _after(args, "-c:a:1") == ["libopus"] and _after(args, "-c:a:2") == ["copy"]
    assert _after(args, "-b:a:1") == ["128k"] and _after(args, "-c:s:0") == _after(args, "-c:s:1") == ["subrip"]
    assert _after(args, "-metadata:s:a:0") == ["language=fra", "title=French dub"]
    assert _after(args, "-metadata:s:a:1") == ["language=jpn", "title=Japanese dub"]
    assert _after(args, "-metadata:s:a:2") == ["language=eng", "title=Original"]
    assert _after(args, "-metadata:s:s:0") == ["language=fra", "title=French"]
    assert _after(args, "-metadata:s:s:1") == ["language=jpn", "title=Japanese"]
    assert _after(args, "-metadata:s:s:2") == ["language=fra", "title=French"]  # the input's own subtitles
    assert [_after(args, f"-disposition:a:{k}") for k in range(4)] == [["default"], ["0"], ["0"], ["comment"]]
    assert [_after(args, f"-disposition:s:{k}") for k in range(4)] == [["0"], ["0"], ["forced"], ["0"]]


def test_several_languages_split_the_one_decode_of_the_original_between_their_mixes():
    duck = build_filter_graph(_spec(dubs=_mixes()))
    assert duck.count("[0:1]") == 1 and "asplit=2[orig0][orig1]" in duck
    assert "[1:a]volume=-3.00dB," in duck and "[3:a]volume=-4.00dB," in duck  # each its own loudness match
    assert "[2:a]" in duck and "[4:a]" in duck
    assert "[orig0][env0]amultiply[bed0]" in duck and "[orig1][env1]amultiply[bed1]" in duck
    assert "[bed0][dub0]amix" in duck and duck.endswith("[bed1][dub1]amix=inputs=2:duration=first:normalize=0[mix1]")
    replace = _spec(dubs=_mixes(envelopes=False))
    graph = build_filter_graph(replace)
    assert "[orig0]volume=0[bed0]" in graph and "[orig1]volume=0[bed1]" in graph and "amultiply" not in graph
    assert _after(build_mux_args(replace), "-map")[-2:] == ["3:s", "4:s"]  # no envelopes: subtitles move up
    assert "asplit" not in build_filter_graph(_spec())  # one language: the graph it always had


def test_a_language_without_cues_gets_no_subtitle_track_and_the_next_ones_move_up():
    fr, ja = _mixes()
    args = build_mux_args(_spec("mkv", streams=(VIDEO, MAIN, SRT), dubs=(DubMix(fr.pcm, fr.envelope, None, fr.audio,
                                                                                 fr.subtitle), ja)))
    assert _after(args, "-map") == ["0:0", "[mix0]", "[mix1]", "0:1", "5:s", "0:3"]
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
    mov = build_mux_args(_spec("mov", dubs=_mixes()[:1] + (DubMix(Path("de.pcm"), None, Path("de.srt"),
                                                               Track("deu", "German dub"), Track("deu", "German")),)))
    assert _after(mov, "-metadata:s:a:0")[0] == "language=fra" and _after(mov, "-metadata:s:a:1")[0] == "language=ger"
    assert _after(mov, "-metadata:s:s:1")[0] == "language=ger"
    assert _after(build_mux_args(_spec("mp4")), "-metadata:s:a:0")[0] == "language=zho"  # mp4 takes any code
    assert _after(build_mux_args(_spec("mov")), "-metadata:s:a:0")[0] == "language=chi"
