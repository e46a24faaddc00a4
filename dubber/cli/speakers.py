"""`dubber speakers`: who speaks when, as NIST RTTM; no key, no request."""
from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Sequence

import click

from dubber.cli.options import setup_logging, ui_options, apply_options
from dubber.cli.runner import NO_SPEECH, OK, RunUI, Shown, check_distinct_outputs, expand_inputs, run_inputs
from dubber.events import Events
from dubber.jobs.runreport import RunFacts
from dubber.jobs.speakers import SpeakersJob, run_speakers
from dubber.models import Speaker
from dubber.speakers import MAX_SPEAKERS, SpeakerOptions, require_extra


def speakers_said(speakers: Sequence[Speaker], turns: int | None = None) -> str:
    """The closing line on the speakers found: each one's talk time and, in a dub, voice.

    >>> speakers_said([Speaker(1, 6100, voice="Ethan"), Speaker(2, 24500)], turns=8)
    'dubber: 2 speakers in 8 turns: 1 6.1 s Ethan, 2 24.5 s'
    """
    said = ", ".join(f"{s.number} {s.talk_ms / 1000:.1f} s" + (f" {s.voice}" if s.voice else "") for s in speakers)
    found = f"{len(speakers)} speaker{'s' if len(speakers) != 1 else ''}"
    return f"dubber: {found}{f' in {turns} turns' if turns is not None else ''}: {said}"


def _options(command):
    return apply_options(command, [
        click.argument("inputs", metavar="INPUT...", nargs=-1, required=True),
        click.option("--num-speakers", type=click.IntRange(min=1), default=None, metavar="N",
                     help="How many speakers there are, when known."),
        click.option("--min-speakers", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
                     help="The fewest speakers to find."),
        click.option("--max-speakers", type=click.IntRange(min=1), default=MAX_SPEAKERS, show_default=True,
                     metavar="N", help="The most speakers to find."),
        click.option("--out-dir", type=click.Path(path_type=Path), default=None,
                     help="Folder for the files (default: beside each INPUT)."),
        *ui_options(),
    ])


@click.command("speakers")
@_options
def speakers(inputs: tuple[str, ...], num_speakers: int | None, min_speakers: int, max_speakers: int,
             out_dir: Path | None, verbose: int, quiet: bool, report: Path | None) -> int:
    """Find who speaks when in each video or audio file, on this machine (no key, nothing sent), and write
    <stem>.rttm (NIST RTTM: one SPEAKER line per turn). INPUT may be a glob."""
    setup_logging(verbose)
    require_extra()
    paths = expand_inputs(inputs)
    ui = RunUI(quiet=quiet, report=report)
    ui.check(paths)
    check_distinct_outputs(paths, out_dir)
    options = SpeakerOptions(num=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers)
    template = SpeakersJob(input=paths[0], options=options, out_dir=out_dir)

    def run_one(path: Path, events: Events) -> Shown:
        done = run_speakers(replace(template, input=path), events)
        details = {"duration_ms": done.duration_ms, "turns": len(done.turns),
                   "speakers": [asdict(s) for s in done.speakers]}
        if not done.turns:
            return Shown(NO_SPEECH, (done.output,), details, summary=(f"dubber: no speech found in {path}: "
                                                                      "wrote an empty RTTM file",))
        return Shown(OK, (done.output,), details, summary=(speakers_said(done.speakers, len(done.turns)),))

    return run_inputs(paths, run_one, RunFacts("speakers"), ui)
