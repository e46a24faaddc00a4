"""Reading what a media file holds, with PyAV (the FFmpeg libraries, in-process).

PyAV rather than an ``ffprobe`` binary, because no wheel ships ffprobe; one prober on every machine also
means one set of behaviours to test.
"""
from __future__ import annotations

from pathlib import Path

import av

from dubber.errors import InputError
from dubber.models import InputStream, MediaInfo


def _disposition_default(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.default)


def _language(stream: av.stream.Stream) -> str | None:
    language = (stream.metadata.get("language") or "").strip().lower()
    return language if language and language != "und" else None


def _duration_ms(container: av.container.InputContainer) -> int:
    if container.duration is not None:
        return int(container.duration * 1000 // av.time_base)
    ends = [
        float(s.duration * s.time_base) for s in container.streams if s.duration is not None and s.time_base
    ]
    return int(max(ends, default=0.0) * 1000)


def _frame_rate(container: av.container.InputContainer) -> float:
    """The first video stream's average frame rate (cue gaps are two frames of it); 24 when there is none."""
    for stream in container.streams.video:
        if stream.disposition & av.stream.Disposition.attached_pic:
            continue
        rate = stream.average_rate or stream.guessed_rate
        if rate and 1 <= float(rate) <= 1000:
            return float(rate)
        break
    return 24.0


_DISPOSITIONS = [flag for flag in av.stream.Disposition if flag.name and flag.value]


def _codec(stream: av.stream.Stream) -> str:
    if stream.type == "attachment":
        return str(stream.metadata.get("mimetype", "attachment"))
    ctx = getattr(stream, "codec_context", None)
    return ctx.name if ctx is not None and ctx.name else "unknown"


def _stream(stream: av.stream.Stream) -> InputStream:
    """One stream as the muxer will carry it: its codec, tags and dispositions."""
    return InputStream(index=stream.index, type=stream.type, codec=_codec(stream),
                       language=(stream.metadata.get("language") or None),
                       # mp4 keeps a track's title as "name"; attachments are named by file
                       title=(stream.metadata.get("title") or stream.metadata.get("name")
                              or stream.metadata.get("filename") or None),
                       dispositions=tuple(f.name for f in _DISPOSITIONS if stream.disposition & f))


def probe(path: Path) -> MediaInfo:
    """Describe ``path``'s container and pick its audio stream: the first default one, else the first."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not a media file")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            audio = list(container.streams.audio)
            if not audio:
                raise InputError(path, "has no audio stream")
            chosen = next((s for s in audio if _disposition_default(s)), audio[0])
            ctx = chosen.codec_context
            return MediaInfo(
                path=path,
                container=container.format.name,
                duration_ms=_duration_ms(container),
                audio_index=chosen.index,
                audio_codec=ctx.name if ctx else "unknown",
                sample_rate=ctx.sample_rate or 0,
                channels=ctx.channels or 0,
                video_codecs=tuple(s.codec_context.name for s in container.streams.video
                                   if not s.disposition & av.stream.Disposition.attached_pic),
                audio_language=_language(chosen),
                frame_rate=_frame_rate(container),
                streams=tuple(_stream(s) for s in container.streams),
            )
    except PermissionError as exc:
        raise InputError(path, "permission denied") from exc
    except av.error.FFmpegError as exc:
        raise InputError(path, "not a media file, or corrupt") from exc
