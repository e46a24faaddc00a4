"""Options the job commands share, parsed into the values jobs take; every check that can be made before
anything is paid for (languages, the backend's abilities and limits, the key) is made here.

The key and endpoint come from ``--api-key`` / ``--base-url``, else from the chosen backend's family:
``DASHSCOPE_API_KEY`` / ``DUBBER_BASE_URL`` for DashScope's models, ``OPENAI_API_KEY`` /
``OPENAI_BASE_URL`` for the OpenAI-style audio endpoints.
"""
from __future__ import annotations

import functools
import logging
import math
import os
import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Sequence

import click

from dubber.backends import FAMILIES, INPUT_MODES, BackendConfig, BackendSpec, backend_spec
from dubber.cli.runner import RunUI, expand_inputs
from dubber.engine import ENGINES, EngineOptions
from dubber.engine import require_extra as require_engine
from dubber.engine.account import ClusterAccount
from dubber.engine.store import folder_or_url, open_store
from dubber.errors import OptionError
from dubber.jobs.common import BackendChoice
from dubber.languages import Lang, parse_lang, parse_langs
from dubber.speakers import SpeakerOptions
from dubber.speakers import chosen as speaker_choice
from dubber.speech import vad
from dubber.speech.windows import WindowOptions
from dubber.subtitles.cues import CueOptions
from dubber.subtitles.reader import language_from_name
from dubber.subtitles.writers import WRITERS
from dubber.translate.cache import DEFAULT_MAX_BYTES, human_size
from dubber.translate.cache import default_dir as default_cache_dir
from dubber.translate.fetch import FetchOptions, Store
from dubber.translate.glossary import load_glossary
from dubber.translate.retry import RetryPolicy

TRANSLATORS = ("livetranslate", "omni", "whisper")  # backends that translate (subtitles, dub)
TRANSCRIBERS = ("asr", "whisper")  # backends that transcribe (transcribe)


