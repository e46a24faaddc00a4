"""A catalog on a real Ray cluster (2 worker processes on this machine) against the emulator with an
account's quota of 4 requests in flight, through the real CLI: the files are the single process's, byte
for byte, for no more requests; a worker killed mid-batch costs only its windows in flight; a second run
with the cache on S3 (moto's server, a real S3 protocol on loopback) sends nothing."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import psutil

from tests.engine.conftest import QUOTA

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _subtitles(catalog, out: Path, cache: str, *extra: str) -> list[str]:
    return ["subtitles", *map(str, catalog), "--to", "fr", "--out-dir", str(out), "--cache-dir", cache, *extra]


def _single_process(inputs, folder: Path, run_dubber, env: dict[str, str]) -> None:
    """The reference: the inputs one after another in one process, into ``folder / "alone"``."""
    alone = run_dubber(*_subtitles(inputs, folder / "alone", str(folder / "cache-alone")), env=env)
    assert alone.code == 0, alone.stderr


def test_a_catalog_on_the_cluster_is_the_single_process_run_for_no_more_requests(
        catalog, cluster, quota_emulator, run_dubber, dubber_env, tmp_path):
    env = {**dubber_env, "DUBBER_BASE_URL": quota_emulator.base_url}
    _single_process(catalog, tmp_path, run_dubber, env)
    sent_alone = quota_emulator.stats.accepted
    report = tmp_path / "report.json"
    spread = run_dubber(*_subtitles(catalog, tmp_path / "spread", str(tmp_path / "cache-spread"), "--engine", "ray",
                                    "--address", cluster, "--account-concurrency", str(QUOTA), "--jobs", "4",
                                    "--report", str(report)), env=env, timeout=300)
    assert spread.code == 0, spread.stderr
    stats = quota_emulator.stats
    assert _files(tmp_path / "spread") == _files(tmp_path / "alone") and len(_files(tmp_path / "alone")) == 24
    # the two repeated inputs were paid for once, as the single process (which ran them after) pays
    assert 0 < stats.accepted - sent_alone <= sent_alone
    # 2 workers with 4 threads each could send 8 at once: the account's actor held them to the quota
    assert stats.rate_limited == 0 and 2 <= stats.peak_in_flight <= QUOTA
    document = json.loads(report.read_text())
    jsonschema.validate(document, SCHEMA)
    runs = document["runs"]
    assert [r["status"] for r in runs] == ["ok"] * len(catalog)
    assert sum(r["requests"]["sent"] for r in runs) == stats.accepted - sent_alone
    assert document["engine"]["account_concurrency"] == QUOTA
    assert document["engine"]["peak_in_flight"] == stats.peak_in_flight  # the actor's count is the emulator's
    assert "dubber: 12 inputs: 12 succeeded, 0 did not" in spread.stderr


def _talking_worker(port: int) -> psutil.Process | None:
    """A worker process running a dubber task (Ray titles it after the task's function) with a connection
    open to the emulator: one that has windows in flight, or had a moment ago."""
    for proc in psutil.process_iter(["cmdline"]):
        if any("ray::_in_folder" in part for part in proc.info["cmdline"] or ()):
            try:
                if any(c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
                       for c in proc.net_connections(kind="tcp")):
                    return proc
            except psutil.Error:  # it ended meanwhile
                continue
    return None


def test_a_worker_killed_mid_batch_costs_only_its_windows_in_flight(
        catalog, cluster, quota_emulator, run_dubber, dubber_env, tmp_path):
    env = {**dubber_env, "DUBBER_BASE_URL": quota_emulator.base_url}
    _single_process(catalog, tmp_path, run_dubber, env)
    sent_alone = quota_emulator.stats.accepted
    jobs = 2  # each worker's threads: the most windows a worker has in flight
    report = tmp_path / "report.json"
    args = _subtitles(catalog, tmp_path / "spread", str(tmp_path / "cache-spread"), "--engine", "ray",
                      "--address", cluster, "--account-concurrency", str(QUOTA), "--jobs", str(jobs),
                      "--report", str(report))
    batch = subprocess.Popen([sys.executable, "-m", "dubber", *args], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    port = int(quota_emulator.base_url.split(":")[2].split("/")[0])
    try:
        deadline = time.monotonic() + 120
        while (victim := _talking_worker(port)) is None or quota_emulator.stats.accepted - sent_alone < 6:
            assert time.monotonic() < deadline and batch.poll() is None, "the batch never got under way"
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        out, err = batch.communicate(timeout=300)
    finally:
        batch.kill()
    assert batch.returncode == 0, err
    assert _files(tmp_path / "spread") == _files(tmp_path / "alone")
    extra = (quota_emulator.stats.accepted - sent_alone) - sent_alone
    assert extra <= jobs, f"{extra} requests more than the single process made"
    assert quota_emulator.stats.peak_in_flight <= QUOTA
    document = json.loads(report.read_text())
    assert [r["status"] for r in document["runs"]] == ["ok"] * len(catalog)
    assert document["engine"]["workers_lost"] <= 1


def test_a_second_run_with_the_cache_on_s3_sends_nothing(catalog, cluster, aws_env, quota_emulator, run_dubber,
                                                          dubber_env, tmp_path):
    import fsspec

    env = {**dubber_env, **aws_env, "DUBBER_BASE_URL": quota_emulator.base_url}
    bucket = f"dubber-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    fs = fsspec.filesystem("s3", endpoint_url=aws_env["AWS_ENDPOINT_URL"], key="testing", secret="testing")
    fs.mkdir(bucket)
    cache = f"s3://{bucket}/windows"
    inputs = catalog[:4]
    # the first on a cluster dubber starts itself (its workers inherit this environment), the second joins ours
    first = run_dubber(*_subtitles(inputs, tmp_path / "first", cache, "--engine", "ray", "--workers", "2"),
                       env=env, timeout=300)
    assert first.code == 0, first.stderr
    paid = quota_emulator.stats.accepted
    assert paid > 0 and len(fs.find(f"{bucket}/windows")) == paid
    # ... and publishes its files to the bucket too, each input's as a set
    args = _subtitles(inputs, tmp_path / "unused", cache, "--engine", "ray", "--address", cluster)
    second = run_dubber(*args[:args.index("--out-dir") + 1], f"s3://{bucket}/out/", *args[args.index("--cache-dir"):],
                        env=env, timeout=300)
    assert second.code == 0, second.stderr
    assert quota_emulator.stats.accepted == paid
    made = _files(tmp_path / "first")
    assert sorted(second.stdout.split()) == sorted(f"s3://{bucket}/out/{name}" for name in made)
    assert {Path(key).name: fs.cat_file(key) for key in fs.find(f"{bucket}/out")} == made  # no part left over


def test_an_account_limit_above_the_quota_is_halved_for_the_whole_cluster(
        catalog, cluster, quota_emulator, run_dubber, dubber_env, tmp_path):
    env = {**dubber_env, "DUBBER_BASE_URL": quota_emulator.base_url}
    inputs = catalog[2:8]
    _single_process(inputs, tmp_path, run_dubber, env)
    answered = quota_emulator.stats.answered
    # told 8, on an account that answers 4 at once: the 429s cut the one limit every worker draws from
    spread = run_dubber(*_subtitles(inputs, tmp_path / "spread", str(tmp_path / "cache-spread"), "--engine", "ray",
                                    "--address", cluster, "--account-concurrency", "8", "--jobs", "4",
                                    "--retry-wait", "0.2"), env=env, timeout=300)
    assert spread.code == 0, spread.stderr
    assert quota_emulator.stats.rate_limited > 0
    assert re.search(r"the cluster's requests in flight were cut \d+ times, to [1-4] at the fewest \(of 8\)",
                     spread.stderr)
    assert quota_emulator.stats.answered - answered == answered
    assert _files(tmp_path / "spread") == _files(tmp_path / "alone")
