"""The capability check: what a binary can do, asked of it and tried on dubber's own graphs, kept per binary
file; the choice of binary before anything is paid for. Real binaries throughout: the suite's ffmpeg, and
shell wrappers around it that hide an encoder, break a graph or count their runs."""
from __future__ import annotations

import logging
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from dubber.errors import UnfitToolError
from dubber.media import capability, tool
from dubber.media.capability import Need, choose, dub_needs
from dubber.media.mux import KINDS


def _wrapper(folder: Path, real: str, name: str = "ffmpeg", hide: str = "", fail_on: str = "",
             count: Path | None = None) -> Path:
    """An ffmpeg that runs ``real``, with ``hide`` left out of its encoder listing, exiting 1 on a command
    line matching ``fail_on``, and appending a line to ``count`` each run."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    lines = ["#!/bin/sh"]
    if count is not None:
        lines.append(f'echo run >> "{count}"')
    if fail_on:
        lines.append(f'case "$*" in *{fail_on}*) echo "Option not found" >&2; exit 1;; esac')
    if hide:
        lines.append(f'case "$*" in *-encoders*) "{real}" "$@" | "{shutil.which("grep")}" -v " {hide} "; exit 0;; esac')
    lines.append(f'exec "{real}" "$@"')
    script.write_text("\n".join(lines) + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture()
def fresh(monkeypatch, tmp_path):
    """An empty cache folder and no findings in memory; candidates as the test's environment says."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(capability, "_known", {})
    monkeypatch.setattr(capability, "_warned", set())
    monkeypatch.setattr(tool, "_chosen", None)
    return tmp_path


def test_the_suites_ffmpeg_can_do_everything(suite_ffmpeg, fresh):
    caps = capability.capabilities(suite_ffmpeg)
    assert caps.lacks(capability.everything()) == ()
    assert {"amerge", "amultiply", "channelsplit", "atempo"} <= caps.filters and "libopus" in caps.encoders
    assert caps.version.startswith("ffmpeg version") and caps.lavfi >= capability.MIN_LAVFI


def test_an_encoder_the_output_needs_and_the_binary_lacks_is_named(suite_ffmpeg, fresh, monkeypatch):
    no_opus = _wrapper(fresh / "bin", suite_ffmpeg, hide="libopus")
    monkeypatch.setenv("DUBBER_FFMPEG", str(no_opus))
    assert choose(dub_needs(KINDS["mp4"]), "dub into .mp4").path == str(no_opus)  # mp4 needs no Opus
    with pytest.raises(UnfitToolError) as refused:
        choose(dub_needs(KINDS["mkv"]), "dub into .mkv")
    message = str(refused.value)
    assert str(no_opus) in message and "the libopus encoder" in message and "DUBBER_FFMPEG" in message
    assert "\n" not in message


def test_a_graph_the_binary_cannot_run_is_named_with_ffmpegs_reason(suite_ffmpeg, fresh):
    broken = _wrapper(fresh / "bin", suite_ffmpeg, fail_on="amerge")
    caps = capability.capabilities(str(broken))
    assert caps.lacks(dub_needs(KINDS["mp4"])) == (Need("graph", "mix"),)
    assert caps.why(Need("graph", "mix")) == "the dub mix graph (Option not found)"
    assert caps.lacks(capability.decode_needs()) == ()  # subtitles need no mix


def test_a_system_ffmpeg_that_falls_short_gives_way_to_the_wheels_with_one_warning(suite_ffmpeg, fresh, monkeypatch,
                                                                                  caplog):
    wheel = tool.wheel_binary()
    system = _wrapper(fresh / "bin", suite_ffmpeg, hide="libopus")
    monkeypatch.delenv("DUBBER_FFMPEG")
    monkeypatch.setenv("PATH", str(system.parent))
    with caplog.at_level(logging.WARNING, logger="dubber.media.capability"):
        for _ in range(3):  # a batch: one warning, not one an input
            assert choose(dub_needs(KINDS["mkv"]), "dub into .mkv").path == wheel.path
    assert tool.ffmpeg_exe() == wheel.path and tool.chosen().source == "imageio-ffmpeg"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and str(system) in warnings[0] and "the libopus encoder" in warnings[0]
    assert choose(dub_needs(KINDS["mp4"]), "dub into .mp4").path == str(system)  # it does for mp4


def test_findings_are_kept_per_binary_file_and_checked_again_when_it_changes(suite_ffmpeg, fresh, monkeypatch):
    runs = fresh / "runs.txt"
    counted = _wrapper(fresh / "bin", suite_ffmpeg, count=runs)
    first = capability.capabilities(str(counted))
    measured = len(runs.read_text().splitlines())
    assert measured >= 5  # -version, three listings, the graphs
    monkeypatch.setattr(capability, "_known", {})  # as a new process: from the cache folder
    assert capability.capabilities(str(counted)) == first
    assert len(runs.read_text().splitlines()) == measured
    assert len(list(capability.folder().glob("*.json"))) == 1
    later = time.time() + 5
    os.utime(counted, (later, later))  # the binary replaced: its findings are not trusted
    monkeypatch.setattr(capability, "_known", {})
    capability.capabilities(str(counted))
    assert len(runs.read_text().splitlines()) == 2 * measured


def test_a_binary_that_is_not_there_lacks_everything_and_is_refused_in_one_line(fresh, monkeypatch):
    monkeypatch.setenv("DUBBER_FFMPEG", str(fresh / "no-such-ffmpeg"))
    with pytest.raises(UnfitToolError, match=r"no-such-ffmpeg .*cannot be run.* cannot make subtitles: it lacks"):
        choose(capability.decode_needs(), "make subtitles")
    assert not capability.folder().exists() or not list(capability.folder().iterdir())  # nothing kept


def test_a_dub_refused_for_its_ffmpeg_sends_nothing_and_writes_nothing(suite_ffmpeg, tmp_path, run_dubber, dubber_env,
                                                                      emulator):
    from tests.support.mediagen import compose, write_media

    video = write_media(compose([(0.5, "en01")], tail_s=0.5).pcm, tmp_path / "talk.mkv")
    no_opus = _wrapper(tmp_path / "bin", suite_ffmpeg, hide="libopus")
    sent = emulator.requests
    result = run_dubber("dub", video, "--to", "fr", env={**dubber_env, "DUBBER_FFMPEG": str(no_opus)})
    assert result.code == 2 and "Traceback" not in result.log
    assert result.stderr.strip().splitlines() == [
        f"dubber: error: ffmpeg {no_opus} ({capability.capabilities(suite_ffmpeg).version}) cannot dub into .mkv: "
        "it lacks the libopus encoder; point DUBBER_FFMPEG at an ffmpeg 4.4 or newer that has it, or unset "
        "DUBBER_FFMPEG"]
    assert emulator.requests == sent and sorted(p.name for p in tmp_path.iterdir()) == ["bin", "talk.mkv"]
