"""Every example in dubber's docstrings runs and holds: each module whose source shows one (``>>>``) is
imported and its doctests run; a module that shows examples none of which ran would pass silently, so
each must have run at least one."""
from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dubber"
MODULES = sorted(".".join(("dubber", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
                 for path in PACKAGE.rglob("*.py") if ">>> " in path.read_text(encoding="utf-8"))


def test_the_modules_with_examples_are_found():
    assert {"dubber.media.capability", "dubber.media.tool", "dubber.cli.runner", "dubber.backends"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result
