"""Cues → an ASS (Advanced SubStation Alpha) script through ``pysubs2``, which also reads it back in the tests.

ASS keeps times in centiseconds: pysubs2 rounds each millisecond time to the nearest one, halves up (as
Aegisub does). The rounding is the same for every time, so cues that did not overlap still do not.
"""
from __future__ import annotations

import re
from typing import Sequence

import pysubs2

from dubber.models import Cue
from dubber.subtitles.cues import speaker_name

# Sized for a 1920 × 1080 canvas; players scale the whole script (fonts, outline, margins) to the picture.
PLAY_RES = (1920, 1080)
_WORD_JOINER = "\u2060"
# What could end a script line early (pysubs2 reads the file line by line) becomes a space; cue text has
# had these removed already, the writer holds for any text.
_LINE_END = re.compile(r"[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def escape_text(text: str) -> str:
    """Model text as ASS event text that shows exactly that text: a backslash is followed by an invisible
    WORD JOINER so that no ``\\N``, ``\\n``, ``\\h`` or ``\\{`` starts with it, braces are written ``\\{``
    and ``\\}`` so they open no override block (libass, mpv and ffmpeg read these escapes; ffmpeg writes
    the same ones), and line breaks become ``\\N``.

    >>> escape_text("{\\\\b1}bold\\nnext")
    '\\\\{\\\\\\u2060b1\\\\}bold\\\\Nnext'
    """
    text = _LINE_END.sub(" ", text).replace("\\", "\\" + _WORD_JOINER)
    return text.replace("{", "\\{").replace("}", "\\}").replace("\n", "\\N")


def _default_style() -> pysubs2.SSAStyle:
    """Readable on a 1080-line picture: 54 px (5% of the height) sans-serif, white with a 3 px black outline
    and a soft shadow, bottom-centred, kept 5% off the sides and the bottom."""
    width, height = PLAY_RES
    return pysubs2.SSAStyle(
        fontname="Arial", fontsize=height * 0.05,
        primarycolor=pysubs2.Color(255, 255, 255, 0), outlinecolor=pysubs2.Color(0, 0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 128), borderstyle=1, outline=3, shadow=1,
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=round(width * 0.05), marginr=round(width * 0.05), marginv=round(height * 0.05))


def to_ass(cues: Sequence[Cue], lang_code: str) -> str:
    """An ASS script: one ``Default`` style, one dialogue event per cue. ASS has no standard language field:
    ``lang_code`` goes in ``[Script Info]`` as ``Language`` for people and tools, renderers skip keys they
    do not know."""
    script = pysubs2.SSAFile()
    script.info.update({"PlayResX": str(PLAY_RES[0]), "PlayResY": str(PLAY_RES[1]), "Language": lang_code})
    script.styles = {"Default": _default_style()}
    # the Name field holds who speaks (``--speakers``), both speakers of a dialogue cue (a comma would end it)
    script.events = [pysubs2.SSAEvent(start=c.start_ms, end=c.end_ms, text=escape_text(c.text),
                                      name=" / ".join(speaker_name(s) for s, _ in c.turns)) for c in cues]
    return script.to_string("ass")
