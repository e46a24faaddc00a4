"""`dubber doctor`: what dubber will use on this machine, checked without paying for anything (unless
asked to ping the endpoint with one tiny request). Facts only; the CLI words them."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dubber.backends import FAMILIES, TranslateRequest, WindowMedia, backend_spec, make_backend
from dubber.errors import DubberError
from dubber.jobs.common import BackendChoice
from dubber.languages import parse_lang
from dubber.media.audio import ANALYSIS_RATE, wav_bytes
from dubber.media.stretch import stretch_method
from dubber.media.tool import ffmpeg_exe, ffmpeg_source, ffmpeg_version
from dubber.translate import cache as window_cache


@dataclass(frozen=True)
class Check:
    """One line of the doctor's findings: a name, what was found, and whether it is fine."""

    name: str
    found: str
    ok: bool | None = True  # None: worth knowing, neither fine nor wrong (a family's key you may not need)


def tool_checks() -> list[Check]:
    """ffmpeg (which, its version, where from) and the time stretch it offers."""
    try:
        exe, source, version = ffmpeg_exe(), ffmpeg_source(), ffmpeg_version()
    except DubberError as exc:
        return [Check("ffmpeg", str(exc), ok=False)]
    stretch = stretch_method()
    note = "Rubber Band (best for speech)" if stretch == "rubberband" else "atempo (no Rubber Band in this ffmpeg)"
    return [Check("ffmpeg", f"{exe} ({source}): {version}"), Check("time stretch", note)]


def key_checks() -> list[Check]:
    """Whether each family's key is set: its variable's name and length, never the key."""
    checks = []
    for family in FAMILIES.values():
        key = os.environ.get(family.key_env, "")
        url = os.environ.get(family.url_env) or f"{family.default_url} (default)"
        found = f"{family.key_env} is set ({len(key)} characters)" if key else f"{family.key_env} is not set"
        checks.append(Check(f"{family.name} key", found, ok=True if key else None))
        checks.append(Check(f"{family.name} endpoint", url))
    return checks


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
