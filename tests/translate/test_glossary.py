"""Glossary files: pairs parsed in order, every separator, and one clear line for a bad file."""
from __future__ import annotations

import doctest

import pytest

from dubber.errors import InputError
from dubber.translate import glossary
from dubber.translate.glossary import load_glossary, parse_glossary


def test_separators_comments_and_blank_lines():
    text = "# characters\nAda → Ada\n\nthe Engine -> la Machine\nBabbage => Babbage\nloom = métier\nnote\tnote\n"
    assert parse_glossary(text) == (("Ada", "Ada"), ("the Engine", "la Machine"), ("Babbage", "Babbage"),
                                    ("loom", "métier"), ("note", "note"))


def test_a_repeated_term_keeps_its_last_translation():
    assert parse_glossary("a → b\na → c\n") == (("a", "c"),)


@pytest.mark.parametrize("bad, line", [("no separator here\n", 1), ("ok → fine\n → nothing before\n", 2),
                                        ("ok → fine\nterm →   \n", 2)])
def test_bad_lines_are_named(tmp_path, bad, line):
    path = tmp_path / "g.txt"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError, match=f"line {line}: expected 'term → translation'") as info:
        load_glossary(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_glossary(tmp_path / "missing.txt")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="not UTF-8"):
        load_glossary(binary)


def test_doctest():
    result = doctest.testmod(glossary)
    assert result.attempted > 0 and result.failed == 0, result  # no example at all would pass unseen
