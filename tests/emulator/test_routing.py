"""Routing: a request's path picks the candidate services, the body's model picks one; refusals made
before a service is chosen come in the path's dialect. Pure first (a Router over fake services), then
over real loopback HTTP with fake services registered next to livetranslate."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import openai
import pytest

from dubber.emulator import API_PREFIX, CHAT_PATH, DEFAULT_KEY, MODELS, Emulator
from dubber.emulator import chat, livetranslate
from dubber.emulator.checks import check
from dubber.emulator.dialects import DASHSCOPE, OPENAI, ApiError
from dubber.emulator.routing import DEFAULT_DIALECT, SERVICES, Router
from dubber.emulator.service import Context, Reply, Service, json_reply
from tests.emulator.helpers import MODEL, http_post, request, sdk_create

AUDIO_PATH = API_PREFIX + "/audio/fake"


@dataclass(frozen=True)
class Echo:
    model: str
    stream: bool = False


def _check(fields: Mapping[str, Any]) -> Echo:
    check(fields.get("input") != "bad", "input must not be bad", "input")
    return Echo(fields["model"])


def _echo(name: str):
    def answer(req: Echo, ctx: Context) -> Reply:
        if req.model == "fake-bug":
            raise RuntimeError("a bug in the service")
        return json_reply({"service": name, "model": req.model})
    return answer


def fake(name: str, path: str, models: set[str], dialect=DASHSCOPE, read=chat.read_body) -> Service:
    return Service(name, path, frozenset(models), dialect, read, _check, _echo(name))


OMNI = fake("fake-omni", CHAT_PATH, {"fake-omni"})
AUDIO = fake("fake-audio", AUDIO_PATH, {"whisper-1", "fake-bug"}, dialect=OPENAI)
ROUTER = Router((*SERVICES, OMNI, AUDIO))


def payload(model: str | None, **fields) -> bytes:
    return json.dumps({**({} if model is None else {"model": model}), **fields}).encode()


# --- the router (pure) ---------------------------------------------------------------------------------

def test_the_registry_serves_livetranslate_on_the_chat_path():
    route = Router().route("POST", CHAT_PATH)
    served = {model: s.name for model, s in route.by_model.items() if s is livetranslate.SERVICE}
    assert livetranslate.SERVICE in SERVICES and served == dict.fromkeys(MODELS, "livetranslate")
    assert route.pick(payload(MODEL))[0] is livetranslate.SERVICE


def test_the_path_picks_the_candidates_and_the_model_picks_the_service():
    chat_route, audio_route = ROUTER.route("POST", CHAT_PATH), ROUTER.route("POST", AUDIO_PATH)
    assert set(chat_route.by_model) == {"fake-omni"} | {m for s in SERVICES if s.path == CHAT_PATH for m in s.models}
    assert set(audio_route.by_model) == {"whisper-1", "fake-bug"}
    assert chat_route.pick(payload("fake-omni"))[0] is OMNI
    assert chat_route.pick(payload(MODEL))[0] is livetranslate.SERVICE
    service, fields = audio_route.pick(payload("whisper-1", input="x"))
    assert service is AUDIO and fields == {"model": "whisper-1", "input": "x"}


def test_each_path_has_the_dialect_of_its_services_and_unknown_paths_the_default():
    assert ROUTER.dialect(CHAT_PATH) is DASHSCOPE and ROUTER.dialect(AUDIO_PATH) is OPENAI
    assert ROUTER.dialect(API_PREFIX + "/models") is DEFAULT_DIALECT is DASHSCOPE


@pytest.mark.parametrize("method, path", [("POST", API_PREFIX + "/models"), ("GET", CHAT_PATH), ("POST", "/")])
def test_an_unknown_path_or_method_is_a_404(method, path):
    with pytest.raises(ApiError) as caught:
        ROUTER.route(method, path)
    assert (caught.value.status, caught.value.code) == (404, "not_found") and path in caught.value.message


@pytest.mark.parametrize("raw, status, code, words", [
    (payload("qwen-max"), 404, "model_not_found", "`qwen-max` does not exist"),
    (payload(None), 400, "invalid_parameter_error", "model is required"),
    (b'{"model": 7}', 400, "invalid_parameter_error", "model must be of type str"),
    (b"{not json", 400, "invalid_parameter_error", "not valid JSON"),
])
def test_a_model_no_service_on_the_path_answers_is_refused(raw, status, code, words):
    for path in (CHAT_PATH, AUDIO_PATH):
        with pytest.raises(ApiError) as caught:
            ROUTER.route("POST", path).pick(raw)
        err = caught.value
        assert (err.status, err.code) == (status, code) and words in err.message


def test_services_sharing_a_path_must_agree():
    with pytest.raises(ValueError, match="claimed by livetranslate and twin"):
        Router((livetranslate.SERVICE, fake("twin", CHAT_PATH, {MODEL})))
    with pytest.raises(ValueError, match="dialect"):
        Router((livetranslate.SERVICE, fake("openai-chat", CHAT_PATH, {"gpt"}, dialect=OPENAI)))
    with pytest.raises(ValueError, match="reader"):
        Router((livetranslate.SERVICE, fake("raw", CHAT_PATH, {"raw"}, read=lambda raw: {"model": "raw"})))


# --- over HTTP -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def routed():
    with Emulator(port=0, services=(*SERVICES, OMNI, AUDIO)) as emu:
        yield emu


def test_each_model_reaches_its_service_over_http(routed):
    client = openai.OpenAI(api_key=DEFAULT_KEY, base_url=routed.base_url, max_retries=0, timeout=10)
    assert sdk_create(client, request(with_audio=False)).object == "chat.completion"  # livetranslate
    omni = http_post(routed, payload("fake-omni"), path=CHAT_PATH)[2]
    audio = http_post(routed, payload("whisper-1"), path=AUDIO_PATH)[2]
    assert json.loads(omni) == {"service": "fake-omni", "model": "fake-omni"}
    assert json.loads(audio) == {"service": "fake-audio", "model": "whisper-1"}


@pytest.mark.parametrize("raw, status, code", [
    (payload("qwen-max"), 404, "model_not_found"),  # no service chosen yet: the path's dialect
    (b"[1, 2]", 400, "invalid_parameter_error"),
    (payload("whisper-1", input="bad"), 400, "invalid_parameter_error"),  # the service's own check
    (payload("fake-bug"), 500, "internal_error"),  # a bug in the service: a 500, still in its dialect
])
def test_an_openai_path_refuses_in_openai_shape(routed, raw, status, code):
    got, headers, answer = http_post(routed, raw, path=AUDIO_PATH)
    error = json.loads(answer)
    assert got == status and list(error) == ["error"]
    assert list(error["error"]) == ["message", "type", "param", "code"]
    assert error["error"]["code"] == code and headers["x-request-id"]


def test_the_sdk_reads_an_openai_shaped_refusal(routed):
    client = openai.OpenAI(api_key=DEFAULT_KEY, base_url=routed.base_url, max_retries=0, timeout=10)
    with pytest.raises(openai.NotFoundError) as caught:
        client.post("/audio/fake", cast_to=object, body={"model": "whisper-2"})
    assert caught.value.code == "model_not_found" and caught.value.param == "model"
    assert "`whisper-2` does not exist" in caught.value.message


@pytest.mark.parametrize("path, raw, status, code", [
    (CHAT_PATH, payload("qwen-max"), 404, "model_not_found"),
    (API_PREFIX + "/audio/unknown", payload("whisper-1"), 404, "not_found"),
])
def test_the_chat_path_and_unknown_paths_refuse_in_dashscope_shape(routed, path, raw, status, code):
    got, headers, answer = http_post(routed, raw, path=path)
    error = json.loads(answer)
    assert got == status and list(error) == ["error", "request_id"]
    assert error["request_id"] == headers["x-request-id"]
    assert list(error["error"]) == ["code", "message", "type", "param"] and error["error"]["code"] == code


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_bodies_that_are_not_json_objects_are_refused(emulator, raw):
    status, _, body = http_post(emulator, raw)
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_parameter_error"
