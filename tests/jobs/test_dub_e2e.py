"""`dubber dub` end to end: generated media with speech at known times over a music bed, the real CLI in a
subprocess, real HTTP to the emulator (which returns synthetic speech), the real ffmpeg; outputs checked
with PyAV (packets, streams, tags, dispositions, durations) and by decoding their audio."""
from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.languages import parse_lang
from tests.support.loudness import measure_loudness
from dubber.media.tool import ffmpeg_exe
from tests.support import avprobe
from tests.support.cues import read_srt, read_vtt
from tests.support.mediagen import compose, write_media

# Four sentences, one 2.5 s pause, a music bed 15 dB under the speech (it must survive the duck).
LAYOUT = [(0.8, "en01"), (0.7, "en02"), (2.5, "en03"), (0.9, "en04")]
TOLERANCE_MS = 30  # codec and resampler smear at clip edges


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0, music_db=-15, seed=5)


def _dub(run_dubber, media: Path, *args: str, code: int = 0):
    result = run_dubber("dub", media, *args)
    assert result.code == code, result.stderr
    outputs = [Path(line) for line in result.stdout.split()]
    report = json.loads(outputs[-1].read_text(encoding="utf-8"))
    return result, outputs, report


def _placed(report) -> list[dict]:
    return [w for w in report["windows"] if w["dub_start_ms"] is not None]


def _check_plan(report, max_speed: float = 1.3) -> None:
    placed = _placed(report)
    assert placed and all(w["text"] for w in report["windows"])
    for w in placed:
        assert w["onset_ms"] == w["dub_start_ms"] <= w["dub_end_ms"] <= w["slot_end_ms"] <= report["duration_ms"]
        assert 1.0 <= w["speed"] <= max_speed
    for before, after in zip(placed, placed[1:]):
        assert before["dub_end_ms"] <= after["dub_start_ms"], "dubbed clips overlap"


def _quiet_gap(report) -> tuple[int, int]:
    """The longest stretch between two dubbed clips, less the duck's ramps: the original at full level."""
    placed = _placed(report)
    gaps = [(a["dub_end_ms"] + 400, b["dub_start_ms"] - 250) for a, b in zip(placed, placed[1:])]
    gap = max(gaps, key=lambda g: g[1] - g[0])
    assert gap[1] - gap[0] >= 500, gap
    return gap


def _check_dub_audio(dub, rate, report, scene) -> None:
    """Voiced dub frames lie inside their clips' planned spans, and every sentence is dubbed."""
    spans = [(w["dub_start_ms"], w["dub_end_ms"]) for w in _placed(report)]
    voiced = avprobe.voiced_ms(dub, rate)
    assert len(voiced)
    stray = [t for t in voiced if not any(a - TOLERANCE_MS <= t and t + 10 <= b + TOLERANCE_MS for a, b in spans)]
    assert not stray, f"dub sounds outside its slots at {stray[:5]} ms"
    for utt in scene.speech:
        inside = sum(1 for t in voiced if utt.start_ms <= t < utt.end_ms) * 10
        assert inside >= 0.4 * (utt.end_ms - utt.start_ms), f"{utt.name} is not dubbed"


def _check_container(src: Path, out: Path, expect: list[tuple[str, str]], lang: str) -> list[avprobe.StreamInfo]:
    info = avprobe.streams(out)
    assert [(s.type, s.codec) for s in info] == expect
    audio = [s for s in info if s.type == "audio"]
    assert audio[0].language == parse_lang(lang).iso639_2
    assert audio[0].title or out.suffix == ".m4a"  # the ipod muxer stores no track titles
    assert abs(avprobe.duration_s(out) - avprobe.duration_s(src)) <= 0.05
    dub, rate = avprobe.decode_audio(out, audio[0].index)
    original, original_rate = avprobe.decode_audio(src)
    assert abs(len(dub) / rate - len(original) / original_rate) <= 0.05
    if any(s.type == "video" for s in info):
        avprobe.assert_video_copied(out, src)
    return info


