"""`dubber plan`: the estimate's rules (pure), and through the CLI a plan that sends nothing."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from dubber.jobs.plan import PlanRequest, estimate
from dubber.models import Span, Window
from tests.support.mediagen import compose, write_media

WINDOWS = [Window(i, i * 10_000, i * 10_000 + 4_000, (Span(i * 10_000 + 200, i * 10_000 + 3_800),)) for i in range(10)]


def test_requests_tokens_and_wall_time_follow_the_stated_rules():
    plan = estimate(WINDOWS, 100_000, 36_000, PlanRequest(Path("x"), "livetranslate", ("fr", "de"), jobs=4))
    assert (plan.windows, plan.sent_ms, plan.requests) == (10, 40_000, 20)
    assert plan.prompt_tokens == 25 * 40 * 2 and plan.completion_tokens == 4 * 36 * 2
    assert plan.wall_s == pytest.approx(math.ceil(20 / 4) * (1.0 + 0.1 * 4)) and not plan.in_order


def test_a_dub_adds_speech_tokens_bilingual_a_pass_and_omni_goes_in_order():
    dub = estimate(WINDOWS, 100_000, 36_000, PlanRequest(Path("x"), "omni", ("fr",), dub=True, bilingual=True))
    assert dub.requests == 20 and dub.in_order
    assert dub.completion_tokens == round(4 * 36 * 2 + 12.5 * 36)
    assert dub.wall_s == pytest.approx(20 * 1.4)  # one at a time


def test_whisper_is_billed_by_the_minute_and_its_dub_asks_for_speech():
    plan = estimate(WINDOWS, 100_000, 36_000, PlanRequest(Path("x"), "whisper", ("en",), dub=True))
    assert plan.prompt_tokens is None and plan.requests == 20  # a translation and a speech request a window


def test_plan_through_the_cli_sends_nothing_and_needs_no_key(tmp_path, run_dubber, dubber_env, emulator):
    talk = write_media(compose([(0.5, "en01"), (2.5, "en02"), (2.5, "de01")]).pcm, tmp_path / "talk.wav")
    env = {k: v for k, v in dubber_env.items() if k != "DASHSCOPE_API_KEY"}
    sent = emulator.requests
    result = run_dubber("plan", talk, "--to", "fr,de,ja", "--dub", env=env)
    assert result.code == 0, result.stderr
    assert emulator.requests == sent and sorted(p.name for p in tmp_path.iterdir()) == ["talk.wav"]
    windows = int(re.search(r"windows: (\d+)", result.stdout).group(1))
    assert windows == 3 and f"requests: {3 * windows} (fr, de, ja" in result.stdout
    assert re.search(r"tokens: about \d+ in, \d+ out \(estimate\)", result.stdout)
    assert "wall time: about" in result.stdout and "nothing was sent" in result.stdout
