"""The command line: parse options into a job, run it, report. Nothing else lives here.

Exit codes: 0 done, 1 the run failed (bad input, service error, ...), 2 bad options, 3 no speech found
(valid, empty outputs were written), 130 interrupted.
"""
from __future__ import annotations

import functools
import logging
import math
import sys
from dataclasses import dataclass, fields
from pathlib import Path

import click

from dubber.backends import DEFAULT_BASE_URL, BackendConfig
from dubber.dub.timeline import FitOptions
from dubber.errors import DubberError, OptionError
from dubber.jobs.dub import MIXES, TIMINGS, DubJob, run_dub
from dubber.jobs.subtitles import SubtitleJob, run_subtitles
from dubber.languages import parse_lang
from dubber.speech import vad
from dubber.speech.windows import WindowOptions
from dubber.subtitles.writers import WRITERS
from dubber.translate.cache import default_dir as default_cache_dir
from dubber.translate.fetch import FetchOptions
from dubber.translate.retry import RetryPolicy

log = logging.getLogger("dubber")
NO_SPEECH = 3  # exit code: the input has no speech; the outputs are valid but empty


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in formats if f not in WRITERS]
    if not formats or unknown:
        raise OptionError(f"unknown subtitle format {', '.join(unknown) or text!r} (known: {', '.join(WRITERS)})")
    return formats


def _backend_config(api_key: str | None, base_url: str, model: str) -> BackendConfig:
    if not api_key:
        raise OptionError("no API key: pass --api-key or set DASHSCOPE_API_KEY")
    return BackendConfig(api_key=api_key, base_url=base_url, model=model)


def _seconds(value: float) -> int:
    if not math.isfinite(value) or not 0 <= value <= 24 * 3600:
        raise OptionError(f"window lengths are seconds between 0 and 86400, not {value}")
    return int(round(value * 1000))


