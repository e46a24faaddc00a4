"""The commands: each parses its own options into a job, runs it, and reports. Nothing else lives here."""
from __future__ import annotations

import logging
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Sequence

import click

from dubber.backends import speaker_spec
from dubber.cli.options import (TRANSCRIBERS, TRANSLATORS, CommonOptions, TranslateOptions, formats, job_options,
                                local_cache_dir, subtitle_languages)
from dubber.cli.runner import NO_SPEECH, OK, RunOne, RunUI, Shown, check_distinct_outputs, run_inputs
from dubber.cli.speakers import speakers_said
from dubber.dub.timeline import FitOptions
from dubber.engine.outputs import publish
from dubber.engine.store import folder_or_url
from dubber.events import Events
from dubber.jobs.common import JobBase
from dubber.jobs.dub import MIXES, TIMINGS, DubJob, LanguageDub, run_dub
from dubber.jobs.runreport import RunFacts
from dubber.jobs.subtitles import SubtitleJob, run_subtitles
from dubber.jobs.transcribe import TranscribeJob, run_transcribe
from dubber.languages import parse_lang
from dubber.models import Speaker, Usage
from dubber.speakers import default_for_dub
from dubber.speakers.voices import parse_voices
from dubber.translate import cache as window_cache
from dubber.translate.cache import human_size
from dubber.voicing.report import lines_summary


def _tokens(usage: Usage) -> str:
    """The token count the service reported, for the summary line; nothing when it reported none (Whisper)."""
    return f", {usage.total_tokens} tokens" if usage.total_tokens else ""


_INPUTS = click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
_FORMAT = click.option("--format", "formats_", default="srt,vtt", show_default=True,
                       help="Comma-separated: srt, vtt, ttml (IMSC1), ass.")
_OUT_DIR = click.option("--out-dir", default=None, callback=lambda _ctx, _param, text: folder_or_url(text),
                        metavar="DIR|URL", help="Folder for the files, or an fsspec URL (s3://bucket/prefix) each "
                        "input's files are published to as a set (default: beside each INPUT).")


def _placed(run: Callable[[Path, Path | None, Events], Shown], out_dir: Path | str | None) -> RunOne:
    """``run`` writing into ``--out-dir``: a folder as it is; a URL through a staging folder here, each
    input's files published there as one set once all are written whole."""
    if not isinstance(out_dir, str):
        return lambda path, events: run(path, out_dir, events)

    def run_one(path: Path, events: Events) -> Shown:
        with tempfile.TemporaryDirectory(prefix="dubber-out-") as staging:
            shown = run(path, Path(staging), events)
            return replace(shown, outputs=publish(shown.outputs, out_dir))

    return run_one


def _no_speech(path: Path, what: str = "wrote empty subtitle files") -> str:
    return f"dubber: no speech found in {path}: {what}"


def _facts(command: str, job: JobBase, languages: tuple[str, ...] = ()) -> RunFacts:
    config = job.backend.config
    return RunFacts(command, job.backend.name, config.model, config.base_url, languages, job.fetch.jobs)


@click.command()
@_INPUTS
@job_options(TRANSLATORS)
@_FORMAT
@_OUT_DIR
def subtitles(inputs: list[Path], common: CommonOptions, lang: TranslateOptions, ui: RunUI, formats_: str,
              out_dir: Path | str | None) -> int:
    """Write translated subtitles (INPUT.<lang>.srt / .vtt) for each video or audio file, in one or several
    languages (--to fr,de,ja: the audio is decoded and the windows planned once). INPUT may be a glob."""
    check_distinct_outputs(inputs, out_dir)
    template = SubtitleJob(**lang.job_fields(common, inputs[0], several=True), formats=formats(formats_))

    def run_one(path: Path, folder: Path | None, events: Events) -> Shown:
        report = run_subtitles(replace(template, input=path, out_dir=folder), events)
        details = {"duration_ms": report.duration_ms, "speech_ms": report.speech_ms, "windows": report.windows,
                   "cues": report.cues_by_language, "speakers": [asdict(s) for s in report.speakers]}
        if report.cues == 0:
            return Shown(NO_SPEECH, report.outputs, details, summary=(_no_speech(path),))
        per_language = "" if len(report.cues_by_language) < 2 else " (" + ", ".join(
            f"{code} {count}" for code, count in report.cues_by_language.items()) + ")"
        line = f"dubber: {report.windows} windows, {report.cues} cues{per_language}{_tokens(report.usage)}"
        return Shown(OK, report.outputs, details, summary=(line, *_speakers_line(report.speakers)))

    facts = _facts("subtitles", template, tuple(t.code for t in template.targets))
    return run_inputs(inputs, _placed(run_one, out_dir), facts, ui, common.engine)


@click.command()
@_INPUTS
@job_options(TRANSLATORS)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The dubbed file (default: <stem>.<lang>.<ext> beside INPUT); its suffix picks the kind. "
                   "One INPUT only.")
@_OUT_DIR
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
@click.option("--voices", default=None, metavar="N=VOICE,...",
              help='With speakers: each speaker\'s voice, e.g. "1=Cherry,2=Ethan" (the others are matched to '
                   "their pitch; see dubber speakers).")
@click.option("--subtitles", "given", type=click.Path(path_type=Path), multiple=True, metavar="FILE",
              help="Dub from these subtitles (SRT, WebVTT, TTML or ASS; once per language, named <stem>.<lang>.<ext>): "
                   "each cue voiced by the backend family's text to speech. Given dubber's own edited sidecar, only "
                   "the cues whose words changed are voiced again.")
