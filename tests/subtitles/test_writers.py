"""Any text a service returns becomes valid UTF-8 subtitle files: a property test over arbitrary text
(lone surrogates, NUL and control characters, bidi overrides, "-->", markup, blank lines, very long
runs) through cue building into every writer, each file written to disk and parsed back by its library."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dubber.jobs.outputs import write_text_atomic
from dubber.models import Span, Translation, TranslationResult, Window
from dubber.subtitles.cues import build_cues
from dubber.subtitles.writers import WRITERS
from dubber.translate.fetch import valid_unicode
from tests.support.cues import read_srt, read_vtt

READERS = {"srt": read_srt, "vtt": read_vtt}
# SRT has no escapes: its writer turns a model's "-->" (which lenient readers take for a timing line) into
# "->" (see dubber.subtitles.writers); WebVTT escapes it and gives the text back exactly.
SHOWN = {"srt": lambda text: re.sub(r"-{2,}>", "->", text), "vtt": lambda text: text}
HOSTILE = ["\ud800", "\udfff", "\x00", "\x1b[31m", "\u202e", "\u2066", "-->", "00:00:01,000 --> 00:00:02,000",
           "<b>", "</i>", "&amp;", "\n\n", "\r\n", "WEBVTT", "NOTE", "\u200b", "\ufeff", "x" * 300, "。" * 80]
texts = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(st.characters(exclude_categories=()), max_size=40)),
                 max_size=12).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=texts, second=texts, lang=st.sampled_from(["en", "zh", "ar", "th"]))
def test_any_text_gives_files_their_libraries_read_back(tmp_path: Path, first: str, second: str, lang: str):
    windows = [Window(0, 800, 4200, (Span(1000, 4000),)), Window(1, 5800, 9200, (Span(6000, 9000),))]
    translations = [Translation(w, TranslationResult(text=valid_unicode(t))) for w, t in zip(windows, (first, second))]
    cues = build_cues(translations, lang, 12000)
    for fmt, write in WRITERS.items():
        path = tmp_path / f"out.{fmt}"
        write_text_atomic(path, write(cues))
        path.read_bytes().decode("utf-8")  # strict: valid UTF-8
        parsed = READERS[fmt](path)
        assert [(start, end) for start, end, _ in parsed] == [(c.start_ms, c.end_ms) for c in cues], fmt
        assert [text for _, _, text in parsed] == [SHOWN[fmt](c.text) for c in cues], fmt
    assert not list(tmp_path.glob(".*.part"))