def test_mp4_duck_copies_video_tags_streams_and_ducks_the_original(tmp_path: Path, scene, run_dubber):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before = video.read_bytes()
    result, outputs, report = _dub(run_dubber, video, "--to", "zh-CN", "--from", "en")
    assert outputs == [tmp_path / f"talk.zh.{s}" for s in ("mp4", "srt", "vtt", "dub.json")]
    info = _check_container(video, outputs[0], [("video", "h264"), ("audio", "aac"), ("audio", "aac"),
                                                 ("subtitle", "mov_text")], "zh")
    dub, original = info[1], info[2]
    assert dub.default and not original.default
    assert (original.language, original.title) == ("eng", "Original (English)")
    assert info[3].language == parse_lang("zh").iso639_2
    assert read_srt(outputs[1]) == read_vtt(outputs[2]) != []
    _check_plan(report)
    # the original under the dub: still there, but at least 12 dB down while the dub speaks
    mix, rate = avprobe.decode_audio(outputs[0], dub.index)
    bed, _ = avprobe.decode_audio(outputs[0], original.index)
    for w in _placed(report):
        gain = avprobe.gain_db(mix, bed, rate, w["dub_start_ms"] + 20, w["dub_end_ms"] - 20)
        assert -25 < gain <= -12, (w["index"], gain)
    assert abs(avprobe.gain_db(mix, bed, rate, *_quiet_gap(report))) < 1.0
    assert video.read_bytes() == before and not list(tmp_path.glob(".*.part"))


def test_mkv_replace_speeds_up_clips_within_the_cap_and_their_slots(tmp_path: Path, scene, run_dubber):
    video = write_media(scene.pcm, tmp_path / "talk.mkv")
    # two-second windows cut sentences in the middle: clips get slots shorter than themselves
    _, outputs, report = _dub(run_dubber, video, "--to", "de", "--mix", "replace", "--max-window", "2",
                              "--min-window", "1", "-o", tmp_path / "out" / "dubbed.mkv")
    assert outputs == [tmp_path / "out" / f"dubbed.{s}" for s in ("mkv", "srt", "vtt", "dub.json")]
    info = _check_container(video, outputs[0], [("video", "h264"), ("audio", "opus"), ("audio", "flac"),
                                                 ("subtitle", "subrip")], "de")
    assert info[1].default and not info[2].default and info[3].language == parse_lang("de").iso639_2
    _check_plan(report)
    assert any(w["speed"] > 1.0 for w in _placed(report)), "nothing needed a speed-up: the test lost its point"
    dub, rate = avprobe.decode_audio(outputs[0], info[1].index)
    _check_dub_audio(dub, rate, report, scene)


def test_webm_duck(tmp_path: Path, scene, run_dubber):
    video = write_media(scene.pcm, tmp_path / "talk.webm")
    _, outputs, report = _dub(run_dubber, video, "--to", "ja", "--voice", "Ethan")
    info = _check_container(video, outputs[0], [("video", "vp8"), ("audio", "opus"), ("audio", "opus"),
                                                 ("subtitle", "webvtt")], "ja")
    assert info[1].default and not info[2].default and report["voice"] == "Ethan"
    _check_plan(report)


def test_wav_gives_a_wav_and_duck_lowers_only_under_the_dub(tmp_path: Path, scene, run_dubber):
    audio = write_media(scene.pcm, tmp_path / "talk.wav")
    _, ducked_out, report = _dub(run_dubber, audio, "--to", "fr")
    _, replaced_out, _ = _dub(run_dubber, audio, "--to", "fr", "--mix", "replace", "-o", tmp_path / "dub-only.wav")
    assert [(s.type, s.codec) for s in avprobe.streams(ducked_out[0])] == [("audio", "pcm_s16le")]
    assert any("one audio stream" in note for note in report["notes"])
    _check_plan(report)
    mix, rate = avprobe.decode_audio(ducked_out[0])
    dub, _ = avprobe.decode_audio(replaced_out[0])
    original, _ = avprobe.decode_audio(audio)
    assert len(mix) == len(dub) == len(original)
    _check_dub_audio(dub, rate, report, scene)
    # the dub is brought to the original's integrated loudness (EBU R128)
    assert abs(measure_loudness(["-i", str(replaced_out[0])]).integrated
               - measure_loudness(["-i", str(audio)]).integrated) < 1.0
    bed = mix - dub  # lossless output: what duck adds over replace is exactly the ducked original
    for w in _placed(report):
        gain = avprobe.gain_db(bed, original, rate, w["dub_start_ms"], w["dub_end_ms"])
        assert -16 < gain <= -12, (w["index"], gain)
    assert abs(avprobe.gain_db(bed, original, rate, *_quiet_gap(report))) < 0.1


