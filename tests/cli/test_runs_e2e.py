"""What a run tells a CI job and a person at a terminal: the --report JSON (checked against its documented
schema, its token totals against what the emulator sent), batches of inputs, progress lines without control
characters off a terminal and bars on one, --quiet."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from dubber.emulator import DEFAULT_KEY, Emulator, Faults
from tests.conftest import PROGRESS_LINE
from tests.support.mediagen import compose, write_media
from tests.support.terminal import run_on_a_terminal

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())
SENTENCES = ["en01", "en02", "de01"]  # 2.5 s apart: a window each


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    return write_media(compose([(2.5, s) for s in SENTENCES], tail_s=1.0).pcm,
                       tmp_path_factory.mktemp("media") / "talk.wav")


def _report(path: Path) -> dict:
    report = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(report, SCHEMA)
    return report


def test_the_report_counts_the_tokens_the_emulator_sent_and_each_window(tmp_path, talk, run_dubber, emulator):
    before = emulator.stats
    report_path = tmp_path / "run.json"
    result = run_dubber("subtitles", talk, "--to", "en,fr", "--out-dir", tmp_path / "out", "--report", report_path)
    assert result.code == 0, result.stderr
    after = emulator.stats
    report = _report(report_path)
    assert report["command"] == "subtitles" and report["exit_code"] == 0 and report["languages"] == ["en", "fr"]
    assert report["backend"]["name"] == "livetranslate" and report["backend"]["endpoint"] == emulator.base_url
    sent = {k: getattr(after, f"{k}_tokens") - getattr(before, f"{k}_tokens") for k in ("prompt", "completion", "total")}
    assert sent["total"] > 0 and report["tokens"] == sent and report["runs"][0]["tokens"] == sent
    [run] = report["runs"]
    assert run["status"] == "ok" and run["outputs"] == result.stdout.split()
    windows = run["windows"]
    assert len(windows) == 2 * len(SENTENCES) == after.answered - before.answered
    assert sorted(w["language"] for w in windows) == ["en"] * 3 + ["fr"] * 3
    assert all(w["status"] == "ok" and w["attempts"] == 1 and not w["cached"] and w["end_ms"] > w["start_ms"]
               for w in windows)
    assert [s["name"] for s in run["stages"]] == ["extract", "translate", "translate", "write"]
    assert DEFAULT_KEY not in report_path.read_text()

    # The same run again: every answer from the cache, nothing sent, no token paid for this time.
    again = run_dubber("subtitles", talk, "--to", "en,fr", "--out-dir", tmp_path / "out", "--report", report_path)
    assert again.code == 0 and emulator.stats.answered == after.answered
    rerun = _report(report_path)["runs"][0]
    assert rerun["tokens"]["total"] == 0 and rerun["cached_tokens"] == sent
    assert all(w["cached"] and w["attempts"] == 0 for w in rerun["windows"])


def test_retries_show_as_attempts_and_cost_no_tokens(tmp_path, talk, dubber_env):
    with Emulator(port=0, faults=Faults(fail_500_every=2)) as flaky:
        env = {**dubber_env, "DUBBER_BASE_URL": flaky.base_url}
        proc = subprocess.run([sys.executable, "-m", "dubber", "transcribe", str(talk), "--backend", "asr",
                               "--out-dir", str(tmp_path), "--retry-wait", "0.05", "--report", str(tmp_path / "r.json")],
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        report = _report(tmp_path / "r.json")
        assert report["tokens"]["total"] == flaky.stats.total_tokens > 0
    [run] = report["runs"]
    assert run["requests"]["sent"] == flaky.stats.accepted == sum(w["attempts"] for w in run["windows"])
    assert run["requests"]["retried"] == sum(w["attempts"] > 1 for w in run["windows"]) >= 1


def test_a_failed_run_still_writes_its_report(tmp_path, talk, run_dubber):
    result = run_dubber("subtitles", talk, "--to", "en", "--model", "qwen-nope", "--out-dir", tmp_path / "out",
                        "--report", tmp_path / "r.json")
    assert result.code == 1
    report = _report(tmp_path / "r.json")
    [run] = report["runs"]
    assert report["exit_code"] == 1 and run["status"] == "failed" and "qwen-nope" in run["error"]
    assert run["outputs"] == [] and run["windows"][0]["status"] == "failed"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_warnings_reach_the_report(tmp_path, talk, dubber_env):
    wordy = "This sentence is far too long to be read in the short time its window lasts on screen. " * 3
    with Emulator(port=0, answer_text=wordy) as emu:
        env = {**dubber_env, "DUBBER_BASE_URL": emu.base_url}
        proc = subprocess.run([sys.executable, "-m", "dubber", "subtitles", str(talk), "--to", "en", "--out-dir",
                               str(tmp_path), "--report", str(tmp_path / "r.json")], env=env, capture_output=True,
                              text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [run] = _report(tmp_path / "r.json")["runs"]
    assert any("characters a second" in w for w in run["warnings"]), run["warnings"]


def test_a_batch_with_a_bad_input_writes_the_others_and_exits_non_zero(tmp_path, talk, run_dubber, emulator):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.wav", "c.wav"):
        (folder / name).write_bytes(talk.read_bytes())
    (folder / "b.wav").write_text("not media at all")
    out = tmp_path / "out"
    result = run_dubber("subtitles", str(folder / "*.wav"), "--to", "fr", "--out-dir", out,
                        "--report", tmp_path / "r.json")
    assert result.code == 1  # one input error among successes
    assert sorted(p.name for p in out.iterdir()) == ["a.fr.srt", "a.fr.vtt", "c.fr.srt", "c.fr.vtt"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("dubber: error:")]
    assert len(errors) == 1 and "b.wav" in errors[0]
    assert "3 inputs: 2 succeeded, 1 did not" in result.stderr and "Traceback" not in result.log
    runs = _report(tmp_path / "r.json")["runs"]
    assert [(Path(r["input"]).name, r["status"], r["exit_code"]) for r in runs] == [
        ("a.wav", "ok", 0), ("b.wav", "failed", 2), ("c.wav", "ok", 0)]


def test_a_batch_whose_inputs_would_share_files_is_refused_before_paying(tmp_path, talk, run_dubber, emulator):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "talk.wav").write_bytes(talk.read_bytes())
    sent = emulator.requests
    result = run_dubber("subtitles", tmp_path / "x" / "talk.wav", tmp_path / "y" / "talk.wav", "--to", "fr",
                        "--out-dir", tmp_path / "out")
    assert result.code == 2 and emulator.requests == sent and not (tmp_path / "out").exists()
    [line] = result.stderr.strip().splitlines()
    assert "would write the same files" in line


def test_off_a_terminal_progress_is_plain_timestamped_lines(tmp_path, talk, run_dubber):
    result = run_dubber("subtitles", talk, "--to", "fr", "--out-dir", tmp_path)
    assert result.code == 0
    progress = PROGRESS_LINE.findall(result.log)
    assert any(" dubber: extract" in line for line in progress)
    assert any(re.search(r" dubber: translate fr: done in [\d.]+ s", line) for line in progress), result.log
    # no control character at all (no \r, no escape sequence): a CI log shows every line as written
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.log + result.stdout), repr(result.log)


def test_quiet_says_nothing_but_lists_the_files(tmp_path, talk, run_dubber):
    result = run_dubber("subtitles", talk, "--to", "fr", "--out-dir", tmp_path, "--quiet")
    assert result.code == 0 and result.log == ""
    assert result.stdout.split() == [str(tmp_path / "talk.fr.srt"), str(tmp_path / "talk.fr.vtt")]


def _assert_bars(text: str) -> None:
    assert "translate fr" in text and "\r" in text and "windows" in text, repr(text)
    assert not PROGRESS_LINE.search(text)  # bars, not the log lines


def test_on_a_terminal_progress_is_drawn_as_bars(tmp_path, talk, dubber_env):
    drawn = run_on_a_terminal(["subtitles", talk, "--to", "fr", "--out-dir", tmp_path], dubber_env)
    assert drawn.code == 0, drawn.text
    assert drawn.on_pty or sys.platform == "win32"  # dubber found the terminal itself wherever there is a pty
    _assert_bars(drawn.text)


def test_where_there_is_no_pty_the_bars_are_drawn_on_a_pipe_when_asked(tmp_path, talk, dubber_env, monkeypatch):
    monkeypatch.setitem(sys.modules, "pty", None)  # `import pty` fails, as it does on Windows
    drawn = run_on_a_terminal(["subtitles", talk, "--to", "fr", "--out-dir", tmp_path], dubber_env)
    assert not drawn.on_pty and drawn.code == 0, drawn.text
    _assert_bars(drawn.text)


def test_plan_reports_its_estimate_and_sends_nothing(tmp_path, talk, run_dubber, emulator):
    sent = emulator.requests
    result = run_dubber("plan", talk, "--to", "fr,de", "--report", tmp_path / "plan.json")
    assert result.code == 0 and emulator.requests == sent
    report = _report(tmp_path / "plan.json")
    [run] = report["runs"]
    assert report["command"] == "plan" and report["languages"] == ["fr", "de"] and report["tokens"]["total"] == 0
    assert run["details"]["estimate"]["windows"] == len(SENTENCES) and run["windows"] == []
