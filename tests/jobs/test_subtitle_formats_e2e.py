"""`dubber subtitles --format ttml,ass` end to end: real ffmpeg on generated media, real HTTP to the emulator,
the TTML read back by ttconv and the ASS by pysubs2, with the same cues as the SRT of the same run."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dubber.emulator import Emulator
from tests.support.cues import read_ass, read_srt, read_ttml
from tests.support.mediagen import compose, write_media

LAYOUT = [(0.8, "en01"), (0.6, "en02"), (1.2, "en06")]
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0)


def _centiseconds(cues):
    """The SRT's cues at ASS's resolution (pysubs2 rounds to the nearest centisecond, halves up)."""
    return [((start + 5) // 10 * 10, (end + 5) // 10 * 10, text) for start, end, text in cues]


def test_ttml_and_ass_carry_the_same_cues_as_the_srt(tmp_path: Path, scene, run_dubber):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    result = run_dubber("subtitles", video, "--to", "fr", "--format", "srt,ttml,ass")
    assert result.code == 0, result.stderr
    paths = [tmp_path / f"talk.fr.{fmt}" for fmt in ("srt", "ttml", "ass")]
    assert result.stdout.split() == [str(p) for p in paths]
    from_srt = read_srt(paths[0])
    assert from_srt, "no cues"
    assert read_ttml(paths[1]) == from_srt
    assert ET.parse(paths[1]).getroot().get(XML_LANG) == "fr"
    assert read_ass(paths[2]) == _centiseconds(from_srt)
    assert not (tmp_path / "talk.fr.vtt").exists()


def test_model_text_that_looks_like_markup_or_tags_stays_text(tmp_path: Path, scene, run_dubber, dubber_env):
    answer = r"Tags {\b1}bold{\b0} and \N stay text, <i>markup</i> & an --> arrow too."
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    with Emulator(answer_text=answer) as emu:
        result = run_dubber("subtitles", video, "--to", "en", "--format", "ttml,ass", "--no-cache",
                            env={**dubber_env, "DUBBER_BASE_URL": emu.base_url})
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.en.ass", "talk.en.ttml", "talk.mp4"]
    from_ttml, from_ass = read_ttml(tmp_path / "talk.en.ttml"), read_ass(tmp_path / "talk.en.ass")
    assert [text for *_, text in from_ttml] == [text for *_, text in from_ass]
    shown = " ".join(text.replace("\n", " ") for *_, text in from_ttml)
    for piece in (r"{\b1}bold{\b0}", r"\N", "<i>markup</i>", "&", "-->"):
        assert piece in shown, piece


def test_an_unknown_format_is_one_line_naming_the_known_ones(tmp_path: Path, scene, run_dubber):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    result = run_dubber("subtitles", video, "--to", "fr", "--format", "ttml,docx")
    assert result.code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "docx" in lines[0] and "srt, vtt, ttml, ass" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.mp4"]
