"""dubber's core paths through every ffmpeg build the suite can get (``tests/support/ffmpeg.builds``): the
wheel's, the distribution's (``/usr/bin/ffmpeg``: ``.ci/run`` installs Debian's) and the static builds
that older imageio-ffmpeg wheels carry (7.0.2; 4.2.2, below the supported 4.4).

Each build runs as a user's system ffmpeg would: the only ``ffmpeg`` on PATH, with no ``DUBBER_FFMPEG``
(the refusal tests name theirs with ``DUBBER_FFMPEG``); every run is read with ``-vv`` to prove that binary,
and no other, ran every pass. The media are made once by the suite's own ffmpeg; every output is probed and its
audio decoded by PyAV, never read from dubber's report alone. A build that cannot be had is skipped with
its reason on a developer's machine, and fails the suite under CI (``CI`` set), where every build must run.
"""
from __future__ import annotations

import json
import os
import re
import wave
from pathlib import Path

import av
import numpy as np
import pyebur128
import pytest

from dubber.media.audio import raw_input_args
from dubber.media.capability import capabilities
from dubber.media.mux import KINDS, EncodeSpec, build_encode_args
from dubber.media.tool import FfmpegFeed, wheel_binary
from tests.conftest import BARE_PATH
from tests.jobs.test_dub_streams_e2e import FONT, _film
from tests.support import avprobe
from tests.support.cues import read_srt, read_vtt
from tests.support.ffmpeg import Build, builds
from tests.support.loudness import measure_loudness
from tests.support.mediagen import compose, write_media

SUPPORTED = ("wheel", "debian", "static-7.0.2")
TOO_OLD = "static-4.2.2"
LAYOUT = [(0.6, "en01"), (0.8, "en02"), (2.5, "en03")]  # a long pause, where the duck lets the original through
TOLERANCE_MS = 40
_BUILDS = {build.name: build for build in builds()}


@pytest.fixture(scope="module", autouse=True)
def checked_once():
    """Each build's capability check made once, into the session's cache folder that every test's own
    starts from (as a user's runs find it after the first)."""
    for build in _BUILDS.values():
        if build.path is not None:
            capabilities(build.path)


def _build(name: str) -> Build:
    build = _BUILDS[name]
    if build.path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every build: {name}: {build.missing}")
        pytest.skip(f"{name}: {build.missing}")
    return build


@pytest.fixture(scope="module", params=SUPPORTED)
def build(request) -> Build:
    return _build(request.param)


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=0.5, music_db=-15, seed=7)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, scene) -> dict[str, Path]:
    """The talk in every input kind the corpus dubs (made once, by the suite's ffmpeg)."""
    folder = tmp_path_factory.mktemp("corpus")
    kinds = ("mp4", "mkv", "mov", "webm", "wav", "mp3")
    return {kind: write_media(scene.pcm, folder / f"talk.{kind}") for kind in kinds}


def _on_path(dubber_env: dict[str, str], build: Build, folder: Path) -> tuple[dict[str, str], str]:
    """An environment where ``build`` is the system's ffmpeg, as on a user's machine: the only ``ffmpeg`` on
    PATH (a link in a folder of the test's own, before the interpreter's) and no ``DUBBER_FFMPEG``; and the
    path runs will name it by."""
    link = folder / "system-bin" / "ffmpeg"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(build.path)
    env = {k: v for k, v in dubber_env.items() if k != "DUBBER_FFMPEG"}
    return {**env, "PATH": f"{link.parent}{os.pathsep}{BARE_PATH}"}, str(link)


def _ran_only(log: str, exe: str) -> None:
    """Every ffmpeg command the run logged (``-vv``) ran ``exe`` (the capability check of the binaries it
    passed over aside)."""
    ran = re.findall(r"running (\S+) -hide_banner(?!.*dubber-ffmpeg-check-)", log)
    assert ran and set(ran) == {exe}, sorted(set(ran))


def _run_on_path(build: Build, run_dubber, dubber_env, folder: Path, *args: object, code: int = 0):
    """``dubber *args -vv`` with ``build`` as the system's ffmpeg: it exits ``code``, having run that binary
    alone."""
    env, exe = _on_path(dubber_env, build, folder)
    result = run_dubber(*args, "-vv", env=env)
    assert result.code == code, result.stderr[-2000:]
    _ran_only(result.log, exe)
    return result


def _placed(report: dict) -> list[tuple[int, int]]:
    return [(w["dub_start_ms"], w["dub_end_ms"]) for w in report["windows"] if w["dub_start_ms"] is not None]


