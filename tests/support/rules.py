"""The subtitle style rules, as one check shared by the unit, property and end-to-end tests."""
from __future__ import annotations

from dubber.subtitles.linebreak import width
from dubber.subtitles.cues import CueOptions


def rule_breaks(cues, lang_code: str, duration_ms: int, options: CueOptions = CueOptions()) -> list[str]:
    """Every way ``cues`` (Cue values or (start, end, text) tuples) break the rules; empty when none."""
    rules, lines = options.timing, options.lines(lang_code)
    out = []
    rows = [(c.start_ms, c.end_ms, c.text) if hasattr(c, "text") else c for c in cues]
    for start, end, text in rows:
        ms = end - start
        if not 0 <= start < end <= duration_ms:
            out.append(f"outside the media: {start}-{end}")
        if not rules.min_ms <= ms <= rules.max_ms:
            out.append(f"lasts {ms} ms: {text!r}")
        if width(text.replace("\n", "")) / (ms / 1000) > rules.max_cps + 1e-9:
            out.append(f"reads at {width(text) / (ms / 1000):.1f} cps: {text!r}")
        if len(text.splitlines()) > lines.max_lines or any(width(x) > lines.line_chars for x in text.splitlines()):
            out.append(f"lines too long or too many: {text!r}")
    for (_, end, _), (start, _, text) in zip(rows, rows[1:]):
        gap = start - end
        if gap < rules.gap_ms or rules.gap_ms < gap < rules.close_gap_ms:
            out.append(f"gap of {gap} ms before {text!r}")
    return out
