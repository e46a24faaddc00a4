"""Each window is reported as its answer arrives, not when the last one has: a progress display moves, and
a dub spools each answer's speech (and lets it go) while the others are still on their way."""
from __future__ import annotations

import time
from pathlib import Path

from dubber.cli.options import backend_choice
from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.events import Events, WindowRecord
from dubber.jobs.subtitles import SubtitleJob, run_subtitles
from dubber.languages import parse_lang
from dubber.translate.fetch import FetchOptions
from tests.support.mediagen import compose, write_media


class _Clock(Events):
    def __init__(self) -> None:
        self.seen: list[tuple[float, WindowRecord]] = []

    def window(self, record: WindowRecord) -> None:
        self.seen.append((time.monotonic(), record))


def test_windows_are_reported_as_their_answers_arrive(tmp_path: Path):
    talk = write_media(compose([(2.5, s) for s in ("en01", "en02", "de01")], tail_s=1.0).pcm, tmp_path / "talk.wav")
    watcher = _Clock()
    with Emulator(port=0, faults=Faults(latency=0.6)) as emu:  # one request at a time: 0.6 s apart at least
        job = SubtitleJob(input=talk, backend=backend_choice("livetranslate", DEFAULT_KEY, emu.base_url),
                          target=parse_lang("fr"), out_dir=tmp_path / "out", fetch=FetchOptions(jobs=1))
        run_subtitles(job, watcher)
    times = [t for t, _ in watcher.seen]
    assert [r.index for _, r in watcher.seen] == [0, 1, 2] and all(r.status == "ok" for _, r in watcher.seen)
    assert times[1] - times[0] > 0.4 and times[2] - times[1] > 0.4, times
