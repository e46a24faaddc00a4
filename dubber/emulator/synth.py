"""Deterministic placeholder text and speech, sized like the input's speech; shared by every service.

Nothing here is a translation or a transcript. The point is that answers *behave* like the real
models': silence gives an empty answer, longer speech gives longer text and longer audio, and the same
request always gives byte-identical text and audio so tests and benchmarks can compare runs.
Everything here is pure: the services validate requests and pick the seed's ingredients.
"""
from __future__ import annotations

import hashlib
import io
import random
import re
import wave
from dataclasses import dataclass

import numpy as np

from dubber.languages import CJK

__all__ = ["OUTPUT_RATE", "SCRIPTS", "Audio", "Script", "decode_wav", "derive_seed", "placeholder_speech",
           "placeholder_text", "read_aloud", "reading_ms", "text_pieces", "voiced_ms"]

OUTPUT_RATE = 24000  # the service's speech is 24 kHz PCM16 mono
FRAME_MS = 20
# Frames quieter than this (about -45 dBFS) are never speech, whatever the noise floor.
ABS_FLOOR = 10 ** (-45 / 20)
WORDS_PER_SECOND = 2.5
CJK_CHARS_PER_SECOND = 4.0
# Reading a text aloud (``reading_ms``): characters a second, spaces and punctuation included.
LETTERS_PER_SECOND = 14.0
HANGUL_PER_SECOND = 6.0
# Han (with its radicals and compatibility block), kana, CJK punctuation, full-width forms and
# half-width katakana (not the ideographic space): a syllable, or a pause, each.
_CJK = ("[\u2e80-\u2fdf\u3001-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        "\uf900-\ufaff\uff01-\uff9f\U00020000-\U0003134f]")
_CJK_CHAR = re.compile(_CJK)
_HANGUL_CHAR = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")  # syllable blocks and jamo
# A line read aloud streams by its own characters: two CJK characters a piece, else a word.
_SCRIPT_PIECE = re.compile(rf"\s*(?:{_CJK}{{1,2}}|(?:(?!{_CJK})\S)+)|\s+\Z")

_SYLLABLES = (
    "ka", "lo", "mi", "ren", "ta", "vo", "sel", "nu", "pa", "di", "mor", "le", "ti", "sa", "bel",
    "ro", "fen", "gu", "ni", "ost", "ma", "ke", "dra", "lin", "zu", "po", "har", "ve", "sin", "tu",
)
_HANZI = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对"
    "可里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同"
)


@dataclass(frozen=True)
class Script:
    """How placeholder text looks in one writing system: what a word is made of, what separates words
    and sentences, and how much text a second of speech gives.

    ``per_second`` counts words, or characters where the script puts no spaces between words and
    every character is a unit (Chinese, Japanese); each word is ``word`` syllables long.
    """

    syllables: tuple[str, ...] | str
    per_second: float = WORDS_PER_SECOND
    sentence: tuple[int, int] = (4, 12)  # words (characters) a sentence
    word: tuple[int, int] = (1, 3)  # syllables a word
    word_gap: str = " "
    end: str = "."
    sentence_gap: str = " "
    capital: bool = False  # the sentence starts with a capital letter


_LATIN = Script(_SYLLABLES, capital=True)
_HAN = Script(_HANZI, CJK_CHARS_PER_SECOND, (6, 16), (1, 1), "", "。", "")
# Kanji, hiragana and a little katakana: kana outnumber kanji, as in running Japanese text.
_KANA_KANJI = Script("日本人時間年大学生会社話見行食書読友前後今何"
                     "のはをにがでともてしたいるうかなすれらよねまだこそあおきくけ"
                     "テレビカメラパンコーヒ", CJK_CHARS_PER_SECOND, (6, 16), (1, 1), "", "。", "")
