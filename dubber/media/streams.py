"""Every stream of a media file, as the muxer will carry them (PyAV, in-process)."""
from __future__ import annotations

from pathlib import Path

import av

from dubber.errors import InputError
from dubber.media.carry import InputStream

_DISPOSITIONS = [flag for flag in av.stream.Disposition if flag.name and flag.value]


def _codec(stream: av.stream.Stream) -> str:
    if stream.type == "attachment":
        return str(stream.metadata.get("mimetype", "attachment"))
    ctx = getattr(stream, "codec_context", None)
    return ctx.name if ctx is not None and ctx.name else "unknown"


def input_streams(path: Path) -> tuple[InputStream, ...]:
    """The file's streams in order, with their tags and dispositions."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            return tuple(InputStream(index=s.index, type=s.type, codec=_codec(s),
                                     language=(s.metadata.get("language") or None),
                                     # mp4 keeps a track's title as "name"; attachments are named by file
                                     title=(s.metadata.get("title") or s.metadata.get("name")
                                            or s.metadata.get("filename") or None),
                                     dispositions=tuple(f.name for f in _DISPOSITIONS if s.disposition & f))
                         for s in container.streams)
    except av.error.FFmpegError as exc:
        raise InputError(path, "not a media file, or corrupt") from exc
