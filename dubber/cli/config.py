"""Settings: defaults for the commands' options from the environment and a config file.

Precedence, highest first: the option on the command line; the variable ``DUBBER_<OPTION>`` (the option's
long name upper-cased, dashes as underscores: ``--cache-dir`` is ``DUBBER_CACHE_DIR``; an empty variable is
unset); ``dubber.toml``; the ``[tool.dubber]`` table of ``pyproject.toml``, read only when there is no
``dubber.toml``; the built-in default. Both files are looked for in the current folder only, never above
it: a CI job runs in the repository's root, and a file found higher up would be a setting nobody sees.

In a file, top-level keys are long option names (dashes or underscores) and apply to every command that
has the option; a table named after a command overrides them for that command::

    jobs = 8
    backend = "omni"
    to = ["fr", "de"]         # a list of strings for the comma-separated options, --to and --format

    [dub]
    voice = "Ethan"

Settings apply to subtitles, dub, transcribe, plan, doctor and the cache commands (a ``[cache]`` table
covers ``cache info`` and ``cache clear``), never to the emulator, a test server with flags of its own.
Not settings: ``--api-key`` (refused in a file, which gets committed; the environment keeps
DASHSCOPE_API_KEY and OPENAI_API_KEY per backend family), ``--verbose`` and ``--quiet`` (how one run
talks), ``--output`` and ``--report`` (one file each, like INPUT), plan's ``--dub`` and doctor's ``--ping``
(what to do rather than how). ``base-url`` may be set in a file, where it acts as ``--base-url`` for
every backend and so wins over DUBBER_BASE_URL and OPENAI_BASE_URL; those two keep their meaning per
family, so there is no generic DUBBER_BASE_URL setting.

A value is checked by the option's own click type, for each command it applies to. One that a command
refuses stops that command with a line naming where it came from, but only when the command would use it
(``DUBBER_BACKEND=omni`` does not stop ``dubber transcribe --backend asr``); the doctor reports instead.
"""
from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from dubber.errors import OptionError
from dubber.jobs.doctor import ConfigFacts, SettingFact

CONFIG_FILE = "dubber.toml"
PYPROJECT = "pyproject.toml"
PYPROJECT_SOURCE = "pyproject.toml [tool.dubber]"
PREFIX = "DUBBER_"
COMMANDS = ("subtitles", "dub", "transcribe", "plan", "doctor", "cache")
REPORTS_ITS_OWN = "doctor"  # a broken config is what people run the doctor for: it reports, never stops
NOT_SETTINGS = frozenset({"help", "version", "verbose", "quiet", "api-key", "output", "report", "dub", "ping"})
NOT_FROM_ENVIRONMENT = frozenset({"base-url"})  # DUBBER_BASE_URL already means DashScope's endpoint
LISTS = frozenset({"to", "format"})
KEY_ADVICE = "keep API keys out of files that get committed; set DASHSCOPE_API_KEY or OPENAI_API_KEY"


@dataclass(frozen=True)
class Setting:
    """One value from the environment or a file, as it would be typed after its option."""

    key: str  # the option's long name: "jobs", "cache-dir"
    value: str  # "8", "fr,de", "true"
    source: str  # "DUBBER_JOBS", "dubber.toml", "pyproject.toml [tool.dubber]"
    command: str | None = None  # the file's [command] table it sits in; None: every command with the option

    @property
    def label(self) -> str:
        return f"[{self.command}] {self.key}" if self.command else self.key

    @property
    def where(self) -> str:
        """What an error names: "DUBBER_JOBS", "dubber.toml: [dub] voice"."""
        return self.source if self.rank == 0 else f"{self.source}: {self.label}"

    @property
    def rank(self) -> int:
        """Lower wins: the environment, then a command's table, then the file's top level."""
        return 0 if self.source.startswith(PREFIX) else 1 if self.command else 2


@dataclass(frozen=True)
class Settings:
    cwd: Path
    file: str | None = None  # the config read: "dubber.toml" or "pyproject.toml [tool.dubber]"
    ignored: str | None = None  # pyproject.toml's table, when dubber.toml wins over it
    settings: tuple[Setting, ...] = ()
    variables: tuple[str, ...] = ()  # every DUBBER_ variable's name (never its value), for the doctor


def _key(name: str) -> str:
    return name.replace("_", "-")


def load_settings(cwd: Path, environ: Mapping[str, str]) -> Settings:
    """The DUBBER_ variables and the config file in ``cwd``, read but not yet matched to any command
    (that needs the commands: ``default_map``). A file that cannot be read, is not TOML, holds a key
    or a value no option could take, or holds an API key is an OptionError naming it."""
    names = tuple(sorted(name for name in environ if name.startswith(PREFIX)))
    from_env = tuple(Setting(key, environ[name], name) for name in names if environ[name]
                     and (key := _key(name[len(PREFIX):].lower())) not in NOT_SETTINGS | NOT_FROM_ENVIRONMENT)
    file, ignored, table = _read_file(cwd)
    from_file = tuple(_entries(table, file)) if file else ()
    return Settings(cwd, file, ignored, from_env + from_file, names)


