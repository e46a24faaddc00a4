"""Issue #19's figures: a dub from given subtitles, and an edited dub re-voiced only where it changed.

Runs the CLI (a subprocess, as a user runs it) against the emulator on generated talks, decodes every dub
and measures it; prints one line per figure. The tests (tests/jobs/test_dub_text_e2e.py) hold the same
runs to the issue's thresholds; this prints the figures themselves, over several talks.

    python benchmarks/dub_text_bench.py --talks 3
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import srt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dubber.emulator import DEFAULT_KEY, Emulator  # noqa: E402
from tests.support import avprobe  # noqa: E402
from tests.support.mediagen import compose, write_media  # noqa: E402

NAMES = ["en01", "en02", "en03", "en04", "en05", "en06"]
WORDS = "bonjour merci nous avons le temps de parler ensemble aujourd'hui et demain sans doute la réunion".split()
MS = timedelta(milliseconds=1)


def cli(emulator, workdir: Path, *args) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBBER_")}
    env.update(DASHSCOPE_API_KEY=DEFAULT_KEY, DUBBER_BASE_URL=emulator.base_url, OPENAI_API_KEY=DEFAULT_KEY,
               OPENAI_BASE_URL=emulator.openai_base_url, XDG_CACHE_HOME=str(workdir / "cache"))
    done = subprocess.run([sys.executable, "-m", "dubber", *map(str, args)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)


def text(chars: int, rng: random.Random) -> str:
    words: list[str] = []
    while len(" ".join(words)) < chars:
        words.append(rng.choice(WORDS))
    return " ".join(words).capitalize() + "."


def given_cues(scene, rng) -> list[srt.Subtitle]:
    return [srt.Subtitle(n, u.start_ms * MS, (u.end_ms + 400) * MS, text(round((u.end_ms + 400 - u.start_ms) * 0.013), rng))
            for n, u in enumerate(scene.speech, start=1)]


def voicing(emulator, scene, workdir: Path, backend: str, rng) -> tuple[float, float, int]:
    """(share of cues voiced, share of dubbed speech outside its cue, requests per cue)."""
    subs = given_cues(scene, rng)
    (workdir / "given.fr.srt").write_text(srt.compose(subs), encoding="utf-8")
    since = emulator.requests
    cli(emulator, workdir, "dub", workdir / "talk.wav", "--backend", backend, "--subtitles", workdir / "given.fr.srt",
        "--mix", "replace", "-o", workdir / f"{backend}.wav")
    dub, rate = avprobe.decode_audio(workdir / f"{backend}.wav", 0)
    voiced = avprobe.voiced_ms(dub, rate)
    spans = [(s.start // MS, s.end // MS) for s in subs]
    heard = [sum(1 for t in voiced if a <= t < b) * 10 >= 300 for a, b in spans]
    outside = sum(1 for t in voiced if not any(a <= t and t + 10 <= b for a, b in spans))
    return sum(heard) / len(heard), outside / max(1, len(voiced)), (emulator.requests - since) / len(subs)


def edit(emulator, workdir: Path) -> tuple[int, float, int, float]:
    """Dub, edit 2 cues' words, re-dub: (requests, correlation outside them); move one: (requests, lag ms)."""
    cli(emulator, workdir, "dub", workdir / "talk.wav", "--to", "fr", "--mix", "replace")
    shutil.copy(workdir / "talk.fr.wav", workdir / "first.wav")
    sidecar = workdir / "talk.fr.srt"
    original = list(srt.parse(sidecar.read_text(encoding="utf-8")))
    subs = list(original)
    for k in (1, 3):
        subs[k] = srt.Subtitle(subs[k].index, subs[k].start, subs[k].end, "Une phrase revue par un relecteur.")
    sidecar.write_text(srt.compose(subs), encoding="utf-8")
    since = emulator.requests
    cli(emulator, workdir, "dub", workdir / "talk.wav", "--to", "fr", "--mix", "replace", "--subtitles", sidecar)
    edited_requests = emulator.requests - since
    before, rate = avprobe.decode_audio(workdir / "first.wav", 0)
    after, _ = avprobe.decode_audio(workdir / "talk.fr.wav", 0)
    keep = np.ones(len(before), dtype=bool)
    for k in (1, 3):
        keep[subs[k].start // MS * rate // 1000:subs[k + 1].start // MS * rate // 1000] = False
    correlation = float(np.corrcoef(before[keep], after[keep])[0, 1])

    subs = list(original)
    subs[2] = srt.Subtitle(subs[2].index, subs[2].start + 300 * MS, subs[2].end + 300 * MS, subs[2].content)
    sidecar.write_text(srt.compose(subs), encoding="utf-8")
    since = emulator.requests
    cli(emulator, workdir, "dub", workdir / "talk.wav", "--to", "fr", "--mix", "replace", "--subtitles", sidecar)
    moved_requests = emulator.requests - since
    moved, _ = avprobe.decode_audio(workdir / "talk.fr.wav", 0)
    start, end = subs[2].start // MS - 300, subs[3].start // MS
    old, new = before[start * rate // 1000:end * rate // 1000], moved[start * rate // 1000:end * rate // 1000]
    lags = [np.dot(old[:len(old) - lag * rate // 1000], new[lag * rate // 1000:]) for lag in range(600)]
    return edited_requests, correlation, moved_requests, float(np.argmax(lags))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--talks", type=int, default=3)
    args = parser.parse_args()
    with Emulator(port=0) as emulator:
        for seed in range(args.talks):
            rng = random.Random(seed)
            layout = [(rng.choice([0.6, 0.9, 1.2, 1.6]), rng.choice(NAMES)) for _ in range(8)]
            scene = compose(layout, tail_s=1.5, seed=seed)
            with tempfile.TemporaryDirectory() as tmp:
                workdir = Path(tmp)
                write_media(scene.pcm, workdir / "talk.wav")
                for backend in ("livetranslate", "whisper"):
                    heard, outside, per_cue = voicing(emulator, scene, workdir, backend, rng)
                    print(f"talk {seed} {backend}: {heard:.0%} of cues voiced, {outside:.1%} of the dubbed speech "
                          f"outside its cue, {per_cue:g} requests a cue", flush=True)
                edited, correlation, moved, lag = edit(emulator, workdir)
                print(f"talk {seed} edit: 2 cues edited -> {edited} requests, outside them r = {correlation:.4f}; "
                      f"a cue moved 300 ms -> {moved} requests, its speech moved {lag:.0f} ms", flush=True)


if __name__ == "__main__":
    main()
