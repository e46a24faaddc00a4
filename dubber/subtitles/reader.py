"""A subtitle file → its cues, for voicing a translation someone else wrote or reviewed (``dub --subtitles``).

Each format is read by the library that writes it (``srt``, ``webvtt-py``, ttconv's IMSC reader, ``pysubs2``),
so the files dubber writes and the ones Subtitle Edit or Aegisub save come back the same way. What a cue
says is kept; how it looks is not: tags, override blocks and positioning go, line breaks stay.

Reading is strict where leniency would lose words: a block the library would skip (a mangled timing line,
a cue ending before it starts) is an error naming the cue, not a line missing from the dub. A cue that
lasts 0 ms is skipped with a warning: no player shows it (ttconv already drops such a TTML paragraph).
"""
from __future__ import annotations

import html
import logging
import math
import re
import warnings
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import pysubs2
import regex
import srt
import webvtt
from ttconv import model as tt
from ttconv.imsc import reader as imsc_reader
from webvtt.errors import MalformedCaptionError, MalformedFileError

from dubber.errors import InputError, OptionError
from dubber.languages import parse_lang
from dubber.models import Cue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubtitleFile:
    """What a subtitle file says: its cues (text as ``read_subtitles`` cleans it) and, when known, their language."""

    path: Path
    cues: tuple[Cue, ...]  # sorted by start (stable: file order among equal starts); overlaps kept
    language: str | None  # a code dubber supports: the file name's, else the file's own declaration


@dataclass(frozen=True)
class _Entry:
    """A cue as the file holds it, with its place in the file (what the editor's grid shows) for messages."""

    number: int
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class _Parsed:
    entries: tuple[_Entry, ...]
    declared: str | None = None  # the language the file itself names (TTML xml:lang, ASS/VTT "Language")


class _Unreadable(Exception):
    """A format reader's one-line reason; ``read_subtitles`` puts the path in front."""


# ---- text ----------------------------------------------------------------------------------------------

