"""The engine's options, refused before anything runs: one line each, exit 2 (1 for a cluster nobody
answers at), nothing written."""
from __future__ import annotations

import pytest

from dubber.engine import EngineOptions
from dubber.errors import OptionError


def test_cluster_options_need_the_ray_engine_and_a_local_cluster_is_sized_only_when_started_here():
    assert EngineOptions("ray", workers=2).distributed and not EngineOptions().distributed
    with pytest.raises(OptionError, match="^--address and --workers need --engine ray$"):
        EngineOptions("local", address="10.0.0.5:6379")
    with pytest.raises(OptionError, match="^--workers sizes a local cluster"):
        EngineOptions("ray", address="10.0.0.5:6379", workers=2)
    assert EngineOptions("ray").account_name != EngineOptions("ray").account_name  # one account a batch


def test_bad_cluster_options_are_one_line_and_write_nothing(run_dubber, tmp_path):
    media = tmp_path / "talk.wav"
    media.write_bytes(b"RIFF")  # never read: the options are refused first
    out = tmp_path / "out"
    for args, code, said in [
        (("--address", "127.0.0.1:6379"), 2, "--address and --workers need --engine ray"),
        (("--engine", "ray", "--address", "127.0.0.1:1"), 1, "cannot reach the Ray cluster at 127.0.0.1:1"),
        (("--engine", "ray", "--address", "no-port"), 1, "--address no-port: give the cluster's HOST:PORT"),
        (("--cache-dir", "nope://cache"), 2, "--cache-dir nope://cache: Protocol not known: nope"),
    ]:
        result = run_dubber("subtitles", media, "--to", "fr", "--out-dir", out, *args)
        assert (result.code, result.stdout) == (code, ""), result.stderr
        assert result.stderr.splitlines() == [f"dubber: error: {said}"] or \
            result.stderr.startswith(f"dubber: error: {said}"), result.stderr
        assert "Traceback" not in result.stderr and not out.exists()
