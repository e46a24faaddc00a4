"""The livetranslate request for a video window (pure): the document's ``video_url`` item in place of
``input_audio``, "all other parameters the same"; and video answers cached apart from audio ones."""
from __future__ import annotations

import base64

from dubber.backends import BackendConfig, TranslateRequest, WindowMedia
from dubber.backends.livetranslate import LiveTranslate, build_request
from dubber.languages import parse_lang

CLIP = WindowMedia(b"\x00\x00\x00\x18ftypisom-not-really-a-clip", "video/mp4")
REQUEST = TranslateRequest(target=parse_lang("fr"), source=parse_lang("en"), want_audio=True, voice="Cherry")


def test_video_window_sends_one_video_url_data_url_and_everything_else_as_for_audio():
    video = build_request(CLIP, REQUEST, "qwen3-livetranslate-flash")
    audio = build_request(WindowMedia(b"RIFF", "audio/wav"), REQUEST, "qwen3-livetranslate-flash")
    assert video["messages"] == [{"role": "user", "content": [{"type": "video_url", "video_url": {
        "url": "data:video/mp4;base64," + base64.b64encode(CLIP.data).decode()}}]}]
    assert {k: v for k, v in video.items() if k != "messages"} == {k: v for k, v in audio.items() if k != "messages"}


def test_video_and_audio_answers_are_cached_apart():
    def identity(mode: str):
        return LiveTranslate(BackendConfig(api_key="k", input_mode=mode)).cache_identity(REQUEST)

    assert identity("video") != identity("audio")
