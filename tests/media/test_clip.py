"""A window as a small MP4: the ffmpeg arguments (read, never run), then real clips cut by the real ffmpeg
from generated media and read back with PyAV: streams, picture size, duration, size, and where the
speech sits in the clip's audio."""
from __future__ import annotations

from pathlib import Path

import av
import pytest

from dubber.errors import InputError
from dubber.media.audio import ALIGN_TO_ZERO
from dubber.media.clip import MAX_CLIP_BYTES, SMALL, STANDARD, clip_args, video_clip
from dubber.media.probe import probe
from dubber.media.tool import run_ffmpeg
from dubber.models import MediaInfo, Window
from tests.support import avprobe
from tests.support.mediagen import compose, write_media

INFO = MediaInfo(path=Path("in.mkv"), container="matroska,webm", duration_ms=60000, audio_index=2,
                 audio_codec="opus", sample_rate=48000, channels=2, video_codecs=("h264",))
ONSET_TOLERANCE_MS = 30  # AAC and the resampler smear an onset by a few ms


def _after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_clip_args_seek_on_the_input_and_keep_the_chosen_streams():
    args = clip_args(INFO, Window(4, 12345, 20045), Path("w/clip.mp4"))
    assert args[:6] == ["-ss", "12.345", "-t", "7.700", "-i", "in.mkv"], "seek and length belong to the input"
    maps = [args[i + 1] for i, a in enumerate(args) if a == "-map"]
    assert maps == ["0:V:0", "0:2"]  # first picture (no cover art), the probed audio stream
    assert _after(args, "-af") == ALIGN_TO_ZERO, "late audio must be padded as the analysis decode pads it"
    assert (_after(args, "-c:v"), _after(args, "-c:a"), _after(args, "-ac")) == ("libx264", "aac", "1")
    assert _after(args, "-maxrate") == "300k" and _after(args, "-movflags") == "+faststart"
    assert args[-3:] == ["-f", "mp4", "w/clip.mp4"]
    vf = _after(args, "-vf")
    assert vf.startswith("fps=2,") and "480/max(iw*sar,ih)" in vf and vf.endswith("setsar=1,format=yuv420p")


def test_the_small_profile_squeezes_harder():
    args = clip_args(INFO, Window(0, 0, 1000), Path("c.mp4"), SMALL)
    vf = _after(args, "-vf")
    assert vf.startswith("fps=1,") and "240/max(iw*sar,ih)" in vf
    assert _after(args, "-maxrate") == "100k" and _after(args, "-b:a") == "32k"
    assert SMALL.long_side < STANDARD.long_side and SMALL.video_kbps < STANDARD.video_kbps


# --- real clips ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scene():
    return compose([(1.0, "en01"), (0.8, "en02")], tail_s=1.0)


@pytest.fixture(scope="module")
def talk(scene, tmp_path_factory) -> Path:
    return write_media(scene.pcm, tmp_path_factory.mktemp("src") / "talk.mp4")


def _clip(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def _size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        return ctx.width, ctx.height


def _onset_ms(path: Path) -> int:
    signal, rate = avprobe.decode_audio(path)
    return int(avprobe.voiced_ms(signal, rate)[0])


def test_clip_holds_the_window_small_with_its_speech_in_place(tmp_path: Path, scene, talk):
    second = scene.speech[1]
    window = Window(3, second.start_ms - 700, second.end_ms + 300)  # starts in the pause before "en02"
    work = tmp_path / "work"
    work.mkdir()
    clip = _clip(video_clip(probe(talk), window, work), tmp_path / "clip.mp4")
    assert not list(work.iterdir()), "the clip was left in the workdir"
    assert clip.stat().st_size <= MAX_CLIP_BYTES
    assert [(s.type, s.codec) for s in avprobe.streams(clip)] == [("video", "h264"), ("audio", "aac")]
    # the picture runs to its last frame (1/fps), the sound to its last AAC frame (64 ms at 16 kHz)
    assert window.duration_ms / 1000 <= avprobe.duration_s(clip) <= window.duration_ms / 1000 + 0.5
    signal, rate = avprobe.decode_audio(clip)
    assert rate == 16000 and abs(len(signal) / rate * 1000 - window.duration_ms) <= 70
    assert _size(clip) == (64, 36), "a small picture is never upscaled"
    assert abs(_onset_ms(clip) - 700) <= ONSET_TOLERANCE_MS


def test_audio_that_starts_late_is_padded_onto_the_file_timeline(tmp_path: Path, scene):
    audio = write_media(scene.pcm, tmp_path / "speech.wav")
    delayed = tmp_path / "delayed.mkv"  # the sound starts 1 s after the picture, as an mkv delay does
    run_ffmpeg(["-f", "lavfi", "-t", f"{scene.duration_ms / 1000 + 1:.3f}", "-i", "testsrc2=size=64x36:rate=10",
                "-itsoffset", "1.0", "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
                "-preset", "ultrafast", "-c:a", "flac", str(delayed)], what="writing delayed media")
    first = scene.speech[0]
    window = Window(0, 500, first.end_ms + 1000)  # opens before the sound does
    clip = _clip(video_clip(probe(delayed), window, tmp_path), tmp_path / "clip.mp4")
    assert abs(_onset_ms(clip) - (first.start_ms + 1000 - 500)) <= ONSET_TOLERANCE_MS


@pytest.mark.parametrize("source, expected", [
    ("testsrc2=size=1280x720:rate=25", (480, 270)),
    ("testsrc2=size=360x640:rate=25", (270, 480)),  # portrait: the long side is the height
    ("testsrc2=size=101x57:rate=25", (100, 56)),  # never upscaled, always even
    ("testsrc2=size=720x576:rate=25,setsar=16/11", (480, 264)),  # anamorphic: displayed as 1047x576
])
def test_picture_fits_the_long_side_keeping_its_displayed_aspect(tmp_path: Path, source, expected):
    src = tmp_path / "src.mp4"
    run_ffmpeg(["-f", "lavfi", "-t", "1.5", "-i", source, "-f", "lavfi", "-t", "1.5", "-i", "sine=f=300:r=44100",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(src)],
               what="writing test video")
    clip = _clip(video_clip(probe(src), Window(0, 200, 1200), tmp_path), tmp_path / "clip.mp4")
    assert _size(clip) == expected


def test_over_the_ceiling_encodes_smaller_then_refuses_naming_the_window(tmp_path: Path):
    src = tmp_path / "busy.mp4"
    run_ffmpeg(["-f", "lavfi", "-t", "2", "-i", "testsrc2=size=1280x720:rate=25", "-f", "lavfi", "-t", "2",
                "-i", "sine=f=300:r=44100", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", str(src)], what="writing test video")
    info, window = probe(src), Window(7, 0, 2000)
    standard = video_clip(info, window, tmp_path, max_bytes=10**9)
    smaller = video_clip(info, window, tmp_path, max_bytes=len(standard) - 1)
    assert len(smaller) < len(standard)
    assert max(_size(_clip(smaller, tmp_path / "small.mp4"))) == SMALL.long_side
    with pytest.raises(InputError) as refused:
        video_clip(info, window, tmp_path, max_bytes=1000)
    message = str(refused.value)
    assert "window 7 (0.000-2.000 s)" in message and "--max-window" in message and "\n" not in message
    assert not list(tmp_path.glob("clip-*.mp4"))
