"""The dub's pure parts: the timeline plan (property tests), ducking, clip sample maths, the report, and
the final ffmpeg pass's argument list (read, never run)."""
from __future__ import annotations

import doctest
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubber import dubbing
from dubber.dub_report import DubFacts, build_report, to_json
from dubber.dubbing import (Clip, DuckOptions, FitOptions, Placement, duck_spans, envelope_chunks, fit_samples,
                            fit_timeline, voiced_bounds)
from dubber.errors import OptionError
from dubber.models import Loudness, Span, Translation, TranslationResult, Window
from dubber.mux import (ENVELOPE_RATE, KINDS, MuxSpec, Track, build_filter_graph, build_mux_args, default_suffix,
                        loudnorm_filter, mix_rate, output_kind)
from dubber.render import stretch_args, tempo_filter


@st.composite
def timelines(draw):
    duration = draw(st.integers(0, 120_000))
    count = draw(st.integers(0, 25))
    onsets = sorted(draw(st.lists(st.integers(0, duration), min_size=count, max_size=count)))
    lengths = draw(st.lists(st.integers(0, 30_000), min_size=count, max_size=count))
    options = FitOptions(max_speed=draw(st.floats(1.0, 2.0)), gap_ms=draw(st.integers(0, 500)))
    return [Clip(i, o, n) for i, (o, n) in enumerate(zip(onsets, lengths))], duration, options


@settings(max_examples=400, deadline=None)
@given(timelines())
def test_plan_never_overlaps_stays_anchored_and_respects_the_cap(case):
    clips, duration, options = case
    plan = fit_timeline(clips, duration, options)
    by_index = {c.index: c for c in clips}
    assert [p.index for p in plan] == [c.index for c in clips if c.length_ms > 0]
    for p in plan:
        clip = by_index[p.index]
        assert p.start_ms == clip.onset_ms  # anchored: never moved by what came before
        assert p.start_ms <= p.end_ms <= p.slot_end_ms <= duration
        assert 1.0 <= p.speed <= options.max_speed
        wanted = math.ceil(clip.length_ms / p.speed - 1e-9)
        assert p.played_ms == min(wanted, p.slot_end_ms - p.start_ms)
        assert (p.overflow_ms > 0) == (wanted > p.played_ms)
        assert 0 <= p.overflow_ms <= clip.length_ms
        if clip.length_ms <= p.slot_end_ms - p.start_ms:
            assert p.speed == 1.0 and p.overflow_ms == 0  # what fits plays at natural speed
        elif p.speed < options.max_speed:
            assert p.overflow_ms == 0  # sped up only when needed, and then enough
    for before, after in zip(plan, plan[1:]):
        assert before.end_ms <= after.start_ms, "clips overlap"
        if after.start_ms - options.gap_ms >= before.start_ms:
            assert before.end_ms <= after.start_ms - options.gap_ms


@settings(max_examples=200, deadline=None)
@given(timelines())
def test_neighbours_that_need_a_speed_up_share_one_factor(case):
    clips, duration, options = case
    plan = fit_timeline(clips, duration, options)
    for before, after in zip(plan, plan[1:]):
        if before.speed > 1.0 and after.speed > 1.0:
            assert before.speed == after.speed


def test_slot_borrows_the_following_silence_before_speeding_up():
    # 2.5 s of dub for 2 s of original speech followed by 1.5 s of silence: borrowed, not sped up
    plan = fit_timeline([Clip(0, 1000, 2500), Clip(1, 4500, 1000)], 8000)
    assert (plan[0].start_ms, plan[0].end_ms, plan[0].speed, plan[0].slot_end_ms) == (1000, 3500, 1.0, 4400)


def test_too_long_clip_is_capped_then_cut_and_reported():
    plan = fit_timeline([Clip(0, 0, 5000), Clip(1, 2100, 1000)], 6000, FitOptions(max_speed=1.3))
    first = plan[0]
    assert first.speed == 1.3 and first.end_ms == 2000 and first.overflow_ms == 5000 - 2600
    assert plan[1].start_ms == 2100 and plan[1].speed == 1.0


def test_a_run_of_over_long_clips_shares_its_largest_need():
    plan = fit_timeline([Clip(0, 0, 1100), Clip(1, 1100, 1200), Clip(2, 2200, 500)], 4000,
                        FitOptions(gap_ms=100))
    assert [p.speed for p in plan] == [1.2, 1.2, 1.0]


