"""A dubbed file keeps every stream of the input its container can hold: a Matroska film with a main and
a commentary track, a subtitle track, a font attachment, chapters and a title comes out with all of them
(after the new dub and subtitle tracks), copied bit for bit; an mp4 keeps its audio tracks and subtitles,
and names what it cannot hold."""
from __future__ import annotations

from pathlib import Path

import av
import pytest

from dubber.media.tool import run_ffmpeg
from tests.support import avprobe
from tests.support.cues import read_srt
from tests.support.mediagen import compose, write_media

SUBS = "1\n00:00:00,500 --> 00:00:01,500\nHello there\n\n2\n00:00:02,000 --> 00:00:03,000\nSecond line\n"
META = (";FFMETADATA1\ntitle=A test film\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=3000\ntitle=Opening\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=3000\nEND=6000\ntitle=Ending\n")
FONT = bytes(range(256)) * 8


def _film(folder: Path, suffix: str) -> Path:
    """Video, the speech (main track), a tone (the commentary), subtitles, chapters, a title; in mkv a font."""
    speech = write_media(compose([(0.5, "en01"), (2.5, "en02")], tail_s=0.5).pcm, folder / "speech.wav")
    seconds = f"{avprobe.duration_s(speech):.3f}"
    (folder / "subs.srt").write_text(SUBS, encoding="utf-8")
    (folder / "meta.txt").write_text(META, encoding="utf-8")
    (folder / "font.ttf").write_bytes(FONT)
    mkv = suffix == "mkv"
    args = ["-f", "lavfi", "-t", seconds, "-i", "testsrc2=size=64x36:rate=10", "-i", str(speech),
            "-f", "lavfi", "-t", seconds, "-i", "sine=f=440:r=16000", "-i", str(folder / "subs.srt"),
            "-i", str(folder / "meta.txt"), "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s",
            "-map_metadata", "4", "-map_chapters", "4", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "flac" if mkv else "aac", "-c:s", "srt" if mkv else "mov_text",
            "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=Main",
            "-metadata:s:a:1", "language=eng", "-metadata:s:a:1", "title=Commentary", "-disposition:a:1", "comment",
            "-metadata:s:s:0", "language=eng", "-metadata:s:s:0", "title=English"]
    if mkv:
        args += ["-attach", str(folder / "font.ttf"), "-metadata:s:t", "mimetype=font/ttf",
                 "-metadata:s:t", "filename=font.ttf"]
    out = folder / f"film.{suffix}"
    run_ffmpeg([*args, str(out)], what="writing a multi-track test film")
    return out


def _packets(path: Path, index: int) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams[index]) if p.size]


def _subtitle_text(path: Path, nth: int, folder: Path) -> list[str]:
    dest = folder / f"track{nth}.srt"
    run_ffmpeg(["-i", str(path), "-map", f"0:s:{nth}", str(dest)], what="extracting a subtitle track")
    return [text for _, _, text in read_srt(dest)]


def test_a_matroska_film_keeps_every_stream_chapter_and_tag(tmp_path: Path, run_dubber):
    film = _film(tmp_path, "mkv")
    result = run_dubber("dub", film, "--to", "fr")
    assert result.code == 0, result.stderr
    out = Path(result.stdout.split()[0])
    got = avprobe.streams(out)
    assert [(s.type, s.codec) for s in got] == [("video", "h264"), ("audio", "opus"), ("audio", "flac"),
                                                ("audio", "flac"), ("subtitle", "subrip"), ("subtitle", "subrip"),
                                                ("attachment", "ttf")]
    dub, main, commentary, new_subs, old_subs = got[1:6]
    assert dub.default and dub.language == "fra" and not main.default and not commentary.default
    assert (main.title, commentary.title, commentary.language) == ("Original", "Commentary", "eng")
    assert (old_subs.language, old_subs.title) == ("eng", "English") and new_subs.language == "fra"
    assert _packets(out, 0) == _packets(film, 0) and _packets(out, 3) == _packets(film, 2)  # copied as they were
    assert _subtitle_text(out, 1, tmp_path) == ["Hello there", "Second line"]
    with av.open(str(out)) as container, av.open(str(film)) as source:
        assert container.streams[3].disposition & av.stream.Disposition.comment
        assert container.streams[6].data == FONT and container.streams[6].name == "font.ttf"
        assert [c["metadata"]["title"] for c in container.chapters()] == ["Opening", "Ending"]
        assert container.metadata.get("title") == source.metadata.get("title") == "A test film"
    assert "note" not in result.stderr  # Matroska holds all of it


@pytest.mark.parametrize("suffix", ["mp4"])
def test_an_mp4_keeps_its_audio_tracks_and_subtitles(suffix, tmp_path: Path, run_dubber):
    film = _film(tmp_path, suffix)
    result = run_dubber("dub", film, "--to", "de")
    assert result.code == 0, result.stderr
    out = Path(result.stdout.split()[0])
    got = avprobe.streams(out)
    # (mp4 keeps chapters in a chapter track: the data stream at the end)
    assert [(s.type, s.codec) for s in got] == [("video", "h264"), ("audio", "aac"), ("audio", "aac"),
                                                ("audio", "aac"), ("subtitle", "mov_text"), ("subtitle", "mov_text"),
                                                ("data", "data")]
    assert (got[3].title, got[5].title) == ("Commentary", "English") and _packets(out, 3) == _packets(film, 2)
    with av.open(str(out)) as container:
        assert [c["metadata"]["title"] for c in container.chapters()] == ["Opening", "Ending"]
    assert _subtitle_text(out, 1, tmp_path) == ["Hello there", "Second line"]


def test_what_an_mp4_cannot_hold_is_named(tmp_path: Path, run_dubber):
    film = _film(tmp_path, "mkv")  # a font attachment: mp4 has nowhere to put it
    result = run_dubber("dub", film, "--to", "de", "-o", tmp_path / "out.mp4")
    assert result.code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("dubber: note: ")]
    assert any("input stream 4 (attachment, font/ttf) is not in the .mp4: only Matroska holds attachments" in n
               for n in notes), result.stderr
    assert [s.type for s in avprobe.streams(tmp_path / "out.mp4")] == ["video", "audio", "audio", "audio",
                                                                        "subtitle", "subtitle", "data"]
