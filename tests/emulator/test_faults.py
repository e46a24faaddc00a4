"""The emulator's injected faults: the schedule as a pure function, then each fault over real HTTP through
the openai SDK (and urllib for the raw wire), the fixed answer text, and the `dubber emulator` flags."""
from __future__ import annotations

import base64
import json
import math
import os
import signal
import subprocess
import sys
import time

import openai
import pytest

from dubber.backends.chat_stream import collect_stream as fold_stream
from dubber.backends.openai_errors import map_error
from dubber.emulator import DEFAULT_KEY, Emulator, Fault, Faults
from dubber.emulator.faults import QUOTA_MESSAGE
from dubber.errors import TransientError
from tests.emulator.helpers import SILENCE, SPEECH_1S5, collect_stream, http_post, request, sdk_create

MIXED = Faults(fail_429_every=3, fail_500_every=5, drop_stream_every=4)


# --- the schedule (pure) -------------------------------------------------------------------------------

def test_every_nth_counts_from_one_and_429_beats_500_beats_drop():
    picks = {n: MIXED.pick(n) for n in range(1, 21)}
    assert [n for n, f in picks.items() if f is Fault.RATE_LIMIT] == [3, 6, 9, 12, 15, 18]
    assert [n for n, f in picks.items() if f is Fault.SERVER_ERROR] == [5, 10, 20]  # 15: the 429 wins
    assert [n for n, f in picks.items() if f is Fault.DROP] == [4, 8, 16]  # 12: the 429 wins; 20: the 500
    assert [n for n, f in picks.items() if f is None] == [1, 2, 7, 11, 13, 14, 17, 19]


def test_no_faults_by_default():
    assert all(Faults().pick(n) is None for n in range(1, 1000))


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_rates_are_met_and_replay_exactly(rate):
    faults = Faults(fail_500_rate=rate, seed=7)
    hits = [faults.pick(n) is Fault.SERVER_ERROR for n in range(1, 20001)]
    assert abs(sum(hits) / len(hits) - rate) < 0.015
    assert hits == [Faults(fail_500_rate=rate, seed=7).pick(n) is Fault.SERVER_ERROR for n in range(1, 20001)]
    assert hits != [Faults(fail_500_rate=rate, seed=8).pick(n) is Fault.SERVER_ERROR for n in range(1, 20001)]


def test_rate_extremes_and_independent_dice():
    assert all(Faults(drop_stream_rate=1.0).pick(n) is Fault.DROP for n in range(1, 500))
    both = Faults(fail_429_rate=0.5, drop_stream_rate=0.5, seed=3)
    # Each fault rolls its own die: drops happen on about half of the requests the 429 spared.
    spared = [n for n in range(1, 4001) if not both.hits(Fault.RATE_LIMIT, n)]
    dropped = sum(both.pick(n) is Fault.DROP for n in spared)
    assert 0.45 < dropped / len(spared) < 0.55


