"""The commands: each parses its own options into a job, runs it, and reports. Nothing else lives here."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from dubber.cli.options import TRANSCRIBERS, TRANSLATORS, CommonOptions, TranslateOptions, formats, job_options
from dubber.dub.timeline import FitOptions
from dubber.jobs.dub import MIXES, TIMINGS, DubJob, run_dub
from dubber.jobs.subtitles import SubtitleJob, run_subtitles
from dubber.jobs.transcribe import TranscribeJob, run_transcribe
from dubber.languages import parse_lang
from dubber.models import Usage
from dubber.translate import cache as window_cache
from dubber.translate.cache import human_size

NO_SPEECH = 3  # exit code: the input has no speech; the outputs are valid but empty
def _tokens(usage: Usage) -> str:
    """The token count the service reported, for the summary line; nothing when it reported none (Whisper)."""
    return f", {usage.total_tokens} tokens" if usage.total_tokens else ""


_INPUT = click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
_FORMAT = click.option("--format", "formats_", default="srt,vtt", show_default=True,
                       help="Comma-separated: srt, vtt, ttml (IMSC1), ass.")
_OUT_DIR = click.option("--out-dir", type=click.Path(path_type=Path), default=None,
                        help="Folder for the files (default: beside INPUT).")


@click.command()
@_INPUT
@job_options(TRANSLATORS)
@_FORMAT
@_OUT_DIR
def subtitles(input_path: Path, common: CommonOptions, lang: TranslateOptions, formats_: str,
              out_dir: Path | None) -> None:
    """Write translated subtitles (INPUT.<lang>.srt / .vtt) for a video or audio file, in one or several
    languages (--to fr,de,ja: the audio is decoded and the windows planned once)."""
    job = SubtitleJob(**lang.job_fields(common, input_path, several=True), formats=formats(formats_),
                      out_dir=out_dir)
    report = run_subtitles(job)
    if report.cues == 0:
        click.echo(f"dubber: no speech found in {job.input}: wrote empty subtitle files", err=True)
        for path in report.outputs:
            click.echo(str(path))
        raise click.exceptions.Exit(NO_SPEECH)
    per_language = "" if len(report.cues_by_language) < 2 else " (" + ", ".join(
        f"{code} {count}" for code, count in report.cues_by_language.items()) + ")"
    click.echo(f"dubber: {report.windows} windows, {report.cues} cues{per_language}{_tokens(report.usage)}", err=True)
    for path in report.outputs:
        click.echo(str(path))


@click.command()
@_INPUT
@job_options(TRANSLATORS)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The dubbed file (default: <stem>.<lang>.<ext> beside INPUT); its suffix picks the kind.")
@click.option("--voice", default=None, help="Voice of the translated speech [default: the backend's; "
              "livetranslate and omni: Cherry, whisper: alloy].")
@click.option("--mix", type=click.Choice(MIXES), default="duck", show_default=True,
              help="duck: the original stays under the dub, 15 dB lower while it speaks; replace: the dub only.")
@click.option("--max-speed", type=float, default=FitOptions().max_speed, show_default=True,
              help="Fastest speed-up of a clip longer than its slot (1.0-2.0).")
@click.option("--keep-original/--no-keep-original", default=True, show_default=True,
              help="Keep the original audio as the second audio stream.")
@click.option("--timing", type=click.Choice(TIMINGS), default="original", show_default=True,
              help="Time the subtitles to the original speech, or to the dubbed speech.")
def dub(input_path: Path, common: CommonOptions, lang: TranslateOptions, output: Path | None, voice: str | None,
        mix: str, max_speed: float, keep_original: bool, timing: str) -> None:
    """Write INPUT with a dubbed audio track and translated subtitles (<stem>.<lang>.<ext>)."""
    spec = common.spec()
    if not spec.speaks:
        raise click.UsageError(f"the {spec.name} backend cannot voice a translation")
    voice = voice or spec.default_voice
    job = DubJob(**lang.job_fields(common, input_path, voice=voice), output=output, voice=voice, mix=mix,
                 keep_original=keep_original, fit=FitOptions(max_speed=max_speed), timing=timing)
    result = run_dub(job)
    summary = result.summary
    if summary.windows == 0:
        click.echo(f"dubber: no speech found in {job.input}: the output carries no dubbed speech", err=True)
    else:
        click.echo(f"dubber: {summary.windows} windows, {summary.clips} dubbed clips, {summary.sped_up} sped up "
                   f"(fastest {summary.fastest:.2f}x), {summary.overflowed} cut short{_tokens(result.usage)}",
                   err=True)
    for note in result.notes:
        click.echo(f"dubber: note: {note}", err=True)
    for path in result.outputs.all():
        click.echo(str(path))
    if summary.windows == 0:
        raise click.exceptions.Exit(NO_SPEECH)


@click.command()
@_INPUT
@job_options(TRANSCRIBERS, translate=False)
@click.option("--lang", default=None, help="The language spoken (default: detected by the service; the files "
              "are named after it).")
@click.option("--itn/--no-itn", default=True, show_default=True,
              help="Write numbers, dates and the like as a reader expects (\"25\", not \"twenty-five\").")
@_FORMAT
@_OUT_DIR
def transcribe(input_path: Path, common: CommonOptions, lang: str | None, itn: bool, formats_: str,
               out_dir: Path | None) -> None:
    """Write source-language subtitles (INPUT.<lang>.srt / .vtt): the words as spoken."""
    source = parse_lang(lang) if lang else None
    windows = common.windows()
    common.spec().check(task="transcribe", max_window_ms=windows.max_ms)
    job = TranscribeJob(**common.job_fields(input_path), source=source, itn=itn, formats=formats(formats_),
                        out_dir=out_dir)
    report = run_transcribe(job)
    if report.detected:
        click.echo(f"dubber: detected language: {report.language or 'none (files named und)'}", err=True)
    if report.cues == 0:
        click.echo(f"dubber: no speech found in {job.input}: wrote empty subtitle files", err=True)
    else:
        click.echo(f"dubber: {report.windows} windows, {report.cues} cues{_tokens(report.usage)}", err=True)
    for path in report.outputs:
        click.echo(str(path))
    if report.cues == 0:
        raise click.exceptions.Exit(NO_SPEECH)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option("--key", "keys", multiple=True, help="API key the emulator accepts (repeatable; default sk-emulator).")
@click.option("--answer-text", default=None, metavar="TEXT",
              help="Answer this text instead of the placeholder (the speech still follows the input).")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, metavar="S",
              help="Seconds to wait before answering each request.")
@click.option("--fail-429-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Answer every Nth request with 429 (DashScope's insufficient_quota; OpenAI's "
                   "rate_limit_exceeded on /v1/audio).")
@click.option("--fail-429-rate", type=click.FloatRange(0, 1), default=0.0, metavar="P",
              help="... or each request with probability P.")
@click.option("--retry-after", type=click.FloatRange(min=0), default=1.0, show_default=True, metavar="S",
              help="Seconds a 429 asks the client to wait (Retry-After; fractions allowed).")
@click.option("--fail-500-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Answer every Nth request with 500.")
@click.option("--fail-500-rate", type=click.FloatRange(0, 1), default=0.0, metavar="P",
              help="... or each request with probability P.")
@click.option("--drop-stream-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Cut every Nth answer off midway: no finish chunk, no [DONE] (on /v1/audio: half the body), "
                   "the connection closes.")
@click.option("--drop-stream-rate", type=click.FloatRange(0, 1), default=0.0, metavar="P",
              help="... or each answer with probability P.")
@click.option("--error-event-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="End every Nth streamed answer midway with an error event (a plain answer gets a 500).")
@click.option("--error-event-rate", type=click.FloatRange(0, 1), default=0.0, metavar="P",
              help="... or each answer with probability P.")
@click.option("--error-event-code", type=click.Choice(["internal_error", "data_inspection_failed"]),
              default="internal_error", show_default=True,
              help="What the error event says failed: a passing error, or content moderation (not retried).")
@click.option("--max-in-flight", type=click.IntRange(min=0), default=0, metavar="N",
              help="An account's concurrency quota: a request that finds N others being answered gets a 429.")
@click.option("--fault-seed", "seed", type=int, default=0, show_default=True,
              help="Seed of the --*-rate faults: the same seed gives the same faults.")
@click.option("--detect-language", default="en", show_default=True, metavar="LANG",
              help="The language the emulated transcription services hear when a request names none.")
def emulator(host: str, port: int, keys: tuple[str, ...], answer_text: str | None, detect_language: str,
             **faults: float) -> None:
    """Serve an offline emulator of the APIs; prints its (DashScope) base URL first.

    Faults count requests that passed the key and body checks, from 1 in arrival order (every 3rd:
    3, 6, 9, ...); a request hit by several gets the first of 429, 500, error event, drop.
    """
    from dubber.emulator import DEFAULT_KEY, Emulator, Faults

    try:
        schedule = Faults(**faults)
    except ValueError as exc:  # what click's ranges let through: nan, inf
        raise click.UsageError(str(exc)) from exc
    logging.basicConfig(level=logging.INFO, format="emulator: %(message)s", stream=sys.stderr)
    server = Emulator(host=host, port=port, keys=keys or (DEFAULT_KEY,), answer_text=answer_text, faults=schedule,
                      detect_language=parse_lang(detect_language).code)
    click.echo(server.base_url)
    sys.stdout.flush()
    logging.getLogger("dubber.emulator").info("OpenAI-style endpoints (whisper): %s", server.openai_base_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


_CACHE_DIR = click.option("--cache-dir", type=click.Path(path_type=Path), default=None,
                          help=f"The cache folder [default: {window_cache.default_dir()}].")


@click.group()
def cache() -> None:
    """Inspect or empty the window cache (answers kept so no window is paid for twice)."""


@cache.command("info")
@_CACHE_DIR
def cache_info(cache_dir: Path | None) -> None:
    """Where the cache is, how much it holds, and how much it may hold."""
    folder = cache_dir or window_cache.default_dir()
    found = window_cache.stats(folder)
    click.echo(f"location: {folder}")
    click.echo(f"entries: {found.entries} ({human_size(found.bytes)})")
    click.echo(f"limit: {human_size(window_cache.DEFAULT_MAX_BYTES)} by default (--cache-max on each run)")
    if found.stale_parts:
        click.echo(f"stale partial files: {found.stale_parts} (removed by the next run)")


@cache.command("clear")
@_CACHE_DIR
def cache_clear(cache_dir: Path | None) -> None:
    """Remove every cached answer: the next runs pay for every window again."""
    folder = cache_dir or window_cache.default_dir()
    removed = window_cache.clear(folder)
    click.echo(f"removed {removed} files from {folder}")
