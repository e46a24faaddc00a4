"""`dubber doctor`: what dubber will use on this machine, checked without paying for anything (unless
asked to ping the endpoint with one tiny request). Facts only; the CLI words them."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from dubber.backends import FAMILIES, TranslateRequest, WindowMedia, backend_spec, make_backend
from dubber.errors import DubberError
from dubber.jobs.common import BackendChoice
from dubber.languages import parse_lang
from dubber.media.audio import ANALYSIS_RATE, wav_bytes
from dubber.media import capability
from dubber.media.mux import KINDS
from dubber.media.stretch import stretch_method
from dubber.media.tool import candidates
from dubber.engine import installed as engine_installed
from dubber.speakers import installed as speakers_installed
from dubber.translate import cache as window_cache


@dataclass(frozen=True)
class Check:
    """One line of the doctor's findings: a name, what was found, and whether it is fine."""

    name: str
    found: str
    ok: bool | None = True  # None: worth knowing, neither fine nor wrong (a family's key you may not need)


# what an ffmpeg must do for dubber to be of use: subtitles, and dubs into the two video kinds most runs
# write (mp4: AAC and mov_text; mkv: Opus and SubRip); other kinds it cannot write are named, not failed
CORE = capability.dub_needs(KINDS["mp4"]) | capability.dub_needs(KINDS["mkv"])


def tool_checks() -> list[Check]:
    """The ffmpeg runs would use, by the same check a run makes (which binary, where from, its version),
    what it cannot do, and the time stretch it offers. A candidate that falls short of ``CORE`` is named,
    and the next one that a run would fall back to is checked; the last falling short is a failure."""
    try:
        found = candidates()
    except DubberError as exc:
        return [Check("ffmpeg", str(exc), ok=False)]
    checks = []
    for n, binary in enumerate(found, start=1):
        caps = capability.capabilities(binary.path)
        shown = f"{binary.path} ({binary.source}): {caps.version}"
        core = caps.lacks(CORE)
        if core:
            fallback = "; runs use the next ffmpeg" if n < len(found) else ""
            lacking = "; ".join(caps.why(need) for need in core)
            checks.append(Check("ffmpeg", f"{shown}: cannot dub or subtitle: it lacks {lacking}{fallback}",
                                ok=None if n < len(found) else False))
            continue
        checks.append(Check("ffmpeg", shown))
        other = caps.lacks(capability.everything())
        if other:
            kinds = sorted(suffix for suffix, kind in KINDS.items() if caps.lacks(capability.dub_needs(kind)))
            checks.append(Check("ffmpeg", f"cannot dub into {', '.join('.' + k for k in kinds)}: it lacks "
                                          f"{'; '.join(caps.why(need) for need in other)}", ok=None))
        stretch = stretch_method(caps.filters)
        note = "Rubber Band (best for speech)" if stretch == "rubberband" else "atempo (no Rubber Band in this ffmpeg)"
        return [*checks, Check("time stretch", note), speakers_check(), engine_check()]
    return [*checks, speakers_check(), engine_check()]


def engine_check() -> Check:
    """Whether batches can run on a Ray cluster (the ray extra)."""
    if engine_installed():
        return Check("engine", f"ray {version('ray')}: --engine ray runs each input on a cluster")
    return Check("engine", 'local only (--engine ray needs the ray extra: pip install "dubber[ray]")', ok=None)


def speakers_check() -> Check:
    """Whether speakers can be found (the speakers extra): dub then gives each speaker a voice by default."""
    if speakers_installed():
        return Check("speakers", "the speakers extra is installed: dub gives each speaker a voice by default")
    return Check("speakers", 'not installed (--speakers needs it: pip install "dubber[speakers]")', ok=None)


