"""The segmentation network as dubber runs it: its first layer (filters over each chunk's normalised waveform)
once over a batch's span, each chunk normalising its slice. On real meeting audio (decoded by dubber's own
extraction), that must be what the network computes (normalise, then filter), and what a chunk is given must
not depend on the chunks batched with it, nor on a DC offset, which the network's normalisation removes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dubber.media.audio import PcmFile, extract_pcm
from dubber.media.probe import probe

networks = pytest.importorskip("dubber.speakers.networks")
pytest.importorskip("onnxruntime")

MEETING = Path(__file__).resolve().parents[2] / "samples" / "meeting-trn09.flac"


@pytest.fixture(scope="module")
def pcm(tmp_path_factory) -> np.ndarray:
    raw = tmp_path_factory.mktemp("pcm") / "meeting.pcm"
    extract_pcm(probe(MEETING), raw)
    samples = PcmFile(raw)
    return np.asarray(samples[0:len(samples)], dtype=np.int16)


def probabilities(pcm: np.ndarray, starts: list[int]) -> np.ndarray:
    return np.exp(networks.segment(pcm, starts))


def test_a_chunk_gets_the_same_classes_alone_or_batched(pcm):
    step = networks.RATE
    # the last chunk starts off the filters' stride (it ends with the audio): a pass of its own
    starts = [0, step, 2 * step, len(pcm) - networks.CHUNK]
    assert starts[-1] % networks.SINC_STRIDE != 0
    batched = probabilities(pcm, starts)
    alone = np.concatenate([probabilities(pcm, [s]) for s in starts])
    assert batched.shape == (4, networks.FRAMES, 7)
    np.testing.assert_allclose(batched, alone, atol=1e-4)
    assert len(np.unique(batched.argmax(axis=-1))) > 2  # real speech: nobody, one and another, not a constant


@pytest.mark.parametrize("gain", [0.25, 1.0, 3.0])
def test_filtering_then_normalising_is_what_the_network_computes(pcm, gain):
    """The network normalises each chunk's waveform, then filters it; dubber filters the span once and
    normalises each slice. Both orders, through the same two shipped sessions, at loudnesses where the
    normalisation's epsilon matters (quiet) and where it does not."""
    scaled = np.clip(pcm.astype(np.float64) * gain, -32768, 32767).astype(np.int16)
    starts = [0, networks.RATE, 3 * networks.RATE]
    sinc, rest = networks._segmenter(0)
    weight, bias, epsilon, _ = networks._sinc_norm()
    bands = []
    for start in starts:
        chunk = networks.read(scaled, start, networks.CHUNK).astype(np.float64)
        normalised = (chunk - chunk.mean()) / np.sqrt(chunk.var() + epsilon) * weight + bias
        bands.append(sinc.run(None, {"samples": normalised.astype(np.float32)[None, None]})[0][0])
    expected = np.exp(rest.run(None, {"onnx::Abs_121": np.stack(bands)})[0])
    np.testing.assert_allclose(probabilities(scaled, starts), expected, atol=1e-4)


def test_a_dc_offset_changes_nothing(pcm):
    starts = [0, networks.RATE, 2 * networks.RATE]
    quiet = (pcm // 4).astype(np.int16)
    offset = (quiet.astype(np.int32) + 3000).astype(np.int16)
    np.testing.assert_allclose(probabilities(offset, starts), probabilities(quiet, starts), atol=1e-4)


def test_a_chunk_past_the_end_is_padded_with_silence(pcm):
    tail = pcm[:networks.RATE * 4]
    padded = np.concatenate([tail, np.zeros(networks.CHUNK, np.int16)])
    np.testing.assert_allclose(probabilities(tail, [0]), probabilities(padded, [0]), atol=1e-5)


@pytest.mark.parametrize("gain", [0.25, 0.1])
def test_a_quieter_recording_gives_the_same_speakers(tmp_path, gain):
    """The network's normalisation has an epsilon that ordinary meeting levels are near: the same meeting
    12 or 20 dB quieter lost a sixth of its speech before ``level_gain``. Now it gives the same turns."""
    from dubber.speakers import SpeakerOptions
    from dubber.speakers.diarize import diarize
    from dubber.speakers.score import Labelled, diarization_errors

    raw = tmp_path / "meeting.pcm"
    extract_pcm(probe(MEETING.with_name("meeting-trn00.flac")), raw)
    samples = PcmFile(raw)
    loud = np.asarray(samples[0:len(samples)], dtype=np.int16)
    quiet = np.round(loud * gain).astype(np.int16)

    def turns(pcm: np.ndarray) -> list[Labelled]:
        return [Labelled(t.start_ms, t.end_ms, str(t.speaker)) for t in diarize(pcm, networks.RATE, SpeakerOptions())]

    as_recorded = turns(loud)
    assert len({t.speaker for t in as_recorded}) >= 2
    assert diarization_errors(as_recorded, turns(quiet), 250).rate <= 0.02
