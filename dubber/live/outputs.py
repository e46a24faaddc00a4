"""A live run's outputs for one language, written as the cues arrive: a rolling WebVTT file, an HLS subtitle
rendition (a media playlist and its WebVTT segments), and at the end an SRT.

Everything a reader can open is always whole. The rolling ``live.<lang>.vtt`` grows by one write call per
batch of complete cue blocks (one write(2) of a few hundred bytes), fsynced, so ``tail -f`` or a player
polling it sees whole cues only. A
segment, the playlist and the SRT are written to a hidden temporary name and renamed into place: a player
never fetches half a segment, nor a playlist listing a segment that is not there yet.

A segment is written only once no cue can still start inside it; the caller says when with
``advance(frontier_ms)``. Until then its cues wait in memory, and only those: a cue is dropped as soon as
every segment it overlaps is written, so memory stays flat however long the stream. The final SRT is built
at ``close`` by reading the rolling VTT back (the one file that holds every cue), not from memory.

Segment n covers [n*S, (n+1)*S) and holds every cue that overlaps it, with the cue's own full times (a cue
across a boundary is in both segments, as the HLS spec asks); cue times stay on the stream's timeline and
``X-TIMESTAMP-MAP`` ties LOCAL 0 to the ``mpegts`` given (0 by default).
"""
from __future__ import annotations

import html
import logging
import math
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from dubber.errors import OutputError
from dubber.models import Cue
from dubber.subtitles.writers import to_srt, vtt_time

log = logging.getLogger(__name__)

HEADER = "WEBVTT\n\n"
_TIMING = re.compile(r"^(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})$")
# WebVTT ends a line at CR, LF or CRLF: the text is written with LF alone, which every reader takes the same
# way, and which lets close() read the file back by splitting on LF.
_LINE_END = re.compile(r"\r\n?|\n")


def cue_block(cue: Cue) -> str:
    """One cue as WebVTT, escaped as ``dubber.subtitles.writers.to_vtt`` escapes it, ending in the blank line
    that closes it: a file that ends after any block is a valid WebVTT file.

    >>> cue_block(Cue(1500, 3000, "a <b> & c --> d\\nsecond line"))
    '00:00:01.500 --> 00:00:03.000\\na &lt;b&gt; &amp; c --&gt; d\\nsecond line\\n\\n'

    A blank line would end the cue early and leave the rest unparsable (``to_vtt`` refuses it too):

    >>> cue_block(Cue(0, 1000, "one\\n\\ntwo"))
    Traceback (most recent call last):
    ValueError: WebVTT cue text cannot hold a blank line: 'one\\n\\ntwo'
    """
    lines = _LINE_END.split(cue.text)
    if not all(line.strip() for line in lines):
        raise ValueError(f"WebVTT cue text cannot hold a blank line: {cue.text!r}")
    text = html.escape("\n".join(lines), quote=False)
    return f"{vtt_time(cue.start_ms)} --> {vtt_time(cue.end_ms)}\n{text}\n\n"


def overlaps(cue: Cue, start_ms: int, end_ms: int) -> bool:
    """Whether ``cue`` shows during [start_ms, end_ms). A zero-length cue counts as the millisecond it
    starts at, so it lands in exactly one segment instead of none.

    >>> [overlaps(Cue(5000, 7000, "x"), lo, lo + 6000) for lo in (0, 6000, 12000)]
    [True, True, False]
    >>> overlaps(Cue(6000, 6000, "x"), 0, 6000), overlaps(Cue(6000, 6000, "x"), 6000, 12000)
    (False, True)
    """
    return cue.start_ms < end_ms and _shown_until(cue) > start_ms


def _shown_until(cue: Cue) -> int:
    return max(cue.end_ms, cue.start_ms + 1)


def segment_text(cues: Sequence[Cue], mpegts: int) -> str:
    """A WebVTT segment of an HLS rendition: the header with its timestamp map, then the cues."""
    return f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n\n" + "".join(map(cue_block, cues))