SCRIPTS: dict[str, Script] = {
    "zh": _HAN, "yue": _HAN, "ja": _KANA_KANJI,
    "ko": Script(("하", "는", "이", "다", "가", "에", "를", "고", "서", "지", "사", "나", "한", "의", "로", "기",
                  "요", "니", "습", "게", "리", "어", "아", "도", "수", "인", "일", "자", "시", "우", "마", "보")),
    "ru": Script(("ка", "ло", "ми", "рен", "та", "во", "сел", "ну", "па", "ди", "мор", "ле", "ти", "са", "бел",
                  "ро", "фен", "гу", "ни", "ост", "ма", "ке", "дра", "лин", "зу", "по", "хар", "ве", "син", "ту"),
                 capital=True),
    # Every Greek syllable ends in a vowel, ν or ρ: a medial σ would need to be ς at a word's end.
    "el": Script(("κα", "λο", "μι", "ρε", "τα", "βο", "σε", "νυ", "πα", "δι", "μορ", "λε", "τι", "σα", "πέ",
                  "ρο", "φε", "γου", "νι", "νο", "μα", "κε", "δρα", "λιν", "ζω", "πο", "χαρ", "βε", "θέ", "του"),
                 capital=True),
    "ar": Script(("كا", "لو", "مي", "ري", "تا", "وا", "سل", "نو", "با", "دي", "مور", "لي", "تي", "سا", "بل",
                  "رو", "فن", "غو", "ني", "ما", "كي", "درا", "لين", "زو", "هار", "في", "سين", "تو", "عن", "قل")),
    "hi": Script(("का", "कि", "की", "के", "को", "न", "नी", "ने", "म", "मा", "में", "र", "रा", "री", "त", "ता",
                  "ते", "स", "सा", "है", "ल", "ला", "या", "दी", "प", "पा", "बा", "जा", "गा", "वा", "प्र", "स्त"),
                 end="।"),
    # Thai puts no spaces between words; a space ends a sentence (there is no full stop).
    "th": Script(("กา", "ขอ", "คน", "ดี", "ได้", "ไป", "มา", "ให้", "ที่", "และ", "ของ", "ความ", "เรา", "เขา",
                  "น้ำ", "ใจ", "รัก", "บ้าน", "เมือง", "งาน", "ทำ", "พูด", "สุข", "ฟ้า", "ลม", "ปี", "วัน", "ชาย"),
                 word_gap="", end=""),
}


@dataclass(frozen=True)
class Audio:
    """Decoded input audio: mono PCM16 samples plus what the seed and the usage need."""

    samples: np.ndarray  # int16, mono
    rate: int
    pcm: bytes  # the WAV's frames as sent, hashed for the seed

    @property
    def duration_ms(self) -> int:
        return len(self.samples) * 1000 // self.rate


def decode_wav(data: bytes) -> Audio:
    """Read a PCM16 WAV (8–48 kHz, mono or stereo); raise ValueError saying what is wrong."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            pcm = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a readable WAV file ({exc})") from exc
    if width != 2:
        raise ValueError(f"{8 * width}-bit samples (only 16-bit PCM)")
    if channels not in (1, 2):
        raise ValueError(f"{channels} channels (only mono or stereo)")
    if not 8000 <= rate <= 48000:
        raise ValueError(f"sample rate {rate} Hz (must be 8000-48000 Hz)")
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % (2 * channels)], dtype="<i2")
    if channels == 2:
        samples = samples.reshape(-1, 2).mean(axis=1).astype(np.int16)
    return Audio(samples=samples, rate=rate, pcm=pcm)


def voiced_ms(samples: np.ndarray, rate: int) -> int:
    """Milliseconds of 20 ms frames loud enough to be speech.

    The threshold adapts to the recording: 10 dB over the noise floor (10th percentile of frame
    RMS), capped at 20 dB below the loud frames (95th percentile), so input that is speech from end
    to end (no quiet frames to learn a floor from) still counts as voiced.

    >>> voiced_ms(np.zeros(16000, dtype=np.int16), 16000)
    0
    """
    return int(np.count_nonzero(voiced_frames(samples, rate))) * FRAME_MS


def voiced_frames(samples: np.ndarray, rate: int) -> np.ndarray:
    """Which whole 20 ms frames are loud enough to be speech, by ``voiced_ms``'s adaptive threshold."""
    frame = rate * FRAME_MS // 1000
    count = len(samples) // frame
    if count == 0:
        return np.zeros(0, dtype=bool)
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame) / 32768.0
    rms = np.sqrt(np.mean(frames**2, axis=1))
    noise, loud = np.percentile(rms, 10), np.percentile(rms, 95)
    return rms > max(ABS_FLOOR, min(noise * 10 ** (10 / 20), loud * 10 ** (-20 / 20)))