def _check_replace(dub: np.ndarray, rate: int, report: dict, scene) -> None:
    """Replaced: the dub sounds only inside its clips' spans, and every sentence is dubbed."""
    spans = _placed(report)
    voiced = avprobe.voiced_ms(dub, rate)
    stray = [t for t in voiced if not any(a - TOLERANCE_MS <= t and t + 10 <= b + TOLERANCE_MS for a, b in spans)]
    assert len(voiced) and not stray, f"dub sounds outside its slots at {stray[:5]} ms"
    for utt in scene.speech:
        inside = sum(1 for t in voiced if utt.start_ms <= t < utt.end_ms) * 10
        assert inside >= 0.4 * (utt.end_ms - utt.start_ms), f"{utt.name} is not dubbed"


def _lag(mix: np.ndarray, bed: np.ndarray, rate: int, span: tuple[int, int]) -> int:
    """The shift (samples) of ``bed`` that best lines it up with ``mix`` over ``span`` (ms), within 20 ms."""
    a, b = span[0] * rate // 1000, span[1] * rate // 1000
    reach = rate // 50
    return max(range(-min(reach, a), reach + 1), key=lambda k: float(np.dot(mix[a:b], bed[a + k:b + k])))


def _check_duck(mix: np.ndarray, bed: np.ndarray, rate: int, report: dict) -> None:
    """Ducked: the original is still there, 12 to 25 dB down while the dub speaks and whole between.

    The two are lined up first: how a container's start offset is carried differs by release (an Opus
    original in WebM comes out up to 8 ms early or late against the mix), which is far under what a viewer
    hears, yet enough to decorrelate music. The shift must stay under 10 ms."""
    spans = _placed(report)
    assert spans
    gaps = [(a[1] + 400, b[0] - 250) for a, b in zip(spans, spans[1:]) if b[0] - a[1] >= 1150]
    assert gaps, spans
    lag = _lag(mix, bed, rate, gaps[0])
    assert abs(lag) <= rate // 100, f"the mix and the original are {1000 * lag / rate:.1f} ms apart"
    bed = np.roll(bed, -lag)
    for start, end in spans:
        assert -25 < avprobe.gain_db(mix, bed, rate, start + 20, end - 20) <= -12, (start, end)
    for gap in gaps:
        assert abs(avprobe.gain_db(mix, bed, rate, *gap)) < 1.0, gap


EXPECTED_AUDIO = {"mp4": "aac", "mov": "aac", "mkv": "opus", "webm": "opus", "wav": "pcm_s16le", "mp3": "mp3"}
# Each build dubs into every kind, half of them ducked and half replaced, the halves swapped from one build
# to the next: duck and replace run the same graph (replace feeds a gain of zero), whose arithmetic
# test_the_dub_mix_graph_... checks through every build; what differs by kind (encoders, muxers, copies) is
# run through every build, and every kind meets both mixes.
MATRIX = [(name, kind, ("duck", "replace")[(k + b) % 2])
          for b, name in enumerate(SUPPORTED) for k, kind in enumerate(EXPECTED_AUDIO)]


@pytest.mark.parametrize("name, kind, mix", MATRIX)
def test_a_dub_into_each_kind(name, kind, mix, corpus, scene, run_dubber, dubber_env, tmp_path):
    build = _build(name)
    src = corpus[kind]
    out = tmp_path / f"out.{kind}"
    _run_on_path(build, run_dubber, dubber_env, tmp_path, "dub", src, "--to", "fr", "--mix", mix, "-o", out)
    report = json.loads(out.with_suffix(".dub.json").read_text(encoding="utf-8"))
    streams = avprobe.streams(out)
    audio = [s for s in streams if s.type == "audio"]
    assert audio[0].codec == EXPECTED_AUDIO[kind]
    assert abs(avprobe.duration_s(out) - avprobe.duration_s(src)) <= 0.06
    if any(s.type == "video" for s in streams):
        avprobe.assert_video_copied(out, src)
        assert audio[0].language == "fra" and audio[0].default and len(audio) == 2
    dub, rate = avprobe.decode_audio(out, audio[0].index)
    original, original_rate = avprobe.decode_audio(src)
    assert abs(len(dub) / rate - len(original) / original_rate) <= 0.06
    if mix == "replace":
        _check_replace(dub, rate, report, scene)
    elif len(audio) == 2:
        _check_duck(dub, avprobe.decode_audio(out, audio[1].index, rate)[0], rate, report)
    else:  # a single-stream file: the original is the input's own audio, at the same rate
        assert rate == original_rate
        _check_duck(dub[:len(original)], original[:len(dub)], rate, report)


def test_subtitles(build, corpus, run_dubber, dubber_env, tmp_path):
    _run_on_path(build, run_dubber, dubber_env, tmp_path, "subtitles", corpus["mp4"], "--to", "fr",
                 "--out-dir", tmp_path)
    assert read_srt(tmp_path / "talk.fr.srt") == read_vtt(tmp_path / "talk.fr.vtt") != []


