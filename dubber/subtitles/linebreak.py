"""Text → subtitle-sized pieces and lines, by the style guide of the cue's language (``profiles``).

Every cut and every width is in grapheme clusters (the ``regex`` module's ``\\X``): a cut never parts a
letter from its combining marks (Thai vowels and tone marks, Devanagari signs, accents), and a width counts
what a reader sees. Pieces are cut at sentence ends first, then clause punctuation, then words; a line is
broken after punctuation or before a conjunction or preposition, and never right after a short word.

Where a word ends depends on the script: at spaces; between any two Chinese or Japanese characters except
before closing and after opening punctuation (and never inside a run of Latin letters or digits); at the
word boundaries pythainlp's dictionary finds in Thai, which puts no spaces between words.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass

import regex

from dubber.subtitles.profiles import CJK, SPACED, THAI

SENTENCE = 3
CLAUSE = 2
WORD = 1

_GRAPHEME = regex.compile(r"\X")
_SENTENCE_END = frozenset(".!?…。！？।؟")
_CLAUSE_END = frozenset(",;:，、；：—،؛")
# Punctuation that may not start a line (a French " ?" keeps its space, the mark stays on the line).
_NO_LINE_START = frozenset("?!:;»)]}%")
# Japanese small kana and the prolonged sound mark may not start a line either (kinsoku).
_SMALL_KANA = frozenset("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー々")
# Control characters, zero-width space, line/paragraph separators, and the bidi embeddings and overrides
# (U+202A-U+202E), which flip how the rest of a cue reads; the bidi marks and isolates right-to-left text
# needs are kept; and the noncharacters U+FFFE/U+FFFF, which no XML (TTML) may hold.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\ufffe\uffff]")

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
    script: str = SPACED
    lang: str = "en"
    half_width: bool = False  # half-width characters count 0.5 (the CJK guides' full-width count)

    @property
    def cue_chars(self) -> int:
        return self.line_chars * self.max_lines

    def measure(self, text: str) -> float:
        return width(text, self.half_width)


def clean_text(text: str) -> str:
    """Model text is untrusted: drop control characters and fold every run of white space (blank lines
    would end an SRT/VTT cue early)."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())


def graphemes(text: str) -> list[str]:
    return _GRAPHEME.findall(text)


def _grapheme_width(cluster: str, half_width: bool) -> float:
    if all(unicodedata.category(ch) in ("Cf", "Mn", "Me") for ch in cluster):
        return 0  # a format character (zero-width joiner, bidi mark) or a mark with nothing to sit on
    if half_width and unicodedata.east_asian_width(cluster[0]) in ("Na", "H"):
        return 0.5
    return 1


def width(text: str, half_width: bool = False) -> float:
    """Characters a reader sees: grapheme clusters, format characters taking no room; with ``half_width``,
    a half-width character counts half a full-width one."""
    return sum(_grapheme_width(g, half_width) for g in graphemes(text))


def _offsets(text: str) -> list[int]:
    """Where each grapheme cluster starts, and the end."""
    return [m.start() for m in _GRAPHEME.finditer(text)] + [len(text)]


def _strength(before: str) -> int:
    return SENTENCE if before in _SENTENCE_END else CLAUSE if before in _CLAUSE_END else WORD


def _space_points(text: str, bounds: set[int]) -> list[tuple[int, int]]:
    return [(i, _strength(text[i - 1])) for i, ch in enumerate(text)
            if ch == " " and 0 < i < len(text) - 1 and {i, i + 1} <= bounds and text[i + 1] not in _NO_LINE_START]


def _cjk_points(text: str) -> list[tuple[int, int]]:
    clusters, points, at = graphemes(text), [], 0
    for before, here in zip(clusters, clusters[1:]):
        at += len(before)
        if here == " " or before == " ":
            continue  # spaces are cut at by _space_points
        latin_run = before[-1].isascii() and before[-1].isalnum() and here[0].isascii() and here[0].isalnum()
        opening = unicodedata.category(before[-1]) in ("Ps", "Pi")
        closing = unicodedata.category(here[0]) in ("Pe", "Pf", "Po") or here[0] in _SMALL_KANA
        if not (latin_run or opening or closing):
            points.append((at, _strength(before[-1])))
    return points


@functools.lru_cache(maxsize=512)
def _thai_words(text: str) -> tuple[int, ...]:
    """Offsets between the words pythainlp's dictionary-based tokenizer (newmm, shipped in the wheel) finds."""
    from pythainlp.tokenize import word_tokenize  # here: its dictionary loads only for Thai text

    ends, at = [], 0
    for token in word_tokenize(text, engine="newmm", keep_whitespace=True):
        at += len(token)
        ends.append(at)
    return tuple(ends[:-1])


def cut_points(text: str, script: str) -> list[tuple[int, int]]:
    """Every place ``text`` may be cut, as (offset, strength): after a sentence end, a clause mark, or a
    word; never inside a grapheme cluster."""
    bounds = set(_offsets(text))
    points = _space_points(text, bounds)
    if script == CJK:
        points += _cjk_points(text)
    elif script == THAI:
        spaced = {i for i, _ in points}
        points = [(i, CLAUSE) for i in spaced]  # Thai writes a space between phrases and sentences
        points += [(i, WORD) for i in _thai_words(text) if i in bounds and i not in spaced and i - 1 not in spaced
                   and text[i] != " "]
    return sorted(points)


