"""The server over real loopback HTTP: keys, unknown paths, counters, starting and stopping, a port in use."""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import IO
from urllib.parse import urlsplit

import openai
import pytest

from dubber.emulator import DEFAULT_KEY, Emulator
from dubber.errors import DubberError, EmulatorError
from tests.emulator.helpers import http_post, request, sdk_create

SECRET = "sk-do-not-leak-0123456789"


# --- keys, paths, counters --------------------------------------------------------------------------

def test_requests_are_counted(client, emulator):
    before = emulator.requests
    sdk_create(client, request(with_audio=False))
    assert emulator.requests == before + 1


@pytest.mark.parametrize("key", [None, "sk-unknown", ""])
def test_missing_or_unknown_key_is_refused(emulator, key):
    status, _, raw = http_post(emulator, json.dumps(request()).encode(), key=key)
    body = json.loads(raw)
    assert status == 401 and body["error"] == {
        "code": "invalid_api_key", "message": "Incorrect API key provided.",
        "type": "invalid_request_error", "param": None}
    assert re.fullmatch(r"[0-9a-f-]{36}", body["request_id"])


def test_unknown_key_raises_authentication_error_without_the_key(emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="dubber.emulator")
    bad = openai.OpenAI(api_key=SECRET, base_url=emulator.base_url, max_retries=0, timeout=10)
    with pytest.raises(openai.AuthenticationError, match="Incorrect API key provided") as caught:
        sdk_create(bad, request())
    assert SECRET not in str(caught.value.body) and SECRET not in caught.value.response.text
    assert "401" in caplog.text and SECRET not in caplog.text


def test_key_never_reaches_logs_or_bodies(emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="dubber.emulator")
    good = Emulator(port=0, keys=[SECRET]).start()
    try:
        for query in ("", f"?api_key={SECRET}"):
            status, _, raw = http_post(good, json.dumps(request()).encode(), key=SECRET, query=query)
            assert status == 200 and SECRET.encode() not in raw
        status, _, raw = http_post(good, b"{}", key=SECRET)
        assert status == 400 and SECRET.encode() not in raw
    finally:
        good.stop()
    assert "200" in caplog.text and SECRET not in caplog.text


def test_unknown_paths_are_404_json(emulator, client):
    url = emulator.base_url + "/models"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=10)
    assert caught.value.code == 404 and json.loads(caught.value.read())["error"]["code"] == "not_found"
    with pytest.raises(openai.NotFoundError):
        client.models.list()


# --- starting and stopping -------------------------------------------------------------------------

def test_serve_forever_stops_from_another_thread():
    emu = Emulator(port=0)
    serving = threading.Thread(target=emu.serve_forever, daemon=True)  # the CLI's blocking mode
    serving.start()
    assert http_post(emu, b"{}")[0] == 400  # it is serving: stop() now has a loop to end
    emu.stop()
    serving.join(timeout=5)
    assert not serving.is_alive(), "serve_forever() did not return after stop()"
    emu.stop()  # idempotent
    with pytest.raises(OSError):  # the socket is closed: nobody listens any more
        http_post(emu, b"{}")


# --- a port that cannot be bound ---------------------------------------------------------------------

def _port(emu: Emulator) -> int:
    return int(urlsplit(emu.base_url).port)


def test_a_port_in_use_is_a_one_line_emulator_error(emulator):
    port = _port(emulator)
    with pytest.raises(EmulatorError) as caught:
        Emulator(port=port)
    message = str(caught.value)
    assert isinstance(caught.value, DubberError) and "\n" not in message
    assert f"127.0.0.1:{port}" in message and "in use" in message and "--port 0" in message
    assert http_post(emulator, b"{}")[0] == 400  # the emulator holding the port is unharmed


def test_a_port_out_of_range_is_an_emulator_error():
    with pytest.raises(EmulatorError, match="127.0.0.1:70000"):
        Emulator(port=70000)


# --- `dubber emulator` ---------------------------------------------------------------------------------

def _first_line(stream: IO[str], timeout: float) -> str:
    """The first line of ``stream``; fails after ``timeout`` seconds instead of hanging."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, f"no line within {timeout} s"
    return lines[0]


def _dubber_emulator(port: int) -> list[str]:
    return [sys.executable, "-m", "dubber", "emulator", "--port", str(port)]


def test_cli_serves_on_a_free_port_refuses_a_taken_one_and_stops_on_ctrl_c():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(_dubber_emulator(0), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        base_url = _first_line(first.stdout, timeout=30).strip()
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/compatible-mode/v1", base_url)
        assert match, base_url
        client = openai.OpenAI(api_key=DEFAULT_KEY, base_url=base_url, max_retries=0, timeout=10)
        assert sdk_create(client, request(with_audio=False)).choices[0].message.content
        started = time.monotonic()
        second = subprocess.run(_dubber_emulator(int(match.group(1))), stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, env=env, timeout=30)
        took = time.monotonic() - started
    finally:
        first.send_signal(signal.SIGINT)
        try:
            _, err = first.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            first.kill()
            first.communicate()
            raise AssertionError("the emulator did not stop within 10 s of Ctrl-C")
    lines = second.stderr.splitlines()
    assert second.returncode != 0 and second.stdout == "" and took < 20
    assert len(lines) == 1 and match.group(1) in lines[0] and "in use" in lines[0], second.stderr
    assert lines[0].startswith("dubber: error: ") and "Traceback" not in second.stderr
    assert first.returncode == 0 and "Traceback" not in err