def test_a_two_language_dub_of_a_multi_track_matroska_keeps_every_stream(build, run_dubber, dubber_env, tmp_path):
    film = _film(tmp_path, "mkv")
    out = tmp_path / "out.mkv"
    _run_on_path(build, run_dubber, dubber_env, tmp_path, "dub", film, "--to", "fr,de", "-o", out)
    got = avprobe.streams(out)
    assert [(s.type, s.codec) for s in got] == [
        ("video", "h264"), ("audio", "opus"), ("audio", "opus"), ("audio", "flac"), ("audio", "flac"),
        ("subtitle", "subrip"), ("subtitle", "subrip"), ("subtitle", "subrip"), ("attachment", "ttf")]
    assert [s.language for s in got[1:3]] == ["fra", "deu"] and [s.language for s in got[5:7]] == ["fra", "deu"]
    avprobe.assert_video_copied(out, film)
    with av.open(str(out)) as container:
        assert [c["metadata"]["title"] for c in container.chapters()] == ["Opening", "Ending"]
        assert container.streams[8].data == FONT
    for index in (1, 2):
        dub, rate = avprobe.decode_audio(out, index)
        assert len(avprobe.voiced_ms(dub, rate)), f"track {index} is silent"


def test_the_multi_track_matroska_dubbed_into_an_mp4_keeps_what_mp4_holds(build, run_dubber, dubber_env, tmp_path):
    """FLAC tracks copied into MP4 (experimental in ffmpeg's muxer before 6.0), SubRip turned into
    mov_text, the font named as left out."""
    film = _film(tmp_path, "mkv")
    out = tmp_path / "out.mp4"
    result = _run_on_path(build, run_dubber, dubber_env, tmp_path, "dub", film, "--to", "de", "-o", out)
    assert "input stream 4 (attachment, font/ttf) is not in the .mp4" in result.stderr
    got = avprobe.streams(out)
    assert [(s.type, s.codec) for s in got][:6] == [
        ("video", "h264"), ("audio", "aac"), ("audio", "flac"), ("audio", "flac"), ("subtitle", "mov_text"),
        ("subtitle", "mov_text")]
    avprobe.assert_video_copied(out, film)
    with av.open(str(out)) as container, av.open(str(film)) as source:
        copied = [bytes(p) for p in container.demux(container.streams[3]) if p.size]
        assert copied == [bytes(p) for p in source.demux(source.streams[2]) if p.size]  # the commentary, as it was


def test_a_silent_input_exits_3_with_a_whole_file(build, run_dubber, dubber_env, tmp_path):
    video = write_media(np.zeros(16000 * 3, dtype=np.int16), tmp_path / "silent.mp4")
    out = tmp_path / "out.mp4"
    result = _run_on_path(build, run_dubber, dubber_env, tmp_path, "dub", video, "--to", "fr", "-o", out, code=3)
    assert "no speech" in result.stderr
    assert [s.type for s in avprobe.streams(out)] == ["video", "audio", "audio"]
    assert abs(avprobe.duration_s(out) - avprobe.duration_s(video)) <= 0.06


def test_the_loudness_measurement_agrees_with_libebur128(build, tmp_path):
    rate = 48000
    t = np.arange(rate * 3) / rate
    tone = (0.2 * np.sin(2 * np.pi * 997 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t)) * 32767 / 1.5).astype("<i2")
    raw = tmp_path / "tone.pcm"
    tone.tofile(raw)
    state = pyebur128.R128State(1, rate, pyebur128.MeasurementMode.MODE_I)
    state.add_frames(tone, len(tone))
    measured = measure_loudness(raw_input_args(raw, rate), exe=build.path)
    assert measured is not None and measured.integrated == pytest.approx(pyebur128.get_loudness_global(state), abs=0.2)