def service_options(command):
    """Options every command that calls the service shares."""
    defaults = WindowOptions()
    decorators = [
        click.option("--to", "target", required=True, help="Target language: en, zh-CN, English, ..."),
        click.option("--from", "source", default=None, help="Source language (default: detected by the service)."),
        click.option("--api-key", envvar="DASHSCOPE_API_KEY", show_envvar=True, default=None,
                     help="DashScope API key (never printed)."),
        click.option("--base-url", envvar="DUBBER_BASE_URL", show_envvar=True, default=DEFAULT_BASE_URL,
                     show_default=True, help="OpenAI-compatible endpoint (the emulator's URL for offline runs)."),
        click.option("--model", default="qwen3-livetranslate-flash", show_default=True),
        click.option("--vad", "vad_method", type=click.Choice(vad.METHODS), default=vad.DEFAULT_METHOD,
                     show_default=True, help="Speech detector used to place windows."),
        click.option("--min-window", type=float, default=defaults.min_ms / 1000, show_default=True,
                     help="Seconds: shorter windows are merged with a neighbour."),
        click.option("--max-window", type=float, default=defaults.max_ms / 1000, show_default=True,
                     help="Seconds: longer speech is split at its quietest point."),
        click.option("--long-silence", type=float, default=defaults.long_silence_ms / 1000, show_default=True,
                     help="Seconds: silences this long are never sent."),
        click.option("-v", "--verbose", count=True, help="More log output (-vv for debug)."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def fetch_options(command):
    """Options for how windows are fetched: concurrency, retries, cache."""
    decorators = [
        click.option("--jobs", type=click.IntRange(1, 64), default=FetchOptions().jobs, show_default=True,
                     help="Windows translated at once."),
        click.option("--retries", type=click.IntRange(1, 100), default=RetryPolicy().attempts, show_default=True,
                     help="Attempts per window on rate limits, server errors and dropped connections."),
        click.option("--cache-dir", type=click.Path(path_type=Path), default=None,
                     help=f"Where translated windows are kept [default: {default_cache_dir()}]."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the window cache."),
        click.option("--retry-wait", type=click.FloatRange(0, 60, min_open=True), default=RetryPolicy().base_s,
                     show_default=True, metavar="S",
                     help="Seconds: the first retry of a window waits a random time up to S, each next one up "
                          "to twice as long (at most 60 s); a longer Retry-After from the service is honoured."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


@dataclass(frozen=True)
class CommonOptions:
    """The options every job command shares (``service_options`` and ``fetch_options``), as click parses
    them; the field names are the options' parameter names."""

    target: str
    source: str | None
    api_key: str | None
    base_url: str
    model: str
    vad_method: str
    min_window: float
    max_window: float
    long_silence: float
    jobs: int
    retries: int
    cache_dir: Path | None
    no_cache: bool
    retry_wait: float

    def fetch(self) -> FetchOptions:
        if not math.isfinite(self.retry_wait):  # click's FloatRange lets nan through
            raise OptionError(f"--retry-wait must be a number of seconds, not {self.retry_wait}")
        return FetchOptions(jobs=self.jobs, retry=RetryPolicy(attempts=self.retries, base_s=self.retry_wait),
                            cache_dir=None if self.no_cache else (self.cache_dir or default_cache_dir()))

    def job_fields(self, input_path: Path) -> dict[str, object]:
        """JobBase's fields."""
        windows = WindowOptions(min_ms=_seconds(self.min_window), max_ms=_seconds(self.max_window),
                                long_silence_ms=_seconds(self.long_silence))
        return {"input": input_path, "target": parse_lang(self.target),
                "source": parse_lang(self.source) if self.source else None,
                "backend_config": _backend_config(self.api_key, self.base_url, self.model),
                "vad_method": self.vad_method, "windows": windows, "fetch": self.fetch()}


def job_options(command):
    """Adds the options every job shares; the command gets them as ``shared``, JobBase's fields."""
    @functools.wraps(command)
    def run(input_path: Path, verbose: int, **options):
        _setup_logging(verbose)
        common = CommonOptions(**{f.name: options.pop(f.name) for f in fields(CommonOptions)})
        return command(common.job_fields(input_path), **options)

    return fetch_options(service_options(run))


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="dubber: %(message)s", stream=sys.stderr)


@click.group()
@click.version_option(package_name="dubber")
def cli() -> None:
    """Translate a video's speech into subtitles and a dubbed audio track."""


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@job_options
@click.option("--format", "formats", default="srt,vtt", show_default=True, help="Comma-separated: srt, vtt.")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None, help="Folder for the files (default: beside INPUT).")
def subtitles(shared: dict, formats: str, out_dir: Path | None) -> None:
    """Write translated subtitles (INPUT.<lang>.srt / .vtt) for a video or audio file."""
    job = SubtitleJob(**shared, formats=_formats(formats), out_dir=out_dir)
    report = run_subtitles(job)
    if report.cues == 0:
        click.echo(f"dubber: no speech found in {job.input}: wrote empty subtitle files", err=True)
        for path in report.outputs:
            click.echo(str(path))
        raise click.exceptions.Exit(NO_SPEECH)
    else:
        click.echo(f"dubber: {report.windows} windows, {report.cues} cues, "
                   f"{report.usage.total_tokens} tokens", err=True)
    for path in report.outputs:
        click.echo(str(path))


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@job_options
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The dubbed file (default: <stem>.<lang>.<ext> beside INPUT); its suffix picks the kind.")
@click.option("--voice", default="Cherry", show_default=True, help="Voice of the translated speech.")
@click.option("--mix", type=click.Choice(MIXES), default="duck", show_default=True,
              help="duck: the original stays under the dub, 15 dB lower while it speaks; replace: the dub only.")
@click.option("--max-speed", type=float, default=FitOptions().max_speed, show_default=True,
              help="Fastest speed-up of a clip longer than its slot (1.0-2.0).")
@click.option("--keep-original/--no-keep-original", default=True, show_default=True,
              help="Keep the original audio as the second audio stream.")
@click.option("--timing", type=click.Choice(TIMINGS), default="original", show_default=True,
              help="Time the subtitles to the original speech, or to the dubbed speech.")
def dub(shared: dict, output: Path | None, voice: str, mix: str, max_speed: float, keep_original: bool,
        timing: str) -> None:
    """Write INPUT with a dubbed audio track and translated subtitles (<stem>.<lang>.<ext>)."""
    job = DubJob(**shared, output=output, voice=voice, mix=mix, keep_original=keep_original,
                 fit=FitOptions(max_speed=max_speed), timing=timing)
    result = run_dub(job)
    summary = result.summary
    if summary.windows == 0:
        click.echo(f"dubber: no speech found in {job.input}: the output carries no dubbed speech", err=True)
    else:
        click.echo(f"dubber: {summary.windows} windows, {summary.clips} dubbed clips, {summary.sped_up} sped up "
                   f"(fastest {summary.fastest:.2f}x), {summary.overflowed} cut short, "
                   f"{result.usage.total_tokens} tokens", err=True)
    for note in result.notes:
        click.echo(f"dubber: note: {note}", err=True)
    for path in result.outputs.all():
        click.echo(str(path))
    if summary.windows == 0:
        raise click.exceptions.Exit(NO_SPEECH)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option("--key", "keys", multiple=True, help="API key the emulator accepts (repeatable; default sk-emulator).")
@click.option("--answer-text", default=None, metavar="TEXT",
              help="Answer this text instead of the placeholder (the speech still follows the input).")
@click.option("--latency", type=click.FloatRange(min=0), default=0.0, metavar="S",
              help="Seconds to wait before answering each request.")
@click.option("--fail-429-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Answer every Nth request with 429 insufficient_quota (a DashScope rate limit).")
@click.option("--fail-429-rate", type=click.FloatRange(0, 1), default=0.0, metavar="P",
              help="... or each request with probability P.")
@click.option("--retry-after", type=click.FloatRange(min=0), default=1.0, show_default=True, metavar="S",
              help="Seconds a 429 asks the client to wait (Retry-After; fractions allowed).")
@click.option("--fail-500-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Answer every Nth request with 500.")
@click.option("--fail-500-rate", type=click.FloatRange(0, 1), default=0.0, metavar="P",
              help="... or each request with probability P.")
@click.option("--drop-stream-every", type=click.IntRange(min=0), default=0, metavar="N",
              help="Cut every Nth answer off midway: no finish chunk, no [DONE], the connection closes.")
@click.option("--drop-stream-rate", type=click.FloatRange(0, 1), default=0.0, metavar="P",
              help="... or each answer with probability P.")
@click.option("--fault-seed", "seed", type=int, default=0, show_default=True,
              help="Seed of the --*-rate faults: the same seed gives the same faults.")
def emulator(host: str, port: int, keys: tuple[str, ...], answer_text: str | None, **faults: float) -> None:
    """Serve an offline emulator of the translation API; prints its base URL first.

    Faults count requests that passed the key and body checks, from 1 in arrival order (every 3rd:
    3, 6, 9, ...); a request hit by several gets the first of 429, 500, drop.
    """
    from dubber.emulator import DEFAULT_KEY, Emulator, Faults

    try:
        schedule = Faults(**faults)
    except ValueError as exc:  # what click's ranges let through: nan, inf
        raise click.UsageError(str(exc)) from exc
    logging.basicConfig(level=logging.INFO, format="emulator: %(message)s", stream=sys.stderr)
    server = Emulator(host=host, port=port, keys=keys or (DEFAULT_KEY,), answer_text=answer_text, faults=schedule)
    click.echo(server.base_url)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


def main() -> None:
    try:
        code = cli.main(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("dubber: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OptionError as exc:
        click.echo(f"dubber: error: {exc}", err=True)
        sys.exit(2)
    except DubberError as exc:
        click.echo(f"dubber: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("dubber: interrupted", err=True)
        sys.exit(130)
