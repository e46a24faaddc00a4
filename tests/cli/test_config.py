"""Settings from DUBBER_* variables, dubber.toml and [tool.dubber]: the precedence and the file's rules seen
through the real CLI run in a folder of its own, the errors one line each, and the doctor's account."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dubber.cli import cli
from dubber.cli.config import default_map, load_settings
from dubber.errors import OptionError
from dubber.translate.fetch import FetchOptions
from tests.conftest import Run
from tests.support.mediagen import compose, write_media

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-settings-must-never-print-this-0123456789"


@pytest.fixture(scope="module")
def talk(tmp_path_factory) -> Path:
    return write_media(compose([(0.3, "en01")], tail_s=0.3).pcm, tmp_path_factory.mktemp("media") / "talk.wav")


@pytest.fixture()
def dubber_in(dubber_env, tmp_path):
    """Runs the CLI with ``tmp_path`` as the current folder, where the config files are looked for."""
    def run(*args: object, env: dict[str, str] | None = None) -> Run:
        full = {**(env or dubber_env), "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "dubber", *map(str, args)], cwd=tmp_path, env=full,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def _lanes(result: Run) -> int:
    assert result.code == 0, result.stderr
    return int(re.search(r"with requests (\d+) at a time", result.stdout).group(1))


@pytest.mark.parametrize("in_file, in_env, on_line, expected", [
    (False, False, False, FetchOptions().jobs),
    (True, False, False, 1),
    (False, True, False, 2),
    (True, True, False, 2),
    (True, False, True, 3),
    (True, True, True, 3),
])
def test_the_option_beats_the_variable_beats_the_file(in_file, in_env, on_line, expected, tmp_path, talk,
                                                     dubber_in, dubber_env):
    if in_file:
        (tmp_path / "dubber.toml").write_text("jobs = 1\n")
    env = {**dubber_env, "DUBBER_JOBS": "2"} if in_env else dubber_env
    assert _lanes(dubber_in("plan", talk, *(["--jobs", "3"] if on_line else []), env=env)) == expected


def test_pyproject_tool_dubber_is_read_and_dubber_toml_wins_over_it(tmp_path, talk, dubber_in):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.dubber]\njobs = 7\n')
    assert _lanes(dubber_in("plan", talk)) == 7
    (tmp_path / "dubber.toml").write_text("retries = 2\n")  # no jobs: pyproject's table is not merged in
    assert _lanes(dubber_in("plan", talk)) == FetchOptions().jobs
    doctor = dubber_in("doctor", "--cache-dir", tmp_path / "cache").stdout.splitlines()
    assert f"ok   config: dubber.toml in {tmp_path}" in doctor
    assert "--   config: pyproject.toml [tool.dubber] is ignored: dubber.toml wins" in doctor


def test_a_command_table_overrides_the_top_level_for_that_command_only(tmp_path, talk, dubber_in):
    (tmp_path / "dubber.toml").write_text('jobs = 2\nformat = ["srt", "ass"]\n\n[plan]\njobs = 5\n')
    assert _lanes(dubber_in("plan", talk)) == 5
    # --help shows the default in effect: the top-level values reach the other commands
    assert re.search(r"--jobs INTEGER RANGE\s+Windows sent at once\.\s+\[default: 2;", dubber_in("dub", "--help").stdout)
    assert re.search(r"\[default:\s+srt,ass\]", dubber_in("transcribe", "--help").stdout)


def test_a_file_setting_reaches_a_real_run(tmp_path, dubber_in):
    talk = write_media(compose([(0.3, "en01")], tail_s=0.3).pcm, tmp_path / "talk.wav")
    (tmp_path / "dubber.toml").write_text('to = "fr"\n\n[subtitles]\nformat = "ass"\n')
    result = dubber_in("subtitles", talk)  # --to is required: the file gives it
    assert result.code == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "talk.fr.ass")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dubber.toml", "talk.fr.ass", "talk.wav"]


BROKEN = {
    "unknown key": ("jbos = 4\n", "dubber.toml: unknown setting 'jbos' (did you mean 'jobs'?)"),
    "far from any key": ("colour = 'red'\n", "dubber.toml: unknown setting 'colour' (known: account-concurrency, address, backend, "),
    "key of another command": ('[subtitles]\nvoice = "Ethan"\n',
                               "dubber.toml: [subtitles] voice: dubber subtitles has no --voice option"),
    "not a command": ("[emulator]\nport = 1\n", "dubber.toml: [emulator] is not a command settings apply to"),
    "not TOML": ("jobs = = 4\n", "dubber.toml: not valid TOML: Invalid value (at line 1, column 8)"),
    "bad value": ('jobs = "many"\n', "dubber.toml: jobs: 'many' is not a valid integer range"),
    "out of range": ("[plan]\njobs = 99\n", "dubber.toml: [plan] jobs: 99 is not in the range 1<=x<=64"),
    "a list for one value": ('voice = ["a", "b"]\n', "dubber.toml: voice: takes one value, not a list"),
    "api key": (f'api_key = "{SECRET}"\n', "dubber.toml: api-key: keep API keys out of files that get "
                                           "committed; set DASHSCOPE_API_KEY or OPENAI_API_KEY"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_file_is_one_line_naming_it_and_exit_2(case, tmp_path, talk, dubber_in):
    text, expected = BROKEN[case]
    (tmp_path / "dubber.toml").write_text(text)
    result = dubber_in("plan", talk)
    assert result.code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()] and result.stderr.startswith(f"dubber: error: {expected}")
    assert "Traceback" not in result.stderr and SECRET not in result.stderr


def test_a_bad_variable_names_itself_and_stops_a_run_only_if_the_run_uses_it(tmp_path, talk, dubber_in,
                                                                              dubber_env):
    env = {**dubber_env, "DUBBER_JOBS": "many"}
    result = dubber_in("plan", talk, env=env)
    assert (result.code, result.stderr.strip()) == (2, "dubber: error: DUBBER_JOBS: 'many' is not a valid integer range")
    assert _lanes(dubber_in("plan", talk, "--jobs", "4", env=env)) == 4
    env = {**dubber_env, "DUBBER_BACKEND": "omni"}  # fine for subtitles and dub; transcribe has no omni
    refused = dubber_in("transcribe", tmp_path / "nothing.wav", env=env)
    assert (refused.code, refused.stderr.strip()) == (2, "dubber: error: DUBBER_BACKEND: 'omni' is not one of "
                                                         "'asr', 'whisper'")
    given = dubber_in("transcribe", tmp_path / "nothing.wav", "--backend", "asr", env=env)
    assert "no such file" in given.stderr and "DUBBER_BACKEND" not in given.stderr  # past its options


def test_a_broken_file_leaves_the_commands_it_does_not_configure_alone(tmp_path, dubber_in):
    (tmp_path / "dubber.toml").write_text("jobs = = 4\n")
    assert dubber_in("--version").code == 0
    assert dubber_in("emulator", "--help").code == 0


def test_doctor_shows_each_setting_and_its_source_and_never_a_key(tmp_path, dubber_in, dubber_env):
    (tmp_path / "dubber.toml").write_text('jobs = 8\nbackend = "omni"\n\n[dub]\nvoice = "Ethan"\n')
    env = {**dubber_env, "DUBBER_FORMAT": "srt", "DUBBER_JOB": "3", "DUBBER_API_KEY": SECRET,
           "DASHSCOPE_API_KEY": SECRET, "DUBBER_VERBOSE": "2"}
    result = dubber_in("doctor", "--cache-dir", tmp_path / "cache", env=env)
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for line in (f"ok   config: dubber.toml in {tmp_path}",
                 "ok   setting: format = srt (DUBBER_FORMAT)",
                 "ok   setting: jobs = 8 (dubber.toml)",
                 "ok   setting: [dub] voice = Ethan (dubber.toml)",
                 "--   setting: backend = omni (dubber.toml): dubber transcribe would refuse it: "
                 "'omni' is not one of 'asr', 'whisper'",
                 "--   setting: DUBBER_JOB is not a setting: did you mean DUBBER_JOBS?"):
        assert line in lines, result.stdout
    assert any(line.startswith("--   setting: DUBBER_API_KEY is not read") for line in lines)
    assert SECRET not in result.stdout + result.stderr and "VERBOSE" not in result.stdout


def test_doctor_says_what_overrides_a_setting_and_when_there_is_no_file(tmp_path, dubber_in, dubber_env, emulator):
    bare = dubber_in("doctor", "--cache-dir", tmp_path / "cache")
    assert f"--   config: no dubber.toml or [tool.dubber] in {tmp_path}" in bare.stdout.splitlines()
    (tmp_path / "dubber.toml").write_text(f'jobs = 1\nbase-url = "{emulator.base_url}"\n')
    env = {**dubber_env, "DUBBER_JOBS": "2", "DUBBER_BASE_URL": "http://127.0.0.1:9/nothing-listens-here"}
    sent = emulator.requests
    result = dubber_in("doctor", "--ping", "--cache-dir", tmp_path / "cache", env=env)
    assert result.code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "ok   setting: jobs = 2 (DUBBER_JOBS)" in lines
    assert "--   setting: jobs = 1 (dubber.toml), overridden by DUBBER_JOBS" in lines
    # base-url in a file is --base-url: it wins over DUBBER_BASE_URL, in the doctor's lines and its ping
    assert f"ok   dashscope endpoint: {emulator.base_url} (base-url in dubber.toml)" in lines
    assert any(line.startswith(f"ok   ping: {emulator.base_url}") for line in lines) and emulator.requests == sent + 1


def test_doctor_reports_a_broken_file_as_a_failure_not_a_crash(tmp_path, dubber_in, dubber_env):
    (tmp_path / "dubber.toml").write_text(f'jobs = 4\napi-key = "{SECRET}"\n')
    result = dubber_in("doctor", "--cache-dir", tmp_path / "cache", env={**dubber_env, "DASHSCOPE_API_KEY": SECRET})
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "FAIL config: dubber.toml: api-key: keep API keys out of files that get committed; set " \
           "DASHSCOPE_API_KEY or OPENAI_API_KEY" in result.stdout.splitlines()
    assert SECRET not in result.stdout + result.stderr
    assert any(line.startswith("ok   cache: ") for line in result.stdout.splitlines())  # the rest still runs
    (tmp_path / "dubber.toml").write_text('backend = "livetranslat"\n')  # doctor's own option refuses it
    typo = dubber_in("doctor", "--cache-dir", tmp_path / "cache")
    assert typo.code == 1 and "Traceback" not in typo.stderr, typo.stderr
    assert "FAIL setting: backend = livetranslat (dubber.toml): 'livetranslat' is not one of" in typo.stdout


# The loading rules themselves, without a process.

def test_lists_join_keys_take_either_spelling_and_tables_apply_to_their_command(tmp_path):
    (tmp_path / "dubber.toml").write_text('to = ["fr", "de"]\ncache_dir = "here"\nno-cache = true\n'
                                          '[cache]\ncache-dir = "there"\n')
    found = default_map(load_settings(tmp_path, {"DUBBER_MAX_WINDOW": "12.5", "DUBBER_BASE_URL": "x"}), cli)
    assert found["subtitles"]["target"] == "fr,de" and found["plan"]["targets"] == "fr,de"
    assert found["dub"]["cache_dir"] == "here" and found["cache"]["info"]["cache_dir"] == "there"
    assert found["transcribe"]["no_cache"] is True and found["plan"]["max_window"] == 12.5
    assert "base_url" not in found["subtitles"]  # DUBBER_BASE_URL keeps its meaning: DashScope's endpoint
    assert "emulator" not in found


def test_the_same_key_twice_and_an_empty_variable(tmp_path):
    (tmp_path / "dubber.toml").write_text('cache_dir = "a"\ncache-dir = "b"\n')
    with pytest.raises(OptionError, match=r"dubber.toml: cache-dir is set twice \(cache_dir, cache-dir\)"):
        load_settings(tmp_path, {})
    (tmp_path / "dubber.toml").unlink()
    assert "jobs" not in default_map(load_settings(tmp_path, {"DUBBER_JOBS": ""}), cli)["plan"]


def test_dubber_toml_is_read_even_beside_a_broken_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.dubber\n")
    (tmp_path / "dubber.toml").write_text("jobs = 3\n")
    settings = load_settings(tmp_path, {})
    assert (settings.file, settings.ignored) == ("dubber.toml", None)
    (tmp_path / "dubber.toml").unlink()
    with pytest.raises(OptionError, match=r"^pyproject.toml: not valid TOML: .*line 1"):
        load_settings(tmp_path, {})
