"""The commands that look before a run: `dubber plan` (what it would send and cost) and `dubber doctor`
(what dubber will use on this machine). They parse, call a job, and word what it found."""
from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path

import click

from dubber.backends import FAMILIES, NAMES, BackendConfig, backend_spec, speaker_spec
from dubber.cli import config
from dubber.cli.options import (apply_options, backend_choice, local_cache_dir, subtitle_languages, window_lengths,
                                window_options)
from dubber.cli.runner import RunUI, write_report
from dubber.errors import OptionError
from dubber.jobs.doctor import Check, cache_checks, config_checks, key_checks, ping, tool_checks
from dubber.jobs.common import BackendChoice
from dubber.jobs.dub import DubJob
from dubber.jobs.dub_text import preview
from dubber.jobs.plan import PlanRequest, plan
from dubber.jobs.runreport import RunFacts, RunOutcome, run_entry
from dubber.languages import parse_langs
from dubber.speakers import chosen as speaker_choice
from dubber.speakers import default_for_dub
from dubber.translate import cache as window_cache
from dubber.translate.fetch import FetchOptions
from dubber.voicing.report import lines_summary


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
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="PATH",
              help="Also write the plan as a JSON report (the run report's schema; see the README).")
@click.option("--subtitles", "given", type=click.Path(path_type=Path), multiple=True, metavar="FILE",
              help="Plan a dub from these subtitles: how many cues would be voiced (the earlier dub's, in the "
                   "cache, keep their speech).")
@click.option("--voice", default=None, help="The voice of the dub from --subtitles [default: the family's].")
@click.option("--speakers", default=None, metavar="auto|N|off",
              help="As dub's --speakers, for the dub from --subtitles [default: auto with the speakers extra].")
@click.option("--cache-dir", callback=local_cache_dir, default=None, help="The window cache the run uses.")
def plan_command(input_path: Path, targets: str | None, backend: str, dub: bool, bilingual: bool, jobs: int,
                 vad_method: str, min_window: float, max_window: float, long_silence: float,
                 report: Path | None, given: tuple[Path, ...], voice: str | None, speakers: str | None,
                 cache_dir: Path | None) -> None:
    """Show what a run on INPUT would send and roughly cost, without sending anything (no key needed)."""
    windows = window_lengths(min_window, max_window, long_silence)
    if given:
        RunUI(report=report).check([input_path])
        _plan_lines(input_path, targets, backend, given, voice, cache_dir, vad_method, windows, speakers)
        return
    languages = tuple(lang.code for lang in parse_langs(targets))
    if not languages and (dub or bilingual):
        raise OptionError("--dub and --bilingual plan a translation: name its languages with --to")
    RunUI(report=report).check([input_path])
    started = time.monotonic()
    found = plan(PlanRequest(input_path, backend, languages, dub, bilingual, jobs, vad_method, windows))
    if report is not None:
        outcome = RunOutcome(input_path, "ok", 0, time.monotonic() - started, details={"estimate": asdict(found)})
        spec = backend_spec(backend)
        facts = RunFacts("plan", backend, spec.default_model, None, languages, jobs)
        write_report(report, facts, [run_entry(outcome, None)], 0, started)
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


def _plan_lines(input_path: Path, targets: str | None, backend: str, given: tuple[Path, ...], voice: str | None,
                cache_dir: Path | None, vad_method: str, windows, speakers: str | None) -> None:
    """``dubber plan --subtitles``: each language's cues, and how many would be voiced."""
    spec, speaker = backend_spec(backend), speaker_spec(backend)
    voice = voice or speaker.default_voice
    speaker.check_voice(voice)
    target, files = subtitle_languages(targets, given)
    langs = parse_langs(target)
    family = FAMILIES[spec.family]
    url = os.environ.get(family.url_env) or family.default_url
    # the cache key holds no key: a plan needs none, and sends nothing
    choice = BackendChoice(spec.name, BackendConfig(api_key="plan-sends-nothing", base_url=url, model=spec.default_model))
    job = DubJob(input=input_path, backend=choice, target=langs[0], extra_targets=langs[1:], voice=voice,
                 vad_method=vad_method, windows=windows, subtitles=files,
                 fetch=FetchOptions(cache_dir=cache_dir or window_cache.default_dir()),
                 speakers=speaker_choice(speakers or default_for_dub()))
    plans = preview(job)
    for lang, path, found in zip(langs, files, plans):
        counts = lines_summary(found.lines)
        kept = ", ".join(f"{n} {status}" for status, n in counts.items() if n and status in ("kept", "re-timed"))
        click.echo(f"{lang.code}: {path.name}: {len(found.lines)} cues, {len(found.to_voice())} to voice"
                   f"{' (' + kept + ': the earlier dub speaks them)' if kept else ''}")
    click.echo(f"requests: {sum(len(p.to_voice()) for p in plans)} (one per cue to voice, with {speaker.name})")
    click.echo("nothing was sent")


def _word(check: Check) -> str:
    mark = {True: "ok  ", False: "FAIL", None: "--  "}[check.ok]
    return f"{mark} {check.name}: {check.found}"


@click.command("doctor")
@click.option("--ping", "do_ping", is_flag=True, help="Send one tiny request (half a second of silence) to the "
              "backend's endpoint with its key: the cheapest proof that they answer.")
@click.option("--backend", type=click.Choice(NAMES), default="livetranslate", show_default=True,
              help="The backend to ping.")
@click.option("--cache-dir", callback=local_cache_dir, default=None,
              help=f"The cache folder [default: {window_cache.default_dir()}].")
@click.pass_context
def doctor(ctx: click.Context, do_ping: bool, backend: str, cache_dir: Path | None) -> None:
    """Show what dubber will use here: ffmpeg and its time stretch, the keys (never shown), endpoints, the
    settings from the environment and dubber.toml (and where each came from), the cache."""
    try:  # a broken config is reported, not raised: the doctor is where people look when things are wrong
        settings = config.load_settings(Path.cwd(), os.environ)
        found = config_checks(config.doctor_facts(settings, ctx.find_root().command))
    except OptionError as exc:
        settings, found = None, [Check("config", str(exc), ok=False)]
    base_url, model = (config.everywhere(settings, key) if settings else None for key in ("base-url", "model"))
    checks = (tool_checks() + key_checks(base_url and (base_url.value, base_url.source)) + found
              + cache_checks(cache_dir or window_cache.default_dir()))
    for check in checks:
        click.echo(_word(check))
    if do_ping:  # the key, endpoint and model a run would use
        check = ping(backend_choice(backend, base_url=base_url and base_url.value, model=model and model.value))
        click.echo(_word(check))
        checks.append(check)
    if any(c.ok is False for c in checks):
        raise click.exceptions.Exit(1)
