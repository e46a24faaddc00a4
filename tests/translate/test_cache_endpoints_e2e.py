"""Cache identity: an answer cached from one endpoint is never served to a run against another.

Two emulators on two ports stand for two services (say the emulator and the real endpoint). The second
one answers a fixed text, so the files show whose answer they carry, not just how many requests were made.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from dubber.emulator import Emulator
from tests.support.cues import read_srt
from tests.support.mediagen import compose, write_media

WINDOWS = ["en01", "en02", "de01"]  # 2.5 s apart: a window each


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    scene = compose([(2.5, name) for name in WINDOWS], tail_s=1.0)
    return write_media(scene.pcm, tmp_path_factory.mktemp("media") / "talk.wav")


def _texts(folder: Path) -> str:
    return " ".join(text for _, _, text in read_srt(folder / "talk.fr.srt"))


def test_the_same_input_against_another_endpoint_is_paid_for(talk, tmp_path, run_dubber, dubber_env):
    cache = tmp_path / "cache"
    with Emulator() as first, Emulator(answer_text="Réponse du second service.") as second:
        assert first.base_url != second.base_url

        def run(emu: Emulator, out: str):
            env = {**dubber_env, "DUBBER_BASE_URL": emu.base_url}
            result = run_dubber("subtitles", talk, "--to", "fr", "--cache-dir", cache, "--out-dir",
                                tmp_path / out, env=env)
            assert result.code == 0, result.stderr
            return tmp_path / out

        a = run(first, "a")
        assert first.requests == len(WINDOWS)
        b = run(second, "b")
        assert second.requests == len(WINDOWS), "the second endpoint was served the first one's answers"
        assert "second service" in _texts(b) and "second service" not in _texts(a)
        again = run(first, "a-again")  # each endpoint's answers are still cached for it
        assert first.requests == len(WINDOWS) and second.requests == len(WINDOWS)
        assert _texts(again) == _texts(a)
