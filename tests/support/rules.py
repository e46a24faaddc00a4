"""The subtitle style rules, as one check shared by the unit, property and end-to-end tests.

The numbers are the Netflix Timed Text Style Guides', written out here per language rather than read from
the code under test (``dubber.subtitles``), and the widths are counted here too (grapheme clusters with the
``regex`` module; half-width characters count half in the CJK guides), so a changed default or a wrong
count shows up as a broken rule:
- at most 2 lines (General Requirements), of the language's characters a line (its own guide);
- on screen 5/6 s to 7 s;
- no faster than the language's adult reading speed, unless the run reported the cue (no word is dropped:
  a cue too fast to read is kept whole and named in the run's warning and the dub's report);
- at least 2 frames between cues at the input's frame rate, and a gap shorter than 0.5 s is closed to that.
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Collection

import regex

MAX_LINES = 2
MIN_MS, MAX_MS = 833, 7000
CLOSED_GAP_MS = 500

# code: (characters a line, adult reading speed in characters a second), from each language's guide.
GUIDE = {
    "en": (42, 20), "fr": (42, 17), "de": (42, 17), "it": (42, 17), "es": (42, 17), "pt": (42, 17),
    "ru": (42, 17), "el": (42, 17), "tr": (42, 17), "id": (42, 17), "vi": (42, 17), "ar": (42, 17),
    "hi": (42, 17), "th": (35, 15), "zh": (16, 9), "yue": (16, 9), "ja": (13, 4), "ko": (16, 12),
}
HALF_WIDTH = frozenset({"zh", "yue", "ja", "ko"})  # guides that count in full-width characters
NO_SPACES = frozenset({"zh", "yue", "ja", "th"})  # scripts that do not put spaces between words


def line_chars(lang: str) -> int:
    return GUIDE.get(lang, (42, 20))[0]


def max_cps(lang: str) -> float:
    return GUIDE.get(lang, (42, 20))[1]


def gap_ms(fps: float = 24.0) -> int:
    return math.ceil(2000 / fps)


def graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


def width(text: str, lang: str = "en") -> float:
    """Characters a reader sees: grapheme clusters; format characters none; half-width ones half, in CJK."""
    total = 0.0
    for g in graphemes(text):
        if all(unicodedata.category(ch) in ("Cf", "Mn", "Me") for ch in g):
            continue
        narrow = unicodedata.east_asian_width(g[0]) in ("Na", "H")
        total += 0.5 if lang in HALF_WIDTH and narrow else 1
    return total


def rule_breaks(cues, lang_code: str, duration_ms: int, fps: float = 24.0,
                reported: Collection[int] = ()) -> list[str]:
    """Every way ``cues`` (Cue values or (start, end, text) tuples) break the rules; empty when none.
    ``reported``: cue numbers (1-based) the run said it kept whole against the reading speed or line count."""
    out = []
    rows = [(c.start_ms, c.end_ms, c.text) if hasattr(c, "text") else c for c in cues]
    for number, (start, end, text) in enumerate(rows, start=1):
        ms = end - start
        if not 0 <= start < end <= duration_ms:
            out.append(f"outside the media: {start}-{end}")
        if not MIN_MS <= ms <= MAX_MS:
            out.append(f"lasts {ms} ms: {text!r}")
        cps = width(text.replace("\n", ""), lang_code) / (ms / 1000)
        if cps > max_cps(lang_code) + 1e-9 and number not in reported:
            out.append(f"cue {number} reads at {cps:.1f} cps: {text!r}")
        lines = text.splitlines()
        if any(width(x, lang_code) > line_chars(lang_code) for x in lines):
            out.append(f"lines too long: {text!r}")
        if len(lines) > MAX_LINES and number not in reported:
            out.append(f"cue {number} has {len(lines)} lines: {text!r}")
    for (_, end, _), (start, _, text) in zip(rows, rows[1:]):
        gap = start - end
        if gap < gap_ms(fps) or gap_ms(fps) < gap < CLOSED_GAP_MS:
            out.append(f"gap of {gap} ms before {text!r}")
    return out


_WARNED = re.compile(r"(?:cues? reads? faster than .*? characters a second|more than \d+ lines.*?): (.*)")


def reported_cues(stderr: str) -> set[int]:
    """The cue numbers a run's warnings name as kept whole against a rule (see ``dubber.subtitles.cues``)."""
    numbers: set[int] = set()
    for match in _WARNED.finditer(stderr):
        numbers |= {int(n) for n in re.findall(r"(?:^|, )(\d+)", match.group(1))}
    return numbers


def words(text: str, lang: str) -> list[str]:
    """What must survive in order: the words, or, where a script puts no spaces, its grapheme clusters."""
    if lang in NO_SPACES:
        return [g for g in graphemes(text) if not g.isspace()]
    return text.split()
