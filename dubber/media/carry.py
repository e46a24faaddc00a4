"""Which of the input's streams a dubbed file carries, and how (pure).

A dubbed file keeps every stream of the input its container can hold: the video (copied bit for bit),
every audio track (commentary, other languages) with its tags, titles and dispositions, every subtitle
track, the attachments (fonts in Matroska), the chapters and the global metadata. What the container
cannot hold as it is, it holds converted where that loses nothing a viewer needs (text subtitles into the
container's own subtitle format, audio re-encoded to the container's codec); what it cannot hold at all is
dropped, and each such stream is named with the reason in the run's notes.

Only the dub is a default track: the input's tracks keep their other dispositions (comment, forced, ...).
"""
from __future__ import annotations

from dataclasses import dataclass

from dubber.models import InputStream

TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"})


@dataclass(frozen=True)
class Carried:
    """An input stream the output holds: ``codec`` None copies it, else it is written in ``codec``."""

    stream: InputStream
    codec: str | None = None

    def dispositions(self) -> str:
        """The stream's dispositions in the output: its own, less ``default`` (the dub is the default)."""
        kept = [d for d in self.stream.dispositions if d != "default"]
        return "+".join(kept) or "0"


@dataclass(frozen=True)
class Dropped:
    stream: InputStream
    reason: str

    def note(self, suffix: str) -> str:
        return f"input stream {self.stream.index} ({self.stream.type}, {self.stream.codec}) is not in the {suffix}: " \
               f"{self.reason}"


@dataclass(frozen=True)
class Holds:
    """What an output kind can hold of the input's streams."""

    video: bool
    multi_audio: bool
    audio_copyable: frozenset[str] | None  # None: any codec
    audio_codec: str  # what audio it cannot hold as it is becomes
    subtitle_codec: str | None  # its text subtitle format; None: no subtitle tracks
    subtitle_copyable: frozenset[str] | None  # subtitle codecs held as they are; None: any (Matroska)
    attachments: bool = False
    video_copyable: frozenset[str] | None = None  # None: any codec


@dataclass(frozen=True)
class CarryPlan:
    video: tuple[Carried, ...]
    audio: tuple[Carried, ...]  # in the input's order
    subtitles: tuple[Carried, ...]
    attachments: tuple[Carried, ...]
    dropped: tuple[Dropped, ...]


def _video(s: InputStream, holds: Holds) -> Carried | Dropped:
    if not holds.video:
        return Dropped(s, "this kind of file holds no video")
    if holds.video_copyable is not None and s.codec not in holds.video_copyable:
        return Dropped(s, f"it holds only {', '.join(sorted(holds.video_copyable))} video, which dubber never re-encodes")
    return Carried(s)


def _audio(s: InputStream, holds: Holds, keep_original: bool) -> Carried | Dropped | None:
    if not keep_original:
        return None  # asked for: the dub replaces the input's audio
    if not holds.multi_audio:
        return Dropped(s, "this kind of file holds one audio stream, the dub")
    if holds.audio_copyable is None or s.codec in holds.audio_copyable:
        return Carried(s)
    return Carried(s, holds.audio_codec)


def _subtitle(s: InputStream, holds: Holds) -> Carried | Dropped:
    if holds.subtitle_codec is None:
        return Dropped(s, "this kind of file holds no subtitle tracks")
    if holds.subtitle_copyable is None or s.codec in holds.subtitle_copyable:
        return Carried(s)
    if s.codec in TEXT_SUBTITLES:
        return Carried(s, holds.subtitle_codec)
    return Dropped(s, f"it holds text subtitles only ({holds.subtitle_codec}); this one is pictures")


def carry_plan(streams: tuple[InputStream, ...], holds: Holds, keep_original: bool = True) -> CarryPlan:
    """What the output holds of each input stream, grouped by kind, each group in the input's order."""
    groups: dict[str, list[Carried]] = {"video": [], "audio": [], "subtitle": [], "attachment": []}
    dropped: list[Dropped] = []
    for s in streams:
        if s.type == "video":
            outcome = _video(s, holds)
        elif s.type == "audio":
            outcome = _audio(s, holds, keep_original)
        elif s.type == "subtitle":
            outcome = _subtitle(s, holds)
        elif s.type == "attachment":
            outcome = Carried(s) if holds.attachments else Dropped(s, "only Matroska holds attachments (fonts)")
        else:
            outcome = Dropped(s, "data streams (timecodes, chapter tracks) are not copied; chapters are kept as chapters")
        if isinstance(outcome, Carried):
            groups[s.type].append(outcome)
        elif outcome is not None:
            dropped.append(outcome)
    return CarryPlan(tuple(groups["video"]), tuple(groups["audio"]), tuple(groups["subtitle"]),
                     tuple(groups["attachment"]), tuple(dropped))
