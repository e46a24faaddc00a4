"""The whisper client: the requests it builds (pure), how it reads segments and languages, and real round
trips through the emulator, checked against what the emulator captured on the wire."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dubber.backends import BackendConfig, TranslateRequest, WindowMedia, backend_spec
from dubber.backends.openai_speech import build_speech_request, speech_pieces
from dubber.backends.whisper import MAX_FILE_BYTES, Whisper, build_request, clean_segments, language_code
from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.emulator.openai_audio import Upload, read_form
from dubber.errors import AuthError, OptionError, RequestError, TransientError
from dubber.languages import parse_lang
from dubber.media.audio import wav_bytes
from dubber.models import Segment
from tests.support.mediagen import utterance

pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK marks translations

EN = parse_lang("en")


def _seg(start: float, end: float, text: str) -> SimpleNamespace:
    return SimpleNamespace(start=start, end=end, text=text)


# --- pure parts --------------------------------------------------------------------------------------

def test_translation_request_matches_the_document():
    media = WindowMedia(b"RIFF....", "audio/wav")
    kwargs = build_request(media, TranslateRequest(target=EN, source=parse_lang("de")), "whisper-1", window=7)
    assert kwargs == {"file": ("window-00007.wav", b"RIFF....", "audio/wav"), "model": "whisper-1",
                      "response_format": "verbose_json"}  # translations take no language


def test_transcription_sends_the_source_when_it_has_an_iso_639_1_code():
    media = WindowMedia(b"RIFF", "audio/wav")
    ask = lambda source: build_request(media, TranslateRequest(None, source=source, task="transcribe"), "whisper-1")
    assert ask(parse_lang("German"))["language"] == "de"
    assert "language" not in ask(None) and "language" not in ask(parse_lang("yue"))  # Cantonese: detected


def test_speech_request_matches_the_document():
    assert build_speech_request("Hi.", "nova", "tts-1") == {"model": "tts-1", "voice": "nova", "input": "Hi.",
                                                            "response_format": "pcm"}


def test_speech_pieces_cut_at_sentence_ends():
    text = " ".join(f"Sentence number {i} is here." for i in range(400))  # about 10,000 characters
    pieces = speech_pieces(text)
    assert len(pieces) == 3 and all(len(p) <= 4096 and p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text


@given(st.lists(st.text(alphabet="ab .!?", min_size=1, max_size=40), max_size=30), st.integers(8, 60))
def test_speech_pieces_keep_every_word_within_the_limit(parts, limit):
    text = " ".join(parts)
    pieces = speech_pieces(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_segments_become_clean_window_local_ms():
    raw = [_seg(3.0, 5.0, " Second."), _seg(0.5, 2.02, " First  one."), _seg(1.8, 2.5, " Overlaps."),
           _seg(2.5, 2.5, " No time."), _seg(6.0, 6.5, "   "), _seg(5.2, 9.9, " Past the end.")]
    assert clean_segments(raw, duration_ms=8000) == (
        Segment(500, 2020, "First one."), Segment(2020, 2500, "Overlaps. No time."), Segment(3000, 5000, "Second."),
        Segment(5200, 8000, "Past the end."))


def test_a_first_segment_with_no_time_joins_the_next():
    assert clean_segments([_seg(0.0, 0.0, " Oh,"), _seg(0.0, 1.0, " well.")]) == (Segment(0, 1000, "Oh, well."),)


@pytest.mark.parametrize("name, code", [("english", "en"), ("German", "de"), ("chinese", "zh"),
                                        ("swahili", "sw"), ("", None), (None, None), ("xq-nonsense-9", None)])
def test_language_names_become_codes(name, code):
    assert language_code(name) == code


def test_spec_refuses_a_target_other_than_english():
    spec = backend_spec("whisper")
    spec.check(target=EN, voice="alloy", max_window_ms=spec.max_window_ms)
    with pytest.raises(OptionError, match="only translates into en, not French"):
        spec.check(target=parse_lang("fr"))
    with pytest.raises(OptionError, match="unknown voice 'Cherry'"):
        spec.check(target=EN, voice="Cherry")
    assert 16000 * 2 * spec.max_window_ms / 1000 + 44 <= MAX_FILE_BYTES
    with pytest.raises(OptionError):
        spec.check(input_mode="video")


def test_cache_identity_follows_what_shapes_the_answer_and_never_the_key():
    a = Whisper(BackendConfig(api_key="sk-secret", base_url="https://API.openai.com/v1/", model="whisper-1"))
    b = Whisper(BackendConfig(api_key="sk-other", base_url="https://api.openai.com:443/v1", model="whisper-1"))
    text = TranslateRequest(target=EN)
    assert a.cache_identity(text) == b.cache_identity(text)
    assert "sk-" not in json.dumps(a.cache_identity(text))
    dub = TranslateRequest(target=EN, want_audio=True, voice="nova")
    transcribe = TranslateRequest(None, task="transcribe")
    assert a.cache_identity(dub) != a.cache_identity(text) != a.cache_identity(transcribe)
    assert a.cache_identity(dub)["speech_model"] == "tts-1" and a.cache_identity(text)["voice"] is None
    assert "sk-secret" not in repr(a.config)


# --- round trips through the emulator ---------------------------------------------------------------

@pytest.fixture(scope="module")
def media() -> WindowMedia:
    pcm = np.concatenate([np.zeros(4000, np.int16), utterance("en02"), np.zeros(8000, np.int16),
                          utterance("en01"), np.zeros(4000, np.int16)])
    return WindowMedia(wav_bytes(pcm, 16000), "audio/wav")


def _backend(emulator: Emulator, key: str = DEFAULT_KEY, **config) -> Whisper:
    return Whisper(BackendConfig(api_key=key, base_url=emulator.openai_base_url, model="whisper-1", timeout_s=20,
                                 **config))


def _sent(emulator: Emulator, since: int, path: str) -> list:
    return [c for c in emulator.captured[-(emulator.requests - since):] if c.path == "/v1/audio/" + path]


def test_translation_round_trip_is_timed_by_segments(emulator, media):
    before = emulator.requests
    result = _backend(emulator).translate(media, TranslateRequest(target=EN), window=3)
    (sent,) = _sent(emulator, before, "translations")
    assert sent.content_type.startswith("multipart/form-data; boundary=")
    fields = read_form(sent.body)
    assert fields == {"model": "whisper-1", "response_format": "verbose_json",
                      "file": Upload("window-00003.wav", "audio/wav", media.data)}
    assert result.text and result.audio_pcm == b"" and result.language is None  # "english" is the output's
    assert len(result.segments) == 2 and " ".join(s.text for s in result.segments) == result.text
    first, second = result.segments
    assert abs(first.start_ms - 250) <= 60 and second.start_ms > first.end_ms  # en02 starts at 0.25 s


def test_transcription_sends_language_and_reads_the_detected_one(emulator, media):
    before = emulator.requests
    backend = _backend(emulator)
    german = backend.translate(media, TranslateRequest(None, source=parse_lang("de"), task="transcribe"))
    detected = backend.translate(media, TranslateRequest(None, task="transcribe"))
    first, second = (read_form(c.body) for c in _sent(emulator, before, "transcriptions"))
    assert first["language"] == "de" and "language" not in second
    assert (first["model"], first["response_format"]) == ("whisper-1", "verbose_json")
    assert (german.language, detected.language) == ("de", "en") and german.segments and german.text != detected.text


def test_dub_voices_the_english_text_with_one_speech_request(emulator, media):
    before = emulator.requests
    result = _backend(emulator).translate(media, TranslateRequest(target=EN, want_audio=True, voice="nova"))
    (speech,) = _sent(emulator, before, "speech")
    assert speech.content_type == "application/json"
    assert json.loads(speech.body) == {"model": "tts-1", "voice": "nova", "input": result.text,
                                       "response_format": "pcm"}
    assert result.audio_rate == 24000 and len(result.audio_pcm) % 2 == 0
    seconds = len(result.audio_pcm) / 2 / 24000
    assert len(result.text) / 14 <= seconds <= len(result.text) / 14 * 1.15 + 0.01


def test_a_long_text_is_voiced_in_pieces_under_4096_characters(media):
    text = " ".join(f"This is sentence {i} of the answer." for i in range(160))  # ~5,500 characters
    with Emulator(answer_text=text) as emu:
        result = _backend(emu, speech_model="tts-1-hd").translate(media, TranslateRequest(
            target=EN, want_audio=True, voice="alloy"))
        bodies = [json.loads(c.body) for c in emu.captured if c.path == "/v1/audio/speech"]
    assert len(bodies) == 2 and all(len(b["input"]) <= 4096 and b["model"] == "tts-1-hd" for b in bodies)
    assert " ".join(b["input"] for b in bodies) == result.text == text
    assert len(result.audio_pcm) / 2 / 24000 >= len(text) / 14


def test_an_upload_over_25_mb_is_refused_before_sending(emulator):
    before = emulator.requests
    with pytest.raises(RequestError, match=r"^window 7: the audio is 26\.2 MB, over the 25 MB"):
        _backend(emulator).translate(WindowMedia(bytes(MAX_FILE_BYTES + 1), "audio/wav"),
                                     TranslateRequest(target=EN), window=7)
    assert emulator.requests == before


def test_service_errors_map_onto_dubbers(emulator, media):
    with pytest.raises(AuthError) as auth:
        _backend(emulator, key="sk-wrong-secret").translate(media, TranslateRequest(target=EN))
    assert "sk-wrong-secret" not in str(auth.value)
    with pytest.raises(RequestError, match="404.*whisper-9"):
        Whisper(BackendConfig(api_key=DEFAULT_KEY, base_url=emulator.openai_base_url, model="whisper-9")).translate(
            media, TranslateRequest(target=EN))
    with pytest.raises(RequestError, match="window 2: .*400.*'Cherry'") as bad_voice:
        _backend(emulator).translate(media, TranslateRequest(target=EN, want_audio=True, voice="Cherry"), window=2)
    assert bad_voice.value.status == 400


def test_a_rate_limit_is_transient_with_its_wait(media):
    with Emulator(faults=Faults(fail_429_every=1, retry_after=0.5)) as emu:
        with pytest.raises(TransientError, match="429.*Rate limit reached") as info:
            _backend(emu).translate(media, TranslateRequest(target=EN))
    assert info.value.retry_after == pytest.approx(0.5, abs=0.01)


def test_a_dropped_answer_is_transient(media):
    with Emulator(faults=Faults(drop_stream_every=1)) as emu:
        with pytest.raises(TransientError):
            _backend(emu).translate(media, TranslateRequest(target=EN))