def test_options_are_checked():
    with pytest.raises(OptionError, match="max-speed"):
        FitOptions(max_speed=0.9)
    with pytest.raises(OptionError):
        FitOptions(max_speed=2.5)


def test_doctests():
    assert doctest.testmod(dubbing).failed == 0


def _placement(start: int, end: int) -> Placement:
    return Placement(0, start, end, end, end - start, 1.0, 0)


def test_duck_spans_join_close_clips_and_keep_far_ones_apart():
    spans = duck_spans([_placement(1000, 2000), _placement(2300, 3000), _placement(6000, 7000)])
    assert spans == [Span(1000, 3000), Span(6000, 7000)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20_000), st.integers(1, 3000)), max_size=6), st.integers(1, 25_000),
       st.integers(1, 7000))
def test_envelope_is_full_depth_under_the_dub_and_unity_far_from_it(pairs, total, chunk):
    options = DuckOptions(depth_db=15.0)
    spans = duck_spans(sorted((_placement(s, s + n) for s, n in pairs), key=lambda p: p.start_ms), options)
    gain = np.concatenate(list(envelope_chunks(spans, total, options, chunk_ms=chunk)) or [np.zeros(0)])
    assert len(gain) == total and gain.dtype == np.float32
    low = 10 ** (-15 / 20)
    assert np.all(gain >= low - 1e-6) and np.all(gain <= 1.0 + 1e-6)
    for span in spans:
        inside = gain[span.start_ms:min(span.end_ms, total)]
        assert np.allclose(inside, low, atol=1e-6)
    far = np.ones(total, dtype=bool)
    for span in spans:
        far[max(0, span.start_ms - options.attack_ms):span.end_ms + options.release_ms] = False
    assert np.allclose(gain[far], 1.0)