def formats(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in WRITERS]
    if not chosen or unknown:
        raise OptionError(f"unknown subtitle format {', '.join(unknown) or text!r} (known: {', '.join(WRITERS)})")
    return chosen


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from ``2G``, ``500M``, ``1.5GiB``, ``750000`` (units are powers of 1024).

    >>> parse_size("2G"), parse_size("512 MiB"), parse_size("1000")
    (2147483648, 536870912, 1000)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise OptionError(f"--cache-max takes a size such as 2G or 500M, not {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def local_cache_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """``--cache-dir`` of the commands that read the folder itself (cache, plan, doctor): a URL is refused."""
    where = folder_or_url(value)
    if isinstance(where, str):
        raise OptionError(f"--cache-dir {value}: this command reads a cache folder on this machine; "
                          "a store's entries are kept and expired by the store (its lifecycle rules)")
    return where


def backend_choice(name: str, api_key: str | None = None, base_url: str | None = None, model: str | None = None,
                   input_mode: str = "audio") -> BackendChoice:
    """Backend ``name`` with its key, endpoint and model: the options given, else its family's variables,
    else its defaults (a missing key is a one-line usage error)."""
    spec = backend_spec(name)
    family = FAMILIES[spec.family]
    key = api_key or os.environ.get(family.key_env)
    if not key:
        raise OptionError(f"no API key: pass --api-key or set {family.key_env}")
    url = base_url or os.environ.get(family.url_env) or family.default_url
    return BackendChoice(spec.name, BackendConfig(api_key=key, base_url=url, model=model or spec.default_model,
                                                  input_mode=input_mode))


def _seconds(value: float) -> int:
    if not math.isfinite(value) or not 0 <= value <= 24 * 3600:
        raise OptionError(f"window lengths are seconds between 0 and 86400, not {value}")
    return int(round(value * 1000))


def apply_options(command: Callable, decorators: list[Callable]) -> Callable:
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def window_options() -> list[Callable]:
    """How the audio becomes windows: the speech detector and the window lengths (every command that
    plans windows, ``dubber plan`` included)."""
    defaults = WindowOptions()
    return [
        click.option("--vad", "vad_method", type=click.Choice(vad.METHODS), default=vad.DEFAULT_METHOD,
                     show_default=True, help="Speech detector used to place windows."),
        click.option("--min-window", type=float, default=defaults.min_ms / 1000, show_default=True,
                     help="Seconds: shorter windows are merged with a neighbour."),
        click.option("--max-window", type=float, default=defaults.max_ms / 1000, show_default=True,
                     help="Seconds: longer speech is split at its quietest point."),
        click.option("--long-silence", type=float, default=defaults.long_silence_ms / 1000, show_default=True,
                     help="Seconds: silences this long are never sent."),
    ]


def window_lengths(min_window: float, max_window: float, long_silence: float) -> WindowOptions:
    """The window options in seconds, checked, as the planner takes them (ms)."""
    return WindowOptions(min_ms=_seconds(min_window), max_ms=_seconds(max_window),
                         long_silence_ms=_seconds(long_silence))


def _service_options(backends: tuple[str, ...]) -> list[Callable]:
    return [
        click.option("--backend", type=click.Choice(backends), default=backends[0], show_default=True,
                     help="The service: see the README for which to use when."),
        click.option("--api-key", default=None, help="API key (never printed) [default: the backend's "
                     "environment variable: DASHSCOPE_API_KEY, or OPENAI_API_KEY for whisper]."),
        click.option("--base-url", default=None, help="OpenAI-compatible endpoint (the emulator's URL for offline "
                     "runs) [default: $DUBBER_BASE_URL or DashScope's; $OPENAI_BASE_URL or OpenAI's for whisper]."),
        click.option("--model", default=None, help="Model name [default: the backend's]."),
        *window_options(),
        click.option("--speakers", default=None, metavar="auto|N|off",
                     help="Tell speakers apart: windows never span a change of speaker, subtitles mark who speaks, "
                          "a dub gives each speaker a voice. auto counts them; N says how many [default: off; dub: "
                          'auto when the speakers extra is installed: pip install "dubber[speakers]"].'),
        *ui_options(),
    ]


def ui_options() -> list[Callable]:
    """How a command talks while it runs, and the report it leaves."""
    return [
        click.option("-v", "--verbose", count=True, help="More log output (-vv for debug)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress and no summary: errors and warnings only "
                     "(the files written are still listed on stdout)."),
        click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="PATH",
                     help="Write a JSON report of the run (every input, window, stage, token and warning) to PATH; "
                          "written whether the run succeeds or not. Schema: see the README."),
    ]


def _fetch_options() -> list[Callable]:
    return [
        click.option("--jobs", type=click.IntRange(1, 64), default=FetchOptions().jobs, show_default=True,
                     help="Windows sent at once."),
        click.option("--retries", type=click.IntRange(1, 100), default=RetryPolicy().attempts, show_default=True,
                     help="Attempts per window on rate limits, server errors and dropped connections."),
        click.option("--cache-dir", default=None, metavar="DIR|URL",
                     help=f"Where answered windows are kept: a folder, or an fsspec URL every worker of a cluster "
                          f"shares (s3://bucket/prefix, gs://..., memory://) [default: {default_cache_dir()}]."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the window cache."),
        click.option("--cache-max", default=human_size(DEFAULT_MAX_BYTES).replace(".0 GiB", "G"), show_default=True,
                     metavar="SIZE", help="Largest the window cache may grow (e.g. 500M, 10G); the least recently "
                     "used answers go first."),
        click.option("--retry-wait", type=click.FloatRange(0, 60, min_open=True), default=RetryPolicy().base_s,
                     show_default=True, metavar="S",
                     help="Seconds: the first retry of a window waits a random time up to S, each next one up "
                          "to twice as long (at most 60 s); a longer Retry-After from the service is honoured."),
    ]


def _engine_options() -> list[Callable]:
    return [
        click.option("--engine", "engine_name", type=click.Choice(ENGINES), default="local", show_default=True,
                     help="local: the inputs one after another here; ray: each input a task on a Ray cluster "
                          '(pip install "dubber[ray]").'),
        click.option("--address", default=None, metavar="HOST:PORT",
                     help="The Ray cluster to join (default: start a local one)."),
        click.option("--workers", type=click.IntRange(1, 1024), default=None,
                     help="Worker processes of the local Ray cluster [default: one a CPU]."),
        click.option("--account-concurrency", type=click.IntRange(1, 1024), default=None, metavar="N",
                     help="The most requests in flight for the whole run, over every worker: the account's "
                          "concurrency quota; 429s still halve it for everyone [default: --jobs]."),
    ]


def _translate_options() -> list[Callable]:
    return [
        click.option("--to", "target", default=None,
                     help="Target language: en, zh-CN, English, ...; or several: fr,de,ja.  [required, but for a dub "
                          "from --subtitles named <stem>.<lang>.<ext>]"),
        click.option("--from", "source", default=None, help="Source language (default: detected by the service)."),
        click.option("--input-mode", type=click.Choice(INPUT_MODES), default="audio", show_default=True,
                     help="What each window sends: its audio, or a short, scaled-down clip of the video "
                          "(livetranslate: the model sees the picture)."),
        click.option("--glossary", type=click.Path(path_type=Path), default=None, metavar="FILE",
                     help="Fixed translations, one 'term → translation' a line (backends that take instructions)."),
        click.option("--bilingual", is_flag=True,
                     help="Show the source line under each translated line (a second request per window "
                          "transcribes it)."),
        click.option("--cut-overlong", is_flag=True,
                     help="Cut a subtitle too long to read in its time at a word, ending it with '…' (default: "
                          "keep every word and report the cue)."),
    ]


@dataclass(frozen=True)
class CommonOptions:
    """The options every job command shares, as click parses them; field names are parameter names."""

    backend: str
    api_key: str | None
    base_url: str | None
    model: str | None
    vad_method: str
    min_window: float
    max_window: float
    long_silence: float
    jobs: int
    retries: int
    cache_dir: str | None
    no_cache: bool
    cache_max: str
    retry_wait: float
    speakers: str | None  # None: the command's default
    engine_name: str = "local"
    address: str | None = None
    workers: int | None = None
    account_concurrency: int | None = None

    @functools.cached_property
    def engine(self) -> EngineOptions:
        """Where the batch runs (one value a command line: its run names the account every job reports to)."""
        engine = EngineOptions(self.engine_name, self.address, self.workers, self.account_limit)
        if engine.distributed:
            require_engine()
        return engine

    @property
    def account_limit(self) -> int:
        """The most requests in flight over the whole run."""
        return self.account_concurrency or self.jobs

    def _cache(self) -> tuple[Path | None, Store | None]:
        """``--cache-dir``: a folder, or a store fsspec reaches (``file://`` URLs are folders)."""
        if self.no_cache:
            return None, None
        where = folder_or_url(self.cache_dir)
        if isinstance(where, str):
            return None, open_store(where)
        return where or default_cache_dir(), None

    def spec(self) -> BackendSpec:
        return backend_spec(self.backend)

    def choice(self, name: str | None = None, input_mode: str = "audio") -> BackendChoice:
        """Backend ``name`` (default: the chosen one) with its key, endpoint and model resolved."""
        model = self.model if name in (None, self.backend) else None
        return backend_choice(name or self.backend, self.api_key, self.base_url, model, input_mode)

    def fetch(self) -> FetchOptions:
        if not math.isfinite(self.retry_wait):  # click's FloatRange lets nan through
            raise OptionError(f"--retry-wait must be a number of seconds, not {self.retry_wait}")
        folder, store = self._cache()
        account = ClusterAccount(self.engine.account_name) if self.engine.distributed else None
        # one process is the whole account: it sends no more than the account takes
        jobs = self.jobs if account is not None else min(self.jobs, self.account_limit)
        return FetchOptions(jobs=jobs, retry=RetryPolicy(attempts=self.retries, base_s=self.retry_wait),
                            cache_dir=folder, cache_max_bytes=parse_size(self.cache_max), store=store,
                            account=account)

    def windows(self) -> WindowOptions:
        return window_lengths(self.min_window, self.max_window, self.long_silence)

    def speaker_options(self, default: str = "off") -> SpeakerOptions | None:
        """``--speakers``, else ``default``; on, it needs the speakers extra."""
        return speaker_choice(self.speakers or default)

    def job_fields(self, input_path: Path, input_mode: str = "audio", speakers: str = "off") -> dict[str, object]:
        """JobBase's fields (``speakers``: the command's default for ``--speakers``)."""
        return {"input": input_path, "backend": self.choice(input_mode=input_mode), "vad_method": self.vad_method,
                "windows": self.windows(), "fetch": self.fetch(), "speakers": self.speaker_options(speakers)}


@dataclass(frozen=True)
class TranslateOptions:
    """The options of the commands that translate (subtitles, dub)."""

    target: str | None
    source: str | None
    input_mode: str
    glossary: Path | None
    bilingual: bool
    cut_overlong: bool

    def targets(self) -> tuple[Lang, ...]:
        """The target languages, in the order given (``--to fr,de,ja``), each once."""
        if self.target is None:
            raise OptionError("missing option --to: the language to translate into")
        langs = parse_langs(self.target)
        if not langs:
            raise OptionError("--to names no language")
        return langs

    def job_fields(self, common: CommonOptions, input_path: Path, voice: str | None = None,
                   several: bool = False, from_text: bool = False, speakers: str = "off") -> dict[str, object]:
        """TranslateJob's fields (the first target; with ``several``, the others as ``extra_targets``),
        checked against what the chosen backend can do (``from_text``: a dub from subtitles, which the
        family's text to speech voices in any language)."""
        spec, targets = common.spec(), self.targets()
        if len(targets) > 1 and not several:
            raise OptionError("this command takes one --to language a run")
        glossary = load_glossary(self.glossary) if self.glossary is not None else ()
        windows = common.windows()
        for target in targets:
            spec.check(target=None if from_text else target, voice=None if from_text else voice,
                       input_mode=self.input_mode, glossary=bool(glossary), max_window_ms=windows.max_ms)
        transcriber = None
        if self.bilingual:
            if spec.transcriber is None:
                raise OptionError(f"the {spec.name} backend has no transcriber for --bilingual")
            backend_spec(spec.transcriber).check(task="transcribe", max_window_ms=windows.max_ms)
            transcriber = common.choice(spec.transcriber)
        extra = {"extra_targets": targets[1:]} if several else {}
        return {**common.job_fields(input_path, self.input_mode, speakers), "target": targets[0], **extra,
                "source": parse_lang(self.source) if self.source else None, "glossary": glossary,
                "transcriber": transcriber, "cues": CueOptions(cut_overlong=self.cut_overlong)}


def subtitle_languages(target: str | None, files: Sequence[Path]) -> tuple[str, tuple[Path, ...]]:
    """``--to`` for a dub from ``files`` (``--subtitles``, once per language), and the files in its order.
    A file's language is ``--to``'s with one file, else its name's (``<stem>.<lang>.<ext>``); a name that
    names another language than ``--to`` is a mistake caught before anything is paid for."""
    named = [language_from_name(path) for path in files]
    if target is None:
        missing = [path.name for path, code in zip(files, named) if code is None]
        if missing:
            raise OptionError(f"{missing[0]}: its name says no language (<stem>.<lang>.<ext>): pass --to")
        target = ",".join(named)
    langs = [lang.code for lang in parse_langs(target)]
    if len(files) == 1 and len(langs) == 1:
        if named[0] is not None and named[0] != langs[0]:
            raise OptionError(f"{files[0].name} is named for {parse_lang(named[0]).name}, but --to says "
                              f"{parse_lang(langs[0]).name}")
        return target, tuple(files)
    by_lang = {code: path for path, code in zip(files, named) if code is not None}
    if len(by_lang) != len(files) or sorted(by_lang) != sorted(langs):
        raise OptionError(f"--subtitles gives {', '.join(p.name for p in files)} for --to {','.join(langs)}: give "
                          "one file a language, each named <stem>.<lang>.<ext>")
    return target, tuple(by_lang[code] for code in langs)


def _pop(cls: type, options: dict) -> object:
    return cls(**{f.name: options.pop(f.name) for f in fields(cls)})


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="dubber: %(message)s", stream=sys.stderr)


def job_options(backends: tuple[str, ...], translate: bool = True) -> Callable:
    """Adds the options a job command shares; the command gets its inputs (globs expanded, each once),
    ``common`` (CommonOptions), ``ui`` (RunUI) and, when it translates, ``lang`` (TranslateOptions), with
    its own options as keywords."""
    def wrap(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(inputs: tuple[str, ...], verbose: int, quiet: bool, report: Path | None, **options):
            setup_logging(verbose)
            common = _pop(CommonOptions, options)
            if translate:
                options["lang"] = _pop(TranslateOptions, options)
            paths = expand_inputs(inputs)
            ui = RunUI(quiet=quiet, report=report)
            ui.check(paths)
            return command(paths, common, ui=ui, **options)

        decorators = (_service_options(backends) + _fetch_options() + _engine_options()
                      + (_translate_options() if translate else []))
        return apply_options(run, decorators)

    return wrap
