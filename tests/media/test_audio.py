"""The decoded track read back a slice at a time (``PcmFile``), and the per-window WAV cut from it."""
from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from dubber.jobs.common import window_wav
from dubber.media.audio import PcmFile
from dubber.models import Window
from dubber.speech import vad


@pytest.fixture
def track(tmp_path):
    data = np.random.default_rng(3).integers(-32768, 32768, 48_000).astype(np.int16)
    path = tmp_path / "audio.pcm"
    data.astype("<i2").tofile(path)
    return PcmFile(path), data


def test_slices_equal_the_data_written_at_the_edges_and_past_the_end(track):
    pcm, data = track
    assert len(pcm) == len(data)
    for key in [slice(0, 1), slice(0, 16000), slice(16000, 32000), slice(47_999, 48_000), slice(None, None),
                slice(40_000, 60_000), slice(-100, None), slice(None, -5), slice(48_000, 48_100),
                slice(60_000, 70_000), slice(500, 500), slice(700, 600)]:
        got = pcm[key]
        assert got.dtype == np.int16 and got.flags.writeable
        assert np.array_equal(got, data[key]), key


def test_each_slice_is_a_fresh_array_and_not_a_map_of_the_file(track):
    pcm, data = track
    first = pcm[0:10]
    first[:] = 0  # changes neither the file nor the next read
    assert np.array_equal(pcm[0:10], data[0:10])
    assert type(first) is np.ndarray and first.base is None  # owns its memory: nothing stays mapped


def test_only_contiguous_slices_are_read(track):
    pcm, _ = track
    with pytest.raises(ValueError, match="step 1"):
        pcm[::2]
    with pytest.raises(TypeError, match="slices"):
        pcm[5]


@pytest.mark.parametrize("content", [b"", b"\x01"])
def test_an_empty_decode_reads_as_no_samples(tmp_path, content):
    path = tmp_path / "audio.pcm"
    path.write_bytes(content)
    pcm = PcmFile(path)
    assert len(pcm) == 0 and pcm[0:100].size == 0 and pcm[0:100].dtype == np.int16
    assert vad.detect_speech(pcm, 16000) == ()
    assert vad.frame_levels(pcm, 16000).size == 0


def test_a_trailing_odd_byte_is_not_a_sample(tmp_path):
    path = tmp_path / "audio.pcm"
    path.write_bytes(np.array([1, -2, 3], dtype="<i2").tobytes() + b"\x7f")
    assert PcmFile(path)[:].tolist() == [1, -2, 3]


def test_the_detectors_and_the_window_cut_read_a_file_as_they_read_the_array(track):
    pcm, data = track
    assert np.array_equal(vad.frame_levels(pcm, 16000, block_s=0.7), vad.frame_levels(data, 16000))
    window = Window(0, 250, 1750)
    assert window_wav(pcm, window) == window_wav(data, window)
    with wave.open(io.BytesIO(window_wav(pcm, window))) as wav:
        assert np.array_equal(np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2"), data[4000:28000])
