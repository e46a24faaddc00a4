"""Who speaks when (diarization), and one voice per speaker.

    diarize   audio → speaker turns (local, on the CPU; the ``speakers`` extra)
    turns     turns → one speaker at each instant, speaker changes, each window's speaker, RTTM
    pitch     each speaker's median F0 (the ``speakers`` extra)
    voices    speakers → voices: by hand, or matched to their pitch

``--speakers auto|N|off`` reaches the jobs as ``SpeakerOptions`` (None: off).
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from dubber.errors import OptionError

MAX_SPEAKERS = 8  # with none given: the most an automatic count may find
EXTRA_MODULES = ("onnxruntime", "kaldi_native_fbank", "scipy", "parselmouth")  # what ``pip install "dubber[speakers]"`` brings


@dataclass(frozen=True)
class SpeakerOptions:
    """How many speakers to look for: exactly ``num``, else between ``min_speakers`` and ``max_speakers``."""

    num: int | None = None
    min_speakers: int = 1
    max_speakers: int = MAX_SPEAKERS

    def __post_init__(self) -> None:
        if self.num is not None and self.num < 1:
            raise OptionError(f"the number of speakers must be at least 1, not {self.num}")
        if not 1 <= self.min_speakers <= self.max_speakers:
            raise OptionError(f"--min-speakers ({self.min_speakers}) must be at least 1 and at most "
                              f"--max-speakers ({self.max_speakers})")

    @property
    def bounds(self) -> tuple[int, int]:
        return (self.num, self.num) if self.num is not None else (self.min_speakers, self.max_speakers)


def installed() -> bool:
    """Whether the ``speakers`` extra is installed (``dub`` then finds speakers by default)."""
    return all(importlib.util.find_spec(name) is not None for name in EXTRA_MODULES)


def parse_speakers(text: str) -> SpeakerOptions | None:
    """``--speakers auto|N|off``.

    >>> parse_speakers("auto"), parse_speakers("2"), parse_speakers("off")
    (SpeakerOptions(num=None, min_speakers=1, max_speakers=8), SpeakerOptions(num=2, min_speakers=1, max_speakers=8), None)
    """
    value = text.strip().lower()
    if value == "off":
        return None
    if value == "auto":
        return SpeakerOptions()
    if value.isdigit() and int(value) >= 1:
        return SpeakerOptions(num=int(value))
    raise OptionError(f"--speakers takes auto, off or a number of speakers, not {text!r}")


def chosen(text: str) -> SpeakerOptions | None:
    """``--speakers`` as a job takes it; on, it needs the speakers extra (one line saying how to get it)."""
    options = parse_speakers(text)
    if options is not None:
        require_extra()
    return options


def default_for_dub() -> str:
    """What ``dub`` finds by default: speakers when the extra is installed."""
    return "auto" if installed() else "off"


def require_extra() -> None:
    """Refuse, as one line, speakers without the extra that finds them."""
    if not installed():
        raise OptionError('finding speakers needs the speakers extra: pip install "dubber[speakers]"')
