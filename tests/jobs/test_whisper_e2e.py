"""`--backend whisper` end to end: generated media with speech at known times, the real CLI in a subprocess,
the real openai SDK over loopback to the emulator's /v1/audio/* endpoints, the real ffmpeg; the written
files parsed back by `srt`, `webvtt-py` and PyAV, and the requests checked as the emulator captured them."""
from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from dubber.emulator import DEFAULT_KEY, Emulator
from dubber.emulator.openai_audio import Upload, read_form
from tests.support import avprobe
from tests.support.cues import read_srt, read_vtt
from tests.support.mediagen import compose, write_media

# Two windows of two sentences each (a 3.5 s silence between them).
LAYOUT = [(0.8, "en01"), (0.6, "en02"), (3.5, "en03"), (1.2, "en06")]


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0)


@pytest.fixture()
def env(dubber_env, emulator):
    return {**dubber_env, "OPENAI_API_KEY": DEFAULT_KEY, "OPENAI_BASE_URL": emulator.openai_base_url}


def _sent(emulator: Emulator, since: int, endpoint: str) -> list:
    """The requests to /v1/audio/<endpoint> received since the emulator had counted ``since``."""
    return [c for c in emulator.captured[-(emulator.requests - since):] if c.path == f"/v1/audio/{endpoint}"]


def _window_segments(emulator: Emulator, sent) -> dict[int, list[dict]]:
    """Each window's segments as the emulator answered them: the captured request sent again (the answers
    are deterministic), keyed by the window index its upload is named after."""
    out = {}
    for captured in sent:
        upload = read_form(captured.body)["file"]
        request = urllib.request.Request(emulator.openai_base_url + "/audio/translations", data=captured.body,
                                         headers={"Content-Type": captured.content_type,
                                                  "Authorization": f"Bearer {DEFAULT_KEY}"})
        with urllib.request.urlopen(request, timeout=20) as resp:
            out[int(re.fullmatch(r"window-(\d+)\.wav", upload.filename).group(1))] = json.load(resp)["segments"]
    return out


def _check_documented_upload(captured) -> None:
    fields = read_form(captured.body)
    assert captured.content_type.startswith("multipart/form-data; boundary=")
    assert fields["model"] == "whisper-1" and fields["response_format"] == "verbose_json"
    assert isinstance(fields["file"], Upload) and fields["file"].content_type == "audio/wav"
    assert fields["file"].data[:4] == b"RIFF" and fields["file"].filename.endswith(".wav")


def test_subtitles_are_timed_by_the_segments(tmp_path: Path, scene, run_dubber, emulator, env):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before = emulator.requests
    result = run_dubber("subtitles", video, "--to", "en", "--backend", "whisper", env=env)
    assert result.code == 0, result.stderr
    sent = _sent(emulator, before, "translations")
    assert len(sent) == emulator.requests - before == 2  # one request a window, nothing else
    for captured in sent:
        _check_documented_upload(captured)
        assert "language" not in read_form(captured.body)
    cues = read_srt(tmp_path / "talk.en.srt")
    assert cues == read_vtt(tmp_path / "talk.en.vtt")
    segments = [seg for _, segs in sorted(_window_segments(emulator, sent).items()) for seg in segs]
    assert [" ".join(text.split()) for _, _, text in cues] == [s["text"].strip() for s in segments]
    offsets = [start - round(seg["start"] * 1000) for (start, _, _), seg in zip(cues, segments)]
    assert offsets[0] == offsets[1] and offsets[2] == offsets[3], "one offset a window: its start"
    for (start, _, _), utt in zip(cues, scene.speech):  # segments begin where the speech does
        assert abs(start - utt.start_ms) <= 60, (start, utt)


def test_a_target_other_than_english_is_refused_before_any_request(tmp_path: Path, scene, run_dubber, emulator, env):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before = emulator.requests
    result = run_dubber("subtitles", video, "--to", "fr", "--backend", "whisper", env=env)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == ["dubber: error: the whisper backend only translates into en, "
                                                  "not French"]
    assert emulator.requests == before and not list(tmp_path.glob("talk.*.srt"))


def test_dub_voices_each_window_once_where_the_original_speaks(tmp_path: Path, scene, run_dubber, emulator, env):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before = emulator.requests
    result = run_dubber("dub", video, "--to", "en", "--backend", "whisper", "--voice", "echo", env=env)
    assert result.code == 0, result.stderr
    out = tmp_path / "talk.en.mp4"
    report = json.loads((tmp_path / "talk.en.dub.json").read_text())
    texts = {w["index"]: w["text"] for w in report["windows"]}
    speech = [json.loads(c.body) for c in _sent(emulator, before, "speech")]
    assert sorted(s["input"] for s in speech) == sorted(texts.values()) and len(speech) == len(texts) == 2
    assert all((s["model"], s["voice"], s["response_format"]) == ("tts-1", "echo", "pcm") for s in speech)
    # The dub's subtitles start at the segment times, each offset by its window's start.
    segments = _window_segments(emulator, _sent(emulator, before, "translations"))
    starts = sorted(w["window_start_ms"] + round(s["start"] * 1000) for w in report["windows"]
                    for s in segments[w["index"]])
    assert [start for start, _, _ in read_srt(tmp_path / "talk.en.srt")] == starts
    dub, rate = avprobe.decode_audio(out)  # the first audio stream: the dub
    voiced = avprobe.voiced_ms(dub, rate)
    for utt in scene.speech:
        inside = sum(1 for t in voiced if utt.start_ms <= t < utt.end_ms) * 10
        assert inside >= 0.4 * (utt.end_ms - utt.start_ms), f"{utt.name} is not dubbed"


def test_transcribe_names_files_after_the_detected_language(tmp_path: Path, scene, run_dubber, emulator, env):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    result = run_dubber("transcribe", video, "--backend", "whisper", env=env)
    assert result.code == 0, result.stderr
    assert "dubber: detected language: en" in result.stderr
    assert result.stdout.split() == [str(tmp_path / "talk.en.srt"), str(tmp_path / "talk.en.vtt")]
    assert read_srt(tmp_path / "talk.en.srt") == read_vtt(tmp_path / "talk.en.vtt") != []
    before = emulator.requests
    result = run_dubber("transcribe", video, "--backend", "whisper", "--lang", "de", "--format", "srt", env=env)
    assert result.code == 0, result.stderr
    sent = _sent(emulator, before, "transcriptions")
    assert len(sent) == 2 and all(read_form(c.body)["language"] == "de" for c in sent)
    _check_documented_upload(sent[0])
    assert "detected" not in result.stderr and read_srt(tmp_path / "talk.de.srt")
