"""What an ffmpeg binary can do, checked once per binary before anything is paid for, and which binary a
run uses.

The ffmpeg users have differs: distributions ship 4.4 to 7.x, Homebrew and conda current releases, the
wheel a 9.x. Filters gain options between releases (amix's ``normalize``, ebur128's ``framelog=quiet``)
and builds leave out libraries (libopus, libmp3lame, libx264, Rubber Band), so a version string says
little. Each binary is therefore asked what it has (its filter, encoder and muxer lists), and made to run
dubber's own filter graphs, built by the same functions a run uses, on a tiny generated input
(``dubber.media.trials``: the decode, the dub mix in stereo and mono, the time stretch). The findings are
kept per binary file (its path, size and modification time, and the check's own code and graphs) in the
user cache folder, so a run pays for the check (~0.3 s) once per binary, and again only when the binary or
the check changes.

A run names what it needs (``Need``); ``choose`` hands it the first candidate (``tool.candidates``) that
has all of it and makes that binary the one run. ffmpeg older than 4.4, the oldest release dubber
supports, counts as lacking what the run needs even where its graphs happen to run. When the system's
ffmpeg falls short, the wheel's is used with one warning naming what was missing; when no candidate will
do (or ``DUBBER_FFMPEG`` names one that falls short: an explicit choice is never swapped), the run is
refused in one line, ``UnfitToolError``, before any request.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import platformdirs

from dubber.errors import ToolError, UnfitToolError
from dubber.media import tool, trials
from dubber.media.mux import KINDS, OutputKind, mix_muxer

log = logging.getLogger(__name__)

MIN_RELEASE = "4.4"
MIN_LAVFI = (7, 110)  # libavfilter of ffmpeg 4.4: every build prints it, git builds included


@dataclass(frozen=True, order=True)
class Need:
    """One thing a run needs of ffmpeg: a ``filter``, ``encoder`` or ``muxer`` by name, a ``graph`` of
    dubber's that must run (``decode``, ``mix``, ``stretch``), or the supported ``release``."""

    kind: str
    name: str

    def __str__(self) -> str:
        if self.kind == "release":
            return f"ffmpeg {MIN_RELEASE} or newer"
        return f"the {trials.GRAPHS[self.name][0]}" if self.kind == "graph" else f"the {self.name} {self.kind}"


def _needs(kind: str, *names: str) -> frozenset[Need]:
    return frozenset(Need(kind, name) for name in names)


RELEASE = Need("release", MIN_RELEASE)
DECODE = frozenset({RELEASE, Need("graph", "decode")})
# --input-mode video: each window cut as a small H.264/AAC MP4 (dubber.media.clip)
VIDEO_CLIPS = _needs("encoder", "libx264", "aac") | _needs("filter", "fps", "scale", "setsar", "format") \
    | _needs("muxer", "mp4")


def decode_needs(input_mode: str = "audio") -> frozenset[Need]:
    """What subtitles, transcripts and plans need: the decode (and the video clips they send, if asked)."""
    return DECODE | (VIDEO_CLIPS if input_mode == "video" else frozenset())


def dub_needs(kind: OutputKind, input_mode: str = "audio") -> frozenset[Need]:
    """What a dub into ``kind`` needs: the decode, the mix and the stretch graphs, the mix's encoder, the
    muxers of the mix and of the file, and its subtitle encoder."""
    found = decode_needs(input_mode) | _needs("graph", "mix", "stretch") | _needs("encoder", kind.codec) \
        | _needs("muxer", kind.muxer, mix_muxer(kind))
    return found | (_needs("encoder", kind.subtitle_codec) if kind.subtitle_codec else frozenset())


def everything() -> frozenset[Need]:
    """What every command and output kind dubber offers needs together (the doctor's check)."""
    return frozenset().union(*(dub_needs(kind) for kind in KINDS.values()))


