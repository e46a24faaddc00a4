"""The openai SDK's exceptions mapped onto dubber's error tree, as the SDK raises them against the emulator."""
from __future__ import annotations

import sys

import openai
import pytest

from dubber.backends import BackendConfig, TranslateRequest, WindowMedia
from dubber.backends.livetranslate import LiveTranslate
from dubber.backends.openai_errors import is_transport_error
from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.errors import RequestError, TransientError
from dubber.languages import parse_lang
from dubber.media.audio import wav_bytes
from tests.support.mediagen import utterance

# The HTTP library of the installed openai: httpx2 for 3.x, httpx before. dubber itself never imports it.
HTTP = sys.modules.get("httpx2") or sys.modules["httpx"]


@pytest.mark.parametrize("code, error", [("internal_error", TransientError), ("data_inspection_failed", RequestError)])
def test_error_events_inside_a_stream_are_sorted_by_code(code, error):
    """An answer that fails once streaming (the emulator sends part of it, then an error event) reaches
    the backend through the real SDK as an APIError with the service's code: moderation is final, the
    rest passes."""
    media = WindowMedia(wav_bytes(utterance("en02"), 16000), "audio/wav")
    with Emulator(faults=Faults(error_event_every=1, error_event_code=code)) as emu:
        backend = LiveTranslate(BackendConfig(api_key=DEFAULT_KEY, base_url=emu.base_url))
        with pytest.raises(error, match=f"window 4: .*\\({code}\\)") as info:
            backend.translate(media, TranslateRequest(target=parse_lang("fr")), window=4)
        assert emu.stats.error_events == 1 and emu.stats.answered == 0
    assert isinstance(info.value.__cause__, openai.APIError) and info.value.__cause__.code == code


def test_transport_errors_of_the_sdks_http_library_are_recognised():
    assert is_transport_error(HTTP.RemoteProtocolError("peer closed connection"))
    assert is_transport_error(HTTP.ReadTimeout("slow"))
    assert not is_transport_error(ValueError("no"))
    assert not is_transport_error(HTTP.InvalidURL("not a transport error"))
