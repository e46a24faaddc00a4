"""The command line: parse options into a job, run it, report. Nothing else lives here.

Exit codes, the same in every command (see ``runner``): 0 success, 1 the run failed (a service error, an
output that cannot be written, ffmpeg failing), 2 a usage or input error (bad options, an input that is
missing or not media), 3 no speech found (valid, empty outputs were written), 130 interrupted.
"""
from __future__ import annotations

import signal
import sys

import click

from dubber.cli.commands import cache, dub, emulator, subtitles, transcribe
from dubber.cli.config import cli_defaults
from dubber.cli.live import live
from dubber.cli.speakers import speakers
from dubber.cli.tools import doctor, plan_command
from dubber.cli.runner import exit_code_of
from dubber.errors import DubberError


@click.group()
@click.version_option(package_name="dubber")
def cli() -> None:
    """Translate a video's speech into subtitles and a dubbed audio track."""


for _command in (subtitles, dub, transcribe, speakers, live, plan_command, doctor, cache, emulator):
    cli.add_command(_command)


def _interrupt(signum: int, frame: object) -> None:
    """The first Ctrl-C stops the run; any more while it stops change nothing (no traceback, and the
    clean-up that removes temporary files is not cut short)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGINT, _interrupt)
    try:
        code = cli.main(standalone_mode=False, default_map=cli_defaults(cli))  # DUBBER_* and dubber.toml
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("dubber: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # a refused option or value is one line, as every other refusal is
        click.echo(f"dubber: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DubberError as exc:
        click.echo(f"dubber: error: {exc}", err=True)
        sys.exit(exit_code_of(exc))
    except KeyboardInterrupt:
        click.echo("dubber: interrupted", err=True)
        sys.exit(130)
