"""Cues → a TTML document in the IMSC1 Text profile (what Netflix and broadcasters ingest), built as a
``ttconv`` model and serialised by ttconv's IMSC writer, which also reads it back in the tests.

Times are clock times to the millisecond (``HH:MM:SS.mmm``, which the profile allows without a frame rate),
line breaks are ``<br/>``, and the XML serialiser escapes ``&``, ``<`` and ``>``.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from typing import Sequence

from ttconv import model
from ttconv import style_properties as styles
from ttconv.imsc import namespaces
from ttconv.imsc import writer as imsc_writer

from dubber.models import Cue

IMSC1_TEXT = "http://www.w3.org/ns/ttml/profile/imsc1/text"

# XML 1.0 cannot hold these code points at all, not even as character references: a parser rejects the
# whole file. Cue text has had control characters removed already; the noncharacters U+FFFE and U+FFFF
# (and lone surrogates, should any come this far) still could, and take U+FFFD's place, as lone surrogates
# do upstream.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_PCT = styles.LengthType.Units.pct
_SAFE_AREA_PCT = 10  # the title-safe margin on every side


def xml_safe(text: str) -> str:
    """``text`` with what XML 1.0 cannot carry replaced by U+FFFD.

    >>> xml_safe("a\\ufffeb")
    'a\\ufffdb'
    """
    return _NOT_XML.sub("\ufffd", text)


def _bottom_region(doc: model.ContentDocument) -> model.Region:
    """The one region every cue goes in: bottom-centred inside the safe area, white text with a thin
    black outline, 75% of a cell high (the default 32 × 15 cells: 54 px of a 1080-line picture)."""
    region = model.Region("bottom", doc)
    region.set_style(styles.StyleProperties.Origin, styles.CoordinateType(
        x=styles.LengthType(_SAFE_AREA_PCT, _PCT), y=styles.LengthType(_SAFE_AREA_PCT, _PCT)))
    inner = styles.LengthType(100 - 2 * _SAFE_AREA_PCT, _PCT)
    region.set_style(styles.StyleProperties.Extent, styles.ExtentType(width=inner, height=inner))
    region.set_style(styles.StyleProperties.DisplayAlign, styles.DisplayAlignType.after)
    region.set_style(styles.StyleProperties.TextAlign, styles.TextAlignType.center)
    region.set_style(styles.StyleProperties.FontFamily, (styles.GenericFontFamilyType.proportionalSansSerif,))
    region.set_style(styles.StyleProperties.FontSize, styles.LengthType(75, _PCT))
    region.set_style(styles.StyleProperties.LineHeight, styles.LengthType(125, _PCT))
    region.set_style(styles.StyleProperties.Color, styles.NamedColors.white.value)
    region.set_style(styles.StyleProperties.TextOutline, styles.TextOutlineType(
        styles.LengthType(5, _PCT), styles.NamedColors.black.value))
    doc.put_region(region)
    return region


def _paragraph(doc: model.ContentDocument, region: model.Region, cue: Cue) -> model.P:
    p = model.P(doc)
    p.set_region(region)
    p.set_begin(Fraction(cue.start_ms, 1000))
    p.set_end(Fraction(cue.end_ms, 1000))
    for i, line in enumerate(xml_safe(cue.text).split("\n")):
        if i:
            p.push_child(model.Br(doc))
        span = model.Span(doc)
        span.push_child(model.Text(doc, line))
        p.push_child(span)
    return p


def build_document(cues: Sequence[Cue], lang_code: str) -> model.ContentDocument:
    """The cues as a ttconv document whose language (``xml:lang``) is the cues' own."""
    doc = model.ContentDocument()
    doc.set_lang(lang_code)
    region = _bottom_region(doc)
    body = model.Body(doc)
    doc.set_body(body)
    div = model.Div(doc)
    body.push_child(div)
    for cue in cues:
        div.push_child(_paragraph(doc, region, cue))
    return doc


def to_ttml(cues: Sequence[Cue], lang_code: str) -> str:
    """An IMSC1 Text profile document. An empty cue list still gives a valid document (an empty ``div``)."""
    root = imsc_writer.from_model(build_document(cues, lang_code)).getroot()
    # IMSC1 signals its profile with ttp:profile on <tt>; ttconv only writes IMSC 1.1's ttp:contentProfiles,
    # which a TTML1 (IMSC 1.0.1) processor does not know.
    root.set(f"{{{namespaces.TTP}}}profile", IMSC1_TEXT)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