def playlist_text(entries: Sequence[str], segment_ms: int, ended: bool) -> str:
    """The media playlist: ``entries`` are its segments' lines (``segment_entry``), in order; an EVENT
    playlist only grows, and ``ended`` closes it.

    >>> print(playlist_text([segment_entry("subs.fr.0.vtt", 6000)], 6000, ended=True), end="")
    #EXTM3U
    #EXT-X-VERSION:3
    #EXT-X-TARGETDURATION:6
    #EXT-X-MEDIA-SEQUENCE:0
    #EXT-X-PLAYLIST-TYPE:EVENT
    #EXTINF:6.000,
    subs.fr.0.vtt
    #EXT-X-ENDLIST
    """
    head = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{math.ceil(segment_ms / 1000)}",
            "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:EVENT"]
    return "\n".join([*head, *entries, *(["#EXT-X-ENDLIST"] if ended else [])]) + "\n"


def segment_entry(name: str, duration_ms: int) -> str:
    """A segment's two playlist lines (decimal EXTINF, which version 3 allows)."""
    return f"#EXTINF:{duration_ms // 1000}.{duration_ms % 1000:03d},\n{name}"


def read_back(path: Path) -> Iterator[Cue]:
    """The cues of a WebVTT file written as ``HEADER`` then ``cue_block``s, one at a time: exactly the cues
    given, text unescaped. Only this module's own shape is read (no general parser needed, and none that
    would trim the text's spaces)."""
    with _mapped(path), path.open(encoding="utf-8", newline="") as file:
        block: list[str] = []
        for line in file:
            line = line.removesuffix("\n")
            if line:
                block.append(line)
                continue
            if block and block != ["WEBVTT"]:
                yield _parse_block(block)
            block = []
        if block and block != ["WEBVTT"]:
            yield _parse_block(block)


def _parse_block(lines: list[str]) -> Cue:
    match = _TIMING.match(lines[0])
    if not match:
        raise ValueError(f"not a cue timing line: {lines[0]!r}")
    h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
    return Cue(((h1 * 60 + m1) * 60 + s1) * 1000 + ms1, ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2,
               html.unescape("\n".join(lines[1:])))


@contextmanager
def _mapped(path: Path) -> Iterator[None]:
    """OSError → OutputError naming the file, at this boundary."""
    try:
        yield
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from exc


def write_atomic(path: Path, data: str) -> None:
    """Write ``data`` beside ``path`` under a hidden temporary name, fsync it, and rename it into place."""
    temp = path.with_name(f".{path.name}.part")
    with _mapped(path):
        try:
            with temp.open("w", encoding="utf-8", newline="") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except OSError:
            temp.unlink(missing_ok=True)
            raise


