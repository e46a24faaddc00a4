"""qwen3-livetranslate-flash's video input as the emulator serves it: a ``video_url`` item holding a base64
data URL of a real MP4 (made by the real ffmpeg), sent through the real openai SDK and raw urllib."""
from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import openai
import pytest

from dubber.media.tool import run_ffmpeg
from tests.emulator.helpers import SPEECH_1S5, collect_stream, http_post, request, sdk_create, speech_signal
from tests.support import avprobe
from tests.support.mediagen import write_media

WHERE = "messages[0].content[0].video_url"


def _video_url(data: bytes, mime: str = "video/mp4") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def video_request(url: str, **extra) -> dict:
    """A valid request for ``url``: the audio request with its one item swapped, as the document says."""
    body = request(**extra)
    body["messages"][0]["content"] = [{"type": "video_url", "video_url": {"url": url}}]
    return body


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """A 64x36 test picture with 0.5 s silence, 1.5 s of buzz, 0.5 s silence; the same sound alone; a
    picture with no sound."""
    folder = tmp_path_factory.mktemp("video")
    pcm = np.round(speech_signal(1.5) * 32767).astype(np.int16)
    mute = folder / "mute.mp4"
    run_ffmpeg(["-f", "lavfi", "-t", "2", "-i", "testsrc2=size=64x36:rate=10", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(mute)], what="writing a mute video")
    return {"talk": write_media(pcm, folder / "talk.mp4"), "sound": write_media(pcm, folder / "sound.m4a"),
            "mute": mute}


def _expected_video_tokens(path: Path, width: int = 64, height: int = 36) -> int:
    """The emulator's documented rule: 2 frames a second, two frames a group, one token per 28 px patch."""
    groups = max(1, math.ceil(avprobe.duration_s(path) * 2 / 2))
    return groups * math.ceil(width / 28) * math.ceil(height / 28)


def test_video_is_answered_from_its_sound_like_audio(client, media):
    result = collect_stream(client, video_request(_video_url(media["talk"].read_bytes())))
    assert abs(len(result["text"].split()) - 2.5 * 1.5) <= 1  # as for the same 1.5 s of speech as WAV
    assert 1.5 <= len(result["pcm"]) / 2 / 24000 <= 1.15 * 1.5 + 0.001
    assert result["finish"][-1] == "stop"
    again = collect_stream(client, video_request(_video_url(media["talk"].read_bytes())))
    assert (again["text"], again["pcm"]) == (result["text"], result["pcm"]), "answers must be deterministic"


def test_usage_reports_video_tokens_beside_the_sound_s_audio_tokens(client, media):
    usage = collect_stream(client, video_request(_video_url(media["talk"].read_bytes())))["last"].usage
    details = usage.prompt_tokens_details
    video_tokens = _expected_video_tokens(media["talk"])
    assert details.video_tokens == video_tokens
    assert 60 <= details.audio_tokens <= 66  # 2.5 s of sound at 25 tokens a second (AAC frames round it up)
    assert usage.prompt_tokens == details.audio_tokens + video_tokens and details.text_tokens == 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_raw_usage_chunk_has_video_tokens_only_for_video(emulator, media):
    def usage_of(body: dict) -> dict:
        body.update(stream=True, stream_options={"include_usage": True})
        status, _, raw = http_post(emulator, json.dumps(body).encode())
        assert status == 200
        return json.loads(raw.decode().split("\n\n")[-3].removeprefix("data: "))["usage"]

    video = usage_of(video_request(_video_url(media["talk"].read_bytes())))
    assert video["prompt_tokens_details"]["video_tokens"] == _expected_video_tokens(media["talk"])
    assert usage_of(request(SPEECH_1S5))["prompt_tokens_details"]["video_tokens"] is None


def test_video_without_sound_answers_as_silence(client, media):
    answer = sdk_create(client, video_request(_video_url(media["mute"].read_bytes())))
    message = answer.choices[0].message
    assert message.content == "" and message.audio is None
    details = answer.usage.prompt_tokens_details
    assert details.audio_tokens == 0 and details.video_tokens == _expected_video_tokens(media["mute"])


_NOT_VIDEO = base64.b64encode(b"hello, not a video").decode()

ERRORS = [  # (what replaces the video_url object, param, words in the message)
    ({"url": "https://help-static-aliyun-doc.aliyuncs.com/1.mp4"}, f"{WHERE}.url", "cannot fetch URLs"),
    ({"url": _NOT_VIDEO}, f"{WHERE}.url", "data URL"),
    ({"url": "data:audio/wav;base64," + _NOT_VIDEO}, f"{WHERE}.url", "data:video/"),
    ({"url": "data:video/mp4;base64,@@not base64@@"}, f"{WHERE}.url", "not valid base64"),
    ({"url": "data:video/mp4;base64," + _NOT_VIDEO}, f"{WHERE}.url", "unsupported video"),
    ({}, f"{WHERE}.url", "required"),
    ({"url": 42}, f"{WHERE}.url", "type str"),
    ("https://x/1.mp4", WHERE, "type dict"),
]


@pytest.mark.parametrize("video_url, param, words", ERRORS)
def test_invalid_video_is_refused_like_the_service(client, emulator, video_url, param, words):
    body = video_request("")
    body["messages"][0]["content"][0]["video_url"] = video_url
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chat/completions", cast_to=object, body=body)
    assert caught.value.status_code == 400 and words in caught.value.message and caught.value.param == param
    status, _, raw = http_post(emulator, json.dumps(body).encode())
    error = json.loads(raw)
    assert status == 400 and set(error) == {"error", "request_id"}
    assert error["error"]["code"] == "invalid_parameter_error" and error["error"]["param"] == param


def test_sound_without_a_picture_is_not_a_video(client, media):
    with pytest.raises(openai.BadRequestError, match="no video stream") as caught:
        sdk_create(client, video_request(_video_url(media["sound"].read_bytes())))
    assert caught.value.param == f"{WHERE}.url"


def test_a_bad_parameter_is_refused_before_the_video_is_decoded(client):
    body = video_request("data:video/mp4;base64," + _NOT_VIDEO, target="klingon")
    with pytest.raises(openai.BadRequestError) as caught:
        sdk_create(client, body)
    assert caught.value.param == "translation_options.target_lang"