@pytest.mark.parametrize("bad", [dict(fail_429_every=-1), dict(fail_500_rate=1.5), dict(drop_stream_rate=-0.1),
                                 dict(latency=-1.0), dict(retry_after=math.nan), dict(latency=math.inf)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        Faults(**bad)


# --- each fault over HTTP ------------------------------------------------------------------------------

def client_for(emu: Emulator) -> openai.OpenAI:
    return openai.OpenAI(api_key=DEFAULT_KEY, base_url=emu.base_url, max_retries=0, timeout=10)


def test_429_is_dashscope_shaped_and_says_when_to_retry():
    with Emulator(faults=Faults(fail_429_every=1, retry_after=0.25)) as emu:
        with pytest.raises(openai.RateLimitError) as caught:
            sdk_create(client_for(emu), request(SPEECH_1S5))
        status, headers, raw = http_post(emu, json.dumps(request(SPEECH_1S5)).encode())
    exc = caught.value
    assert exc.status_code == 429 and status == 429
    assert json.loads(raw)["error"] == {"code": "insufficient_quota", "message": QUOTA_MESSAGE,
                                        "type": "insufficient_quota", "param": None}
    assert headers["Retry-After"] == "0.25" and headers["retry-after-ms"] == "250"
    mapped = map_error(exc, window=3)  # dubber takes it as passing, and waits as asked
    assert isinstance(mapped, TransientError) and mapped.retry_after == 0.25 and mapped.window == 3


def test_500_is_an_internal_error():
    with Emulator(faults=Faults(fail_500_every=1)) as emu:
        with pytest.raises(openai.InternalServerError) as caught:
            collect_stream(client_for(emu), request(SPEECH_1S5))
    assert caught.value.status_code == 500 and caught.value.body["code"] == "internal_error"
    assert isinstance(map_error(caught.value, window=0), TransientError)


def test_a_dropped_stream_stops_midway_without_finish_or_done():
    with Emulator() as clean, Emulator(faults=Faults(drop_stream_every=1)) as broken:
        full = collect_stream(client_for(clean), request(SPEECH_1S5))
        cut = collect_stream(client_for(broken), request(SPEECH_1S5))
        body = request(SPEECH_1S5, stream=True, stream_options={"include_usage": True})
        status, _, raw = http_post(broken, json.dumps(body).encode())
        stats = broken.stats
    assert set(cut["finish"]) == {None} and cut["last"].usage is None
    assert full["text"].startswith(cut["text"]) and cut["text"]  # a prefix: some text made it
    assert full["pcm"].startswith(cut["pcm"]) and len(cut["pcm"]) < len(full["pcm"])
    assert status == 200 and b"[DONE]" not in raw and b'"finish_reason":"stop"' not in raw
    assert raw.startswith(b'data: {') and b'"role":"assistant"' in raw.split(b"\n\n")[0]
    assert (stats.accepted, stats.answered, stats.dropped) == (2, 0, 2)


def test_a_dropped_stream_is_never_half_used_by_dubber():
    with Emulator(faults=Faults(drop_stream_every=1)) as emu:
        stream = sdk_create(client_for(emu), {**request(SPEECH_1S5), "stream": True})
        with pytest.raises(TransientError, match="before its finish chunk"):
            fold_stream(stream)


def test_a_dropped_plain_answer_breaks_the_connection():
    with Emulator(faults=Faults(drop_stream_every=1)) as emu:
        with pytest.raises(openai.APIConnectionError):
            sdk_create(client_for(emu), request(SPEECH_1S5))


def test_an_error_event_ends_a_stream_midway_in_dashscopes_shape():
    faults = Faults(error_event_every=1, error_event_code="data_inspection_failed")
    with Emulator() as clean, Emulator(faults=faults) as failing:
        full = collect_stream(client_for(clean), request(SPEECH_1S5))
        body = request(SPEECH_1S5, stream=True, stream_options={"include_usage": True})
        status, _, raw = http_post(failing, json.dumps(body).encode())
        with pytest.raises(openai.APIError) as info:  # the SDK raises the event's error as it reads it
            collect_stream(client_for(failing), request(SPEECH_1S5))
        with pytest.raises(openai.InternalServerError):  # a plain answer cannot carry an event: a 500
            sdk_create(client_for(failing), request(SPEECH_1S5, stream=False))
        stats = failing.stats
    events = [json.loads(e.removeprefix(b"data: ")) for e in raw.split(b"\n\n") if e.startswith(b"data: {")]
    assert status == 200 and b"[DONE]" not in raw and b'"finish_reason":"stop"' not in raw
    assert all("choices" in e for e in events[:-1]) and 1 < len(events) < len(full["deltas"]) + 3
    assert events[-1]["error"] == {"code": "data_inspection_failed", "message": events[-1]["error"]["message"],
                                   "type": "data_inspection_failed", "param": None}
    assert events[-1]["request_id"] and info.value.code == "data_inspection_failed"
    assert (stats.accepted, stats.error_events, stats.answered) == (3, 3, 0)


def test_latency_delays_every_answer():
    with Emulator(faults=Faults(latency=0.3)) as emu:
        started = time.monotonic()
        sdk_create(client_for(emu), request(SPEECH_1S5))
        assert time.monotonic() - started >= 0.3


def test_refused_requests_keep_their_4xx_and_take_no_turn():
    with Emulator(faults=Faults(fail_500_every=2)) as emu:
        good = json.dumps(request(SPEECH_1S5)).encode()
        statuses = [http_post(emu, good)[0], http_post(emu, b"{}")[0], http_post(emu, good, key="sk-wrong")[0],
                    http_post(emu, good)[0], http_post(emu, good)[0], http_post(emu, good)[0]]
        stats = emu.stats
    assert statuses == [200, 400, 401, 500, 200, 500]
    assert (stats.requests, stats.accepted, stats.answered, stats.server_errors) == (6, 4, 2, 2)


# --- a fixed answer ------------------------------------------------------------------------------------

ODD = "  Line one.\n\n<b>two</b> --> & \x00\x07 three\u2028\r\n" + "y" * 300 + "\n\t"


def test_answer_text_is_sent_exactly_and_the_speech_still_follows_the_input():
    with Emulator() as clean, Emulator(answer_text=ODD) as fixed:
        placeholder = collect_stream(client_for(clean), request(SPEECH_1S5))
        streamed = collect_stream(client_for(fixed), request(SPEECH_1S5))
        plain = sdk_create(client_for(fixed), request(SPEECH_1S5)).choices[0].message
        silent = collect_stream(client_for(fixed), request(SILENCE))
    assert streamed["text"] == plain.content == ODD
    assert streamed["pcm"] == placeholder["pcm"] and base64.b64decode(plain.audio.data) == placeholder["pcm"]
    assert silent["text"] == ODD and silent["pcm"] == b""
    assert streamed["last"].usage.completion_tokens_details.text_tokens > 0


# --- `dubber emulator` ---------------------------------------------------------------------------------

def test_cli_flags_reach_the_emulator():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "dubber", "emulator", "--port", "0", "--fail-429-every", "2",
                             "--retry-after", "0.5", "--drop-stream-every", "3", "--answer-text", "Fixed <i>text</i>."],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        base_url = proc.stdout.readline().strip()
        client = openai.OpenAI(api_key=DEFAULT_KEY, base_url=base_url, max_retries=0, timeout=10)
        assert sdk_create(client, request(SPEECH_1S5)).choices[0].message.content == "Fixed <i>text</i>."
        with pytest.raises(openai.RateLimitError) as caught:
            sdk_create(client, request(SPEECH_1S5))
        assert caught.value.response.headers["retry-after"] == "0.5"
        assert set(collect_stream(client, request(SPEECH_1S5))["finish"]) == {None}
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err
    assert "request 2 gets fault 429" in err and "request 3 gets fault drop" in err


@pytest.mark.parametrize("args", [["--fail-500-rate", "1.5"], ["--latency", "-1"], ["--latency", "nan"],
                                  ["--drop-stream-every", "-2"]])
def test_cli_refuses_bad_fault_settings(args):
    proc = subprocess.run([sys.executable, "-m", "dubber", "emulator", "--port", "0", *args],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    [line] = proc.stderr.strip().splitlines()  # one line, naming the option
    assert proc.returncode == 2 and line.startswith("dubber: error: ") and args[0].lstrip("-") in line, proc.stderr
