"""`dubber live`: caption a live stream (parses, runs ``dubber.jobs.live``, says what it wrote)."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import click

from dubber.backends import backend_spec
from dubber.cli.options import TRANSLATORS, backend_choice, setup_logging
from dubber.cli.progress import logging_beside_bars, progress_for
from dubber.errors import OptionError
from dubber.jobs.live import LiveJob, LiveResult, run_live
from dubber.languages import parse_lang, parse_langs
from dubber.live.cutter import CutOptions
from dubber.translate.fetch import FetchOptions
from dubber.translate.retry import RetryPolicy


def _report(result: LiveResult, path: Path) -> None:
    ms = sorted(max(o.written_s.values()) - o.closed_s for o in result.windows if o.written_s)
    entry = {"duration_ms": result.duration_ms, "stopped": result.stopped, "failed_windows": result.failed,
             "files": {code: [str(p) for p in paths] for code, paths in result.files.items()},
             "gaps": [asdict(g) for g in result.gaps], "windows": [asdict(o) for o in result.windows],
             "answer_wait_s": {"median": ms[len(ms) // 2] if ms else None,
                               "p90": ms[int(0.9 * (len(ms) - 1))] if ms else None}}
    path.write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")


@click.command("live")
@click.argument("source")
@click.option("--to", "target", required=True, help="Target language, or several: fr,de.")
@click.option("--from", "source_lang", default=None, help="Source language (default: detected by the service).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="The folder for live.<lang>.vtt, subs.<lang>.m3u8 and its segments, live.<lang>.srt "
                   "(and audio.<lang>.m3u8 with --dub).")
@click.option("--realtime", is_flag=True, help="Read SOURCE (a file) at real speed, as a stream would come.")
@click.option("--speed", type=click.FloatRange(0.1, 100), default=None, help="Read SOURCE (a file) at N x real speed.")
@click.option("--segment", type=click.FloatRange(1, 60), default=6.0, show_default=True,
              help="Seconds of each HLS segment.")
@click.option("--dub", is_flag=True,
              help="Dub too: an HLS audio rendition of the translated speech (audio.<lang>.m3u8, AAC segments).")
@click.option("--voice", default=None, help="Voice of the dub [default: the backend's].")
@click.option("--max-window", type=click.FloatRange(1.5, 30), default=CutOptions().max_ms / 1000, show_default=True,
              help="Seconds: the longest window; most close sooner, at the first pause (or word gap) they can.")
@click.option("--backend", type=click.Choice(TRANSLATORS), default=TRANSLATORS[0], show_default=True)
@click.option("--api-key", default=None, help="API key (never printed) [default: the backend's variable].")
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint [default: the backend's variable].")
@click.option("--model", default=None, help="Model name [default: the backend's].")
@click.option("--jobs", type=click.IntRange(1, 64), default=FetchOptions().jobs, show_default=True,
              help="Windows in flight at once.")
@click.option("--retries", type=click.IntRange(1, 100), default=RetryPolicy().attempts, show_default=True)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None,
              help="Keep answered windows here (default: none: a live window never comes twice).")
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress: errors and warnings only.")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a JSON report of the run (its windows, their waits, gaps) to PATH.")
def live(source: str, target: str, source_lang: str | None, out_dir: Path, realtime: bool, speed: float | None,
         segment: float, dub: bool, voice: str | None, max_window: float, backend: str, api_key: str | None,
         base_url: str | None, model: str | None, jobs: int, retries: int, cache_dir: Path | None, verbose: int,
         quiet: bool, report: Path | None) -> None:
    """Caption SOURCE as it plays: anything ffmpeg reads live (rtmp://, srt://, udp://, an HLS or HTTP URL,
    a capture device), a file, or - for standard input. Cues are appended to DIR/live.<lang>.vtt as soon as
    they are final, and to an HLS subtitle rendition (subs.<lang>.m3u8); at the end (or Ctrl-C) the SRT.
    With --dub, the translated speech too, as an HLS audio rendition (audio.<lang>.m3u8) on the same timeline."""
    setup_logging(verbose)
    if realtime and speed is not None:
        raise OptionError("--realtime reads at 1x; --speed sets another pace: give one")
    pace = 1.0 if realtime else speed
    langs = parse_langs(target)
    spec = backend_spec(backend)
    if voice is not None and not dub:
        raise OptionError("--voice is the dub's: give --dub too")
    if dub:
        if not spec.speaks:
            raise OptionError(f"the {spec.name} backend cannot voice a translation, so it cannot --dub")
        voice = voice or spec.default_voice
        spec.check(voice=voice)
    job = LiveJob(source=source, out_dir=out_dir, backend=backend_choice(backend, api_key, base_url, model),
                  targets=langs, source_lang=parse_lang(source_lang) if source_lang else None, speed=pace,
                  segment_ms=round(segment * 1000), cut=replace(CutOptions(), max_ms=round(max_window * 1000)),
                  fetch=FetchOptions(jobs=jobs, retry=RetryPolicy(attempts=retries), cache_dir=cache_dir),
                  voice=voice)
    for lang in langs:
        spec.check(target=lang)
    events = progress_for(sys.stderr, quiet)
    with logging_beside_bars(sys.stderr):
        try:
            result = run_live(job, events)
        finally:
            events.done()
    if report is not None:
        _report(result, report)
    for paths in result.files.values():
        for path in paths:
            click.echo(str(path))
    if not quiet:
        said = "stopped" if result.stopped else "the stream ended"
        click.echo(f"dubber: {said}: {result.duration_ms / 1000:.1f} s, {len(result.windows)} windows"
                   f"{f', {result.failed} failed' if result.failed else ''}"
                   f"{f', {len(result.gaps)} gaps' if result.gaps else ''}", err=True)
