"""Output sets: every file of a run in place together, or none; the previous set survives any failure."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dubber.errors import OutputError
from dubber.jobs.outputs import OutputSet

NAMES = ("talk.fr.mp4", "talk.fr.srt", "talk.fr.vtt", "talk.fr.dub.json")


def _previous(folder: Path) -> dict[str, bytes]:
    for name in NAMES:
        (folder / name).write_bytes(f"old {name}".encode())
    return _contents(folder)


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _write_all(files: OutputSet, folder: Path) -> None:
    for name in NAMES:
        files.write_text(folder / name, f"new {name}")


def test_commit_puts_every_file_in_place_and_leaves_nothing_else(tmp_path):
    _previous(tmp_path)
    with OutputSet() as files:
        _write_all(files, tmp_path)
        files.commit()
    assert _contents(tmp_path) == {name: f"new {name}".encode() for name in NAMES}


def test_leaving_without_commit_keeps_the_previous_set(tmp_path):
    before = _previous(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        with OutputSet() as files:
            _write_all(files, tmp_path)
            raise KeyboardInterrupt
    assert _contents(tmp_path) == before


def test_a_rename_failing_midway_restores_the_files_already_replaced(tmp_path):
    before = _previous(tmp_path)
    (tmp_path / NAMES[1]).unlink()  # one final name is new: the rollback must remove it, not restore it
    before.pop(NAMES[1])
    calls = []

    def rename_failing_third(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        os.replace(src, dst)

    with pytest.raises(OutputError, match=r"talk.fr.vtt: cannot write \(No space left on device\); the previous files were kept"):
        with OutputSet(_rename=rename_failing_third) as files:
            _write_all(files, tmp_path)
            files.commit()
    assert _contents(tmp_path) == before  # no part, no backup, no new file


def test_a_folder_in_the_way_is_refused_before_anything_moves(tmp_path):
    before = _previous(tmp_path)
    (tmp_path / NAMES[-1]).unlink()
    (tmp_path / NAMES[-1]).mkdir()
    before.pop(NAMES[-1])
    with pytest.raises(OutputError, match="is a folder"):
        with OutputSet() as files:
            _write_all(files, tmp_path)
            files.commit()
    assert _contents(tmp_path) == before