def dub(inputs: list[Path], common: CommonOptions, lang: TranslateOptions, ui: RunUI, output: Path | None,
        out_dir: Path | str | None, voice: str | None, mix: str, max_speed: float, keep_original: bool, timing: str,
        voices: str | None, given: tuple[Path, ...]) -> int:
    """Write INPUT with a dubbed audio track and translated subtitles (<stem>.<lang>.<ext>); with several
    languages (--to fr,de) one file holds a dub and a subtitle track for each (<stem>.fr+de.<ext>).
    INPUT may be several files or a glob."""
    spec = common.spec()
    if not spec.speaks:
        raise click.UsageError(f"the {spec.name} backend cannot voice a translation")
    if output is not None and len(inputs) > 1:
        raise click.UsageError(f"-o names one file, but {len(inputs)} inputs were given: use --out-dir")
    if output is None:
        check_distinct_outputs(inputs, out_dir)
    if given and len(inputs) > 1:
        raise click.UsageError(f"--subtitles belongs to one input, but {len(inputs)} inputs were given")
    if given:
        speaker = speaker_spec(spec.name)
        voice = voice or speaker.default_voice
        speaker.check_voice(voice)
        target, given = subtitle_languages(lang.target, given)
        lang = replace(lang, target=target)
    voice = voice or spec.default_voice
    speakers = default_for_dub()  # with the extra: a voice per speaker
    template = DubJob(**lang.job_fields(common, inputs[0], voice=voice, several=True, from_text=bool(given),
                                        speakers=speakers),
                      output=output, voice=voice, mix=mix, keep_original=keep_original,
                      fit=FitOptions(max_speed=max_speed), timing=timing, subtitles=given,
                      voices=tuple(parse_voices(voices, spec.voices).items()) if voices else ())

    def run_one(path: Path, folder: Path | None, events: Events) -> Shown:
        result = run_dub(replace(template, input=path, out_dir=folder), events)
        several = len(result.languages) > 1
        details = {"languages": {done.code: {**asdict(done.summary), "overlong_cues": len(done.facts.overlong_cues),
                                             "report": str(done.files.report)} for done in result.languages}}
        if given:
            return Shown(OK, result.outputs.all(), details, result.notes, tuple(_lines_line(done, several)
                                                                                for done in result.languages))
        if result.summary.windows == 0:
            return Shown(NO_SPEECH, result.outputs.all(), details, result.notes,
                         (_no_speech(path, "the output carries no dubbed speech"),))
        details["speakers"] = [asdict(s) for s in result.languages[0].facts.speakers]
        lines = tuple(f"dubber: {done.code + ': ' if several else ''}{s.windows} windows, {s.clips} dubbed clips, "
                      f"{s.sped_up} sped up (fastest {s.fastest:.2f}x), {s.overflowed} cut short"
                      f"{_tokens(done.usage if several else result.usage)}"
                      for done in result.languages for s in (done.summary,))
        return Shown(OK, result.outputs.all(), details, result.notes,
                     (*lines, *_speakers_line(result.languages[0].facts.speakers)))

    facts = _facts("dub", template, tuple(t.code for t in template.targets))
    return run_inputs(inputs, _placed(run_one, out_dir), facts, ui, common.engine)


def _speakers_line(speakers: Sequence[Speaker]) -> tuple[str, ...]:
    """The speakers found, with their talk time and voice: one line, or none with speakers off."""
    return (speakers_said(speakers),) if speakers else ()


def _lines_line(done: LanguageDub, several: bool) -> str:
    """A dub from text's closing line: what became of its cues."""
    counts = lines_summary(done.voiced.lines if done.voiced else ())
    said = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return f"dubber: {done.code + ': ' if several else ''}{sum(counts.values())} cues: {said or 'none'}"


@click.command()
@_INPUTS
@job_options(TRANSCRIBERS, translate=False)
@click.option("--lang", default=None, help="The language spoken (default: detected by the service; the files "
              "are named after it).")
@click.option("--itn/--no-itn", default=True, show_default=True,
              help="Write numbers, dates and the like as a reader expects (\"25\", not \"twenty-five\").")
@_FORMAT
@_OUT_DIR
def transcribe(inputs: list[Path], common: CommonOptions, ui: RunUI, lang: str | None, itn: bool, formats_: str,
               out_dir: Path | str | None) -> int:
    """Write source-language subtitles (INPUT.<lang>.srt / .vtt): the words as spoken. INPUT may be a glob."""
    source = parse_lang(lang) if lang else None
    windows = common.windows()
    common.spec().check(task="transcribe", max_window_ms=windows.max_ms)
    check_distinct_outputs(inputs, out_dir)
    template = TranscribeJob(**common.job_fields(inputs[0]), source=source, itn=itn, formats=formats(formats_))

    def run_one(path: Path, folder: Path | None, events: Events) -> Shown:
        report = run_transcribe(replace(template, input=path, out_dir=folder), events)
        details = {"language": report.language, "detected": report.detected, "windows": report.windows,
                   "cues": report.cues, "speakers": [asdict(s) for s in report.speakers]}
        said = (f"dubber: detected language: {report.language or 'none (files named und)'}",) if report.detected else ()
        if report.cues == 0:
            return Shown(NO_SPEECH, report.outputs, details, summary=(*said, _no_speech(path)))
        line = f"dubber: {report.windows} windows, {report.cues} cues{_tokens(report.usage)}"
        return Shown(OK, report.outputs, details, summary=(*said, line, *_speakers_line(report.speakers)))

    facts = _facts("transcribe", template, (source.code,) if source else ())
    return run_inputs(inputs, _placed(run_one, out_dir), facts, ui, common.engine)


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


_CACHE_DIR = click.option("--cache-dir", callback=local_cache_dir, default=None,
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
