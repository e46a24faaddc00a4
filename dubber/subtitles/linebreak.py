"""Text → subtitle-sized pieces and lines, by the Netflix Timed Text Style Guide's rules.

Widths count characters as a reader sees them (combining marks and zero-width characters count 0), not
bytes. Pieces are cut at sentence ends first, then clause punctuation, then words; a line is broken after
punctuation or before a conjunction or preposition, and never right after a short word (an article or a
pronoun stays with what follows it).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SENTENCE = 3
CLAUSE = 2
WORD = 1

_SENTENCE_END = frozenset(".!?…。！？")
_CLAUSE_END = frozenset(",;:，、；：—")
# Control characters, zero-width space, line/paragraph separators, and the bidi embeddings and overrides
# (U+202A-U+202E), which flip how the rest of a cue reads; the bidi marks and isolates right-to-left text
# needs are kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e]")

# Words a line may start with: breaking before them reads naturally.
BREAK_BEFORE = {
    "en": "and but or nor so yet because although while when where which who that if to of in on at for with "
          "from by about into over after before under between through",
    "de": "und aber oder denn sondern weil dass wenn als ob mit von zu in an auf für aus bei nach über unter",
    "fr": "et mais ou donc car que qui quand si avec pour dans sur sous par sans chez entre vers",
    "es": "y pero o porque que cuando si aunque con para por en sobre sin entre desde hasta hacia",
    "it": "e ma o perché che quando se con per in su tra fra da senza verso",
    "pt": "e mas ou porque que quando se com para por em sobre sem entre desde até",
}
_BREAK_BEFORE = {lang: frozenset(words.split()) for lang, words in BREAK_BEFORE.items()}


@dataclass(frozen=True)
class LineRules:
    line_chars: int = 42
    max_lines: int = 2
    cjk: bool = False
    lang: str = "en"

    @property
    def cue_chars(self) -> int:
        return self.line_chars * self.max_lines


def clean_text(text: str) -> str:
    """Model text is untrusted: drop control characters and fold every run of white space (blank lines
    would end an SRT/VTT cue early)."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())


def width(text: str) -> int:
    """Characters a reader sees: combining marks and format characters take no room."""
    return sum(1 for ch in text if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")


def cut_points(text: str, cjk: bool) -> list[tuple[int, int]]:
    """Every place ``text`` may be cut, as (offset, strength): after a sentence end, a clause mark, or a word."""
    points = []
    for i in range(1, len(text)):
        before, here = text[i - 1], text[i]
        if cjk:
            strength = SENTENCE if before in _SENTENCE_END else CLAUSE if before in _CLAUSE_END else WORD
            if not here.isspace() and not unicodedata.category(here).startswith("P"):
                points.append((i, strength))
        elif here == " ":
            strength = SENTENCE if before in _SENTENCE_END else CLAUSE if before in _CLAUSE_END else WORD
            points.append((i, strength))
    return points


def best_cut(text: str, target: float, cjk: bool, reach: float = 0.25) -> int | None:
    """The cut nearest ``target`` (an offset), favouring stronger boundaries within ``reach`` of the length."""
    points = cut_points(text, cjk)
    if not points:
        return None
    scale = max(1, len(text))
    return min(points, key=lambda p: abs(p[0] - target) / scale - reach * (p[1] - 1) / 2)[0]


def split_to_fit(text: str, rules: LineRules) -> list[str]:
    """Cut ``text`` into pieces of at most a cue's width, at sentences, then clauses, then words.

    >>> split_to_fit("One. Two three, four five six.", LineRules(line_chars=6))
    ['One.', 'Two three,', 'four five', 'six.']
    """
    text = clean_text(text)
    if not text:
        return []
    sentences = _split_at(text, [p for p, s in cut_points(text, rules.cjk) if s == SENTENCE])
    pieces: list[str] = []
    for sentence in sentences:
        pieces += _halve_until_fits(sentence, rules)
    return pieces


def _split_at(text: str, offsets: list[int]) -> list[str]:
    bounds = [0, *offsets, len(text)]
    return [text[a:b].strip() for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]


def _halve_until_fits(text: str, rules: LineRules) -> list[str]:
    if width(text) <= rules.cue_chars:
        return [text]
    cut = best_cut(text, len(text) / 2, rules.cjk) or len(text) // 2
    return _halve_until_fits(text[:cut].strip(), rules) + _halve_until_fits(text[cut:].strip(), rules)


def _break_cost(text: str, cut: int, strength: int, rules: LineRules) -> float:
    first, second = text[:cut].rstrip(), text[cut:].lstrip()
    cost = abs(width(first) - width(second)) / max(1, width(text))
    if strength >= CLAUSE:
        cost -= 0.5
    if not rules.cjk:
        last_word = first.rsplit(" ", 1)[-1]
        next_word = second.split(" ", 1)[0].lower().strip("«»\"'¿¡(")
        if next_word in _BREAK_BEFORE.get(rules.lang, ()):
            cost -= 0.3
        if width(last_word) <= 3 and last_word[-1:].isalpha():
            cost += 1.0  # never leave a short word hanging from the next
    return cost


def break_lines(text: str, rules: LineRules) -> str:
    """Lay a piece on at most ``max_lines`` lines of ``line_chars``; one line when it fits."""
    if width(text) <= rules.line_chars:
        return text
    fits = [(cut, s) for cut, s in cut_points(text, rules.cjk)
            if width(text[:cut].rstrip()) <= rules.line_chars and width(text[cut:].lstrip()) <= rules.line_chars]
    if not fits:  # a single over-long word: cut it hard
        return "\n".join(text[i:i + rules.line_chars] for i in range(0, len(text), rules.line_chars))
    cut = min(fits, key=lambda p: _break_cost(text, p[0], p[1], rules))[0]
    return f"{text[:cut].rstrip()}\n{text[cut:].lstrip()}"
