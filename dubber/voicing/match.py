"""Which given cues are the ones voiced before (a pure function).

A reviewer edits a dub's sidecar in a subtitle editor and hands it back. Nothing in an SRT survives that
reliably but the text and the times: Subtitle Edit renumbers cues and may re-break lines, Aegisub keeps
times to the centisecond, and either may add markup. So a cue is matched by its *words*: the two lists
of texts, markup and line breaks gone and white space tidied, are aligned in order
(``difflib.SequenceMatcher``, which keeps runs of equal cues together and so never pairs a cue with a
same-worded one far away), and every cue in an equal run is the earlier cue it lines up with. Its times
then say whether it was moved: by more than ``TIME_TOLERANCE_MS`` (an editor's rounding) at either end.

A given cue with no equal earlier cue is new or edited: it is voiced from its text.
"""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from dubber.models import Cue
from dubber.subtitles.reader import spoken_text

TIME_TOLERANCE_MS = 20  # Aegisub writes centiseconds; an SRT round trip through any editor is exact

KEPT, RETIMED, REVOICED, VOICED = "kept", "re-timed", "re-voiced", "voiced"


@dataclass(frozen=True)
class Match:
    """A given cue (its place in the given list) and the earlier cue with its words, if any."""

    given: int
    earlier: int | None
    moved: bool = False  # the earlier cue's words, at other times


def words(text: str, lang: str | None = None) -> str:
    """A cue's words as compared: what would be spoken, in Unicode's composed form.

    >>> words("<i>Bonjour,</i>\\nmonde !") == words("Bonjour, monde !")
    True
    """
    return unicodedata.normalize("NFC", spoken_text(text))


def match_cues(given: Sequence[Cue], earlier: Sequence[Cue], lang: str | None = None) -> list[Match]:
    """Each given cue's match among the earlier ones, in the given order (the rule in the module docstring).

    >>> old = [Cue(0, 1000, "Un."), Cue(2000, 3000, "Deux."), Cue(4000, 5000, "Trois.")]
    >>> new = [Cue(0, 1000, "Un."), Cue(2000, 3000, "Deux !"), Cue(4300, 5300, "Trois.")]
    >>> [(m.earlier, m.moved) for m in match_cues(new, old)]
    [(0, False), (None, False), (2, True)]
    """
    before = [words(c.text, lang) for c in earlier]
    after = [words(c.text, lang) for c in given]
    pairs: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            pairs[block.b + k] = block.a + k
    out = []
    for i, cue in enumerate(given):
        j = pairs.get(i)
        moved = j is not None and (abs(cue.start_ms - earlier[j].start_ms) > TIME_TOLERANCE_MS
                                   or abs(cue.end_ms - earlier[j].end_ms) > TIME_TOLERANCE_MS)
        out.append(Match(i, j, moved))
    return out