@pytest.mark.parametrize("kind, expect", [
    ("m4a", [("audio", "aac"), ("audio", "aac")]),
    ("ogg", [("audio", "vorbis"), ("audio", "vorbis")]),
    ("mp3", [("audio", "mp3")]),
])
def test_audio_only_inputs_give_the_same_kind(tmp_path: Path, scene, run_dubber, kind, expect):
    audio = write_media(scene.pcm, tmp_path / f"talk.{kind}")
    _, outputs, report = _dub(run_dubber, audio, "--to", "es", "--from", "en")
    assert outputs[0] == tmp_path / f"talk.es.{kind}"
    info = _check_container(audio, outputs[0], expect, "es") if kind != "mp3" else avprobe.streams(outputs[0])
    assert [(s.type, s.codec) for s in info] == expect
    assert read_srt(outputs[1]) and any("sidecar" in note for note in report["notes"])


def test_overflow_past_the_cap_is_cut_and_reported(tmp_path: Path, scene, run_dubber):
    audio = write_media(scene.pcm, tmp_path / "talk.flac")
    result, outputs, report = _dub(run_dubber, audio, "--to", "en", "--mix", "replace", "--max-speed", "1.05",
                                   "--max-window", "2", "--min-window", "1")
    _check_plan(report, max_speed=1.05)
    cut = [w for w in _placed(report) if w["overflow_ms"] > 0]
    assert cut and report["summary"]["overflowed"] == len(cut)
    assert "did not fit" in result.stderr
    dub, rate = avprobe.decode_audio(outputs[0])
    spans = [(w["dub_start_ms"], w["dub_end_ms"]) for w in _placed(report)]
    voiced = avprobe.voiced_ms(dub, rate)
    assert all(any(a - TOLERANCE_MS <= t < b + TOLERANCE_MS for a, b in spans) for t in voiced)


def test_no_keep_original_drops_it(tmp_path: Path, scene, run_dubber):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    _, outputs, _ = _dub(run_dubber, video, "--to", "it", "--no-keep-original")
    assert [s.type for s in avprobe.streams(outputs[0])] == ["video", "audio", "subtitle"]


def test_silent_input_still_gives_a_full_length_file(tmp_path: Path, run_dubber, emulator):
    video = write_media(compose([], tail_s=3.0).pcm, tmp_path / "quiet.mp4")
    sent = emulator.requests
    result, outputs, report = _dub(run_dubber, video, "--to", "en", code=3)  # 3: no speech, outputs written
    assert emulator.requests == sent and "no speech" in result.stderr
    assert [s.type for s in avprobe.streams(outputs[0])] == ["video", "audio", "audio"]
    assert abs(avprobe.duration_s(outputs[0]) - avprobe.duration_s(video)) <= 0.05
    assert report["windows"] == [] and read_srt(outputs[1]) == []


def test_a_video_whose_picture_outlasts_its_audio_is_dubbed_to_the_audios_end(tmp_path: Path, scene, run_dubber):
    from dubber.media.tool import run_ffmpeg

    audio = write_media(scene.pcm, tmp_path / "speech.wav")
    video = tmp_path / "talk.mp4"  # 3 s of picture after the sound ends, as many videos have
    run_ffmpeg(["-f", "lavfi", "-t", f"{scene.duration_ms / 1000 + 3:.3f}", "-i", "testsrc2=size=64x36:rate=10",
                "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-c:a", "aac", str(video)],
               what="writing the video")
    _, outputs, report = _dub(run_dubber, video, "--to", "fr", "--mix", "replace")
    streams = avprobe.streams(outputs[0])
    dub, rate = avprobe.decode_audio(outputs[0], streams[1].index)
    original, original_rate = avprobe.decode_audio(video, 1)
    assert abs(len(dub) / rate - len(original) / original_rate) < 0.05  # the mix ends with the original
    _check_dub_audio(dub, rate, report, scene)


