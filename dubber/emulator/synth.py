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

__all__ = ["OUTPUT_RATE", "Audio", "decode_wav", "derive_seed", "placeholder_speech", "placeholder_text",
           "text_pieces", "voiced_ms"]

OUTPUT_RATE = 24000  # the service's speech is 24 kHz PCM16 mono
FRAME_MS = 20
# Frames quieter than this (about -45 dBFS) are never speech, whatever the noise floor.
ABS_FLOOR = 10 ** (-45 / 20)
WORDS_PER_SECOND = 2.5
CJK_CHARS_PER_SECOND = 4.0

_SYLLABLES = (
    "ka", "lo", "mi", "ren", "ta", "vo", "sel", "nu", "pa", "di", "mor", "le", "ti", "sa", "bel",
    "ro", "fen", "gu", "ni", "ost", "ma", "ke", "dra", "lin", "zu", "po", "har", "ve", "sin", "tu",
)
_HANZI = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对"
    "可里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同"
)


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
    frame = rate * FRAME_MS // 1000
    count = len(samples) // frame
    if count == 0:
        return 0
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame) / 32768.0
    rms = np.sqrt(np.mean(frames**2, axis=1))
    noise, loud = np.percentile(rms, 10), np.percentile(rms, 95)
    threshold = max(ABS_FLOOR, min(noise * 10 ** (10 / 20), loud * 10 ** (-20 / 20)))
    return int(np.count_nonzero(rms > threshold)) * FRAME_MS


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


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))


def placeholder_text(voiced_ms: int, target_lang: str, seed: int) -> str:
    """Made-up sentences as long as a translation of ``voiced_ms`` of speech would be.

    About 2.5 pseudo-words a second (Latin script), or 4 Hanzi a second for zh/yue/ja.

    >>> placeholder_text(0, "en", 1)
    ''
    >>> placeholder_text(2000, "en", 7) == placeholder_text(2000, "en", 7)
    True
    """
    if voiced_ms <= 0:
        return ""
    rng = random.Random(seed)
    seconds = voiced_ms / 1000
    if target_lang in CJK:
        count = max(1, round(seconds * CJK_CHARS_PER_SECOND))
        return "".join(
            "".join(rng.choice(_HANZI) for _ in range(size)) + "。"
            for size in _sentence_lengths(count, 6, 16, rng)
        )
    sentences = []
    for size in _sentence_lengths(max(1, round(seconds * WORDS_PER_SECOND)), 4, 12, rng):
        words = [_pseudo_word(rng) for _ in range(size)]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def text_pieces(text: str, target_lang: str) -> list[str]:
    """Cut text into the word-sized deltas a stream carries; joined, they give the text back."""
    if target_lang in CJK:
        return [text[i : i + 2] for i in range(0, len(text), 2)]
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