class LiveWriter:
    """The outputs of one language of a live run, in ``folder``: ``live.<lang>.vtt`` (rolling),
    ``subs.<lang>.m3u8`` with ``subs.<lang>.<n>.vtt`` (HLS), and at ``close`` ``live.<lang>.srt``.

    Call ``add`` with each batch of final cues in time order, ``advance`` when no later cue can start
    before a time, and ``close`` with the stream's length. Usable as a context manager: leaving the block
    without ``close`` (an error) only releases the file, leaving the outputs as a stream that stopped.
    """

    def __init__(self, folder: Path, lang: str, segment_ms: int = 6000, mpegts: int = 0) -> None:
        if segment_ms <= 0:
            raise ValueError(f"segment_ms must be positive, not {segment_ms}")
        self.folder = Path(folder)
        self.lang = lang
        self.segment_ms = segment_ms
        self.mpegts = mpegts
        self._pending: list[Cue] = []  # cues that may still fall into segments not written yet
        self._entries: list[str] = []  # the playlist's segment lines; one per segment, a few kB an hour
        self._closed = False
        with _mapped(self.folder):
            self.folder.mkdir(parents=True, exist_ok=True)
        with _mapped(self.vtt):
            # Unbuffered: each write() below is one write(2), so a batch lands whole or not at all.
            self._file = self.vtt.open("wb", buffering=0)
        try:
            self._append(HEADER)
            write_atomic(self.playlist, playlist_text(self._entries, self.segment_ms, ended=False))
        except OutputError:
            self.release()
            raise

    @property
    def vtt(self) -> Path:
        return self.folder / f"live.{self.lang}.vtt"

    @property
    def srt(self) -> Path:
        return self.folder / f"live.{self.lang}.srt"

    @property
    def playlist(self) -> Path:
        return self.folder / f"subs.{self.lang}.m3u8"

    def segment(self, index: int) -> Path:
        return self.folder / f"subs.{self.lang}.{index}.vtt"

    @property
    def published_ms(self) -> int:
        """Where the written segments end: the playlist covers [0, published_ms)."""
        return len(self._entries) * self.segment_ms

    @property
    def held(self) -> int:
        """How many cues wait in memory for segments not written yet: with the playlist's lines, all this
        writer keeps, however long the stream."""
        return len(self._pending)

    def add(self, cues: Sequence[Cue]) -> None:
        """Append ``cues`` (final, in time order, kept as given) to the rolling VTT at once, fsynced, and
        keep them for the segments still to write."""
        self._check_open()
        blocks = "".join(map(cue_block, cues))  # every cue checked before anything is written
        for cue in cues:
            if cue.start_ms < self.published_ms:
                # The caller advanced past it: the segments it belongs to are already out.
                log.warning("live %s: the cue at %d ms came after the HLS segments up to %d ms were "
                            "published: it is missing from those", self.lang, cue.start_ms, self.published_ms)
        if blocks:
            self._append(blocks)
        self._pending.extend(cues)

    def advance(self, frontier_ms: int) -> None:
        """No cue handed over from now on starts before ``frontier_ms``: write the segments that end at or
        before it and list them."""
        self._check_open()
        self._publish(frontier_ms // self.segment_ms, frontier_ms, ended=False)

    def close(self, end_ms: int) -> None:
        """The stream ended at ``end_ms``: write the remaining segments (the last one as long as is left),
        end the playlist, and write the SRT of every cue."""
        self._check_open()
        end_ms = max(end_ms, self.published_ms)
        late = [c for c in self._pending if c.start_ms >= end_ms]
        if late:
            log.warning("live %s: %d cue(s) start at or after the stream's end (%d ms): not in the HLS segments",
                        self.lang, len(late), end_ms)
        self._publish(-(-end_ms // self.segment_ms), end_ms, ended=True)
        self.release()
        write_atomic(self.srt, to_srt(list(read_back(self.vtt)), self.lang))

    def _publish(self, count: int, end_ms: int, ended: bool) -> None:
        """Write segments up to ``count`` (the last one ending at ``end_ms`` at most), then the playlist."""
        first = len(self._entries)
        for index in range(first, count):
            lo = index * self.segment_ms
            hi = min(lo + self.segment_ms, end_ms)
            path = self.segment(index)
            write_atomic(path, segment_text([c for c in self._pending if overlaps(c, lo, hi)], self.mpegts))
            self._entries.append(segment_entry(path.name, hi - lo))
            # A cue that ends here can fall into no later segment.
            self._pending = [c for c in self._pending if _shown_until(c) > hi]
        if len(self._entries) > first or ended:
            write_atomic(self.playlist, playlist_text(self._entries, self.segment_ms, ended))

    def _append(self, text: str) -> None:
        data = text.encode("utf-8")
        with _mapped(self.vtt):
            while data:  # a regular file takes it all in one call unless the disk fills
                data = data[self._file.write(data):]
            os.fsync(self._file.fileno())

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"live {self.lang} outputs are closed")

    def release(self) -> None:
        """Close the rolling VTT without finishing anything (a run that failed: its caller decides what stays)."""
        if not self._closed:
            self._closed = True
            with _mapped(self.vtt):
                self._file.close()

    def __enter__(self) -> "LiveWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
