"""The openai SDK's exceptions mapped onto dubber's error tree."""
from __future__ import annotations

import sys

import openai

from dubber.backends.openai_errors import is_transport_error, map_error
from dubber.errors import RequestError, TransientError

# The HTTP library of the installed openai: httpx2 for 3.x, httpx before. dubber itself never imports it.
HTTP = sys.modules.get("httpx2") or sys.modules["httpx"]


def test_error_events_inside_a_stream_are_sorted_by_code():
    request = HTTP.Request("POST", "http://x")
    moderated = openai.APIError("Input data may contain inappropriate content.", request,
                                body={"code": "data_inspection_failed"})
    moderated.code = "data_inspection_failed"
    overloaded = openai.APIError("The engine is overloaded.", request, body={"code": "internal_error"})
    overloaded.code = "internal_error"
    assert isinstance(map_error(moderated, 2), RequestError)
    assert isinstance(map_error(overloaded, 2), TransientError)


def test_transport_errors_of_the_sdks_http_library_are_recognised():
    assert is_transport_error(HTTP.RemoteProtocolError("peer closed connection"))
    assert is_transport_error(HTTP.ReadTimeout("slow"))
    assert not is_transport_error(ValueError("no"))
    assert not is_transport_error(HTTP.InvalidURL("not a transport error"))