def derive_seed(pcm: bytes, target_lang: str, voice: str) -> int:
    """A seed that changes with the audio, the target language and the voice, and nothing else."""
    digest = hashlib.sha256()
    for part in (pcm, target_lang.encode(), voice.encode()):
        # Length-prefixed so that moving bytes between parts cannot give the same hash.
        digest.update(len(part).to_bytes(8, "little") + part)
    return int.from_bytes(digest.digest()[:8], "little")


def _sentence_lengths(total: int, low: int, high: int, rng: random.Random) -> list[int]:
    """Split ``total`` into parts of low..high (a single shorter part when total < low)."""
    parts: list[int] = []
    while total > high:
        size = rng.randint(low, min(high, total - low))
        parts.append(size)
        total -= size
    if total:
        parts.append(total)
    return parts


def _word(script: Script, rng: random.Random) -> str:
    low, high = script.word
    count = low if low == high else rng.randint(low, high)  # no draw for one-character words (Han)
    return "".join(rng.choice(script.syllables) for _ in range(count))


def placeholder_text(voiced_ms: int, target_lang: str, seed: int) -> str:
    """Made-up sentences in the target language's script, as long as a translation of ``voiced_ms`` of
    speech would be.

    About 2.5 words a second (Latin, Cyrillic, Greek, Hangul, Arabic, Devanagari, Thai), or 4 characters
    a second for Chinese and Japanese (``SCRIPTS``; any other language gets Latin pseudo-words).

    >>> placeholder_text(0, "en", 1)
    ''
    >>> placeholder_text(2000, "en", 7) == placeholder_text(2000, "en", 7)
    True
    """
    if voiced_ms <= 0:
        return ""
    rng = random.Random(seed)
    script = SCRIPTS.get(target_lang, _LATIN)
    sentences = []
    for size in _sentence_lengths(max(1, round(voiced_ms / 1000 * script.per_second)), *script.sentence, rng):
        text = script.word_gap.join(_word(script, rng) for _ in range(size))
        sentences.append((text.capitalize() if script.capital else text) + script.end)
    return script.sentence_gap.join(sentences)


def reading_ms(text: str) -> int:
    """How long reading ``text`` aloud takes, in milliseconds, from the scripts of its characters.

    Han and kana: ``CJK_CHARS_PER_SECOND`` (4, the pace ``placeholder_text`` writes them at). Hangul:
    ``HANGUL_PER_SECOND`` (6): a block is a whole syllable, as a Han character is, but Korean is spoken
    at about 6 syllables a second, and its spaces between words count as below. Everything else (Latin
    and the other alphabets, digits, spaces, punctuation): ``LETTERS_PER_SECOND`` (14, as long as the
    Latin text ``placeholder_text`` writes for a second). A run of white space counts as one space.

    >>> reading_ms("Hello there, how are you?")  # 25 characters
    1786
    >>> reading_ms("你好，世界。"), reading_ms("こんにちは"), reading_ms("안녕하세요")
    (1500, 1250, 833)
    >>> reading_ms("  Hello,   there ") == reading_ms("Hello, there"), reading_ms(" ")
    (True, 0)
    """
    text = " ".join(text.split())
    cjk, hangul = len(_CJK_CHAR.findall(text)), len(_HANGUL_CHAR.findall(text))
    letters = len(text) - cjk - hangul
    return round(1000 * (cjk / CJK_CHARS_PER_SECOND + hangul / HANGUL_PER_SECOND + letters / LETTERS_PER_SECOND))


