"""Frozen values passed between stages. All times are integer milliseconds on the media's timeline."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class InputStream:
    """One stream of the input as a muxer sees it."""

    index: int
    type: str  # "video", "audio", "subtitle", "attachment" or "data"
    codec: str
    language: str | None = None
    title: str | None = None
    dispositions: tuple[str, ...] = ()  # e.g. ("default",), ("comment",), ("attached_pic",)


@dataclass(frozen=True)
class MediaInfo:
    """What probing found: the container, its length, and the audio stream dubber will use."""

    path: Path
    container: str  # demuxer name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm"
    duration_ms: int
    audio_index: int  # absolute stream index of the chosen audio stream (first default one)
    audio_codec: str
    sample_rate: int
    channels: int
    video_codecs: tuple[str, ...] = ()  # of the video streams, cover art left out
    audio_language: str | None = None  # the chosen audio stream's tag; None when absent or "und"
    frame_rate: float = 24.0  # the first video stream's average rate; 24 (film) for audio-only input
    streams: tuple[InputStream, ...] = ()  # every stream, in order: what a dub carries over

    @property
    def has_video(self) -> bool:
        return bool(self.video_codecs)


@dataclass(frozen=True)
class Span:
    """A half-open interval [start_ms, end_ms)."""

    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def shifted(self, offset_ms: int) -> "Span":
        return Span(self.start_ms + offset_ms, self.end_ms + offset_ms)


@dataclass(frozen=True)
class Window:
    """A stretch of audio sent as one request; ``speech`` are the detected speech spans inside it."""

    index: int
    start_ms: int
    end_ms: int
    speech: tuple[Span, ...] = field(default=())
    speaker: int | None = None  # who speaks in it (``--speakers``: 1, 2, ... in order of first speech); None: unknown

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class Segment:
    """Timed text inside a window (window-local ms), for backends that give timestamps (Whisper)."""

    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class TranslationResult:
    """What a backend returns for one window: the translation (or, transcribing, the words as spoken)."""

    text: str
    audio_pcm: bytes = b""  # PCM16 mono little-endian at ``audio_rate``; empty when not asked for
    audio_rate: int = 24000
    usage: Usage | None = None
    segments: tuple[Segment, ...] = ()  # when the backend times its text; empty for livetranslate
    language: str | None = None  # the input's language as the service detected it, when it says


@dataclass(frozen=True)
class Translation:
    """A window together with its translation."""

    window: Window
    result: TranslationResult


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str
    # Who says it (``--speakers``): each speaker's part of ``text`` as shown, in order, ``text`` being the
    # parts on their own lines (a dialogue cue's parts start with a dash). Empty: speakers unknown.
    turns: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Turn:
    """A stretch of one speaker's speech, as diarization finds it (turns of several speakers may overlap)."""

    start_ms: int
    end_ms: int
    speaker: int  # 1, 2, ... in order of first speech

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Loudness:
    """An EBU R128 measurement (ffmpeg ``ebur128``): integrated LUFS, sample peak dBFS, LRA LU, gate LUFS."""

    integrated: float
    peak: float  # the sample peak
    lra: float
    threshold: float


@dataclass(frozen=True)
class Speaker:
    """A speaker found in the input (``--speakers``): their number, their talk time, their median pitch (None:
    too little voiced speech to tell) and, in a dub, the voice they are given."""

    number: int
    talk_ms: int
    pitch_hz: float | None = None
    voice: str | None = None
