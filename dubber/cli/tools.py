"""The commands that look before a run: `dubber plan` (what it would send and cost) and `dubber doctor`
(what dubber will use on this machine). They parse, call a job, and word what it found."""
from __future__ import annotations

from pathlib import Path

import click

from dubber.backends import NAMES
from dubber.cli.options import apply_options, backend_choice, window_lengths, window_options
from dubber.errors import OptionError
from dubber.jobs.doctor import Check, cache_checks, key_checks, ping, tool_checks
from dubber.jobs.plan import PlanRequest, plan
from dubber.languages import parse_langs
from dubber.translate import cache as window_cache
from dubber.translate.fetch import FetchOptions


def _window_options(command):
    return apply_options(command, window_options())


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


@click.command("plan")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--to", "targets", default=None, help="Target languages, comma-separated (none: a transcript).")
@click.option("--backend", type=click.Choice(NAMES), default="livetranslate", show_default=True)
@click.option("--dub", is_flag=True, help="Plan a dub (speech comes back too) rather than subtitles.")
@click.option("--bilingual", is_flag=True, help="Add the source transcript of every window.")
@click.option("--jobs", type=click.IntRange(1, 64), default=FetchOptions().jobs, show_default=True,
              help="Windows sent at once.")
@_window_options
def plan_command(input_path: Path, targets: str | None, backend: str, dub: bool, bilingual: bool, jobs: int,
                 vad_method: str, min_window: float, max_window: float, long_silence: float) -> None:
    """Show what a run on INPUT would send and roughly cost, without sending anything (no key needed)."""
    windows = window_lengths(min_window, max_window, long_silence)
    languages = tuple(lang.code for lang in parse_langs(targets))
    if not languages and (dub or bilingual):
        raise OptionError("--dub and --bilingual plan a translation: name its languages with --to")
    found = plan(PlanRequest(input_path, backend, languages, dub, bilingual, jobs, vad_method, windows))
    media_s, speech_s, sent_s = found.media_ms / 1000, found.speech_ms / 1000, found.sent_ms / 1000
    click.echo(f"input: {input_path} ({_clock(media_s)} of media, {_clock(speech_s)} of speech, "
               f"{100 * speech_s / media_s if media_s else 0:.0f}%)")
    click.echo(f"windows: {found.windows}, sending {_clock(sent_s)} of audio "
               f"({sent_s / speech_s if speech_s else 0:.2f} x the speech)")
    click.echo(f"requests: {found.requests} ({', '.join(languages) or 'transcript'} with {backend})")
    if found.prompt_tokens is None:
        click.echo(f"billed audio: {sent_s * max(1, len(languages)) / 60:.1f} minutes (estimate)")
    else:
        click.echo(f"tokens: about {found.prompt_tokens} in, {found.completion_tokens} out (estimate)")
    lanes = "one at a time (each carries the ones before it)" if found.in_order else f"{jobs} at a time"
    click.echo(f"wall time: about {_clock(found.wall_s)} with requests {lanes} (estimate)")
    click.echo("nothing was sent: see `dubber plan --help` and the README for how these are estimated")


def _word(check: Check) -> str:
    mark = {True: "ok  ", False: "FAIL", None: "--  "}[check.ok]
    return f"{mark} {check.name}: {check.found}"


@click.command("doctor")
@click.option("--ping", "do_ping", is_flag=True, help="Send one tiny request (half a second of silence) to the "
              "backend's endpoint with its key: the cheapest proof that they answer.")
@click.option("--backend", type=click.Choice(NAMES), default="livetranslate", show_default=True,
              help="The backend to ping.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None,
              help=f"The cache folder [default: {window_cache.default_dir()}].")
def doctor(do_ping: bool, backend: str, cache_dir: Path | None) -> None:
    """Show what dubber will use here: ffmpeg and its time stretch, the keys (never shown), endpoints, the cache."""
    checks = tool_checks() + key_checks() + cache_checks(cache_dir or window_cache.default_dir())
    for check in checks:
        click.echo(_word(check))
    if do_ping:
        check = ping(backend_choice(backend))  # the key and endpoint a run would use
        click.echo(_word(check))
        checks.append(check)
    if any(c.ok is False for c in checks):
        raise click.exceptions.Exit(1)

