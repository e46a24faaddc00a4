"""Issue #21's measurement: how long after an utterance ends its caption is in ``live.<lang>.vtt``.

`dubber live` runs as a user runs it (a subprocess of the CLI) on a generated talk, against the emulator
answering every request after 1.0 s; this tails the rolling VTT as it grows (every 10 ms) and notes when
each cue appeared, counted from the process's start (so start-up counts). An utterance's latency runs from
its end to the moment the cues of the window holding its end were in the file (the run's report says which
cues each window wrote). Talks alternate "pauses" (0.6-1.6 s between utterances) and "continuous" (none).

    python benchmarks/live_latency.py --minutes 3                 # real time: the latency
    python benchmarks/live_latency.py --minutes 60 --speed 8      # an hour at 8x: memory and latency growth

At ``--speed N`` the talk is read N times faster while the answers still take 1.0 s: the windows come N
times as often, so N times as many requests must be in flight (``--jobs``, 4 a unit of speed by default)
or they queue and the latency grows without end (at 8x with 4 jobs: median 54 s after an hour's
half). What matters there is that latency and memory do not grow.

RESULTS, 2026-12-03 (2 cores; the emulator answering every request after 1.0 s):

``--minutes 3`` (real time; 1.5 minutes of each talk), at 4f58796:

    pauses:     27 of 27 utterances captioned, latency median 1.32 s, p90 1.35 s, max 1.35 s; RSS 98-99 MiB
    continuous: 36 of 36 utterances captioned, latency median 1.58 s, p90 2.05 s, max 2.30 s; RSS 98-100 MiB

``--minutes 60 --speed 8`` (32 requests in flight; 30 minutes of each talk), at 4fbdf7a (the captions'
code as now):

    pauses:     508 utterances, latency median 1.08 s, p90 1.09 s, max 3.10 s; halves' medians 1.08 / 1.08 s;
                RSS at most 112 MiB
    continuous: 720 utterances, latency median 1.12 s, p90 1.19 s, max 3.63 s; halves' medians 1.13 / 1.12 s;
                RSS at most 113 MiB

The same hour with the default 4 requests in flight queues (median 54 s over the first talk, growing):
at 8x a stream needs 8 times the requests in flight of one at real time.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import webvtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dubber.emulator import DEFAULT_KEY, Emulator, Faults  # noqa: E402
from tests.support.live import caption_latencies  # noqa: E402
from tests.support.mediagen import compose, write_media  # noqa: E402

NAMES = ["en01", "en02", "en03", "en04", "en05", "en06"]


def talk(minutes: float, continuous: bool, seed: int):
    rng = random.Random(seed)
    layout, total = [], 0.0
    while total < minutes * 60:
        pause = 0.0 if continuous and layout else rng.choice([0.6, 0.8, 1.0, 1.3, 1.6])
        layout.append((pause, rng.choice(NAMES)))
        total += pause + 2.5
    return compose(layout, tail_s=1.5, seed=seed)


def _ms(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    return round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def run(scene, speed: float, jobs: int, workdir: Path, emulator) -> dict:
    media = write_media(scene.pcm, workdir / "talk.wav")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBBER_") and k != "DASHSCOPE_API_KEY"}
    env.update(DASHSCOPE_API_KEY=DEFAULT_KEY, DUBBER_BASE_URL=emulator.base_url, XDG_CACHE_HOME=str(workdir / "c"))
    pace = ["--realtime"] if speed == 1 else ["--speed", str(speed)]
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "dubber", "live", str(media), "--to", "fr", "--out",
                             str(workdir / "out"), "-q", "--report", str(workdir / "report.json"), "--jobs", str(jobs), *pace], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    vtt, seen, appeared, rss = workdir / "out" / "live.fr.vtt", 0, [], []
    watched = psutil.Process(proc.pid)
    last_rss = 0.0
    while proc.poll() is None:
        size = vtt.stat().st_size if vtt.exists() else 0
        if size:
            count = vtt.read_text(encoding="utf-8").count(" --> ")
            appeared += [time.monotonic() - started] * (count - seen)
            seen = count
        if time.monotonic() - last_rss > 1.0:
            last_rss = time.monotonic()
            try:
                rss.append((last_rss - started, watched.memory_info().rss / 2**20))
            except psutil.Error:
                pass
        time.sleep(0.01)
    err = proc.stderr.read()
    if proc.returncode != 0:
        raise SystemExit(f"dubber live failed: {err}")
    latencies = caption_latencies(workdir / "report.json", scene.speech, appeared, speed)
    cues = [(_ms(c.start), _ms(c.end)) for c in webvtt.read(str(vtt))]
    captioned = sum(any(a < u.end_ms and b > u.start_ms for a, b in cues) for u in scene.speech)
    return {"latencies": list(zip((u.end_ms / 1000 for u in scene.speech), latencies)), "rss": rss,
            "captioned": captioned}


def summary(name: str, result: dict) -> str:
    lat = np.array([x for _, x in result["latencies"]])
    rss = [m for _, m in result["rss"]]
    steady = rss[len(rss) // 10:] or rss  # after start-up
    half = len(lat) // 2
    return (f"{name}: {result['captioned']} of {len(lat)} utterances captioned, latency median {np.median(lat):.2f} s, p90 {np.percentile(lat, 90):.2f} s, "
            f"max {lat.max():.2f} s; first half median {np.median(lat[:half]):.2f} s, second half "
            f"{np.median(lat[half:]):.2f} s; RSS after start-up {steady[0]:.0f} MiB, at the end {steady[-1]:.0f}, "
            f"at most {max(rss):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=None,
                        help="requests in flight (default: 4 a unit of speed: at 8x the windows come 8 times as often)")
    args = parser.parse_args()
    jobs = args.jobs or max(4, round(4 * args.speed))
    with Emulator(port=0, faults=Faults(latency=1.0)) as emulator:
        for continuous in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                scene = talk(args.minutes / 2, continuous, seed=1)
                result = run(scene, args.speed, jobs, Path(tmp), emulator)
                print(summary("continuous" if continuous else "pauses", result), flush=True)


if __name__ == "__main__":
    main()
