"""Each language's subtitle rules, in one table: characters a line, lines a cue, reading speed.

Source: Netflix's Timed Text Style Guides (partnerhelp.netflixstudios.com), the General Requirements
(2 lines at most, 5/6 s to 7 s on screen, 2 frames between cues whatever the frame rate) and one guide per
language for its line length and adult reading speed. Each row's ``guide`` says what that guide gives;
``unsure`` marks a number taken from an older edition or from the guides' common default rather than read
in the current page.

Widths: what a reader sees, in grapheme clusters. Where a guide counts in full-width characters
(Chinese, Cantonese, Japanese, Korean), a half-width character (Latin letters, digits, ASCII space and
punctuation) counts half (``half_width``), as the Japanese and Korean guides say.

Scripts decide where a line may break: at spaces (``SPACED``), between any two characters but not before
closing or after opening punctuation (``CJK``), or at the word boundaries a Thai dictionary finds (``THAI``).
"""
from __future__ import annotations

from dataclasses import dataclass

from dubber.languages import SUPPORTED

SPACED, CJK, THAI = "spaced", "cjk", "thai"


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    line_chars: int  # per line
    target_cps: float  # cues are lengthened into the following silence until they read this slowly
    max_cps: float  # the guide's adult ceiling: a cue faster than this is reported (or cut, on request)
    script: str = SPACED
    half_width: bool = False
    max_lines: int = 2
    guide: str = ""
    unsure: str = ""


_EUROPEAN = "42 characters a line; adult reading speed up to 17 characters a second"

# code: (line_chars, target_cps, max_cps, script, half_width, what the guide gives, what is unsure)
_TABLE: dict[str, tuple[int, float, float, str, bool, str, str]] = {
    "en": (42, 17, 20, SPACED, False, "English (USA): 42 a line; adult up to 20 cps (children 17, the English "
           "template's rate, kept as the comfortable target)", ""),
    "zh": (16, 9, 9, CJK, True, "Chinese (Simplified, PRC): 16 a line; adult up to 9 cps", ""),
    "yue": (16, 9, 9, CJK, True, "Chinese (Traditional, Hong Kong) taken as Chinese: 16 a line, 9 cps",
            "the Hong Kong guide's own numbers were not checked"),
    "ja": (13, 4, 4, CJK, True, "Japanese: 13 full-width characters a horizontal line (half-width count 0.5); "
           "adult up to 4 cps", ""),
    "ko": (16, 12, 12, SPACED, True, "Korean: 16 a line (Latin letters, spaces and punctuation count 0.5); "
           "adult up to 12 cps", ""),
    "fr": (42, 17, 17, SPACED, False, f"French: {_EUROPEAN}", ""),
    "de": (42, 17, 17, SPACED, False, f"German: {_EUROPEAN}", ""),
    "it": (42, 17, 17, SPACED, False, f"Italian: {_EUROPEAN}", ""),
    "es": (42, 17, 17, SPACED, False, f"Spanish (Castilian and Latin American): {_EUROPEAN}", ""),
    "pt": (42, 17, 17, SPACED, False, f"Portuguese (Brazilian and European): {_EUROPEAN}", ""),
    "ru": (42, 17, 17, SPACED, False, f"Russian: {_EUROPEAN}", ""),
    "el": (42, 17, 17, SPACED, False, f"Greek: {_EUROPEAN}", ""),
    "tr": (42, 17, 17, SPACED, False, f"Turkish: {_EUROPEAN}", ""),
    "id": (42, 17, 17, SPACED, False, f"Indonesian: {_EUROPEAN}", "the reading speed"),
    "vi": (42, 17, 17, SPACED, False, f"Vietnamese: {_EUROPEAN}", "the reading speed"),
    "ar": (42, 17, 17, SPACED, False, "Arabic: 42 a line; adult up to 17 cps", "the reading speed"),
    "hi": (42, 17, 17, SPACED, False, "Hindi: 42 a line; adult up to 17 cps", "the reading speed"),
    "th": (35, 15, 15, THAI, False, "Thai: 35 a line (no spaces between words; vowel and tone marks above and "
           "below a letter take no room); adult up to 15 cps", "the reading speed (an older edition's figure)"),
}

PROFILES: dict[str, Profile] = {
    code: Profile(code, SUPPORTED[code], line, target, ceiling, script, half, 2, guide, unsure)
    for code, (line, target, ceiling, script, half, guide, unsure) in _TABLE.items()
}

# A transcript whose language nobody could tell ("und") is laid out by the general rules.
DEFAULT = Profile("und", "undetermined", 42, 17, 20, guide="General Requirements with English's numbers")


def profile(code: str | None) -> Profile:
    """The rules for ``code`` (a code ``dubber.languages.parse_lang`` gives); the general ones otherwise."""
    return PROFILES.get(code or "", DEFAULT)