@pytest.mark.parametrize("stereo", [True, False])
def test_the_dub_mix_graph_sums_the_dub_over_the_original_times_its_gain(build, stereo, tmp_path):
    """The encoder's graph as a run builds it (``build_encode_args``), run through the build: the original (a
    300 Hz tone), its gain fed on stdin (one half, then one), the dub fed beside it (a 700 Hz tone); the
    mix, decoded, is the original times the gain plus the dub on every channel, and ends with the original."""
    rate, feed_rate, seconds = 48000, 24000, 2.0
    t = np.arange(int(rate * seconds)) / rate
    original = 0.3 * np.sin(2 * np.pi * 300 * t)
    channels = 2 if stereo else 1
    src = tmp_path / "original.wav"
    _write_wav(src, np.repeat(original[:, None], channels, axis=1), rate)
    ft = np.arange(int(feed_rate * (seconds + 0.5))) / feed_rate  # the feed runs past the original, as a run's does
    gain = np.where(ft < 1.0, 0.5, 1.0)
    dub = 0.2 * np.sin(2 * np.pi * 700 * ft)
    spec = EncodeSpec(input=src, audio_index=0, feed_rate=feed_rate, kind=KINDS["wav"], rate=rate, stereo=stereo,
                      output=tmp_path / "mix.wav")
    with FfmpegFeed(build_encode_args(spec), what="mixing", exe=build.path) as encoder:
        encoder.write(np.stack([dub, gain], axis=1).astype("<f4").tobytes())
        encoder.finish()
    mixed, got_rate = _read_wav(spec.output)
    assert got_rate == rate and mixed.shape[1] == channels and abs(len(mixed) - len(t)) <= rate // 100, mixed.shape
    expected = original * np.where(t < 1.0, 0.5, 1.0) + 0.2 * np.sin(2 * np.pi * 700 * t)
    n = min(len(mixed), len(expected))
    settled = (np.abs(t[:n] - 1.0) > 0.02) & (t[:n] > 0.02) & (t[:n] < seconds - 0.02)  # the resampler rings at steps
    for channel in mixed.T:
        error = channel[:n][settled] - expected[:n][settled]
        assert np.sqrt(np.mean(error ** 2)) < 0.01 * np.sqrt(np.mean(expected[:n] ** 2))


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A PCM16 WAV's samples as float, one column a channel (no downmix), and its rate."""
    with wave.open(str(path), "rb") as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        return frames.reshape(-1, wav.getnchannels()) / 32767, wav.getframerate()


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())


# ---- a build below the supported minimum: refused before any request, or swapped for the wheel's --------

@pytest.fixture(scope="module")
def too_old() -> Build:
    return _build(TOO_OLD)


@pytest.mark.parametrize("command", [["dub", "--to", "fr"], ["subtitles", "--to", "fr"], ["transcribe"]])
def test_an_ffmpeg_named_by_dubber_ffmpeg_below_4_4_is_refused_before_any_request(too_old, command, corpus,
                                                                                 run_dubber, dubber_env, emulator,
                                                                                 tmp_path):
    src = tmp_path / "talk.mp4"
    src.write_bytes(corpus["mp4"].read_bytes())
    sent = emulator.requests
    result = run_dubber(command[0], src, *command[1:], "--backend", "asr" if command[0] == "transcribe" else
                        "livetranslate", env={**dubber_env, "DUBBER_FFMPEG": too_old.path})
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.log, result.stderr
    assert too_old.path in lines[0] and "4.2.2" in lines[0] and "4.4 or newer" in lines[0]
    assert "DUBBER_FFMPEG" in lines[0]
    assert emulator.requests == sent and sorted(p.name for p in tmp_path.iterdir()) == ["talk.mp4"]


def test_a_system_ffmpeg_below_4_4_gives_way_to_the_wheels_with_one_warning(too_old, corpus, run_dubber, dubber_env,
                                                                          tmp_path):
    wheel = wheel_binary()
    assert wheel is not None
    env, system = _on_path(dubber_env, too_old, tmp_path)
    out = tmp_path / "out.mp4"
    result = run_dubber("dub", corpus["mp4"], "--to", "fr", "-o", out, "-vv", env=env)
    assert result.code == 0, result.stderr[-2000:]
    warnings = [line for line in result.stderr.splitlines() if "4.4 or newer" in line]
    assert len(warnings) == 1 and system in warnings[0] and wheel.path in warnings[0], warnings
    _ran_only(result.log, wheel.path)
    assert [s.type for s in avprobe.streams(out)] == ["video", "audio", "audio", "subtitle"]


def test_the_doctor_fails_on_an_ffmpeg_that_cannot_dub(too_old, run_dubber, dubber_env, tmp_path):
    result = run_dubber("doctor", "--cache-dir", tmp_path, env={**dubber_env, "DUBBER_FFMPEG": too_old.path})
    assert result.code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL ffmpeg: ")]
    assert len(failed) == 1 and "cannot dub or subtitle" in failed[0] and "4.4 or newer" in failed[0], result.stdout


def test_every_supported_build_passes_the_doctor(build, run_dubber, dubber_env, tmp_path):
    result = run_dubber("doctor", "--cache-dir", tmp_path, env={**dubber_env, "DUBBER_FFMPEG": build.path})
    assert result.code == 0, result.stdout
    assert any(line.startswith(f"ok   ffmpeg: {build.path} (DUBBER_FFMPEG)") for line in result.stdout.splitlines())