def _parse(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise OptionError(f"{path.name}: not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise OptionError(f"{path.name}: cannot be read: {getattr(exc, 'strerror', None) or exc}") from exc


def _tool_table(pyproject: Path) -> dict | None:
    if not pyproject.is_file():
        return None
    tool = _parse(pyproject).get("tool")
    found = tool.get("dubber") if isinstance(tool, dict) else None
    if found is not None and not isinstance(found, dict):
        raise OptionError(f"{PYPROJECT}: tool.dubber is not a table")
    return found


def _read_file(cwd: Path) -> tuple[str | None, str | None, dict]:
    """(the config's name, pyproject's table when dubber.toml shadows it, the config's table)."""
    own, pyproject = cwd / CONFIG_FILE, cwd / PYPROJECT
    if own.is_file():
        try:  # only to say it is ignored: a broken pyproject.toml is not ours to report here
            shadowed = _tool_table(pyproject) is not None
        except OptionError:
            shadowed = False
        return CONFIG_FILE, PYPROJECT_SOURCE if shadowed else None, _parse(own)
    table = _tool_table(pyproject)
    return (PYPROJECT_SOURCE, None, table) if table is not None else (None, None, {})


def _entries(table: dict, source: str) -> Iterator[Setting]:
    """The file's settings: top-level keys, then each command's table."""
    pairs: list[tuple[str | None, str, object]] = []
    for name, value in table.items():
        if not isinstance(value, dict):
            pairs.append((None, name, value))
        elif name in COMMANDS:
            pairs += [(name, sub_name, sub_value) for sub_name, sub_value in value.items()]
        else:
            raise OptionError(f"{source}: [{name}] is not a command settings apply to ({', '.join(COMMANDS)})")
    seen: dict[tuple[str | None, str], str] = {}
    for command, name, value in pairs:
        key = _key(name)
        label = f"[{command}] {key}" if command else key
        if (command, key) in seen:
            raise OptionError(f"{source}: {label} is set twice ({seen[command, key]}, {name})")
        seen[command, key] = name
        if key == "api-key":
            raise OptionError(f"{source}: {label}: {KEY_ADVICE}")
        yield Setting(key, _text(value, key, f"{source}: {label}"), source, command)


_TOML_TYPES = {"dict": "a table", "list": "a list", "datetime": "a date and time", "date": "a date", "time": "a time"}


def _text(value: object, key: str, where: str) -> str:
    """A TOML value as it would be typed after its option."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if key in LISTS:
            return ",".join(value)
        raise OptionError(f"{where}: takes one value, not a list (lists are for {', '.join(sorted(LISTS))})")
    kind = _TOML_TYPES.get(type(value).__name__, type(value).__name__)
    raise OptionError(f"{where}: takes a string, a number or true/false, not {kind}")


Options = dict[tuple[str, ...], dict[str, click.Option]]


def configurable(group: click.Group) -> Options:
    """Each command settings apply to, by its path (``("dub",)``, ``("cache", "info")``), with its options
    by key (the long name without dashes). Click's parameter names differ from the keys (``--to`` is
    ``target`` in subtitles but ``targets`` in plan), so they are read off each command."""
    found: Options = {}
    for name in COMMANDS:
        command = group.commands.get(name)
        subcommands = command.commands.items() if isinstance(command, click.Group) else [(None, command)]
        for sub, leaf in subcommands:
            if leaf is not None:
                found[(name, sub) if sub else (name,)] = {
                    opt[2:]: param for param in leaf.params if isinstance(param, click.Option)
                    for opt in param.opts if opt.startswith("--") and opt[2:] not in NOT_SETTINGS}
    return found


def winner(settings: Settings, command: str, key: str) -> Setting | None:
    """The setting ``command``'s option ``key`` takes when it is not on the command line."""
    found = [s for s in settings.settings if s.key == key and s.command in (None, command)]
    return min(found, key=lambda s: s.rank, default=None)


def _convert(setting: Setting, option: click.Option) -> object:
    """The value as the option's click type reads it; OptionError naming where it came from if it refuses."""
    try:
        return option.type.convert(setting.value, option, None)
    except click.BadParameter as exc:
        raise OptionError(f"{setting.where}: {_refusal(exc)}") from exc


def _refusal(exc: click.BadParameter) -> str:
    return exc.message.rstrip(".")


@dataclass(frozen=True)
class _Refused:
    """A value the option refuses. Click calls a callable default only when the option is not on the
    command line, so the run stops only when it would have used the value."""

    value: str
    error: str

    def __call__(self) -> object:
        raise OptionError(self.error)

    def __str__(self) -> str:  # what --help shows as the default
        return self.value


def _check_keys(settings: Settings, commands: Options) -> None:
    """Every key in the file names an option of a command it applies to. (A DUBBER_ variable that names
    none is not ours: DUBBER_FFMPEG, DUBBER_BASE_URL.)"""
    known: dict[str | None, set[str]] = {None: set()}
    for path, options in commands.items():
        known.setdefault(path[0], set()).update(options)
        known[None].update(options)
    for s in settings.settings:
        keys = known.get(s.command, set())
        if s.rank == 0 or s.key in keys:
            continue
        if s.command and s.key in known[None]:
            raise OptionError(f"{s.source}: {s.label}: dubber {s.command} has no --{s.key} option")
        close = difflib.get_close_matches(s.key, keys, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(keys))}"
        raise OptionError(f"{s.source}: unknown setting {s.label!r} ({hint})")


