"""`--input-mode video` end to end: each window sent to livetranslate as a short MP4 cut by the real ffmpeg,
over real HTTP through the real openai SDK to the emulator, which decodes it; the request checked against
the document from what the emulator received, and the written files parsed back."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import av
import pytest

from dubber.emulator import CHAT_PATH
from tests.support import avprobe
from tests.support.cues import covered_ms, read_srt, read_vtt
from tests.support.mediagen import compose, write_media

LAYOUT = [(0.8, "en01"), (0.6, "en02"), (2.5, "en03")]  # a 2.5 s pause: at least two windows
DATA_URL = "data:video/mp4;base64,"


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0)


def _sent(emulator, before: int) -> list[dict]:
    """The bodies of the requests received since the emulator had counted ``before``."""
    count = emulator.requests - before
    assert 0 < count <= 64, count
    captured = emulator.captured[-count:]
    assert all(c.path == CHAT_PATH and c.content_type.startswith("application/json") for c in captured)
    return [json.loads(c.body) for c in captured]


def _clip_streams(url: str) -> list[str]:
    with av.open(io.BytesIO(base64.b64decode(url.removeprefix(DATA_URL)))) as container:
        return [s.type for s in container.streams]


def _check_cues(cues, scene) -> None:
    assert cues, "no cues"
    for start, end, text in cues:
        assert 0 <= start < end <= scene.duration_ms + 50 and text.strip()
    for (_, end, _), (start, _, _) in zip(cues, cues[1:]):
        assert end <= start, "cues overlap or are out of order"
    for utt in scene.speech:
        assert covered_ms(cues, utt.start_ms, utt.end_ms) >= 0.8 * (utt.end_ms - utt.start_ms), utt


def test_subtitles_from_video_windows_send_the_documented_request(tmp_path: Path, scene, run_dubber, emulator):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before = emulator.requests
    result = run_dubber("subtitles", video, "--to", "fr", "--input-mode", "video")
    assert result.code == 0, result.stderr
    from_srt, from_vtt = read_srt(tmp_path / "talk.fr.srt"), read_vtt(tmp_path / "talk.fr.vtt")
    assert from_srt == from_vtt
    _check_cues(from_srt, scene)
    bodies = _sent(emulator, before)
    assert len(bodies) >= 2
    for body in bodies:  # one user message holding one video_url item, everything else as for audio
        assert body["model"] == "qwen3-livetranslate-flash"
        [message] = body["messages"]
        assert message["role"] == "user"
        [item] = message["content"]
        assert set(item) == {"type", "video_url"} and item["type"] == "video_url"
        assert set(item["video_url"]) == {"url"} and item["video_url"]["url"].startswith(DATA_URL)
        assert _clip_streams(item["video_url"]["url"]) == ["video", "audio"]
        assert body["translation_options"] == {"target_lang": "fr"}
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        assert body["modalities"] == ["text"] and "audio" not in body
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.fr.srt", "talk.fr.vtt", "talk.mp4"]


def test_video_and_audio_windows_send_the_same_request_but_the_item(tmp_path: Path, scene, run_dubber, emulator):
    video = write_media(scene.pcm[: 5 * 16000], tmp_path / "short.mp4")  # the first two sentences
    sent = {}
    for mode in ("audio", "video"):
        before = emulator.requests
        result = run_dubber("dub", video, "--to", "de", "--input-mode", mode, "-o", tmp_path / mode / "short.mp4")
        assert result.code == 0, result.stderr
        sent[mode] = [{k: v for k, v in body.items() if k != "messages"} for body in _sent(emulator, before)]
    assert sent["video"] == sent["audio"] and sent["video"]
    assert sent["video"][0]["modalities"] == ["text", "audio"] and sent["video"][0]["audio"]["format"] == "wav"


def test_dub_from_video_windows_gives_a_valid_dubbed_file(tmp_path: Path, scene, run_dubber):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    result = run_dubber("dub", video, "--to", "es", "--input-mode", "video")
    assert result.code == 0, result.stderr
    outputs = [Path(line) for line in result.stdout.split()]
    assert outputs == [tmp_path / f"talk.es.{s}" for s in ("mp4", "srt", "vtt", "dub.json")]
    streams = avprobe.streams(outputs[0])
    assert [(s.type, s.codec) for s in streams][:3] == [("video", "h264"), ("audio", "aac"), ("audio", "aac")]
    assert abs(avprobe.duration_s(outputs[0]) - avprobe.duration_s(video)) <= 0.05
    avprobe.assert_video_copied(outputs[0], video)
    report = json.loads(outputs[-1].read_text(encoding="utf-8"))
    assert report["windows"] and all(w["text"] for w in report["windows"])
    dub, rate = avprobe.decode_audio(outputs[0], streams[1].index)
    voiced = avprobe.voiced_ms(dub, rate)
    for utt in scene.speech:  # the emulator answered each clip's sound with speech of its length
        assert sum(1 for t in voiced if utt.start_ms <= t < utt.end_ms) * 10 >= 0.4 * (utt.end_ms - utt.start_ms)
    _check_cues(read_srt(outputs[1]), scene)


@pytest.mark.parametrize("command", [("subtitles",), ("dub",)])
def test_audio_only_input_is_refused_in_one_line(tmp_path: Path, scene, run_dubber, emulator, command):
    audio = write_media(scene.pcm[: 3 * 16000], tmp_path / "speech.wav")
    before = emulator.requests
    result = run_dubber(*command, audio, "--to", "fr", "--input-mode", "video")
    assert result.code == 2  # an input error
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("dubber: ") and "Traceback" not in result.stderr and result.stdout == ""
    assert line.endswith(f"{audio}: has no video stream: --input-mode video needs one (use audio)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speech.wav"], "something was written"
    assert emulator.requests == before
