"""The command line: parse options into a job, run it, report. Nothing else lives here.

Exit codes: 0 done, 1 the run failed (bad input, service error, ...), 2 bad options, 130 interrupted.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from dubber import vad
from dubber.backends import DEFAULT_BASE_URL, BackendConfig
from dubber.errors import DubberError, OptionError
from dubber.languages import parse_lang
from dubber.pipeline import SubtitleJob, run_subtitles
from dubber.subtitles import WRITERS
from dubber.windows import WindowOptions

log = logging.getLogger("dubber")


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


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="dubber: %(message)s", stream=sys.stderr)


@click.group()
@click.version_option(package_name="dubber")
def cli() -> None:
    """Translate a video's speech into subtitles and a dubbed audio track."""


@cli.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@service_options
@click.option("--format", "formats", default="srt,vtt", show_default=True, help="Comma-separated: srt, vtt.")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None, help="Folder for the files (default: beside INPUT).")
def subtitles(input_path: Path, target: str, source: str | None, api_key: str | None, base_url: str, model: str,
              vad_method: str, min_window: float, max_window: float, long_silence: float, verbose: int,
              formats: str, out_dir: Path | None) -> None:
    """Write translated subtitles (INPUT.<lang>.srt / .vtt) for a video or audio file."""
    _setup_logging(verbose)
    windows = WindowOptions(min_ms=_seconds(min_window), max_ms=_seconds(max_window),
                            long_silence_ms=_seconds(long_silence))
    job = SubtitleJob(input=input_path, target=parse_lang(target), source=parse_lang(source) if source else None,
                      formats=_formats(formats), out_dir=out_dir, vad_method=vad_method, windows=windows,
                      backend_config=_backend_config(api_key, base_url, model))
    report = run_subtitles(job)
    if report.cues == 0:
        click.echo(f"dubber: no speech found in {input_path}: wrote empty subtitle files", err=True)
    else:
        click.echo(f"dubber: {report.windows} windows, {report.cues} cues, "
                   f"{report.usage.total_tokens} tokens", err=True)
    for path in report.outputs:
        click.echo(str(path))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option("--key", "keys", multiple=True, help="API key the emulator accepts (repeatable; default sk-emulator).")
def emulator(host: str, port: int, keys: tuple[str, ...]) -> None:
    """Serve an offline emulator of the translation API; prints its base URL first."""
    from dubber.emulator import DEFAULT_KEY, Emulator

    logging.basicConfig(level=logging.INFO, format="emulator: %(message)s", stream=sys.stderr)
    server = Emulator(host=host, port=port, keys=keys or (DEFAULT_KEY,))
    click.echo(server.base_url)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
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
