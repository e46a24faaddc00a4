"""Each window is reported as its answer arrives, not when the last one has: a progress display moves, and
a dub spools each answer's speech (and lets it go) while the others are still on their way."""
from __future__ import annotations

from pathlib import Path

from dubber.cli.options import backend_choice
from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.events import Events, WindowRecord
from dubber.jobs.subtitles import SubtitleJob, run_subtitles
from dubber.languages import parse_lang
from dubber.translate.fetch import FetchOptions
from tests.support.mediagen import compose, write_media
from tests.support.waiting import wait_until


class _Counter(Events):
    """Each window's record, with how many answers the service had sent when it came."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.seen: list[tuple[int, WindowRecord]] = []

    def window(self, record: WindowRecord) -> None:
        self.seen.append((self.emu.stats.answered, record))


def test_windows_are_reported_as_their_answers_arrive(tmp_path: Path):
    talk = write_media(compose([(2.5, s) for s in ("en01", "en02", "de01")], tail_s=1.0).pcm, tmp_path / "talk.wav")
    # One request at a time, each answered a second after it came: a window's record has that second (the
    # slack a loaded machine gets) to arrive before the next answer is sent.
    with Emulator(port=0, faults=Faults(latency=1.0)) as emu:
        watcher = _Counter(emu)
        job = SubtitleJob(input=talk, backend=backend_choice("livetranslate", DEFAULT_KEY, emu.base_url),
                          target=parse_lang("fr"), out_dir=tmp_path / "out", fetch=FetchOptions(jobs=1))
        run_subtitles(job, watcher)
    assert [r.index for _, r in watcher.seen] == [0, 1, 2] and all(r.status == "ok" for _, r in watcher.seen)
    # window k was reported once its answer was sent (k + 1 answers) and before the next one was: reported
    # at the end, every record would come after all 3
    assert [answered for answered, _ in watcher.seen] == [1, 2, 3], watcher.seen


class _Speaking:
    """A backend stand-in (the protocol's collaborator) answering each window with 1 MB of speech."""

    context_windows = 0

    def cache_identity(self, request) -> dict:
        return {"stand-in": 1}

    def translate(self, media, request, *, window=None, context=()):
        from dubber.models import TranslationResult

        return TranslationResult(f"window {window}", bytes(1_000_000))


def test_each_answers_speech_is_let_go_once_it_is_used_early_windows_included():
    """An hour's dub gets ~110 MB of speech: none of it may be held until the end of the fetch."""
    import tracemalloc
    from dataclasses import replace

    from dubber.backends import TranslateRequest, WindowMedia
    from dubber.models import Translation, Window
    from dubber.translate.fetch import Fetcher, FetchPlan

    windows = [Window(k, 1000 * k, 1000 * k + 800, ()) for k in range(40)]
    request = TranslateRequest(target=parse_lang("fr"), want_audio=True)

    def plan(some):
        return FetchPlan(some, lambda w: WindowMedia(b"RIFF", "audio/wav"), request)

    tracemalloc.start()
    try:
        fetcher = Fetcher(_Speaking(), request, FetchOptions(jobs=4))
        fetcher.submit(plan(windows[:10]))  # sent early, as during the analysis
        # their answers are in before the collect begins
        wait_until(lambda: all(f.done() for f in fetcher.sent.values()), "the 10 early windows to be answered")
        kept, _ = fetcher.collect(plan(windows), keep=lambda t: Translation(t.window, replace(t.result, audio_pcm=b"")))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == 40 and all(t.result.audio_pcm == b"" for t in kept)
    assert held < 5_000_000, f"{held / 1e6:.0f} MB of answers still held after the fetch"