def test_voiced_bounds_trim_silence_either_side():
    rate = 24000
    tone = (8000 * np.sin(np.arange(rate) * 2 * np.pi * 200 / rate)).astype(np.int16)
    clip = np.concatenate([np.zeros(rate // 2, np.int16), tone, np.zeros(rate // 4, np.int16)])
    first, end = voiced_bounds(clip, rate)
    assert abs(first - rate // 2) <= rate // 50 and abs(end - (rate // 2 + rate)) <= rate // 50
    assert voiced_bounds(np.zeros(rate, np.int16), rate) == (0, 0)
    assert voiced_bounds(np.zeros(0, np.int16), rate) == (0, 0)


def test_fit_samples_pads_or_cuts_with_a_fade():
    ones = np.full(100, 1000, dtype=np.int16)
    assert len(fit_samples(ones, 150)) == 150 and fit_samples(ones, 150)[120] == 0
    cut = fit_samples(ones, 60, fade=20)
    assert len(cut) == 60 and cut[0] == 1000 and cut[-1] == 0 and cut[39] == 1000
    assert fit_samples(ones, 60)[-1] == 1000


def test_stretch_uses_a_pitch_preserving_filter():
    assert tempo_filter(1.25, True) == "rubberband=tempo=1.2500"
    assert tempo_filter(1.25, False) == "atempo=1.2500"
    args = stretch_args(Path("c.pcm"), 24000, Path("o.pcm"), 1.0, True)
    assert "-af" in args and "tempo" not in args[args.index("-af") + 1]


def _spec(kind: str = "mp4", **changes) -> MuxSpec:
    values = dict(input=Path("in." + kind), audio_index=1, original_codec="aac", dub_pcm=Path("dub.pcm"),
                  dub_rate=24000, envelope=Path("duck.f32"), subtitles=Path("subs.srt"), output=Path("out.part"),
                  kind=KINDS[kind], rate=48000, stereo=True, dub=Track("zho", "Chinese dub"),
                  original=Track("eng", "Original"), subtitle=Track("zho", "Chinese"), loudnorm="loudnorm=I=-20")
    values.update(changes)
    return MuxSpec(**values)


def _after(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def test_mux_args_for_mp4_copy_video_then_dub_then_original_then_subtitles():
    args = build_mux_args(_spec())
    assert _after(args, "-map") == ["0:v?", "[mix]", "0:1", "3:s"]
    assert _after(args, "-c:v") == ["copy"] and _after(args, "-c:a:0") == ["aac"]
    assert _after(args, "-c:a:1") == ["copy"] and _after(args, "-c:s") == ["mov_text"]
    assert _after(args, "-disposition:a:0") == ["default"] and _after(args, "-disposition:a:1") == ["0"]
    assert "language=zho" in _after(args, "-metadata:s:a:0") and "language=eng" in _after(args, "-metadata:s:a:1")
    assert "language=zho" in _after(args, "-metadata:s:s:0")
    assert _after(args, "-f")[-1] == "mp4" and args[-1] == "out.part"
    assert f"-ar {ENVELOPE_RATE}" in " ".join(args)


def test_filter_graph_ducks_with_the_envelope_or_mutes_for_replace():
    duck = build_filter_graph(_spec())
    assert "[orig][env]amultiply[bed]" in duck and "normalize=0" in duck and "duration=first" in duck
    assert duck.index("loudnorm=I=-20") < duck.index("[dub]") and "pan=stereo|c0=c0|c1=c0" in duck
    replace = _spec(envelope=None)
    assert "[orig]volume=0[bed]" in build_filter_graph(replace) and "amultiply" not in build_filter_graph(replace)
    assert _after(build_mux_args(replace), "-map")[-1] == "2:s"  # no envelope input: subtitles move up


def test_kinds_that_hold_one_stream_or_no_subtitles():
    wav = build_mux_args(_spec("wav", original_codec="pcm_s16le", subtitles=None))
    assert _after(wav, "-map") == ["[mix]"] and _after(wav, "-c:a:0") == ["pcm_s16le"]
    m4a = build_mux_args(_spec("m4a", subtitles=None))
    assert _after(m4a, "-map") == ["[mix]", "0:1"] and "-c:s" not in m4a
    webm = build_mux_args(_spec("webm", original_codec="aac", subtitles=Path("s.vtt")))
    assert _after(webm, "-c:a:1") == ["libopus"] and _after(webm, "-c:s") == ["webvtt"]  # aac cannot go in webm
    assert KINDS["webm"].subtitle_sidecar == "vtt" and KINDS["mkv"].subtitle_sidecar == "srt"
    dropped = build_mux_args(_spec(original=None))
    assert "0:1" not in _after(dropped, "-map")


def test_output_kinds_and_rates():
    assert output_kind(Path("a.MKV")).muxer == "matroska"
    with pytest.raises(OptionError, match=r"\.avi"):
        output_kind(Path("a.avi"))
    assert default_suffix(Path("a.avi"), True) == "mkv" and default_suffix(Path("a.aiff"), False) == "mka"
    assert mix_rate(KINDS["webm"], 16000) == 48000 and mix_rate(KINDS["mp4"], 16000) == 16000
    assert mix_rate(KINDS["mp3"], 96000) == 48000


def test_loudnorm_matches_the_original_or_falls_back_to_r128():
    dub = Loudness(-16.0, -6.0, 5.0, -26.0)
    assert loudnorm_filter(dub, -21.5).startswith("loudnorm=I=-21.50:TP=-1.5:")
    assert "measured_I=-16.00" in loudnorm_filter(dub, -21.5) and loudnorm_filter(dub, -21.5).endswith("linear=true")
    assert "I=-23.00" in loudnorm_filter(dub, None)
    assert loudnorm_filter(None, -20.0) == ""


def test_report_lists_every_window_with_its_fit():
    windows = [Window(0, 800, 4000, (Span(1000, 3800),)), Window(1, 5000, 7000, (Span(5200, 6800),))]
    translations = [Translation(windows[0], TranslationResult("Hola.")), Translation(windows[1], TranslationResult(""))]
    placements = [Placement(0, 1000, 4800, 4900, 4500, 1.19, 0)]
    facts = DubFacts(Path("in.mp4"), Path("in.es.mp4"), (Path("in.es.srt"),), "es", "Cherry", "duck", 1.3, 9000,
                     "rubberband", Loudness(-20, -3, 6, -30), None, ("note",))
    report = build_report(facts, translations, placements)
    first, second = report["windows"]
    assert (first["onset_ms"], first["dub_start_ms"], first["dub_end_ms"], first["speed"]) == (1000, 1000, 4800, 1.19)
    assert first["text"] == "Hola." and first["clip_ms"] == 4500
    assert second["clip_ms"] == 0 and second["speed"] is None
    assert report["summary"]["sped_up"] == 1 and report["loudness"]["original_lufs"] == -20
    assert to_json(report).endswith("}\n")