@pytest.mark.parametrize("stage, crash, message", [
    # the final pass fails after writing half a file
    ("*-map_chapters*", 'for last; do :; done\n  echo half a file > "$last"', "writing talk.zh.mp4"),
    # the encoder fed while translating dies after reading a little of the dub
    # (the dub's own encoder, writing mix.mp4: the capability check's test mix must still run)
    ("*pipe:0*mix.mp4*", "head -c 40000 > /dev/null", "encoding the Chinese dub"),
])
def test_a_failed_ffmpeg_pass_leaves_no_output_behind(tmp_path: Path, scene, run_dubber, dubber_env, stage, crash,
                                                      message):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    wrapper = tmp_path / "ffmpeg-that-dies"
    wrapper.write_text(f'#!/bin/sh\ncase "$*" in {stage})\n  {crash}; echo "simulated crash" >&2; exit 1;;\nesac\n'
                       f'exec "{ffmpeg_exe()}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    result = run_dubber("dub", video, "--to", "zh", env={**dubber_env, "DUBBER_FFMPEG": str(wrapper)})
    assert result.code == 1
    assert result.stderr.strip().splitlines()[-1] == f"dubber: error: ffmpeg failed while {message}: simulated crash"
    assert "Traceback" not in result.log
    assert sorted(os.listdir(tmp_path)) == ["ffmpeg-that-dies", "talk.mp4"]


@pytest.mark.parametrize("args, code, message", [
    (["-o", "{dir}/out.avi"], 2, "cannot write a dub as .avi"),
    (["-o", "{dir}/talk.mp4"], 1, "would overwrite the input"),
    (["-o", "{dir}/out.webm"], 2, "WebM cannot hold h264"),
    (["--max-speed", "3"], 2, "--max-speed must be between"),
    (["--mix", "louder"], 2, "louder"),
])
def test_bad_options_fail_before_anything_is_paid_for(tmp_path: Path, scene, run_dubber, emulator, args, code,
                                                      message):
    video = write_media(scene.pcm[:16000], tmp_path / "talk.mp4")
    sent = emulator.requests
    result = run_dubber("dub", video, "--to", "zh", *[a.format(dir=tmp_path) for a in args])
    assert result.code == code and message in result.stderr, result.stderr
    assert emulator.requests == sent
    assert sorted(os.listdir(tmp_path)) == ["talk.mp4"]


def test_timing_dub_puts_cues_on_the_dubbed_speech(tmp_path: Path, scene, run_dubber):
    from tests.support.cues import covered_ms
    from tests.support.rules import rule_breaks

    audio = write_media(scene.pcm, tmp_path / "talk.m4a")
    _, outputs, report = _dub(run_dubber, audio, "--to", "en", "--timing", "dub", "--mix", "replace")
    cues = read_srt(next(p for p in outputs if p.suffix == ".srt"))
    placed = _placed(report)
    assert rule_breaks(cues, "en", report["duration_ms"]) == []
    for w in placed:  # every dubbed clip gets a cue on its first word, and is under cues while it speaks
        assert min(abs(c[0] - w["dub_start_ms"]) for c in cues) <= 83, w
        assert covered_ms(cues, w["dub_start_ms"], w["dub_end_ms"]) >= 0.8 * (w["dub_end_ms"] - w["dub_start_ms"])
    for start, end, text in cues:  # and no cue is up where no dub speaks, beyond its half-second linger
        assert any(w["dub_start_ms"] - 83 <= start and end <= w["slot_end_ms"] + 500 + 83 for w in placed), text


def test_a_failed_rerun_leaves_the_previous_set_whole(tmp_path: Path, scene, run_dubber, dubber_env):
    """Media, sidecars and report are put in place together: a run that fails at the end (here a folder
    appears where the report goes while the run waits on the service) keeps the last good set whole,
    rather than new media beside old sidecars."""
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    first = run_dubber("dub", video, "--to", "zh")
    assert first.code == 0, first.stderr
    names = ["talk.zh.mp4", "talk.zh.srt", "talk.zh.vtt"]
    before = {name: (tmp_path / name).read_bytes() for name in names}
    report = tmp_path / "talk.zh.dub.json"
    with Emulator(faults=Faults(latency=0.5)) as slow:
        env = {**dubber_env, "DUBBER_BASE_URL": slow.base_url}
        proc = subprocess.Popen([sys.executable, "-m", "dubber", "dub", str(video), "--to", "zh", "--mix", "replace"],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 30
        while slow.requests < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        report.unlink()
        report.mkdir()
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "is a folder" in stderr and "Traceback" not in stderr, stderr
    assert {name: (tmp_path / name).read_bytes() for name in names} == before
    assert sorted(os.listdir(tmp_path)) == sorted(["talk.mp4", "talk.zh.dub.json", *names])


def test_a_folder_at_an_output_name_is_refused_before_paying(tmp_path: Path, scene, run_dubber, emulator):
    video = write_media(scene.pcm[:32000], tmp_path / "talk.mp4")
    (tmp_path / "talk.zh.vtt").mkdir()
    sent = emulator.requests
    result = run_dubber("dub", video, "--to", "zh")
    assert result.code == 1 and emulator.requests == sent
    assert result.stderr.strip().splitlines() == [f"dubber: error: {tmp_path / 'talk.zh.vtt'}: is a folder: "
                                                  "cannot write the output there"]
    assert sorted(os.listdir(tmp_path)) == ["talk.mp4", "talk.zh.vtt"]


def _replayed_speech(emu: Emulator, body: bytes) -> np.ndarray:
    """The speech the (deterministic) emulator answers to a captured request: its audio deltas joined."""
    req = urllib.request.Request(emu.base_url + "/chat/completions", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {DEFAULT_KEY}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        events = [line[6:] for line in resp.read().split(b"\n") if line.startswith(b"data: {")]
    pcm = b"".join(base64.b64decode(d["audio"]["data"]) for e in events for c in json.loads(e)["choices"]
                   if (d := c["delta"]).get("audio") and d["audio"].get("data"))
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768


def _envelope(signal: np.ndarray, rate: int) -> np.ndarray:
    frame = rate // 100
    count = len(signal) // frame
    return np.sqrt(np.mean(signal[:count * frame].reshape(count, frame) ** 2, axis=1))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def test_sped_up_clips_are_time_compressed_in_the_decoded_dub(tmp_path: Path, scene, dubber_env):
    """Decoded, a sped-up clip is the service's speech compressed by the reported factor (its words and
    gaps shorter), not the same speech cut at its slot: its loudness envelope matches the natural one
    compressed, and matches it clearly better than the natural one."""
    audio = write_media(scene.pcm, tmp_path / "talk.wav")
    with Emulator() as emu:
        env = {**dubber_env, "DUBBER_BASE_URL": emu.base_url}
        result = subprocess.run([sys.executable, "-m", "dubber", "dub", str(audio), "--to", "de", "--mix", "replace",
                                 "--max-window", "2", "--min-window", "1", "--no-cache"], env=env,
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        outputs = [Path(line) for line in result.stdout.split()]
        report = json.loads(outputs[-1].read_text(encoding="utf-8"))
        dub, rate = avprobe.decode_audio(outputs[0])
        by_length = {}
        for sent in emu.captured:  # each window's request, told apart by its audio's length
            wav = json.loads(sent.body)["messages"][0]["content"][0]["input_audio"]["data"].split(",", 1)[1]
            by_length[(len(base64.b64decode(wav)) - 44) // 32] = sent.body
        fast = [w for w in _placed(report) if w["speed"] > 1.0]
        assert fast, "nothing needed a speed-up: the test lost its point"
        for w in fast:
            natural = _replayed_speech(emu, by_length[w["window_end_ms"] - w["window_start_ms"]])
            spoken = _envelope(natural, 24000)
            spoken = spoken[np.flatnonzero(spoken > spoken.max() / 100)[0]:]  # from its first sound, as placed
            played = _envelope(dub[w["dub_start_ms"] * rate // 1000:w["dub_end_ms"] * rate // 1000], rate)
            compressed = np.interp(np.arange(len(played)) * w["speed"], np.arange(len(spoken)), spoken)
            stretched, unstretched = _correlation(played, compressed), _correlation(played, spoken)
            assert stretched > 0.8 and stretched > unstretched + 0.1, (w["index"], stretched, unstretched)