@dataclass(frozen=True)
class Capabilities:
    """What one binary said of itself, and which of dubber's graphs it ran."""

    path: str
    version: str  # the first line of -version: "ffmpeg version 5.1.9-0+deb12u1"
    lavfi: tuple[int, int] | None  # libavfilter's major and minor version; None when it did not say
    filters: frozenset[str]
    encoders: frozenset[str]
    muxers: frozenset[str]
    failed: tuple[tuple[str, str], ...]  # (graph, ffmpeg's reason) of each graph that did not run

    def lacks(self, needs: Iterable[Need]) -> tuple[Need, ...]:
        """The needs this binary does not meet, in a stable order."""
        listed = {"filter": self.filters, "encoder": self.encoders, "muxer": self.muxers}
        failed = dict(self.failed)
        old = self.lavfi is not None and self.lavfi < MIN_LAVFI

        def met(need: Need) -> bool:
            if need.kind == "release":
                return not old
            return need.name not in failed if need.kind == "graph" else need.name in listed[need.kind]

        return tuple(sorted(need for need in set(needs) if not met(need)))

    def why(self, need: Need) -> str:
        """``need`` in words, with ffmpeg's reason where a graph failed."""
        if need.kind == "release" and self.lavfi is not None:
            return f"{need} (it has libavfilter {self.lavfi[0]}.{self.lavfi[1]})"
        reason = dict(self.failed).get(need.name) if need.kind == "graph" else None
        return f"{need} ({reason})" if reason else str(need)


def parse_listing(text: str) -> frozenset[str]:
    """The names in a ``-filters``, ``-encoders`` or ``-muxers`` listing: the second word of each entry
    (comma-joined names split). Entries follow the legend's ``--`` rule; filter listings before ffmpeg 6
    have no rule, so a line whose third word is a ``A->A`` signature is an entry wherever it stands.

    >>> sorted(parse_listing(" V..... = Video\\n ------\\n A....D aac   AAC\\n V....D libx264  H.264\\n"))
    ['aac', 'libx264']
    >>> sorted(parse_listing("Filters:\\n  A = Audio input/output\\n ..C amix  N->A  Audio mixing.\\n"))
    ['amix']
    """
    names: set[str] = set()
    body = False
    for line in text.splitlines():
        words = line.split()
        signature = len(words) >= 3 and "->" in words[2]
        if body or signature:
            names.update(words[1].split(",") if len(words) >= 2 else ())
        else:
            body = bool(words) and set(words[0]) == {"-"}
    return frozenset(names)


def parse_lavfi(version_text: str) -> tuple[int, int] | None:
    """libavfilter's (major, minor) from ``-version``'s output.

    >>> parse_lavfi("ffmpeg version 4.2.2\\nlibavfilter     7. 57.100 /  7. 57.100\\n")
    (7, 57)
    """
    found = re.search(r"^libavfilter\s+(\d+)\.\s*(\d+)\.", version_text, re.M)
    return (int(found[1]), int(found[2])) if found else None


def _measure(exe: str) -> Capabilities:
    """Ask ``exe`` what it has and run the graphs (about 0.3 s)."""
    version_text = tool.describe(exe, "-version")
    lists = {flag: parse_listing(tool.describe(exe, f"-{flag}")) for flag in ("filters", "encoders", "muxers")}
    return Capabilities(exe, tool.version_line(version_text), parse_lavfi(version_text), lists["filters"],
                        lists["encoders"], lists["muxers"], trials.failures(exe, lists["filters"]))


def _unrunnable(exe: str, why: str) -> Capabilities:
    failed = tuple((name, why) for name in trials.GRAPHS)
    return Capabilities(exe, f"cannot be run: {why}", None, frozenset(), frozenset(), frozenset(), failed)


# ---- kept per binary ---------------------------------------------------------------------------------

_lock = threading.Lock()
_known: dict[str, Capabilities] = {}


def folder() -> Path:
    """Where the findings are kept: ``ffmpeg`` in the user cache folder, beside the answers' ``windows``."""
    return Path(platformdirs.user_cache_dir("dubber")) / "ffmpeg"


@functools.lru_cache(maxsize=1)
def _check_id() -> str:
    """What the findings depend on besides the binary: the graphs' text and the code that tries and reads
    them, so that a changed check never trusts an old verdict."""
    code = b"".join(Path(module.__file__).read_bytes() for module in (trials, sys.modules[__name__]))
    return hashlib.sha256(code + trials.graphs_id().encode()).hexdigest()[:16]