def key_checks(base_url: tuple[str, str] | None = None) -> list[Check]:
    """Whether each family's key is set: its variable's name and length, never the key. ``base_url``:
    (url, where it was set) when a setting gives every backend its endpoint."""
    checks = []
    for family in FAMILIES.values():
        key = os.environ.get(family.key_env, "")
        url = os.environ.get(family.url_env) or f"{family.default_url} (default)"
        if base_url:
            url = f"{base_url[0]} (base-url in {base_url[1]})"
        found = f"{family.key_env} is set ({len(key)} characters)" if key else f"{family.key_env} is not set"
        checks.append(Check(f"{family.name} key", found, ok=True if key else None))
        checks.append(Check(f"{family.name} endpoint", url))
    return checks


@dataclass(frozen=True)
class SettingFact:
    """One setting from the environment or a config file, matched against the commands."""

    label: str  # "jobs", "[dub] voice"
    value: str
    source: str  # "DUBBER_JOBS", "dubber.toml", ...
    used_by: tuple[str, ...]  # the commands that take it when their option is not given: "dub", "cache info"
    overridden_by: str = ""  # when no command takes it: what they take instead
    refused_by: tuple[tuple[str, str], ...] = ()  # (command, why) among used_by


@dataclass(frozen=True)
class ConfigFacts:
    cwd: Path
    file: str | None  # "dubber.toml" or "pyproject.toml [tool.dubber]"
    ignored: str | None  # pyproject.toml's table when dubber.toml wins over it
    settings: tuple[SettingFact, ...]
    strays: tuple[tuple[str, str], ...]  # DUBBER_ variables that set nothing but look meant to: (name, why)


def config_checks(facts: ConfigFacts) -> list[Check]:
    """The config file found, each setting in effect with its source, and the ones that are not."""
    if facts.file:
        checks = [Check("config", f"{facts.file} in {facts.cwd}")]
    else:
        checks = [Check("config", f"no dubber.toml or [tool.dubber] in {facts.cwd}", ok=None)]
    if facts.ignored:
        checks.append(Check("config", f"{facts.ignored} is ignored: {facts.file} wins", ok=None))
    for fact in facts.settings:
        checks.append(_setting_check(fact))
    checks += [Check("setting", f"{name} {why}", ok=None) for name, why in facts.strays]
    return checks


def _setting_check(fact: SettingFact) -> Check:
    shown = f"{fact.label} = {fact.value} ({fact.source})"
    if fact.overridden_by:
        return Check("setting", f"{shown}, overridden by {fact.overridden_by}", ok=None)
    if not fact.refused_by:
        return Check("setting", shown)
    reasons = dict.fromkeys(why for _, why in fact.refused_by)
    if len(fact.refused_by) == len(fact.used_by):
        return Check("setting", f"{shown}: {'; '.join(reasons)}", ok=False)
    commands = ", ".join(f"dubber {command}" for command, _ in fact.refused_by)
    return Check("setting", f"{shown}: {commands} would refuse it: {'; '.join(reasons)}", ok=None)


def cache_checks(folder: Path) -> list[Check]:
    found = window_cache.stats(folder)
    return [Check("cache", f"{folder}: {found.entries} answers, {window_cache.human_size(found.bytes)}")]


def ping(choice: BackendChoice) -> Check:
    """One request of half a second of silence (text only): the cheapest proof that the endpoint, the
    key and the model answer. Its result is never cached."""
    spec = backend_spec(choice.name)
    task = "translate" if "translate" in spec.tasks else "transcribe"
    target = parse_lang(sorted(spec.targets)[0]) if spec.targets else parse_lang("en")
    request = TranslateRequest(target=target if task == "translate" else None, task=task)
    silence = WindowMedia(wav_bytes(np.zeros(ANALYSIS_RATE // 2, dtype=np.int16), ANALYSIS_RATE), "audio/wav")
    started = time.monotonic()
    try:
        make_backend(choice.name, choice.config).translate(silence, request)
    except DubberError as exc:
        return Check("ping", f"{choice.config.base_url} ({choice.config.model}): {exc}", ok=False)
    return Check("ping", f"{choice.config.base_url} ({choice.config.model}) answered in "
                         f"{time.monotonic() - started:.2f} s")
