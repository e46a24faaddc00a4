"""`dubber transcribe` end to end: generated speech in an mp4, the real CLI in a subprocess, real ffmpeg,
real HTTP through the openai SDK to the emulated qwen3-asr-flash; the files parsed back by `srt` and
`webvtt-py`, the requests checked as the emulator received them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dubber.emulator import Emulator
from tests.support.cues import covered_ms, read_srt, read_vtt
from tests.support.mediagen import compose, write_media
from tests.support.rules import rule_breaks

LAYOUT = [(0.8, "en01"), (0.7, "en02"), (2.5, "en03")]
HANZI = re.compile(r"[\u4e00-\u9fff。\n]+")


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0)


@pytest.fixture()
def talk(tmp_path: Path, scene) -> Path:
    return write_media(scene.pcm, tmp_path / "talk.mp4")


def _asr_bodies(emulator, since: int) -> list[dict]:
    """The bodies of the transcription requests received since the emulator had ``since`` requests."""
    new = emulator.requests - since
    bodies = [json.loads(c.body) for c in emulator.captured[-new:]] if new else []
    return [b for b in bodies if b.get("model") == "qwen3-asr-flash"]


def _check_cues(cues, scene, lang: str) -> None:
    assert cues, "no cues"
    assert not rule_breaks(cues, lang, scene.duration_ms, fps=10)  # the test video runs at 10 fps
    for utt in scene.speech:  # every sentence spoken is under a cue for most of its length
        assert covered_ms(cues, utt.start_ms, utt.end_ms) >= 0.8 * (utt.end_ms - utt.start_ms), utt


def _files(result, folder: Path, stem: str, lang: str) -> list[tuple[int, int, str]]:
    srt_path, vtt_path = folder / f"{stem}.{lang}.srt", folder / f"{stem}.{lang}.vtt"
    assert result.stdout.split() == [str(srt_path), str(vtt_path)]
    from_srt = read_srt(srt_path)
    assert from_srt == read_vtt(vtt_path)
    return from_srt


def test_files_are_named_after_the_detected_language(talk, scene, run_dubber, emulator):
    before = emulator.requests
    result = run_dubber("transcribe", talk)
    assert result.code == 0, result.stderr
    assert "dubber: detected language: en" in result.stderr.splitlines()
    cues = _files(result, talk.parent, "talk", "en")
    _check_cues(cues, scene, "en")
    assert all(text.replace("\n", " ").isascii() for _, _, text in cues)
    bodies = _asr_bodies(emulator, before)
    assert bodies and all(b["asr_options"] == {"enable_itn": True} and b["stream"] is False for b in bodies)
    assert not list(talk.parent.glob("*.part")), "temporary files left behind"


def test_a_chinese_speaker_gives_chinese_files(talk, scene, run_dubber, dubber_env):
    with Emulator(detect_language="zh") as chinese:
        result = run_dubber("transcribe", talk, env={**dubber_env, "DUBBER_BASE_URL": chinese.base_url})
    assert result.code == 0, result.stderr
    assert "dubber: detected language: zh" in result.stderr.splitlines()
    cues = _files(result, talk.parent, "talk", "zh")
    _check_cues(cues, scene, "zh")
    assert all(HANZI.fullmatch(text) for _, _, text in cues)


def test_lang_and_no_itn_are_sent_and_name_the_files(talk, scene, run_dubber, emulator):
    before = emulator.requests
    result = run_dubber("transcribe", talk, "--lang", "zh-CN", "--no-itn", "--out-dir", talk.parent / "subs")
    assert result.code == 0, result.stderr
    assert "detected language" not in result.stderr
    cues = _files(result, talk.parent / "subs", "talk", "zh")
    _check_cues(cues, scene, "zh")
    assert all(HANZI.fullmatch(text) for _, _, text in cues)  # the service transcribed in the language told
    bodies = _asr_bodies(emulator, before)
    assert bodies and all(b["asr_options"] == {"language": "zh", "enable_itn": False} for b in bodies)


def test_translating_backends_cannot_transcribe(talk, run_dubber, emulator):
    sent = emulator.requests
    result = run_dubber("transcribe", talk, "--backend", "livetranslate")
    assert result.code == 2, result.stderr  # a usage error: refused before anything is paid for
    assert emulator.requests == sent, "a request was sent"
    [line] = result.stderr.strip().splitlines()  # one line, naming the backend refused
    assert "livetranslate" in line, line
