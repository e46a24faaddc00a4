"""The two error dialects: the same refusal in DashScope's shape and in OpenAI's, key order included
(it is part of the wire bytes)."""
from __future__ import annotations

import json

from dubber.emulator.dialects import DASHSCOPE, OPENAI, ApiError
from dubber.emulator.faults import QUOTA_MESSAGE, Fault, Faults, fault_error
from dubber.emulator.service import json_bytes

BAD_VOICE = ApiError(400, "audio.voice is required", "audio.voice")


def test_dashscope_shape_repeats_the_request_id_in_the_body():
    body = DASHSCOPE.body(BAD_VOICE, "rid-1")
    assert body == {"error": {"code": "invalid_parameter_error", "message": "audio.voice is required",
                              "type": "invalid_request_error", "param": "audio.voice"},
                    "request_id": "rid-1"}
    assert json_bytes(body) == (b'{"error":{"code":"invalid_parameter_error","message":"audio.voice is required",'
                                b'"type":"invalid_request_error","param":"audio.voice"},"request_id":"rid-1"}')


def test_openai_shape_has_only_the_error_object():
    body = OPENAI.body(BAD_VOICE, "rid-1")
    assert body == {"error": {"message": "audio.voice is required", "type": "invalid_request_error",
                              "param": "audio.voice", "code": "invalid_parameter_error"}}
    assert list(body["error"]) == ["message", "type", "param", "code"] and "rid-1" not in json.dumps(body)


def test_a_rate_limit_reads_as_each_service_words_it_with_the_same_headers():
    err = fault_error(Fault.RATE_LIMIT, Faults(retry_after=0.5))
    error = DASHSCOPE.body(err, "rid")["error"]
    assert (error["code"], error["type"], error["message"], error["param"]) == (
        "insufficient_quota", "insufficient_quota", QUOTA_MESSAGE, None)
    error = OPENAI.body(err, "rid")["error"]  # OpenAI's own API (the /v1/audio/* paths)
    assert (error["code"], error["type"], error["param"]) == ("rate_limit_exceeded", "requests", None)
    assert error["message"].startswith("Rate limit reached") and "0.5s" in error["message"]
    assert err.status == 429 and err.headers == {"Retry-After": "0.5", "retry-after-ms": "500"}


def test_a_server_fault_reads_as_each_service_words_it():
    err = fault_error(Fault.SERVER_ERROR, Faults())
    assert DASHSCOPE.body(err, "rid")["error"]["code"] == "internal_error"
    assert OPENAI.body(err, "rid") == {"error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error", "param": None, "code": None}}


def test_non_ascii_messages_stay_utf8():
    err = ApiError(400, "unsupported language '中文' in translation_options.target_lang", "x")
    assert "中文".encode() in json_bytes(OPENAI.body(err, "rid"))
