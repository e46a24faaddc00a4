"""Glossaries: fixed translations of names and terms, one ``term → translation`` pair a line.

Lines may also use ``->``, ``=>``, ``=`` or a tab between the two; blank lines and lines starting with
``#`` are skipped. Backends that take instructions (omni) are told to use these translations.
"""
from __future__ import annotations

import re
from pathlib import Path

from dubber.errors import InputError

_SEPARATOR = re.compile(r"\s*(?:→|->|=>|=|\t)\s*")
MAX_PAIRS = 500  # an instruction past this would crowd out the context the model needs


def parse_glossary(text: str, where: Path | str = "glossary") -> tuple[tuple[str, str], ...]:
    """The pairs of a glossary file's text, in order, duplicates of a term keeping the last.

    >>> parse_glossary("Ada Lovelace → Ada Lovelace\\n# names\\nthe Engine -> la Machine\\n")
    (('Ada Lovelace', 'Ada Lovelace'), ('the Engine', 'la Machine'))
    """
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = _SEPARATOR.split(line, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise InputError(where, f"line {number}: expected 'term → translation'")
        pairs[parts[0].strip()] = parts[1].strip()
    if len(pairs) > MAX_PAIRS:
        raise InputError(where, f"{len(pairs)} terms; at most {MAX_PAIRS} fit in an instruction")
    return tuple(pairs.items())


def load_glossary(path: Path) -> tuple[tuple[str, str], ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(path, "no such file") from exc
    except UnicodeDecodeError as exc:
        raise InputError(path, "is not UTF-8 text") from exc
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror})") from exc
    return parse_glossary(text, path)
