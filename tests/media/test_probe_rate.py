"""The input's frame rate, probed with PyAV: cue gaps are two frames of it (24 fps for audio-only input)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubber.media.probe import probe
from dubber.media.tool import run_ffmpeg
from tests.support.mediagen import RATE, write_media


@pytest.mark.parametrize("rate,expected", [("25", 25.0), ("30000/1001", 30000 / 1001)])
def test_the_first_video_streams_average_rate(tmp_path: Path, rate, expected):
    video = tmp_path / "v.mkv"
    run_ffmpeg(["-f", "lavfi", "-t", "1", "-i", f"testsrc2=size=64x36:rate={rate}", "-f", "lavfi", "-t", "1",
                "-i", "sine=frequency=440", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac",
                str(video)], what="writing a test video")
    assert probe(video).frame_rate == pytest.approx(expected, rel=1e-3)


def test_audio_only_input_counts_as_film(tmp_path: Path):
    audio = write_media(np.zeros(RATE, dtype=np.int16), tmp_path / "a.wav")
    assert probe(audio).frame_rate == 24.0
