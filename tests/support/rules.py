"""The subtitle style rules, as one check shared by the unit, property and end-to-end tests.

The numbers are the Netflix Timed Text Style Guide's, written out here rather than read from the code
under test (``dubber.subtitles``), so a changed default shows up as a broken rule:
- at most 2 lines of 42 characters (16 for Chinese, Japanese and Cantonese);
- on screen 5/6 s (20 frames at 24 fps) to 7 s;
- at most 20 characters a second (the adult reading-speed ceiling);
- at least 2 frames between cues (83 ms at 24 fps), and a gap shorter than 0.5 s is closed to that.
"""
from __future__ import annotations

from dubber.subtitles.linebreak import width

MAX_LINES = 2
LINE_CHARS = 42
CJK_LINE_CHARS = 16
CJK = frozenset({"zh", "ja", "yue"})
MIN_MS, MAX_MS = 833, 7000
MAX_CPS = 20.0
MIN_GAP_MS, CLOSED_GAP_MS = 83, 500


def rule_breaks(cues, lang_code: str, duration_ms: int) -> list[str]:
    """Every way ``cues`` (Cue values or (start, end, text) tuples) break the rules; empty when none."""
    line_chars = CJK_LINE_CHARS if lang_code in CJK else LINE_CHARS
    out = []
    rows = [(c.start_ms, c.end_ms, c.text) if hasattr(c, "text") else c for c in cues]
    for start, end, text in rows:
        ms = end - start
        if not 0 <= start < end <= duration_ms:
            out.append(f"outside the media: {start}-{end}")
        if not MIN_MS <= ms <= MAX_MS:
            out.append(f"lasts {ms} ms: {text!r}")
        if width(text.replace("\n", "")) / (ms / 1000) > MAX_CPS + 1e-9:
            out.append(f"reads at {width(text) / (ms / 1000):.1f} cps: {text!r}")
        if len(text.splitlines()) > MAX_LINES or any(width(x) > line_chars for x in text.splitlines()):
            out.append(f"lines too long or too many: {text!r}")
    for (_, end, _), (start, _, text) in zip(rows, rows[1:]):
        gap = start - end
        if gap < MIN_GAP_MS or MIN_GAP_MS < gap < CLOSED_GAP_MS:
            out.append(f"gap of {gap} ms before {text!r}")
    return out