def best_cut(text: str, target: float, script: str, reach: float = 0.25) -> int | None:
    """The cut nearest ``target`` (an offset), favouring stronger boundaries within ``reach`` of the length."""
    points = cut_points(text, script)
    if not points:
        return None
    scale = max(1, len(text))
    return min(points, key=lambda p: abs(p[0] - target) / scale - reach * (p[1] - 1) / 2)[0]


def fitting_prefix(text: str, room: float, half_width: bool = False) -> int:
    """The longest run of whole grapheme clusters from the start that is at most ``room`` wide (at least one):
    the hard cut for a word longer than a line."""
    end, used = 0, 0.0
    for cluster in graphemes(text):
        used += _grapheme_width(cluster, half_width)
        if used > room and end:
            break
        end += len(cluster)
    return end


def _middle(text: str) -> int:
    """The grapheme boundary nearest the middle (a hard cut for text with no word boundary)."""
    inner = _offsets(text)[1:-1] or [len(text)]
    return min(inner, key=lambda i: abs(i - len(text) / 2))


def split_to_fit(text: str, rules: LineRules) -> list[str]:
    """Cut ``text`` into pieces of at most a cue's width, at sentences, then clauses, then words.

    >>> split_to_fit("One. Two three, four five six.", LineRules(line_chars=6))
    ['One.', 'Two three,', 'four five', 'six.']
    """
    text = clean_text(text)
    if not text:
        return []
    sentences = _split_at(text, [p for p, s in cut_points(text, rules.script) if s == SENTENCE])
    pieces: list[str] = []
    for sentence in sentences:
        pieces += _halve_until_fits(sentence, rules)
    return pieces


def _split_at(text: str, offsets: list[int]) -> list[str]:
    bounds = [0, *offsets, len(text)]
    return [text[a:b].strip() for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]


def _halve_until_fits(text: str, rules: LineRules) -> list[str]:
    if _fits_a_cue(text, rules) or len(graphemes(text)) < 2:
        return [text]
    cut = best_cut(text, len(text) / 2, rules.script) or _middle(text)
    return _halve_until_fits(text[:cut].strip(), rules) + _halve_until_fits(text[cut:].strip(), rules)


def _break_cost(text: str, cut: int, strength: int, rules: LineRules) -> float:
    first, second = text[:cut].rstrip(), text[cut:].lstrip()
    cost = abs(rules.measure(first) - rules.measure(second)) / max(1, rules.measure(text))
    if strength >= CLAUSE:
        cost -= 0.5
    if rules.script == SPACED:
        last_word = first.rsplit(" ", 1)[-1]
        next_word = second.split(" ", 1)[0].lower().strip("«»\"'¿¡(")
        if next_word in _BREAK_BEFORE.get(rules.lang, ()):
            cost -= 0.3
        if width(last_word) <= 3 and last_word[-1:].isalpha():
            cost += 1.0  # never leave a short word hanging from the next
    return cost


def _two_line_cuts(text: str, rules: LineRules) -> list[tuple[int, int]]:
    """The boundaries (offset, strength) that lay ``text`` on two lines of ``line_chars`` each."""
    return [(cut, s) for cut, s in cut_points(text, rules.script)
            if rules.measure(text[:cut].rstrip()) <= rules.line_chars
            and rules.measure(text[cut:].lstrip()) <= rules.line_chars]


def _fits_a_cue(text: str, rules: LineRules) -> bool:
    """Whether ``text`` is one cue: it lies on at most ``max_lines`` lines. Its width alone is not enough:
    "a a a ... ffffff," may be narrower than two lines and still have no boundary that parts it in two."""
    if rules.measure(text) <= rules.line_chars:
        return True
    return rules.measure(text) <= rules.cue_chars and len(break_lines(text, rules).splitlines()) <= rules.max_lines


def break_lines(text: str, rules: LineRules) -> str:
    """Lay a piece on at most ``max_lines`` lines of ``line_chars``; one line when it fits. A piece too wide
    for that (text that may not be cut) takes as many lines as it needs."""
    if rules.measure(text) <= rules.line_chars:
        return text
    fits = _two_line_cuts(text, rules)
    if not fits or rules.max_lines < 2:
        return "\n".join(more_lines(text, rules))
    cut = min(fits, key=lambda p: _break_cost(text, p[0], p[1], rules))[0]
    return f"{text[:cut].rstrip()}\n{text[cut:].lstrip()}"


def more_lines(text: str, rules: LineRules) -> list[str]:
    """``text`` on as few lines of ``line_chars`` as its boundaries allow, each cut near an even share; a
    word longer than a line is cut between grapheme clusters."""
    lines, rest = [], text
    while rest and rules.measure(rest) > rules.line_chars:
        share = len(rest) / math.ceil(rules.measure(rest) / rules.line_chars)
        fits = [p for p in cut_points(rest, rules.script) if rules.measure(rest[:p[0]].rstrip()) <= rules.line_chars]
        if fits:
            cut = min(fits, key=lambda p: abs(p[0] - share) / len(rest) - 0.1 * (p[1] - 1))[0]
        else:
            cut = fitting_prefix(rest, rules.line_chars, rules.half_width)
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines + [rest] if rest else lines