def read_aloud(text: str, seed: int, speed: float = 1.0) -> bytes:
    """Placeholder speech of ``text`` read aloud at ``speed`` (1: ``reading_ms`` long); b"" for no text."""
    return placeholder_speech(round(reading_ms(text) / speed), seed)


def text_pieces(text: str, target_lang: str | None) -> list[str]:
    """Cut text into the word-sized deltas a stream carries; joined, they give the text back.

    Two characters a piece for a CJK language, else a word; ``None`` (a line read aloud, whose language the
    emulator does not name): its characters decide, so mixed text is cut both ways.

    >>> text_pieces("Hi 你好世界!", None)
    ['Hi', ' 你好', '世界', '!']
    """
    if target_lang in CJK:
        return [text[i : i + 2] for i in range(0, len(text), 2)]
    if target_lang is None:
        return _SCRIPT_PIECE.findall(text)
    # The tail alternative keeps trailing white space, so a fixed ``answer_text`` streams back exactly.
    return re.findall(r"\s*\S+|\s+\Z", text)


def _word_mask(n: int, rng: np.random.Generator) -> np.ndarray:
    """1 inside "words" of 300–800 ms, 0 in the 60–140 ms gaps between them, with 5 ms ramps."""
    mask = np.zeros(n)
    ramp = np.linspace(0.0, 1.0, OUTPUT_RATE * 5 // 1000)
    pos = 0
    while pos < n:
        word = np.ones(int(rng.uniform(0.3, 0.8) * OUTPUT_RATE))
        word[: len(ramp)] *= ramp
        word[-len(ramp) :] *= ramp[::-1]
        mask[pos : pos + len(word)] = word[: n - pos]
        pos += len(word) + int(rng.uniform(0.06, 0.14) * OUTPUT_RATE)
    return mask


def placeholder_speech(voiced_ms: int, seed: int) -> bytes:
    """A voice-like buzz, 24 kHz PCM16 mono, 1.0–1.15 × ``voiced_ms`` long; b"" for no speech.

    A 150–220 Hz harmonic buzz with a slow pitch drift, ~4 Hz syllable modulation and short gaps
    between words, peaking at -6 dBFS with 10 ms fades so clips can be butted together without clicks.
    """
    if voiced_ms <= 0:
        return b""
    rng = np.random.default_rng(seed)
    n = round(voiced_ms * rng.uniform(1.0, 1.15) * OUTPUT_RATE / 1000)
    t = np.arange(n) / OUTPUT_RATE
    pitch = rng.uniform(150, 220) * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / OUTPUT_RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 9))
    syllables = 0.35 + 0.65 * np.sin(np.pi * rng.uniform(3.5, 4.5) * t) ** 2
    signal = buzz * syllables * _word_mask(n, rng)
    fade = min(n // 2, OUTPUT_RATE // 100)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        signal[:fade] *= ramp
        signal[n - fade :] *= ramp[::-1]
    peak = np.max(np.abs(signal))
    if peak > 0:
        signal *= 10 ** (-6 / 20) / peak
    return np.round(signal * 32767).astype("<i2").tobytes()



def placeholder_answer(audio: Audio, lang: str, voice: str | None, text: str | None = None) -> tuple[str, bytes]:
    """A speaking model's deterministic answer to ``audio``: text in ``lang`` sized like its voiced audio
    (or ``text`` as given, even for silence) and, when a ``voice`` is asked for, speech of that length."""
    seed = derive_seed(audio.pcm, lang, voice or "")
    voiced = voiced_ms(audio.samples, audio.rate)
    speech = placeholder_speech(voiced, seed) if voice is not None else b""
    return (placeholder_text(voiced, lang, seed) if text is None else text), speech
