"""`dubber subtitles` end to end: real ffmpeg on generated media, real HTTP to the emulator through the
real openai SDK, and the written files parsed back by `srt` and `webvtt-py`."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cues import covered_ms, read_srt, read_vtt
from tests.support.mediagen import compose, write_media

# Speech at known times: pauses of 0.6-1.2 s between sentences, one 3.5 s silence, a lone short "Thank you."
LAYOUT = [(0.8, "en01"), (0.6, "en02"), (3.5, "en03"), (1.2, "en06"), (0.9, "en05"), (0.7, "en04")]


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.5)


def _check_cues(cues, scene, long_silence_ms=2000):
    duration = scene.duration_ms
    assert cues, "no cues"
    for start, end, text in cues:
        assert 0 <= start < end <= duration + 50, (start, end)
        assert text.strip()
    for (_, end, _), (start, _, _) in zip(cues, cues[1:]):
        assert end <= start, "cues overlap or are out of order"
    for utt in scene.speech:  # every spoken sentence is under a cue for most of its length
        assert covered_ms(cues, utt.start_ms, utt.end_ms) >= 0.8 * (utt.end_ms - utt.start_ms), utt
    for before, after in zip(scene.speech, scene.speech[1:]):
        if after.start_ms - before.end_ms >= long_silence_ms:
            # a cue may linger 0.5 s after speech and lead it slightly, never sit in the silence itself
            inner = (before.end_ms + 600, after.start_ms - 300)
            assert covered_ms(cues, *inner) == 0, inner


def test_mp4_to_srt_and_vtt(tmp_path: Path, scene, run_dubber, emulator):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    before = video.read_bytes()
    result = run_dubber("subtitles", video, "--to", "zh-CN")
    assert result.code == 0, result.stderr
    srt_path, vtt_path = tmp_path / "talk.zh.srt", tmp_path / "talk.zh.vtt"
    assert result.stdout.split() == [str(srt_path), str(vtt_path)]
    from_srt, from_vtt = read_srt(srt_path), read_vtt(vtt_path)
    assert from_srt == from_vtt
    _check_cues(from_srt, scene)
    assert video.read_bytes() == before, "the input was touched"
    assert not list(tmp_path.glob("*.part")), "temporary files left behind"


@pytest.mark.parametrize("kind", ["mkv", "webm", "mov", "wav", "mp3", "m4a", "flac", "ogg"])
def test_every_input_kind(tmp_path: Path, scene, run_dubber, kind):
    media = write_media(scene.pcm, tmp_path / f"clip.{kind}")
    result = run_dubber("subtitles", media, "--to", "English", "--format", "srt", "--out-dir", tmp_path / "subs")
    assert result.code == 0, result.stderr
    cues = read_srt(tmp_path / "subs" / "clip.en.srt")
    _check_cues(cues, scene)
    assert not (tmp_path / "subs" / "clip.en.vtt").exists()


def test_music_bed_does_not_defeat_windows(tmp_path: Path, run_dubber):
    scene = compose(LAYOUT, tail_s=1.5, music_db=-15, seed=3)
    media = write_media(scene.pcm, tmp_path / "music.mkv")
    result = run_dubber("subtitles", media, "--to", "de", "--format", "vtt")
    assert result.code == 0, result.stderr
    _check_cues(read_vtt(tmp_path / "music.de.vtt"), scene)


def test_silent_input_gives_empty_valid_files(tmp_path: Path, run_dubber, emulator):
    silent = write_media(compose([], tail_s=4.0).pcm, tmp_path / "quiet.mp4")
    sent = emulator.requests
    result = run_dubber("subtitles", silent, "--to", "en")
    assert result.code == 3, result.stderr  # a CI job learns that nothing was translated
    assert result.stderr.strip() == f"dubber: no speech found in {silent}: wrote empty subtitle files"
    assert read_srt(tmp_path / "quiet.en.srt") == [] and read_vtt(tmp_path / "quiet.en.vtt") == []
    assert (tmp_path / "quiet.en.vtt").read_text().startswith("WEBVTT")
    assert emulator.requests == sent, "silence must never be sent"


def test_source_language_and_sample(tmp_path: Path, run_dubber):
    sample = Path(__file__).resolve().parents[2] / "samples" / "sample.mp4"
    result = run_dubber("subtitles", sample, "--to", "ja", "--from", "English", "--out-dir", tmp_path)
    assert result.code == 0, result.stderr
    cues = read_srt(tmp_path / "sample.ja.srt")
    assert len(cues) >= 3  # three sentences
    assert all(len(line) <= 16 for _, _, text in cues for line in text.splitlines())


def test_audio_that_starts_late_keeps_cues_on_the_file_timeline(tmp_path: Path, scene, run_dubber):
    from dubber.media.tool import run_ffmpeg

    audio = write_media(scene.pcm, tmp_path / "speech.wav")
    delayed = tmp_path / "delayed.mkv"  # the audio starts 1 s after the picture, as mkv/ts delays do
    run_ffmpeg(["-f", "lavfi", "-t", f"{scene.duration_ms / 1000 + 1:.3f}", "-i", "testsrc2=size=64x36:rate=10",
                "-itsoffset", "1.0", "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
                "-c:a", "flac", str(delayed)], what="writing delayed media")
    result = run_dubber("subtitles", delayed, "--to", "en", "--format", "srt")
    assert result.code == 0, result.stderr
    cues = read_srt(tmp_path / "delayed.en.srt")
    first_words = [utt.start_ms + 1000 for utt in scene.speech]
    assert abs(cues[0][0] - first_words[0]) <= 100, (cues[0], first_words[0])
    # every sentence is under a cue where the file has it (whether a cue starts on it depends on the
    # emulator's placeholder text, which follows a hash of the audio sent: that is the quality tests' work)
    from tests.support.cues import covered_ms

    for utt in scene.speech:
        assert covered_ms(cues, utt.start_ms + 1000, utt.end_ms + 1000) > 0.8 * (utt.end_ms - utt.start_ms), utt
