"""Reliability end to end: the real CLI in a subprocess against emulators that misbehave on purpose.

Faults, retries, the window cache across runs and across a SIGKILL, windows that never succeed, hostile
model text and the API key's secrecy. Every emulator here is this module's own (the session one stays
clean); answers are deterministic, so a clean run's files are the reference every other run must match
byte for byte.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from dubber.media.tool import ffmpeg_exe
from tests.conftest import BARE_PATH, Run, without_progress
from tests.support.cues import read_srt, read_vtt
from tests.support.mediagen import compose, write_media

# Nine different sentences 2.5 s apart: longer than a long silence, so each is a window of its own.
SENTENCES = ["en01", "en02", "en03", "en04", "en05", "en06", "de01", "es01", "zh01"]
FAST = ["--retry-wait", "0.02"]  # the tests rehearse faults, not patience
SECRET = "sk-reliability-7f3c9e1d-secret-do-not-print"
# A line SRT readers take for a cue's timing line (ffmpeg re-times the cue by it).
TIMING_LINE = re.compile(r"^\s*\d+:\d+:\d+[,.]\d+\s*-->")


def dubber(emu: Emulator, *args: object, cache_home: Path, key: str = DEFAULT_KEY, timeout: float = 60) -> Run:
    proc = subprocess.run([sys.executable, "-m", "dubber", *map(str, args)], env=_env(emu, cache_home, key),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, without_progress(proc.stderr), proc.stderr)


def _env(emu: Emulator, cache_home: Path, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DASHSCOPE_API_KEY", "DUBBER_BASE_URL")}
    env.update(PATH=BARE_PATH, DASHSCOPE_API_KEY=key, DUBBER_BASE_URL=emu.base_url, XDG_CACHE_HOME=str(cache_home))
    return env


@dataclass(frozen=True)
class Reference:
    windows: int
    srt: bytes
    vtt: bytes


def outputs(folder: Path) -> tuple[bytes, bytes]:
    return (folder / "talk.en.srt").read_bytes(), (folder / "talk.en.vtt").read_bytes()


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    scene = compose([(2.5, name) for name in SENTENCES], tail_s=1.0)
    return write_media(scene.pcm, tmp_path_factory.mktemp("media") / "talk.mp4")


@pytest.fixture(scope="module")
def clean_emulator():
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def reference(talk, clean_emulator, tmp_path_factory) -> Reference:
    """A clean run: no faults, no cache."""
    out = tmp_path_factory.mktemp("reference")
    sent = clean_emulator.requests
    result = dubber(clean_emulator, "subtitles", talk, "--to", "en", "--no-cache", "--out-dir", out,
                    cache_home=tmp_path_factory.mktemp("cache-home"))
    assert result.code == 0, result.stderr
    windows = int(re.search(r"(\d+) windows", result.stderr).group(1))
    assert windows == len(SENTENCES) == clean_emulator.requests - sent
    return Reference(windows, *outputs(out))


# --- faults and retries ---------------------------------------------------------------------------

@pytest.mark.parametrize("jobs, retries", [
    # One at a time, a window's attempts take consecutive request numbers, and at most 5 in a row are
    # faulted by this schedule: the default 6 attempts always suffice.
    (1, 6),
    # Four at a time, attempts interleave: 60% of requests fail, so give each window more tries.
    (4, 20),
])
def test_faults_are_retried_and_change_nothing(talk, reference, tmp_path, cache_home, jobs, retries):
    faults = Faults(fail_429_every=3, fail_500_every=5, drop_stream_every=4, error_event_every=14,
                    retry_after=0.05)
    with Emulator(faults=faults) as emu:
        result = dubber(emu, "subtitles", talk, "--to", "en", "--no-cache", "--out-dir", tmp_path,
                        "--jobs", jobs, "--retries", retries, *FAST, cache_home=cache_home)
        stats = emu.stats
    assert result.code == 0, result.stderr
    assert outputs(tmp_path) == (reference.srt, reference.vtt)
    assert stats.answered == reference.windows
    assert stats.rate_limited and stats.server_errors and stats.dropped and stats.error_events
    assert stats.accepted == (reference.windows + stats.rate_limited + stats.server_errors + stats.dropped
                              + stats.error_events)


def test_under_a_concurrency_quota_requests_in_flight_back_off_and_the_run_converges(talk, reference, tmp_path,
                                                                                     cache_home):
    """An account that answers two requests at once (more get a 429): eight workers would be refused six
    at a time on every round; instead the number in flight is cut on the first 429s and grown back only
    slowly, so the run finishes with few 429s and the report says how far it backed off. (Measured on
    these nine windows: 10 429s, six of them the first burst's; 38 with the limit fixed at eight.)"""
    with Emulator(faults=Faults(max_in_flight=2, latency=0.3, retry_after=0.05)) as emu:
        result = dubber(emu, "dub", talk, "--to", "en", "--no-cache", "--jobs", "8", "--retries", "20",
                        "-o", tmp_path / "talk.en.mp4", *FAST, cache_home=cache_home)
        stats = emu.stats
    assert result.code == 0, result.stderr
    assert len(read_srt(tmp_path / "talk.en.srt")) >= reference.windows
    assert stats.answered == reference.windows
    assert 0 < stats.rate_limited <= 2 * reference.windows, f"{stats.rate_limited} 429s, {reference.windows} windows"
    report = json.loads((tmp_path / "talk.en.dub.json").read_text())
    assert report["rate_limits"]["jobs"] == 8 and report["rate_limits"]["cuts"] >= 1
    assert report["rate_limits"]["lowest_in_flight"] <= 2
    assert "rate-limited this run" in result.stderr


def test_moderation_inside_a_stream_stops_the_run_at_once(talk, tmp_path, cache_home):
    """A refusal that arrives as an error event mid-answer (content moderation) cannot be cured by
    retrying: the run stops with one line naming the window and the code, having written nothing."""
    faults = Faults(error_event_every=3, error_event_code="data_inspection_failed")
    with Emulator(faults=faults) as emu:
        result = dubber(emu, "subtitles", talk, "--to", "en", "--no-cache", "--out-dir", tmp_path, "--jobs", "1",
                        *FAST, cache_home=cache_home)
        stats = emu.stats
    assert result.code == 1
    [line] = result.stderr.strip().splitlines()
    assert re.fullmatch(r"dubber: error: window 2: the service refused the audio \(data_inspection_failed\): .+", line)
    assert stats.error_events == 1 and stats.accepted == 3, "a refused answer was retried or more were sent"
    assert list(tmp_path.iterdir()) == []


def test_second_run_makes_no_request(talk, reference, clean_emulator, tmp_path, cache_home):
    first = dubber(clean_emulator, "subtitles", talk, "--to", "en", "--out-dir", tmp_path, cache_home=cache_home)
    assert first.code == 0, first.stderr
    assert list((cache_home / "dubber").rglob("*.json")), "the default cache is under XDG_CACHE_HOME"
    sent = clean_emulator.requests
    second = dubber(clean_emulator, "subtitles", talk, "--to", "en", "--out-dir", tmp_path, cache_home=cache_home)
    assert second.code == 0, second.stderr
    assert clean_emulator.requests == sent, "the second run asked the service again"
    assert outputs(tmp_path) == (reference.srt, reference.vtt)


def test_sigkill_midway_then_rerun_pays_only_for_the_rest(talk, reference, tmp_path, cache_home):
    cache, out = tmp_path / "cache", tmp_path / "out"
    args = ["subtitles", talk, "--to", "en", "--out-dir", out, "--cache-dir", cache, "--jobs", "1"]
    with Emulator(faults=Faults(latency=0.4)) as emu:
        proc = subprocess.Popen([sys.executable, "-m", "dubber", *map(str, args)],
                                env=_env(emu, cache_home, DEFAULT_KEY), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while emu.stats.answered < 3 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        entries = list(cache.rglob("*.json"))
        assert all(json.loads(entry.read_text())["sha256"] for entry in entries), "a torn cache entry"
        cached = len(entries)
        assert 1 <= cached < reference.windows, "the kill should land midway"
        assert not out.exists() or not any(out.iterdir()), "a killed run left output behind"
        sent = emu.requests
        rerun = dubber(emu, "subtitles", talk, "--to", "en", "--out-dir", out, "--cache-dir", cache,
                       cache_home=cache_home)
        assert rerun.code == 0, rerun.stderr
        assert emu.requests - sent == reference.windows - cached
    assert outputs(out) == (reference.srt, reference.vtt)


def test_a_damaged_cache_costs_only_its_damaged_entries(talk, reference, clean_emulator, tmp_path, cache_home):
    cache = tmp_path / "cache"
    first = dubber(clean_emulator, "subtitles", talk, "--to", "en", "--out-dir", tmp_path, "--cache-dir", cache,
                   cache_home=cache_home)
    assert first.code == 0, first.stderr
    entries = sorted(cache.rglob("*.json"))
    damages = ["[]", "null", "{}", '{"format": 1, "sha256": "0", "body": {}}', "\xff\xfe", ""]
    for entry, damage in zip(entries, damages):
        entry.write_bytes(damage.encode("latin-1")[: len(damage)])
    sent = clean_emulator.requests
    second = dubber(clean_emulator, "subtitles", talk, "--to", "en", "--out-dir", tmp_path, "--cache-dir", cache,
                    cache_home=cache_home)
    assert second.code == 0, second.stderr
    assert clean_emulator.requests - sent == len(damages)
    assert second.stderr.count("dropping a damaged cache entry") == len(damages)
    assert outputs(tmp_path) == (reference.srt, reference.vtt)


def test_an_unusable_cache_folder_is_said_once_and_skipped(talk, reference, clean_emulator, tmp_path, cache_home):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = dubber(clean_emulator, "subtitles", talk, "--to", "en", "--out-dir", tmp_path / "out",
                    "--cache-dir", blocker, cache_home=cache_home)
    assert result.code == 0, result.stderr
    assert result.stderr.count("cannot read the window cache") == 1
    assert result.stderr.count("cannot write the window cache") == 1
    assert outputs(tmp_path / "out") == (reference.srt, reference.vtt)


def _windows_failing(faults: Faults, windows: int, attempts: int) -> list[int]:
    """Which windows a ``--jobs 1`` run leaves failed: its requests are numbered one after another."""
    number, failed = 0, []
    for window in range(windows):
        for _ in range(attempts):
            number += 1
            if faults.pick(number) is None:
                break
        else:
            failed.append(window)
    return failed


def test_windows_failing_after_retries_are_named_and_nothing_is_written(talk, reference, clean_emulator,
                                                                         tmp_path, cache_home):
    faults = Faults(fail_500_rate=0.6, seed=4)
    failed = _windows_failing(faults, reference.windows, attempts=2)
    assert 0 < len(failed) < reference.windows, "pick a seed that fails some windows, not all"
    cache, out = tmp_path / "cache", tmp_path / "out"
    with Emulator(faults=faults) as emu:
        result = dubber(emu, "subtitles", talk, "--to", "en", "--out-dir", out, "--cache-dir", cache,
                        "--jobs", "1", "--retries", "2", *FAST, cache_home=cache_home)
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    names = ", ".join(map(str, failed))
    assert lines[0].startswith(f"dubber: error: {len(failed)} of {reference.windows} windows failed after 2 attempts "
                               f"(windows {names}; "), lines[0]
    assert list(out.iterdir()) == [], "a failed run wrote output"
    # The windows that did succeed were kept: the rerun, against the same endpoint now healthy, pays for
    # the failed ones only. (Answers are cached per endpoint: another emulator's port would pay for all.)
    with Emulator(port=urlsplit(emu.base_url).port) as healthy:
        rerun = dubber(healthy, "subtitles", talk, "--to", "en", "--out-dir", out, "--cache-dir", cache,
                       cache_home=cache_home)
        assert rerun.code == 0, rerun.stderr
        assert healthy.requests == len(failed)
    assert outputs(out) == (reference.srt, reference.vtt)


def test_every_window_failing(talk, tmp_path, cache_home):
    with Emulator(faults=Faults(fail_500_rate=1.0)) as emu:
        result = dubber(emu, "subtitles", talk, "--to", "en", "--out-dir", tmp_path, "--retries", "2", *FAST,
                        cache_home=cache_home)
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "dubber: error: 9 of 9 windows failed after 2 attempts (windows 0, 1, 2, 3, 4, 5, 6, 7, 8; last error: "
        "the service failed (500): An internal error has occurred, please try again later or contact service "
        "support.)"]
    assert list(tmp_path.iterdir()) == []


# --- hostile text ------------------------------------------------------------------------------------

# Every window gets the same answer; each text stays short enough that its tricks reach the files, and
# ``shows`` lists what each file must then hold (escaped, or with the arrow defused in SRT).
HOSTILE = {
    "markup": ("We are done here, my friend. 00:00:03,000 --> 00:00:04,000 A fake cue.\n\n\n"
               "12\n00:00:01,000 --> 00:00:02,000\n\n<b>Bold</b> & <script>alert('x')</script> &amp;"),
    "controls": ("Control\x00chars\x07\x1b[31m\x7f\x85 and\u2028line\u2029breaks.\r\n \t \n\n" + "x" * 600 + "\n"),
    # valid JSON ("\ud800") that no UTF-8 file can hold, and bidi overrides that flip what follows
    "unicode": ("Lone \ud800 surrogate, \udfff another; \u202eevil\u202c override and \u2067isolate\u2069 kept. "
                "Then a second sentence follows, long enough that the window's text needs a cue more."),
}
SHOWS = {
    "markup": {"srt": ["\n00:00:03,000 -> 00:00:04,000 A fake cue.\n", "<b>Bold</b> &"],
               "vtt": ["\n00:00:03,000 --&gt; 00:00:04,000 A fake cue.\n", "&lt;b&gt;Bold&lt;/b&gt; &amp;",
                       "&lt;script&gt;"]},
    "controls": {"srt": ["Control chars [31m and line breaks.", "\n" + "x" * 42 + "\n"],
                 "vtt": ["Control chars [31m and line breaks.", "\n" + "x" * 42 + "\n"]},
    "unicode": {fmt: ["Lone \ufffd surrogate, \ufffd another;", "evil override", "\u2067isolate\u2069 kept."]
                for fmt in ("srt", "vtt")},
}


def ffmpeg_cue_count(path: Path) -> int:
    """Cues as ffmpeg's SRT reader counts them: a lenient one, that takes any line starting like a timing
    line for a new cue's timing, even inside a cue's text."""
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "srt", "-"], capture_output=True,
                          text=True, check=True)
    return sum(1 for line in proc.stdout.splitlines() if TIMING_LINE.match(line))


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_model_text_cannot_break_the_files(kind, talk, tmp_path, cache_home):
    with Emulator(answer_text=HOSTILE[kind]) as emu:
        result = dubber(emu, "subtitles", talk, "--to", "en", "--no-cache", "--out-dir", tmp_path,
                        cache_home=cache_home)
    assert result.code == 0, result.stderr
    reported = int(re.search(r"windows, (\d+) cues", result.stderr).group(1))
    paths = {fmt: tmp_path / f"talk.en.{fmt}" for fmt in ("srt", "vtt")}
    from_srt, from_vtt = read_srt(paths["srt"]), read_vtt(paths["vtt"])
    assert len(from_srt) == len(from_vtt) == reported > len(SENTENCES)
    assert [c[:2] for c in from_srt] == [c[:2] for c in from_vtt]
    assert ffmpeg_cue_count(paths["srt"]) == reported
    for _, _, text in from_srt + from_vtt:
        assert text.strip() and "\n\n" not in text
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]", text), repr(text)
    assert not list(tmp_path.glob(".*.part")), "a temporary file was left beside the outputs"
    for fmt, path in paths.items():
        raw = path.read_bytes().decode("utf-8")  # strict: valid UTF-8
        # The only lines that hold "-->" (or look like timings, for SRT readers) are the cues' own.
        assert sum("-->" in line for line in raw.splitlines()) == reported, fmt
        assert sum(bool(TIMING_LINE.match(line)) for line in raw.splitlines()) == reported, fmt
        for shown in SHOWS[kind][fmt]:
            assert shown in raw, (fmt, shown)
    assert "<script>" not in paths["vtt"].read_text(encoding="utf-8")


