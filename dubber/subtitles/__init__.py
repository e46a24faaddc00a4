"""Translated text → subtitles: ``profiles`` (each language's numbers from its style guide), ``linebreak``
(pieces and lines by those rules, in grapheme clusters), ``timing`` (laying a
window's text over its speech), ``cues`` (every window's cues settled on the media's timeline) and
``writers`` (SRT, WebVTT, TTML/IMSC1 from ``ttml`` and ASS from ``ass``, by name)."""
