"""`--bilingual` end to end: every window translated (livetranslate) and transcribed (asr) through the
real openai SDK against an emulator that hears Chinese, so the French translation (Latin script) and the
Chinese source (Hanzi) can be told apart in every cue. What each window was answered is found by asking
the emulator again with the requests it captured (its answers are deterministic)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dubber.emulator import Captured, Emulator
from tests.emulator.helpers import http_post
from tests.support.cues import covered_ms, read_srt, read_vtt
from tests.support.mediagen import compose, write_media

LAYOUT = [(0.8, "en01"), (0.7, "en02"), (2.5, "en03")]
HANZI_LINE = re.compile(r"[\u4e00-\u9fff。]+")
LATIN_LINE = re.compile(r"[A-Za-z .…]+")


@pytest.fixture(scope="module")
def chinese():
    with Emulator(detect_language="zh") as emu:
        yield emu


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0)


def _answers(emulator: Emulator, sent: list[Captured], model: str) -> dict[str, str]:
    """Each window's answer from ``model``, keyed by the window's audio: the requests ``sent`` asked
    again, whole instead of streamed."""
    answers = {}
    for captured in sent:
        body = json.loads(captured.body)
        if body.get("model") != model:
            continue
        body.pop("stream_options", None)
        status, _, raw = http_post(emulator, json.dumps({**body, "stream": False}).encode())
        assert status == 200, raw
        audio = body["messages"][0]["content"][0]["input_audio"]["data"]
        answers[audio] = json.loads(raw)["choices"][0]["message"]["content"]
    return answers


def _split_cue(text: str) -> tuple[list[str], list[str]]:
    """A cue's translation lines (French: Latin script) and the source lines (Chinese) under them."""
    lines = text.split("\n")
    first_source = next((i for i, line in enumerate(lines) if HANZI_LINE.fullmatch(line)), len(lines))
    translation, source = lines[:first_source], lines[first_source:]
    assert translation and all(LATIN_LINE.fullmatch(line) for line in translation), text
    assert source and all(HANZI_LINE.fullmatch(line) for line in source), text
    return translation, source


def _check_bilingual(cues, scene, emulator: Emulator, since: int) -> None:
    assert cues
    for utt in scene.speech:
        assert covered_ms(cues, utt.start_ms, utt.end_ms) >= 0.8 * (utt.end_ms - utt.start_ms), utt
    parts = [_split_cue(text) for _, _, text in cues]
    shown_source = "".join("".join(source) for _, source in parts)
    shown_words = " ".join(" ".join(translation) for translation, _ in parts).split()
    sent = emulator.captured[-(emulator.requests - since):]  # before asking again adds to them
    transcripts = _answers(emulator, sent, "qwen3-asr-flash")
    translations = _answers(emulator, sent, "qwen3-livetranslate-flash")
    assert transcripts and set(transcripts) == set(translations), "each window is transcribed and translated"
    # Windows in the order their transcripts are shown; together they are the source lines, word for word.
    order = sorted(transcripts, key=lambda audio: shown_source.find(transcripts[audio]))
    assert "".join(transcripts[a] for a in order) == shown_source
    assert [w for a in order for w in translations[a].split()] == shown_words


def _run(run_dubber, dubber_env, emulator: Emulator, *args):
    since = emulator.requests
    result = run_dubber(*args, env={**dubber_env, "DUBBER_BASE_URL": emulator.base_url})
    assert result.code == 0, result.stderr
    return result, since


def test_subtitles_show_the_source_under_the_translation(tmp_path: Path, scene, run_dubber, dubber_env, chinese):
    talk = write_media(scene.pcm, tmp_path / "talk.mp4")
    result, since = _run(run_dubber, dubber_env, chinese, "subtitles", talk, "--to", "fr", "--bilingual")
    srt_path, vtt_path = tmp_path / "talk.fr.srt", tmp_path / "talk.fr.vtt"
    assert result.stdout.split() == [str(srt_path), str(vtt_path)]
    cues = read_srt(srt_path)
    assert cues == read_vtt(vtt_path)
    _check_bilingual(cues, scene, chinese, since)


def test_dub_subtitles_show_the_source_under_the_translation(tmp_path: Path, scene, run_dubber, dubber_env,
                                                             chinese):
    talk = write_media(scene.pcm, tmp_path / "talk.mp4")
    result, since = _run(run_dubber, dubber_env, chinese, "dub", talk, "--to", "fr", "--bilingual")
    outputs = [Path(line) for line in result.stdout.split()]
    srt_path, vtt_path = (next(p for p in outputs if p.suffix == suffix) for suffix in (".srt", ".vtt"))
    assert all(p.exists() for p in outputs)
    cues = read_srt(srt_path)
    assert cues == read_vtt(vtt_path)
    _check_bilingual(cues, scene, chinese, since)
