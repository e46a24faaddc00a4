"""The backend registry and specs: what each service can do is refused, as one line, before paying."""
from __future__ import annotations

import doctest

import pytest

import dubber.backends as backends
from dubber.backends import NAMES, BackendSpec, backend_spec
from dubber.errors import OptionError
from dubber.languages import parse_lang


def _spec(**changes) -> BackendSpec:
    values = dict(name="svc", family="dashscope", default_model="m", make=lambda config: None,
                  voices=("Cherry", "Ethan"), targets=frozenset({"en"}), max_window_ms=60_000)
    values.update(changes)
    return BackendSpec(**values)


@pytest.mark.parametrize("kwargs, words", [
    (dict(task="transcribe"), "cannot transcribe"),
    (dict(target=parse_lang("fr")), "only translates into en, not French"),
    (dict(voice="Nobody"), "unknown voice 'Nobody' for svc (voices: Cherry, Ethan)"),
    (dict(input_mode="video"), "takes no video input"),
    (dict(glossary=True), "cannot honour --glossary"),
    (dict(max_window_ms=61_000), "--max-window 61 s is longer than one svc request may carry (60 s)"),
])
def test_check_refuses_what_a_service_cannot_do(kwargs, words):
    with pytest.raises(OptionError, match=words.replace("(", r"\(").replace(")", r"\)")):
        _spec().check(**kwargs)


def test_check_accepts_what_it_can():
    _spec().check(target=parse_lang("en"), voice="Ethan", max_window_ms=60_000)


def test_every_listed_backend_has_a_spec_named_after_it():
    for name in NAMES:
        spec = backend_spec(name)
        assert spec.name == name and spec.family in backends.FAMILIES
        assert spec.transcriber is None or "transcribe" in backend_spec(spec.transcriber).tasks
    with pytest.raises(OptionError, match="unknown backend 'nope'"):
        backend_spec("nope")


def test_doctests():
    assert doctest.testmod(backends).failed == 0