def _key(exe: str) -> str | None:
    """The binary file's identity (its real path, size and modification time) and the check's."""
    try:
        real = os.path.realpath(exe)
        stat = os.stat(real)
    except OSError:
        return None
    identity = f"{real}\0{stat.st_size}\0{stat.st_mtime_ns}\0{_check_id()}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def capabilities(exe: str) -> Capabilities:
    """What ``exe`` can do: from this process's memory, else the cache folder, else measured now."""
    key = _key(exe)
    if key is None:
        return _unrunnable(exe, "no such file")
    with _lock:
        if key not in _known:
            _known[key] = _load(key, exe) or _store(key, _checked(exe))
        return _known[key]


def _checked(exe: str) -> Capabilities:
    try:
        return _measure(exe)
    except ToolError as exc:
        return _unrunnable(exe, str(exc))


def _load(key: str, exe: str) -> Capabilities | None:
    try:
        data = json.loads((folder() / f"{key}.json").read_text(encoding="utf-8"))
        return Capabilities(exe, data["version"], tuple(data["lavfi"]) if data["lavfi"] else None,
                            frozenset(data["filters"]), frozenset(data["encoders"]), frozenset(data["muxers"]),
                            tuple((name, why) for name, why in data["failed"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not checked yet, or written by another version: check again


def _store(key: str, found: Capabilities) -> Capabilities:
    """Keep ``found`` (a file written whole, then renamed: a reader never sees half of it); a cache folder
    that cannot be written only costs the next run another check."""
    if found.version.startswith("cannot be run"):
        return found  # perhaps a passing fault: not kept
    data = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in asdict(found).items() if k != "path"}
    try:
        folder().mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder(), suffix=".part", delete=False, encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(out.name, folder() / f"{key}.json")
    except OSError as exc:
        log.debug("cannot keep the ffmpeg check in %s (%s)", folder(), exc)
    return found


# ---- the choice ------------------------------------------------------------------------------------

_warned: set[tuple[str, tuple[Need, ...]]] = set()


def choose(needs: frozenset[Need], purpose: str) -> Capabilities:
    """Make the first candidate that meets ``needs`` the binary dubber runs, and return what it can do.
    ``purpose`` words the job for messages ("dub into .mkv"). Falls back from the system's ffmpeg to the
    wheel's with one warning; raises UnfitToolError when no candidate will do."""
    found = tool.candidates()
    first = capabilities(found[0].path)
    lacking = first.lacks(needs)
    if not lacking:
        tool.use(found[0])
        return first
    for binary in found[1:]:
        caps = capabilities(binary.path)
        if not caps.lacks(needs):
            _warn_once(first, lacking, purpose, caps)
            tool.use(binary)
            return caps
    raise UnfitToolError(_refusal(first, lacking, purpose, found[0].source))


def _words(caps: Capabilities, lacking: tuple[Need, ...]) -> str:
    return "; ".join(caps.why(need) for need in lacking)


def _warn_once(first: Capabilities, lacking: tuple[Need, ...], purpose: str, used: Capabilities) -> None:
    if (first.path, lacking) in _warned:
        return
    _warned.add((first.path, lacking))
    log.warning("ffmpeg %s (%s) cannot %s: it lacks %s; using the ffmpeg dubber installed instead (%s, %s)",
                first.path, first.version, purpose, _words(first, lacking), used.path, used.version)


def _refusal(first: Capabilities, lacking: tuple[Need, ...], purpose: str, source: str) -> str:
    if source == "DUBBER_FFMPEG":
        fix = "point DUBBER_FFMPEG at an ffmpeg {0} or newer that has it, or unset DUBBER_FFMPEG"
    else:
        fix = "install ffmpeg {0} or newer (or pip install imageio-ffmpeg), or point DUBBER_FFMPEG at one"
    return (f"ffmpeg {first.path} ({first.version}) cannot {purpose}: it lacks {_words(first, lacking)}; "
            f"{fix.format(MIN_RELEASE)}")
