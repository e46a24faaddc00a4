"""A live source as mono PCM16 at 16 kHz, in order, each chunk with its time on the stream's own timeline.

ffmpeg reads the source (a URL, a device, a file, ``-`` for standard input) and decodes it; its output is
read as it comes. Time is counted in samples from the stream's start, so cue times never drift from the
media, however late the answers come. A network source that drops is opened again with backoff
(``RECONNECT_WAITS_S``); the time it was gone is a gap in the timeline (silence), reported.

``--realtime`` and ``--speed N`` pace a file: each chunk is handed over no sooner than its time on the
timeline (divided by N) after the process started, as a stream would have delivered it; what ffmpeg
decoded before that waits. Anchoring at the process's start makes its own start-up part of the latency.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import dubber
from dubber.errors import InputError
from dubber.media.tool import FfmpegReader

log = logging.getLogger(__name__)

RATE = 16000
CHUNK_MS = 20
RECONNECT_WAITS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # then 15 s between tries, up to ``reconnect_s`` in all
# Streams dubber opens again itself when they break. HTTP (an HLS playlist, a file) is left to ffmpeg's own
# reconnection: its end may be a finished file, which opening again would play from the start.
_NETWORK = ("rtmp://", "rtmps://", "srt://", "udp://", "rtp://", "tcp://", "rtsp://")
_HTTP_RECONNECT = ["-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_delay_max", "15"]


@dataclass(frozen=True)
class Chunk:
    start_ms: int  # on the stream's timeline
    samples: bytes  # PCM16 mono at RATE


@dataclass(frozen=True)
class Gap:
    """A time the source was gone (a dropped network stream, reopened)."""

    start_ms: int
    end_ms: int
    reason: str


def is_network(source: str) -> bool:
    """Whether ``source`` is a stream that can drop and be opened again.

    >>> is_network("rtmp://live.example/app/key"), is_network("https://cdn.example/live.m3u8"), is_network("-")
    (True, False, False)
    """
    return source.lower().startswith(_NETWORK)


def check_source(source: str) -> None:
    """Refuse, before anything is written, a local file that is not there (a URL or a device is tried)."""
    if source != "-" and "://" not in source and not is_network(source):
        path = Path(source)
        if not path.exists() and (path.suffix or path.parent != Path(".")):
            raise InputError(source, "no such file")
        if path.is_dir():
            raise InputError(source, "is a folder, not a stream or a media file")


def decode_args(source: str) -> list[str]:
    """ffmpeg's arguments: the source's first audio stream, mono 16 kHz PCM16 on stdout (pure).

    >>> decode_args("https://cdn.example/live.m3u8")[:2]
    ['-reconnect', '1']
    """
    http = _HTTP_RECONNECT if source.lower().startswith(("http://", "https://")) else []
    return [*http, "-i", "pipe:0" if source == "-" else source, "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-ac", "1", "-ar", str(RATE), "-f", "s16le", "pipe:1"]


def process_started() -> float:
    """When this process started running dubber, on ``time.monotonic``'s clock (``dubber.STARTED``)."""
    return dubber.STARTED


class LiveSource:
    """Iterate it for ``Chunk``s (and ``Gap``s); ``speed``: None for a live source (as fast as it comes),
    else the pace of a file (1.0 = real time), from ``started`` (monotonic; default: the process's start)."""

    def __init__(self, source: str, speed: float | None = None, reconnect_s: float = 300.0,
                 started: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.source, self.speed, self.reconnect_s = source, speed, reconnect_s
        self.started = process_started() if started is None else started
        self.clock = clock
        self.position_ms = 0
        self.gaps: list[Gap] = []
        self._stop = False

    def stop(self) -> None:
        """End at the next chunk (Ctrl-C's clean ending: what was heard is still written)."""
        self._stop = True

    def __iter__(self) -> Iterator[Chunk | Gap]:
        tries = 0
        while not self._stop:
            heard, failed, reason = yield from self._read_once()
            # a stream that ends cleanly has ended (an HLS event's ENDLIST, a file); one that breaks (an error
            # exit, or an error logged) has dropped
            if self._stop or not failed or not is_network(self.source):
                if not heard and not self._stop:
                    raise InputError(self.source, f"no audio could be read ({reason})")
                return
            tries = 0 if heard else tries + 1
            gap = yield from self._reconnect(tries, reason)
            if gap is None:
                return

    def _read_once(self) -> Iterator[Chunk]:
        """One ffmpeg's worth of the source; returns (whether it gave audio, whether it failed, why it ended)."""
        size = RATE * 2 * CHUNK_MS // 1000
        heard = False
        with FfmpegReader(decode_args(self.source), what=f"reading {self.source}", stdin=self.source == "-") as reader:
            pending = b""
            while not self._stop:
                data = reader.read(size * 8)
                if not data:
                    break
                pending += data
                whole = len(pending) - len(pending) % size
                for k in range(0, whole, size):
                    heard = True
                    yield self._paced(Chunk(self.position_ms, pending[k:k + size]))
                    self.position_ms += CHUNK_MS
                pending = pending[whole:]
            code = reader.close()
            # ffmpeg exits 0 on a connection reset too, but says so: a clean end logs nothing
            return heard, (code != 0 or bool(reader.errors())) and not self._stop, reader.reason()

    def _paced(self, chunk: Chunk) -> Chunk:
        if self.speed is not None:
            due = self.started + chunk.start_ms / 1000 / self.speed
            wait = due - self.clock()
            if wait > 0:
                time.sleep(wait)
        return chunk

    def _reconnect(self, tries: int, reason: str) -> Iterator[Gap]:
        """Wait, then let the caller read again; the time gone is a gap on the timeline. None: give up."""
        wait = RECONNECT_WAITS_S[min(tries, len(RECONNECT_WAITS_S) - 1)]
        if tries * wait > self.reconnect_s:
            log.warning("%s: gone for good (%s)", self.source, reason)
            return None
        log.warning("%s dropped (%s): opening it again in %.1f s", self.source, reason, wait)
        gone = self.clock()
        time.sleep(wait)
        gap_ms = round((self.clock() - gone) * 1000)
        gap = Gap(self.position_ms, self.position_ms + gap_ms, reason)
        self.position_ms += gap_ms
        self.gaps.append(gap)
        yield gap
        return gap
