"""Fixtures of the emulator's tests only: an emulator of their own and an SDK client for it."""
from __future__ import annotations

import openai
import pytest

from dubber.emulator import DEFAULT_KEY, Emulator


# The tests count requests and read the emulator's stats: their own emulator, not the session's shared one.
@pytest.fixture(scope="module")
def emulator():
    with Emulator(port=0) as emu:
        yield emu


@pytest.fixture(scope="module")
def client(emulator):
    return openai.OpenAI(api_key=DEFAULT_KEY, base_url=emulator.base_url, max_retries=0, timeout=10)