def default_map(settings: Settings, group: click.Group) -> dict:
    """Click's ``default_map`` for ``group``: ``{command: {param_name: value}}`` (``{"cache": {"info":
    {...}}}`` for a subgroup). Values are converted by their option's type now; one that does not convert
    becomes a default that stops the run with a line naming its source, should the run need it."""
    commands = configurable(group)
    _check_keys(settings, commands)
    tree: dict = {}
    for path, options in commands.items():
        values = {}
        for key, option in options.items():
            setting = winner(settings, path[0], key)
            if setting is None:
                continue
            try:
                values[option.name] = _convert(setting, option)
            except OptionError as exc:
                if path[0] != REPORTS_ITS_OWN:
                    values[option.name] = _Refused(setting.value, str(exc))
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = values
    return tree


class _Broken(Mapping):
    """The default map when the config cannot be used: every command it applies to stops on the error
    before it parses anything, except the doctor, which reports it; the others (the emulator, --help,
    --version) never look."""

    def __init__(self, error: OptionError) -> None:
        self.error = error

    def __getitem__(self, name: str) -> dict:
        if name == REPORTS_ITS_OWN:
            return {}
        if name in COMMANDS:
            raise self.error
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


def cli_defaults(group: click.Group, cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Mapping:
    """The ``default_map`` to run ``group`` with, from the environment and the config in the current folder."""
    try:
        return default_map(load_settings(cwd or Path.cwd(), os.environ if environ is None else environ), group)
    except OptionError as exc:
        return _Broken(exc)


def doctor_facts(settings: Settings, group: click.Group) -> ConfigFacts:
    """What the doctor shows: the config found, and each setting with the commands that take it, what
    overrides it, and which commands would refuse it. Raises OptionError as ``default_map`` does."""
    commands = configurable(group)
    _check_keys(settings, commands)
    facts = tuple(fact for s in settings.settings if (fact := _fact(settings, s, commands)))
    return ConfigFacts(settings.cwd, settings.file, settings.ignored, facts, _strays(settings, commands))


def _fact(settings: Settings, setting: Setting, commands: Options) -> SettingFact | None:
    paths = [p for p, options in commands.items() if setting.key in options and setting.command in (None, p[0])]
    if not paths:
        return None  # a DUBBER_ variable that names no option
    winners = {path: winner(settings, path[0], setting.key) for path in paths}
    used = tuple(path for path in paths if winners[path] == setting)
    refused = []
    for path in used:
        option = commands[path][setting.key]
        try:
            option.type.convert(setting.value, option, None)
        except click.BadParameter as exc:
            refused.append((" ".join(path), _refusal(exc)))
    others = dict.fromkeys(w.source if w.rank == 0 else f"{w.label} in {w.source}"
                           for w in winners.values() if w != setting)
    return SettingFact(setting.label, setting.value, setting.source, tuple(" ".join(p) for p in used),
                       "" if used else ", ".join(others), tuple(refused))


def _strays(settings: Settings, commands: Options) -> tuple[tuple[str, str], ...]:
    """DUBBER_ variables that set nothing but look meant to: the API key, and near misses (DUBBER_JOB)."""
    keys = {key for options in commands.values() for key in options}
    found = []
    for name in settings.variables:
        key = _key(name[len(PREFIX):].lower())
        if key == "api-key":
            found.append((name, "is not read: the key comes from --api-key, DASHSCOPE_API_KEY or OPENAI_API_KEY"))
        elif key not in keys | NOT_SETTINGS | NOT_FROM_ENVIRONMENT:
            close = difflib.get_close_matches(key, keys, n=1, cutoff=0.75)
            if close:
                found.append((name, f"is not a setting: did you mean {PREFIX}{close[0].upper().replace('-', '_')}?"))
    return tuple(found)


def everywhere(settings: Settings, key: str) -> Setting | None:
    """The setting of ``key`` every command takes unless its own table says otherwise (for the doctor's
    endpoint lines and its ping)."""
    found = [s for s in settings.settings if s.key == key and s.command is None]
    return min(found, key=lambda s: s.rank, default=None)