# --- secrets -----------------------------------------------------------------------------------------
def test_the_key_is_never_written_or_printed(talk, clean_emulator, tmp_path, cache_home):
    cache, out = tmp_path / "cache", tmp_path / "out"
    faults = Faults(fail_429_every=4, fail_500_every=5, retry_after=0.05)  # error paths log too
    with Emulator(keys=[SECRET], faults=faults) as emu:
        good = dubber(emu, "subtitles", talk, "--to", "en", "-vv", "--out-dir", out, "--cache-dir", cache,
                      "--retries", "10", *FAST, cache_home=cache_home, key=SECRET)
    assert good.code == 0, good.stderr[-2000:]
    assert "receive_response_headers" in good.stderr, "-vv logs the HTTP exchanges"
    bad = dubber(clean_emulator, "subtitles", talk, "--to", "en", "--out-dir", tmp_path / "bad",
                 "--no-cache", cache_home=cache_home, key=SECRET)
    assert bad.code == 1
    assert len(bad.stderr.strip().splitlines()) == 1 and "401" in bad.stderr and "API key" in bad.stderr
    files = [p for p in [*tmp_path.rglob("*"), *cache_home.rglob("*")] if p.is_file()]
    answers = [p for p in files if p.suffix == ".json" and p.parent.name != "ffmpeg"]  # not the ffmpeg check
    assert len(answers) == len(SENTENCES)
    assert {p.suffix for p in files} >= {".srt", ".vtt", ".json"}
    for text in (good.stdout, good.stderr, bad.stdout, bad.stderr):
        assert SECRET not in text
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