# Spaces other than the no-break ones (French puts U+00A0/U+202F before "?!:;"), and the control characters
# no subtitle means to show.
_SPACES = re.compile(r"[^\S\n\u00a0\u2007\u202f]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def _tidy(text: str) -> str:
    """Each line's whitespace collapsed and trimmed; empty lines gone."""
    lines = (_SPACES.sub(" ", _CONTROL.sub("", line)).strip(" ") for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# What players render as formatting in SubRip (HTML-like tags, and the ASS-style blocks Subtitle Edit writes
# for position: {\an8}), and WebVTT's tag names. Other "<" and "{" are text: SRT has no escapes.
_MARKUP = re.compile(r"</?(?:i|b|u|s|font|c|v|lang|ruby|rt)\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)
# WebVTT escapes every "<" in text, so every tag is markup; ruby text is a reading aid, not more words.
_VTT_RUBY_TEXT = re.compile(r"<rt\b[^>]*>.*?(?:</rt>|$)", re.DOTALL)
_VTT_TAG = re.compile(r"<[^>]*>")
# ASS: an escape (\N, \n, \h, \{, \}, and the backslash + WORD JOINER dubber's writer puts before a literal
# backslash) or an override block; anything else is text, as libass reads it.
_ASS_TOKEN = re.compile(r"\\[Nnh{}\u2060]|\{[^}]*\}")
_ASS_ESCAPES = {"\\N": "\n", "\\n": "\n", "\\h": " ", "\\{": "{", "\\}": "}", "\\\u2060": "\\"}


def _ass_text(raw: str) -> str:
    return _ASS_TOKEN.sub(lambda m: _ASS_ESCAPES.get(m.group(), ""), raw)


# ---- formats -------------------------------------------------------------------------------------------

def _parse_srt(text: str) -> _Parsed:
    entries: list[_Entry] = []
    one_ms = timedelta(milliseconds=1)
    try:
        for number, sub in enumerate(srt.parse(text), start=1):
            body = sub.content
            if "-->" in body:  # the lenient parser took a mangled cue for the text of the one before
                line = next(line for line in body.split("\n") if "-->" in line)
                raise _Unreadable(f"SRT parse error at cue {number + 1}: a broken timing line {line.strip()[:60]!r}")
            entries.append(_Entry(number, sub.start // one_ms, sub.end // one_ms, _tidy(_MARKUP.sub("", body))))
    except srt.SRTParseError as exc:
        at = exc.expected_start + len(exc.unmatched_content) - len(exc.unmatched_content.lstrip())
        lines = text[at:exc.actual_start].split("\n")
        skip = 1 if len(lines) > 1 and lines[0].strip().isdigit() else 0  # name the timing line, not the index
        raise _Unreadable(f"SRT parse error at cue {len(entries) + 1}, line {text.count(chr(10), 0, at) + 1 + skip}: "
                          f"{lines[skip].strip()[:60]!r}") from exc
    except (ValueError, OverflowError) as exc:  # a timestamp srt's pattern took but timedelta cannot hold
        raise _Unreadable(f"SRT parse error at cue {len(entries) + 1}: {exc}") from exc
    return _Parsed(tuple(entries))


def _vtt_stray_block(text: str) -> str | None:
    """The first block after the header that is neither a cue, a NOTE, a STYLE nor a REGION, as
    "line N: ..."; webvtt-py skips such a block even when strict, and it is most often a cue whose timing
    line was mangled."""
    lines, start = text.split("\n"), None
    for i, line in enumerate([*lines, ""]):
        if line and start is None:
            start = i
        elif not line and start is not None:
            block = lines[start:i]
            if start and not block[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in "".join(block[:2]):
                return f"line {start + 1}: {block[0][:60]!r}"
            start = None
    return None


def _parse_vtt(text: str) -> _Parsed:
    try:
        document = webvtt.from_string(text, strict=True)
    except (MalformedFileError, MalformedCaptionError, ValueError) as exc:
        detail = "no WEBVTT header" if isinstance(exc, MalformedFileError) else str(exc)[:100]
        raise _Unreadable(f"WebVTT parse error: {detail}") from exc
    stray = _vtt_stray_block(text)
    if stray:
        raise _Unreadable(f"WebVTT parse error at {stray}: not a cue")
    entries = tuple(_Entry(number, c.start_time.in_milliseconds(), c.end_time.in_milliseconds(),
                           _tidy(html.unescape(_VTT_TAG.sub("", _VTT_RUBY_TEXT.sub("", c.raw_text)))))
                    for number, c in enumerate(document.captions, start=1))
    declared = next((line.partition(":")[2] for line in document.metadata if line.lower().startswith("language:")),
                    None)
    return _Parsed(entries, declared)


def _parse_ass(text: str, format_: str) -> _Parsed:
    if not re.search(r"^\s*\[events\]", text, re.IGNORECASE | re.MULTILINE):
        raise _Unreadable("no [Events] section: not an ASS/SSA script")
    try:
        with warnings.catch_warnings():  # pysubs2 warns of margins and layers it defaults: not times, not words
            warnings.simplefilter("ignore", RuntimeWarning)
            script = pysubs2.SSAFile.from_string(text, format_=format_)
        events = [(n, e) for n, e in enumerate(script.events, start=1) if not e.is_comment and not e.is_drawing]
    except (pysubs2.Pysubs2Error, ValueError, IndexError, KeyError) as exc:
        raise _Unreadable(f"{format_.upper()} parse error: {exc}") from exc
    return _Parsed(tuple(_Entry(n, int(e.start), int(e.end), _tidy(_ass_text(e.text))) for n, e in events),
                   script.info.get("Language"))


@contextmanager
def _ttconv_timing_errors() -> Iterator[list[str]]:
    """ttconv logs a timing attribute it cannot read and goes on as if it were absent (a paragraph would
    start at 0): those log records, collected while it reads, to be raised instead."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if str(record.msg).startswith(("Bad begin", "Bad end", "Bad dur")):
                found.append(record.getMessage())

    handler, logger = Collect(logging.ERROR), logging.getLogger("ttconv")
    logger.addHandler(handler)
    try:
        yield found
    finally:
        logger.removeHandler(handler)


def _ttml_text(element: tt.ContentElement) -> str:
    if isinstance(element, tt.Text):
        return re.sub(r"[ \t\r\n]+", " ", element.get_text())  # XML's default whitespace handling
    if isinstance(element, tt.Br):
        return "\n"
    if isinstance(element, (tt.Rt, tt.Rtc, tt.Rp)):  # ruby readings and their fallback parentheses
        return ""
    return "".join(_ttml_text(child) for child in element)


def _ttml_paragraphs(element: tt.ContentElement, offset: Fraction,
                     parent_end: Fraction | None) -> Iterator[tuple[Fraction, Fraction | None, tt.P]]:
    """Every paragraph with its times on the document's timeline: ttconv keeps each element's times
    relative to its parent's begin, and a parent's end clips its children."""
    begin = offset + (element.get_begin() or 0)
    end = element.get_end()
    end = parent_end if end is None else offset + end if parent_end is None else min(offset + end, parent_end)
    if isinstance(element, tt.P):
        yield begin, end, element
        return
    for child in element:
        if isinstance(child, (tt.Div, tt.P)):
            yield from _ttml_paragraphs(child, begin, end)


def _ms(seconds: Fraction) -> int:
    return math.floor(seconds * 1000 + Fraction(1, 2))  # frame and tick times need not be whole ms


def _parse_ttml(text: str) -> _Parsed:
    try:
        with _ttconv_timing_errors() as errors:
            doc = imsc_reader.to_model(ET.ElementTree(ET.fromstring(text)))
    except ET.ParseError as exc:
        raise _Unreadable(f"not well-formed XML ({exc})") from exc
    except (ValueError, TypeError, LookupError, ArithmeticError, NotImplementedError, RecursionError) as exc:
        detail = "a frame or tick rate of 0" if isinstance(exc, ZeroDivisionError) else exc
        raise _Unreadable(f"TTML parse error: {detail}") from exc
    if errors:
        raise _Unreadable(f"TTML parse error: {errors[0][:100]}")
    if doc is None:
        raise _Unreadable("not a TTML document (no <tt> root that ttconv can read)")
    body = doc.get_body()
    entries = []
    for number, (begin, end, p) in enumerate(_ttml_paragraphs(body, Fraction(0), None) if body else (), start=1):
        if end is None:
            raise _Unreadable(f"paragraph {number} (at {_stamp(_ms(begin))}) has no end time")
        entries.append(_Entry(number, _ms(begin), _ms(end), _tidy(_ttml_text(p))))
    return _Parsed(tuple(entries), doc.get_lang())


_PARSERS: dict[str, Callable[[str], _Parsed]] = {
    ".srt": _parse_srt, ".vtt": _parse_vtt,
    ".ttml": _parse_ttml, ".dfxp": _parse_ttml, ".xml": _parse_ttml,
    ".ass": lambda text: _parse_ass(text, "ass"), ".ssa": lambda text: _parse_ass(text, "ssa"),
}


# ---- the file ------------------------------------------------------------------------------------------

def _stamp(ms: int) -> str:
    sign, ms = "-" if ms < 0 else "", abs(ms)
    return f"{sign}{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _read_text(path: Path) -> str:
    """The file as text: UTF-8, with or without the BOM editors write, any line ends made "\\n"."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(path, "is a directory, not a subtitle file") from exc
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, "is UTF-16 text: save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
                               "save it as UTF-8") from exc
    if "\x00" in text:
        raise InputError(path, "is not a text file (it holds NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _checked(path: Path, entries: tuple[_Entry, ...]) -> tuple[Cue, ...]:
    """The cues with text, in start order. A cue ending before it starts is an error: guessing its end
    would voice it at a time nobody chose."""
    cues = []
    for entry in entries:
        if not entry.text:
            continue
        if entry.start_ms < 0:  # only ASS can write one
            raise InputError(path, f"cue {entry.number} starts before 0 ({entry.start_ms} ms)")
        if entry.end_ms < entry.start_ms:
            raise InputError(path, f"cue {entry.number} at {_stamp(entry.start_ms)} ends before it starts "
                                   f"({_stamp(entry.end_ms)})")
        if entry.end_ms == entry.start_ms:
            log.warning("%s: cue %d at %s lasts 0 ms: no player shows it, it is not voiced",
                        path, entry.number, _stamp(entry.start_ms))
            continue
        cues.append(Cue(entry.start_ms, entry.end_ms, entry.text))
    return tuple(sorted(cues, key=lambda cue: cue.start_ms))


def read_subtitles(path: Path) -> SubtitleFile:
    """The cues of an SRT, WebVTT, TTML/DFXP or ASS/SSA file (by its extension), text without markup."""
    path = Path(path)
    parse = _PARSERS.get(path.suffix.lower())
    if parse is None:
        raise InputError(path, f"not a subtitle file dubber can read (it reads {', '.join(_PARSERS)})")
    text = _read_text(path)
    if not text.strip():  # before parsing: WebVTT and TTML readers would call it malformed
        raise InputError(path, "holds no cues (the file is empty)")
    try:
        parsed = parse(text)
    except _Unreadable as exc:
        reason = str(exc).replace("\n", " ")  # one line, whatever a library put in its message
        raise InputError(path, f"not a subtitle file dubber can read ({reason})") from exc
    cues = _checked(path, parsed.entries)
    if not cues:
        raise InputError(path, "holds no cues")
    return SubtitleFile(path, cues, language_from_name(path) or _language(parsed.declared))


# ---- language and speech -------------------------------------------------------------------------------

# A language tag as file names carry one (fr, pt-BR, pt_BR, zh-Hant, eng); words like "final" are not.
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def _language(text: str | None) -> str | None:
    try:
        return parse_lang(text.replace("_", "-")).code if text and text.strip() else None
    except OptionError:
        return None


def language_from_name(path: Path) -> str | None:
    """The language a ``<stem>.<lang>.<ext>`` name gives (as players read it), when dubber supports it. The
    name comes first: a reviewer names the file they save, while a language inside it is often a template's.

    >>> [language_from_name(Path(name)) for name in ("talk.fr.srt", "talk.pt-BR.vtt", "talk.eng.ass")]
    ['fr', 'pt', 'en']
    >>> [language_from_name(Path(name)) for name in ("talk.srt", "my.talk.final.srt", "talk.nl.srt")]
    [None, None, None]
    """
    tag = Path(Path(path).stem).suffix[1:]
    return _language(tag) if _TAG.fullmatch(tag) else None


# Scripts written without spaces between words: a line break between two of these is no word boundary.
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Bopomofo}\u3000-\u303f\uff00-\uffef]")
# Sound descriptions for the deaf and hard of hearing ([door slams], ［笑］) and music notes: read, not heard.
_NOT_SPOKEN = re.compile(r"\[[^\]\n]*\]|［[^］\n]*］|[♪♫]")
# A dash opening a line marks a change of speaker in a two-person cue: layout, not a word.
_DIALOGUE_DASH = re.compile(r"^[-‐–—](?!\d)\s*")


def spoken_text(cue_text: str, lang: str | None = None) -> str:
    """A cue's words as one line to voice (and to compare): markup gone (tags, ``{\\an8}``), speaker dashes,
    [sound descriptions] and music notes left out, lines joined with a space, or with nothing where either
    side of the break is Chinese or Japanese, which put no space between words. The characters decide,
    not ``lang`` (taken for callers that know it): a Japanese cue's English words stay apart, and Korean,
    which spaces its words, keeps its spaces. Empty when nothing in the cue is spoken.

    >>> spoken_text("- Where were you?\\n- At the [door slams] <i>station</i>.")
    'Where were you? At the station.'
    >>> spoken_text("今天天气很好，\\n我们去公园吧。", "zh"), spoken_text("日本語とEnglish\\nMixed", "ja")
    ('今天天气很好，我们去公园吧。', '日本語とEnglish Mixed')
    >>> spoken_text("♪ [music] ♪")
    ''
    """
    lines = (_DIALOGUE_DASH.sub("", _NOT_SPOKEN.sub("", line).strip())
             for line in _MARKUP.sub("", cue_text).split("\n"))
    spoken = ""
    for line in filter(None, lines):
        joint = "" if not spoken or _UNSPACED.match(spoken[-1]) or _UNSPACED.match(line[0]) else " "
        spoken += joint + line
    return " ".join(spoken.split())  # no-break spaces too: typography, not speech
