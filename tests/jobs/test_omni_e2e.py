"""`--backend omni` end to end: the real CLI in a subprocess, real ffmpeg on generated media, real HTTP to
the emulator through the real openai SDK; the requests read back from what the emulator captured, the
outputs parsed back by `srt`, `webvtt-py` and PyAV."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dubber.backends.omni import VOICES
from dubber.emulator.omni import answer, check_request
from dubber.emulator.service import Context
from tests.support import avprobe
from tests.support.cues import covered_ms, read_srt, read_vtt
from tests.support.mediagen import compose, write_media

# Four sentences with pauses long enough to split them into at least three windows, one long silence.
LAYOUT = [(0.6, "en01"), (1.0, "en02"), (2.6, "en03"), (1.0, "en04")]


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0)


def _sent(emulator, before: int) -> list[dict]:
    """The bodies of the requests made since the emulator had counted ``before``, oldest first."""
    count = emulator.requests - before
    assert 0 < count <= 64, count  # the emulator keeps the latest 64
    return [json.loads(c.body) for c in emulator.captured[-count:]]


def _instruction(body: dict) -> str:
    [message] = body["messages"]
    assert [item["type"] for item in message["content"]] == ["input_audio", "text"]
    return message["content"][1]["text"]


def _check_context_chain(bodies: list[dict], answers: list[str]) -> None:
    """Each request carries the answers of the two windows before it, in order, and no older one."""
    assert len(bodies) == len(answers) >= 3
    for k, body in enumerate(bodies):
        quoted = [line for line in _instruction(body).splitlines() if line.startswith('"')]
        assert quoted == [f'"{text}"' for text in answers[max(0, k - 2):k]], k


def test_subtitles_in_french_carry_context_in_order(tmp_path: Path, scene, run_dubber, emulator):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before = emulator.requests
    result = run_dubber("subtitles", video, "--to", "fr", "--backend", "omni")
    assert result.code == 0, result.stderr
    srt_path, vtt_path = tmp_path / "talk.fr.srt", tmp_path / "talk.fr.vtt"
    assert result.stdout.split() == [str(srt_path), str(vtt_path)]
    cues = read_srt(srt_path)
    assert cues and cues == read_vtt(vtt_path)
    for (_, end, _), (start, _, _) in zip(cues, cues[1:]):
        assert end <= start
    for utt in scene.speech:
        assert covered_ms(cues, utt.start_ms, utt.end_ms) >= 0.8 * (utt.end_ms - utt.start_ms), utt
    bodies = _sent(emulator, before)
    for body in bodies:
        assert body["model"] == "qwen3-omni-flash" and body["stream"] is True
        assert body["modalities"] == ["text"] and "audio" not in body and body["enable_thinking"] is False
        assert _instruction(body).startswith("Translate the speech in this audio into French.")
    # the answers, as the emulator gives them again for the same requests (it is deterministic)
    answers = [_answer_text(body) for body in bodies]
    _check_context_chain(bodies, answers)
    assert " ".join(text for _, _, text in cues).split() == " ".join(answers).split()


def _answer_text(body: dict) -> str:
    """What the emulator answers ``body``: its answer is a pure function of the request."""
    text = ""
    for piece in answer(check_request(body), Context("again", 0, 4800, None)).pieces:
        event = piece.removeprefix(b"data: ").strip()
        if event != b"[DONE]":
            text += "".join(c["delta"]["content"] or "" for c in json.loads(event)["choices"])
    return text.strip()


def test_dub_in_german_speaks_where_the_original_speaks(tmp_path: Path, scene, run_dubber, emulator):
    video = write_media(scene.pcm, tmp_path / "talk.mkv")
    before = emulator.requests
    result = run_dubber("dub", video, "--to", "de", "--backend", "omni", "--mix", "replace", "--voice", "Ethan")
    assert result.code == 0, result.stderr
    outputs = [Path(line) for line in result.stdout.split()]
    report = json.loads(outputs[-1].read_text(encoding="utf-8"))
    bodies = _sent(emulator, before)
    assert all(b["modalities"] == ["text", "audio"] and b["audio"] == {"voice": "Ethan", "format": "wav"}
               for b in bodies)
    _check_context_chain(bodies, [w["text"] for w in report["windows"]])
    info = avprobe.streams(outputs[0])
    dub_stream = next(s for s in info if s.type == "audio")
    dub, rate = avprobe.decode_audio(outputs[0], dub_stream.index)
    voiced = avprobe.voiced_ms(dub, rate)
    for utt in scene.speech:  # the dub speaks over most of every sentence...
        inside = sum(1 for t in voiced if utt.start_ms <= t < utt.end_ms) * 10
        assert inside >= 0.4 * (utt.end_ms - utt.start_ms), utt.name
    pause = max(zip(scene.speech, scene.speech[1:]), key=lambda p: p[1].start_ms - p[0].end_ms)
    quiet = (pause[0].end_ms + 700, pause[1].start_ms - 300)  # ...and not in the long pause
    assert not [t for t in voiced if quiet[0] <= t < quiet[1]], quiet


def test_unknown_voice_is_a_usage_error_before_anything_happens(tmp_path: Path, scene, run_dubber, emulator):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before, files = emulator.requests, set(tmp_path.iterdir())
    result = run_dubber("dub", video, "--to", "de", "--backend", "omni", "--voice", "NotAVoice")
    assert result.code == 2
    [line] = result.stderr.strip().splitlines()
    assert "NotAVoice" in line and ", ".join(VOICES) in line
    assert emulator.requests == before and set(tmp_path.iterdir()) == files


def test_glossary_reaches_every_request_and_a_rerun_comes_from_the_cache(tmp_path: Path, scene, run_dubber,
                                                                         emulator):
    audio = write_media(scene.pcm, tmp_path / "talk.wav")
    glossary = tmp_path / "terms.txt"
    glossary.write_text("# names\nAnalytical Engine → machine analytique\n", encoding="utf-8")
    args = ("subtitles", audio, "--to", "fr", "--from", "en", "--backend", "omni", "--glossary", glossary)
    before = emulator.requests
    first = run_dubber(*args)
    assert first.code == 0, first.stderr
    bodies = _sent(emulator, before)
    for body in bodies:
        text = _instruction(body)
        assert text.startswith("Translate the speech in this audio from English into French.")
        assert '- "Analytical Engine" → "machine analytique"' in text
    srt = (tmp_path / "talk.fr.srt").read_text(encoding="utf-8")
    after_first = emulator.requests
    again = run_dubber(*args)
    assert again.code == 0, again.stderr
    assert emulator.requests == after_first, "the rerun asked the service again"
    assert (tmp_path / "talk.fr.srt").read_text(encoding="utf-8") == srt
