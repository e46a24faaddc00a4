"""What a Ray cluster buys a catalog when the account, not the workers, is the limit: ``dubber subtitles`` on
--inputs distinct inputs (3-4 windows each) with ``--engine local`` and with ``--engine ray --workers W``
for each W, against an emulator whose account quota (``max_in_flight``) is --limit and which answers each
request after --latency seconds.

Run from the repository root:  python benchmarks/engine_bench.py [--inputs 24] [--latency 1.0] [--limit 4]
                                   [--jobs 2] [--workers 1,2,4] [--out results.json]

Every run gets a fresh emulator (its peak in flight is that run's), a fresh cache and a fresh output folder.
The Ray runs pass ``--account-concurrency LIMIT --jobs JOBS``: each worker runs JOBS request threads and the
account's actor holds the whole cluster to LIMIT in flight. "wall s" is the CLI's whole run (Ray's start-up
included); "requests" the windows the emulator accepted; "windows/s" requests / wall. Every run's files are
compared byte for byte with the local run's.

The cluster's start-up overhead is estimated as the wall time of a 1-input run on ``--engine ray --workers
1`` less that of the same input on ``--engine local`` (--no-overhead skips it).

RESULTS (this machine: 2 cores, load 1.2 at the start; --workers 1,2,4,8, other options at their defaults):

    | engine | workers | jobs/worker | account limit | wall s | requests | windows/s | peak in flight | 429s |
    | local  |       - |           2 |           (4) |   50.6 |       76 |      1.50 |              2 |    0 |
    | ray    |       1 |           2 |             4 |   55.5 |       76 |      1.37 |              2 |    0 |
    | ray    |       2 |           2 |             4 |   31.3 |       76 |      2.43 |              4 |    0 |
    | ray    |       4 |           2 |             4 |   27.6 |       76 |      2.75 |              4 |    0 |
    | ray    |       8 |           2 |             4 |   30.6 |       76 |      2.48 |              4 |    0 |

    cluster start-up (1 input): 9.2 s on ray --workers 1 against 3.1 s local: about 6 s
    floor at the account limit: 76 requests x 1 s / 4 = 19 s, plus start-up: 25 s

Reading: 1 -> 2 workers doubles the requests in flight (peak 2 -> 4) and cuts the time by 44%. From there
the account limit, not the workers, bounds the run: 4 and 8 workers never have more than 4 requests in
flight (no 429s: the actor holds the cluster to the quota) and take 27.6 and 30.6 s, within a few seconds of
the 25 s floor (4 workers fill the permits 2 workers leave idle at each input's last, partial round; 8 add
only their start-up on 2 cores). Every run's files are the local run's, byte for byte.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from itertools import permutations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dubber.emulator import DEFAULT_KEY, Emulator, Faults  # noqa: E402
from tests.support.mediagen import compose, write_media  # noqa: E402

CLIPS = ("en01", "de01", "en02", "es01", "en03", "zh01", "en04", "en05", "en06")
PAUSE_S = 0.9  # as tests/engine/conftest.py: 4 sentences 0.9 s apart make about 3 windows


@dataclass
class Result:
    label: str
    engine: str
    workers: int | None
    jobs: int
    limit: int
    inputs: int
    code: int
    wall_s: float
    requests: int
    answered: int
    rate_limited: int
    peak_in_flight: int
    files: int
    identical: bool | None = None  # to the baseline's files, byte for byte
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0


def make_catalog(folder: Path, n: int) -> list[Path]:
    """``n`` inputs of 4 sentences each, no two with the same sentences in the same order (distinct media)."""
    pool = list(permutations(CLIPS, 4))
    step = max(1, len(pool) // max(n, 1)) + 1  # spread the picks: neighbours differ in their first sentence
    picked = [pool[(i * step) % len(pool)] for i in range(n)]
    assert len(set(picked)) == n, "catalog orders repeat"
    folder.mkdir(parents=True, exist_ok=True)
    inputs = []
    for i, order in enumerate(picked):
        scene = compose([(PAUSE_S, name) for name in order], tail_s=0.5)
        inputs.append(write_media(scene.pcm, folder / f"item{i:02d}.wav"))
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs}
    assert len(digests) == n, "two inputs have the same media"
    return inputs


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def base_env(work: Path) -> dict[str, str]:
    # no DUBBER_* setting of the caller's shell (DUBBER_JOBS, ...) may change what is measured
    env = {k: v for k, v in os.environ.items() if k != "DASHSCOPE_API_KEY" and not k.startswith("DUBBER_")}
    env.update(DASHSCOPE_API_KEY=DEFAULT_KEY, XDG_CACHE_HOME=str(work / "xdg-cache"))
    return env


def run(label: str, inputs: list[Path], work: Path, *, engine: str, workers: int | None, jobs: int, limit: int,
        latency: float, timeout: float) -> tuple[Result, dict[str, bytes]]:
    out, cache = work / f"out-{label}", work / f"cache-{label}"
    args = ["subtitles", *map(str, inputs), "--to", "fr", "--out-dir", str(out), "--cache-dir", str(cache),
            "--jobs", str(jobs)]
    if engine == "ray":
        args += ["--engine", "ray", "--workers", str(workers), "--account-concurrency", str(limit)]
    with Emulator(port=0, faults=Faults(max_in_flight=limit, latency=latency)) as emu:
        env = {**base_env(work), "DUBBER_BASE_URL": emu.base_url}
        before = emu.stats
        started = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, "-m", "dubber", *args], env=env, cwd=str(ROOT),
                                  capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
            code, stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, stderr = -1, f"timed out after {timeout:.0f} s\n{exc.stderr or ''}"
            if isinstance(stderr, bytes):
                stderr = stderr.decode(errors="replace")
        wall = time.monotonic() - started
        after = emu.stats
    made = files_of(out)
    lines = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()]
    result = Result(label=label, engine=engine, workers=workers, jobs=jobs, limit=limit, inputs=len(inputs),
                    code=code, wall_s=round(wall, 2), requests=after.accepted - before.accepted,
                    answered=after.answered - before.answered,
                    rate_limited=after.rate_limited - before.rate_limited,
                    peak_in_flight=after.peak_in_flight, files=len(made),
                    stderr_tail=lines[-40:] if code != 0 else [line for line in lines if line.startswith("dubber:")
                                     and not re.match(r"dubber: \d+ windows?, \d+ cues?", line)][-5:])
    return result, made


def table(results: list[Result]) -> str:
    rows = ["| engine | workers | jobs/worker | account limit | wall s | requests | windows/s | peak in flight "
            "| 429s | exit | same files |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        same = "baseline" if r.identical is None else ("yes" if r.identical else "**NO**")
        rows.append(f"| {r.engine} | {r.workers if r.workers is not None else '-'} | {r.jobs} "
                    f"| {r.limit if r.engine == 'ray' else f'({r.limit})'} | {r.wall_s:.1f} | {r.requests} "
                    f"| {r.per_s:.2f} | {r.peak_in_flight} | {r.rate_limited} | {r.code} | {same} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=24, help="distinct inputs in the catalog [24]")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds before each answer [1.0]")
    parser.add_argument("--limit", type=int, default=4,
                        help="the account's quota at the emulator, and --account-concurrency [4]")
    parser.add_argument("--jobs", type=int, default=2, help="request threads per worker (and locally) [2]")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated Ray worker counts [1,2,4]")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument("--no-overhead", action="store_true", help="skip the 1-input start-up estimate")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed each CLI run [600]")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (its path is printed)")
    opts = parser.parse_args()
    worker_counts = [int(w) for w in opts.workers.split(",") if w.strip()]

    work = Path(tempfile.mkdtemp(prefix="engine-bench-"))
    print(f"# engine bench: {opts.inputs} inputs, latency {opts.latency} s, account limit {opts.limit}, "
          f"{opts.jobs} jobs per worker, workers {worker_counts}; {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; work {work}", flush=True)
    t0 = time.monotonic()
    inputs = make_catalog(work / "catalog", opts.inputs)
    print(f"catalog: {len(inputs)} distinct WAV inputs in {time.monotonic() - t0:.1f} s", flush=True)
    common = dict(jobs=opts.jobs, limit=opts.limit, latency=opts.latency, timeout=opts.timeout)

    results: list[Result] = []
    baseline, base_files = run("local", inputs, work, engine="local", workers=None, **common)
    results.append(baseline)
    print(f"  local: {baseline.wall_s:.1f} s, {baseline.requests} requests, exit {baseline.code}", flush=True)
    ok = baseline.code == 0 and bool(base_files)
    for w in worker_counts:
        r, made = run(f"ray-w{w}", inputs, work, engine="ray", workers=w, **common)
        r.identical = made == base_files and bool(made)
        results.append(r)
        print(f"  ray --workers {w}: {r.wall_s:.1f} s, {r.requests} requests, peak {r.peak_in_flight}, "
              f"429s {r.rate_limited}, exit {r.code}", flush=True)

    overhead = None
    if not opts.no_overhead:
        one_local, _ = run("one-local", inputs[:1], work, engine="local", workers=None, **common)
        one_ray, _ = run("one-ray", inputs[:1], work, engine="ray", workers=1, **common)
        overhead = {"local_s": one_local.wall_s, "ray_w1_s": one_ray.wall_s,
                    "overhead_s": round(one_ray.wall_s - one_local.wall_s, 2),
                    "codes": [one_local.code, one_ray.code]}

    print()
    print(table(results))
    print()
    if overhead:
        print(f"Cluster start-up overhead (1 input): ray --workers 1 {overhead['ray_w1_s']:.1f} s - local "
              f"{overhead['local_s']:.1f} s = {overhead['overhead_s']:.1f} s")
    if baseline.requests:
        floor = baseline.requests * opts.latency / opts.limit
        print(f"At the account limit the requests alone take at least {baseline.requests} x {opts.latency:g} s / "
              f"{opts.limit} = {floor:.1f} s (start-up, decoding and writing come on top).")
    print(f"Baseline wrote {baseline.files} files ({baseline.inputs} inputs).")
    for r in results[1:]:
        print(f"{r.label}: {'byte-identical to the baseline' if r.identical else 'DIFFERENT from the baseline'}"
              f" ({r.files} files)")
    over = [r.label for r in results if r.peak_in_flight > opts.limit]
    limited = [r.label for r in results if r.rate_limited]
    print(f"peak in flight <= {opts.limit} in every run: {'yes' if not over else 'NO: ' + ', '.join(over)}; "
          f"429s: {'none' if not limited else ', '.join(limited)}")
    for r in results:
        if r.code != 0:
            ok = False
            print(f"\n{r.label} exited {r.code}; stderr tail:\n  " + "\n  ".join(r.stderr_tail))
        elif r.stderr_tail:
            print(f"{r.label}: " + " / ".join(r.stderr_tail))
    ok = ok and all(r.identical for r in results[1:]) and not over and not limited

    if opts.out:
        opts.out.write_text(json.dumps({
            "settings": {"inputs": opts.inputs, "latency": opts.latency, "limit": opts.limit, "jobs": opts.jobs,
                         "workers": worker_counts, "cpus": os.cpu_count(), "python": platform.python_version()},
            "runs": [{**asdict(r), "windows_per_s": round(r.per_s, 3)} for r in results],
            "overhead": overhead, "ok": ok}, indent=2))
        print(f"results: {opts.out}")
    if not opts.keep:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
