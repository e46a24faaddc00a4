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


# A call this spec accepts, each argument at its limit: each refusal below changes one argument of it.
ACCEPTED = dict(task="translate", target=parse_lang("en"), voice="Ethan", input_mode="audio", glossary=False,
                max_window_ms=60_000)


@pytest.mark.parametrize("change, words", [
    (dict(task="transcribe"), "cannot transcribe"),
    (dict(target=parse_lang("fr")), "only translates into en, not French"),
    (dict(voice="Nobody"), "unknown voice 'Nobody' for svc (voices: Cherry, Ethan)"),
    (dict(input_mode="video"), "takes no video input"),
    (dict(glossary=True), "cannot honour --glossary"),
    (dict(max_window_ms=61_000), "--max-window 61 s is longer than one svc request may carry (60 s)"),
])
def test_check_refuses_what_a_service_cannot_do(change, words):
    with pytest.raises(OptionError, match=words.replace("(", r"\(").replace(")", r"\)")):
        _spec().check(**{**ACCEPTED, **change})


def test_check_accepts_what_it_can():
    assert _spec().check(**ACCEPTED) is None  # it refuses by raising: what the service can do passes silently
    with pytest.raises(OptionError, match="longer than one svc request"):  # a millisecond more is refused
        _spec().check(**{**ACCEPTED, "max_window_ms": 60_001})
    # a spec that lists no voices or targets takes any, and one that takes instructions takes a glossary
    anything = {**ACCEPTED, "target": parse_lang("fr"), "voice": "Nobody", "glossary": True}
    assert _spec(voices=None, targets=None, instructions=True).check(**anything) is None


def test_every_listed_backend_has_a_spec_named_after_it():
    for name in NAMES:
        spec = backend_spec(name)
        assert spec.name == name and spec.family in backends.FAMILIES
        assert spec.transcriber is None or "transcribe" in backend_spec(spec.transcriber).tasks
    with pytest.raises(OptionError, match="unknown backend 'nope'"):
        backend_spec("nope")


def test_doctests():
    result = doctest.testmod(backends)
    assert result.attempted > 0 and result.failed == 0, result  # no example at all would pass unseen
