"""`dubber doctor`: what dubber will use, the key never shown, and a ping that is exactly one request."""
from __future__ import annotations

from dubber.media.tool import ffmpeg_exe

SECRET = "sk-doctor-must-never-print-this-0123456789"


def test_doctor_names_ffmpeg_and_its_source_and_never_the_key(run_dubber, dubber_env, emulator, tmp_path):
    env = {**dubber_env, "DASHSCOPE_API_KEY": SECRET, "DUBBER_FFMPEG": ffmpeg_exe()}
    sent = emulator.requests
    result = run_dubber("doctor", "--cache-dir", tmp_path, env=env)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok   ffmpeg: ") and "(DUBBER_FFMPEG)" in line and "ffmpeg version" in line
               for line in lines), result.stdout
    assert any(line.startswith("ok   time stretch: ") for line in lines)
    assert f"ok   dashscope key: DASHSCOPE_API_KEY is set ({len(SECRET)} characters)" in lines
    assert "--   openai key: OPENAI_API_KEY is not set" in lines
    assert f"ok   cache: {tmp_path}: 0 answers, 0 B" in lines
    assert SECRET not in result.stdout + result.stderr and emulator.requests == sent
    unset = {k: v for k, v in dubber_env.items() if k != "DUBBER_FFMPEG"}
    wheel = run_dubber("doctor", "--cache-dir", tmp_path, env=unset)  # the suite's PATH holds no ffmpeg: the wheel's
    assert "(imageio-ffmpeg)" in wheel.stdout


def test_ping_is_one_request_and_says_when_it_fails(run_dubber, dubber_env, emulator, tmp_path):
    sent = emulator.requests
    good = run_dubber("doctor", "--ping", "--cache-dir", tmp_path)
    assert good.code == 0 and emulator.requests == sent + 1, good.stdout + good.stderr
    assert any(line.startswith("ok   ping: ") and "answered in" in line for line in good.stdout.splitlines())
    bad = run_dubber("doctor", "--ping", "--cache-dir", tmp_path, env={**dubber_env, "DASHSCOPE_API_KEY": SECRET})
    assert bad.code == 1 and SECRET not in bad.stdout + bad.stderr
    assert any(line.startswith("FAIL ping: ") and "401" in line for line in bad.stdout.splitlines())
