"""Translated text → subtitles: ``linebreak`` (pieces and lines by the style guide), ``timing`` (laying a
window's text over its speech), ``cues`` (every window's cues settled on the media's timeline) and
``writers`` (SRT and WebVTT, by name)."""
