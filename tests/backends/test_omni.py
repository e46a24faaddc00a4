"""The omni client: the request and instruction it builds (pure), its spec, and real round trips through
the emulator, whose captured bodies are checked against the document's wire format."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from dubber.backends import BackendConfig, TranslateRequest, WindowMedia, backend_spec
from dubber.backends.omni import MAX_CONTEXT_CHARS, SPEC, Omni, build_request, instruction
from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.emulator.omni import VOICES as SERVICE_VOICES
from dubber.errors import OptionError, RequestError, TransientError
from dubber.languages import parse_lang
from dubber.media.audio import wav_bytes
from tests.support.mediagen import utterance

FR = parse_lang("fr")
GLOSSARY = (("Ada Lovelace", "Ada Lovelace"), ("the Engine", "la Machine"))


@pytest.fixture(scope="module")
def voice_wav() -> WindowMedia:
    pcm = np.concatenate([np.zeros(4000, np.int16), utterance("en02"), np.zeros(4000, np.int16)])
    return WindowMedia(wav_bytes(pcm, 16000), "audio/wav")


def _backend(emulator, model: str = "qwen3-omni-flash") -> Omni:
    return Omni(BackendConfig(api_key=DEFAULT_KEY, base_url=emulator.base_url, model=model))


def _text_of(body: dict) -> str:
    return body["messages"][0]["content"][1]["text"]


def test_request_is_one_user_message_of_audio_and_instruction():
    wav = WindowMedia(wav_bytes(np.zeros(160, dtype=np.int16), 16000), "audio/wav")
    request = TranslateRequest(target=FR, source=parse_lang("en"), want_audio=True, voice="Ethan")
    kwargs = build_request(wav, request, "qwen3-omni-flash", context=("Bonjour.",))
    [message] = kwargs["messages"]
    assert message["role"] == "user"
    audio, text = message["content"]
    assert audio == {"type": "input_audio", "input_audio": {
        "data": "data:audio/wav;base64," + base64.b64encode(wav.data).decode(), "format": "wav"}}
    assert text == {"type": "text", "text": instruction(request, ("Bonjour.",))}
    assert kwargs["modalities"] == ["text", "audio"] and kwargs["audio"] == {"voice": "Ethan", "format": "wav"}
    assert kwargs["stream"] is True and kwargs["stream_options"] == {"include_usage": True}
    assert kwargs["extra_body"] == {"enable_thinking": False}


def test_text_only_request_asks_for_text_and_no_voice():
    kwargs = build_request(WindowMedia(b"RIFF", "audio/wav"), TranslateRequest(target=parse_lang("ja")), "m")
    assert kwargs["modalities"] == ["text"] and "audio" not in kwargs
    assert kwargs["extra_body"] == {"enable_thinking": False} and kwargs["stream"] is True


def test_instruction_names_languages_then_glossary_then_context():
    request = TranslateRequest(target=FR, source=parse_lang("en"), glossary=GLOSSARY)
    lines = instruction(request, ("Première phrase.", "Deuxième\nphrase.")).splitlines()
    assert lines[0] == "Translate the speech in this audio from English into French."
    assert "translation only" in lines[1] and "no commentary" in lines[1]
    assert '- "the Engine" → "la Machine"' in lines and '- "Ada Lovelace" → "Ada Lovelace"' in lines
    assert lines[-2:] == ['"Première phrase."', '"Deuxième phrase."']  # one line each, oldest first
    assert "context only" in lines[-3] and "do not repeat" in lines[-3]
    bare = instruction(TranslateRequest(target=FR))
    assert bare.splitlines()[0] == "Translate the speech in this audio into French."
    assert "→" not in bare and "context" not in bare and "Speak" not in bare


def test_a_long_context_keeps_its_end():
    long = "word " * 1000 + "the very end."
    quoted = instruction(TranslateRequest(target=FR), (long,)).splitlines()[-1]
    assert quoted.endswith('the very end."') and len(quoted) <= MAX_CONTEXT_CHARS + 3


def test_spec_matches_the_document():
    spec = backend_spec("omni")
    assert spec is SPEC and spec.family == "dashscope" and spec.default_model == "qwen3-omni-flash"
    assert spec.speaks and spec.instructions and spec.default_voice == "Cherry" and spec.transcriber == "asr"
    assert spec.tasks == frozenset({"translate"}) and spec.max_window_ms == 20 * 60 * 1000
    assert spec.voices == SERVICE_VOICES["qwen3-omni-flash"] and len(spec.voices) == 17
    assert set(spec.voices) < set(SERVICE_VOICES["qwen3-omni-flash-2025-12-01"])
    assert Omni.context_windows == 2
    spec.check(target=FR, voice="Ethan", glossary=True)
    for wrong in ("NotAVoice", "Serena"):  # Serena: only qwen3-omni-flash-2025-12-01 has it
        with pytest.raises(OptionError, match="voices: Cherry, Ethan"):
            spec.check(target=FR, voice=wrong)
    with pytest.raises(OptionError):
        spec.check(target=FR, max_window_ms=21 * 60 * 1000)


def test_round_trip_sends_the_documented_request(emulator, voice_wav):
    request = TranslateRequest(target=FR, source=parse_lang("en"), want_audio=True, voice="Jennifer",
                               glossary=GLOSSARY)
    context = ("Première réponse.", "Deuxième réponse.")
    result = _backend(emulator).translate(voice_wav, request, window=4, context=context)
    body = json.loads(emulator.captured[-1].body)
    assert emulator.captured[-1].path.endswith("/chat/completions")
    assert body["model"] == "qwen3-omni-flash" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True} and body["enable_thinking"] is False
    assert body["modalities"] == ["text", "audio"] and body["audio"] == {"voice": "Jennifer", "format": "wav"}
    [message] = body["messages"]
    assert [item["type"] for item in message["content"]] == ["input_audio", "text"]
    sent = message["content"][0]["input_audio"]
    assert sent["format"] == "wav" and base64.b64decode(sent["data"].split(",", 1)[1]) == voice_wav.data
    text = _text_of(body)
    assert "into French" in text and '"the Engine" → "la Machine"' in text
    assert all(f'"{c}"' in text for c in context)
    # the answer: text, and speech following the ~2.4 s of voice sent, as 24 kHz PCM16
    assert result.text and result.usage and result.usage.total_tokens > 0
    assert result.audio_rate == 24000 and 1.5 < len(result.audio_pcm) / 2 / 24000 < 3.5
    assert _backend(emulator).translate(voice_wav, request, window=4, context=context) == result


def test_text_only_round_trip(emulator, voice_wav):
    result = _backend(emulator).translate(voice_wav, TranslateRequest(target=parse_lang("de")))
    body = json.loads(emulator.captured[-1].body)
    assert body["modalities"] == ["text"] and "audio" not in body
    assert result.text and result.audio_pcm == b""


def test_a_voice_of_another_model_is_refused_by_the_service(emulator, voice_wav):
    # the spec keeps the CLI from sending it; a library caller reaches the service, which says no
    serena = TranslateRequest(target=FR, want_audio=True, voice="Serena")
    with pytest.raises(RequestError, match="400") as info:
        _backend(emulator).translate(voice_wav, serena, window=2)
    assert info.value.window == 2 and "Serena" in str(info.value)
    assert _backend(emulator, "qwen3-omni-flash-2025-12-01").translate(voice_wav, serena).audio_pcm


def test_a_stream_cut_midway_is_transient_and_never_half_used(voice_wav):
    with Emulator(port=0, faults=Faults(drop_stream_every=1)) as emu:
        with pytest.raises(TransientError, match="before its finish chunk") as info:
            _backend(emu).translate(voice_wav, TranslateRequest(target=FR, want_audio=True), window=7)
    assert info.value.window == 7


def test_cache_identity_holds_what_shapes_the_answer_never_the_key():
    base = "http://127.0.0.1:8001/compatible-mode/v1"
    here = Omni(BackendConfig(api_key="sk-secret-one", base_url=base, model="qwen3-omni-flash"))
    plain = TranslateRequest(target=FR)
    identity = here.cache_identity(plain)
    assert identity["service"] == "omni" and identity["schema"] >= 1 and identity["endpoint"] == base
    assert identity["glossary"] == [] and "sk-secret-one" not in repr(identity)
    json.dumps(identity)
    other_key = Omni(BackendConfig(api_key="sk-secret-two", base_url=base + "/", model="qwen3-omni-flash"))
    assert other_key.cache_identity(plain) == identity
    differing = [
        here.cache_identity(TranslateRequest(target=FR, glossary=GLOSSARY)),
        here.cache_identity(TranslateRequest(target=FR, glossary=GLOSSARY[:1])),
        here.cache_identity(TranslateRequest(target=FR, source=parse_lang("en"))),
        here.cache_identity(TranslateRequest(target=FR, want_audio=True, voice="Ethan")),
        here.cache_identity(TranslateRequest(target=parse_lang("de"))),
        Omni(BackendConfig(api_key="k", base_url=base, model="qwen3-omni-flash-2025-12-01")).cache_identity(plain),
    ]
    assert all(d != identity for d in differing) and len({json.dumps(d) for d in differing}) == len(differing)
