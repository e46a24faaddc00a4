"""Any text a service returns becomes valid UTF-8 subtitle files: a property test over arbitrary text
(lone surrogates, NUL and control characters, bidi overrides, "-->", markup, blank lines, very long
runs, ASS override tags and escapes) through cue building into every writer, each file written to disk and
parsed back by its library; then what each format must carry (TTML's language and profile, ASS's style)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pysubs2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dubber.jobs.outputs import write_text_atomic
from dubber.models import Cue, Span, Translation, TranslationResult, Window
from dubber.subtitles.cues import build_cues
from dubber.subtitles.writers import WRITERS
from dubber.translate.fetch import valid_unicode
from tests.support.cues import read_ass, read_srt, read_ttml, read_vtt

READERS = {"srt": read_srt, "vtt": read_vtt, "ttml": read_ttml, "ass": read_ass}
# SRT has no escapes: its writer turns a model's "-->" (which lenient readers take for a timing line) into
# "->" (see dubber.subtitles.writers); WebVTT escapes it and gives the text back exactly.
# XML cannot hold the noncharacters U+FFFE and U+FFFF: TTML shows U+FFFD; ASS escapes what it must and gives
# the text back exactly.
SHOWN = {"srt": lambda text: re.sub(r"-{2,}>", "->", text), "vtt": lambda text: text,
         "ttml": lambda text: re.sub("[\ufffe\uffff]", "\ufffd", text), "ass": lambda text: text}
# ASS keeps centiseconds: pysubs2 rounds to the nearest, halves up; the others keep milliseconds.
TIMED = {"ass": lambda ms: (ms + 5) // 10 * 10}
# How libass reads event text: a backslash and the character after it go together (\N, \{, ...); a brace
# that is not part of such a pair opens or closes an override block.
_ASS_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)
HOSTILE = ["\ud800", "\udfff", "\x00", "\x1b[31m", "\u202e", "\u2066", "-->", "00:00:01,000 --> 00:00:02,000",
           "<b>", "</i>", "&amp;", "{\\b1}", "{", "}", "\\N", "\\", "\\\u2060", "\n\n", "\r\n", "WEBVTT", "NOTE",
           "\u200b", "\ufeff", "\ufffe", "x" * 300, "。" * 80]
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
        write_text_atomic(path, write(cues, lang))
        path.read_bytes().decode("utf-8")  # strict: valid UTF-8
        parsed = READERS[fmt](path)
        timed = TIMED.get(fmt, lambda ms: ms)
        assert [(start, end) for start, end, _ in parsed] == [(timed(c.start_ms), timed(c.end_ms)) for c in cues], fmt
        assert all(a[1] <= b[0] for a, b in zip(parsed, parsed[1:])), f"{fmt}: rounding made cues overlap"
        assert [text for _, _, text in parsed] == [SHOWN[fmt](c.text) for c in cues], fmt
    script = pysubs2.load(str(tmp_path / "out.ass"), encoding="utf-8")
    assert not [e.text for e in script.events if override_braces(e.text)], "model text read as ASS tags"
    assert not list(tmp_path.glob(".*.part"))


def override_braces(text: str) -> list[str]:
    """The braces in ASS event text that libass would take for an override block's."""
    return [token for token in _ASS_TOKEN.findall(text) if token in "{}"]


CUES = [Cue(0, 1505, "a --> b & <b>bold</b> {\\b1}x{\\b0} \\N \\\\n"), Cue(2000, 3504, "line one\nline two"),
        Cue(3600, 4000, "}{")]


def test_ttml_is_imsc1_text_in_the_cue_language(tmp_path: Path):
    path = tmp_path / "x.ttml"
    path.write_text(WRITERS["ttml"](CUES, "fr"), encoding="utf-8")
    root = ET.parse(path).getroot()  # well-formed XML
    tt, ttp = "{http://www.w3.org/ns/ttml}", "{http://www.w3.org/ns/ttml#parameter}"
    assert root.tag == f"{tt}tt"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert root.get(f"{ttp}profile") == "http://www.w3.org/ns/ttml/profile/imsc1/text"
    paragraphs = root.findall(f"{tt}body/{tt}div/{tt}p")
    assert [(p.get("begin"), p.get("end")) for p in paragraphs] == [
        ("00:00:00.000", "00:00:01.505"), ("00:00:02.000", "00:00:03.504"), ("00:00:03.600", "00:00:04.000")]
    assert len(paragraphs[1].findall(f"{tt}br")) == 1  # a line break is <br/>, not a newline in the text
    assert "<b>" not in path.read_text(encoding="utf-8")  # markup is text, escaped
    assert read_ttml(path) == [(c.start_ms, c.end_ms, c.text) for c in CUES]
    # XML 1.0 cannot hold U+FFFE or U+FFFF at all (no parser would read the file): they show as U+FFFD
    path.write_text(WRITERS["ttml"]([Cue(0, 1000, "a\ufffeb\uffff")], "fr"), encoding="utf-8")
    assert read_ttml(path) == [(0, 1000, "a\ufffdb\ufffd")]


def test_ass_escapes_override_tags_and_keeps_centiseconds(tmp_path: Path):
    path = tmp_path / "x.ass"
    path.write_text(WRITERS["ass"](CUES, "fr"), encoding="utf-8")
    script = pysubs2.load(str(path), encoding="utf-8")
    assert [override_braces(e.text) for e in script.events] == [[], [], []]  # every brace is escaped text
    assert override_braces(r"{\b1}x\{") == ["{", "}"]  # the check itself can fail
    assert script.events[1].text == "line one\\Nline two"
    assert read_ass(path) == [(0, 1510, CUES[0].text), (2000, 3500, CUES[1].text), (3600, 4000, CUES[2].text)]


def test_ass_style_is_readable_bottom_centre_on_1080p(tmp_path: Path):
    script = pysubs2.SSAFile.from_string(WRITERS["ass"](CUES, "fr"))
    assert (script.info["PlayResX"], script.info["PlayResY"]) == ("1920", "1080")
    style = script.styles["Default"]
    assert style.alignment == pysubs2.Alignment.BOTTOM_CENTER
    assert 40 <= style.fontsize <= 70 and style.outline > 0 and style.borderstyle == 1
    assert {e.style for e in script.events} == {"Default"}


def test_empty_cue_lists_give_valid_empty_files(tmp_path: Path):
    for fmt, write in WRITERS.items():
        path = tmp_path / f"e.{fmt}"
        path.write_text(write([], "en"), encoding="utf-8")
        assert READERS[fmt](path) == [], fmt
