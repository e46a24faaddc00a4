"""`dubber dub --to en,ja`: one decode and one window plan, each language translated, fitted and rendered
in turn, and one file with a dub track and a subtitle track per language (in --to order, tagged and
titled, the first the default) before every stream of the input; each language's sidecars and report
beside it. The languages are chosen with different scripts (the emulator answers in the target's
script), so a swapped track would be caught. Real CLI, real HTTP to the emulator, real ffmpeg; outputs
read back with PyAV."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from dubber.cli.options import backend_choice
from dubber.emulator import DEFAULT_KEY
from dubber.errors import OptionError
from dubber.events import Events
from dubber.jobs.dub import DubJob, run_dub
from dubber.languages import parse_lang
from dubber.media.tool import run_ffmpeg
from tests.jobs.test_dub_streams_e2e import _film, _packets
from tests.support import avprobe
from tests.support.cues import read_srt
from tests.support.mediagen import compose, write_media

LAYOUT = [(0.6, "en01"), (2.0, "en02"), (2.0, "en03")]  # a window each, with room to hear the duck lift
KANA_OR_HAN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
TOLERANCE_MS = 30


@pytest.fixture(scope="module")
def scene():
    return compose(LAYOUT, tail_s=1.0, music_db=-15, seed=7)


def _track_texts(media: Path, nth: int, folder: Path) -> list[str]:
    dest = folder / f"track{nth}.srt"
    run_ffmpeg(["-i", str(media), "-map", f"0:s:{nth}", str(dest)], what="extracting a subtitle track")
    return [text for _, _, text in read_srt(dest)]


def _placed(report: dict) -> list[dict]:
    return [w for w in report["windows"] if w["dub_start_ms"] is not None]


def _tags(streams: list[avprobe.StreamInfo], kind: str) -> list[tuple[str | None, str | None, bool]]:
    return [(s.language, s.title, s.default) for s in streams if s.type == kind]


def _check_dub_energy(dub: np.ndarray, rate: int, report: dict) -> None:
    """The dub track sounds only inside the language's placed spans, and in every one of them."""
    spans = [(w["dub_start_ms"], w["dub_end_ms"]) for w in _placed(report)]
    voiced = avprobe.voiced_ms(dub, rate)
    stray = [t for t in voiced if not any(a - TOLERANCE_MS <= t and t + 10 <= b + TOLERANCE_MS for a, b in spans)]
    assert len(voiced) and not stray, f"{report['target']}: dub sounds outside its slots at {stray[:5]} ms"
    for a, b in spans:
        assert sum(1 for t in voiced if a <= t < b) * 10 >= 0.5 * (b - a), (report["target"], a, b)


def test_two_languages_in_one_mp4_each_with_its_tracks_sidecars_and_report(tmp_path: Path, scene, run_dubber,
                                                                           emulator):
    video = write_media(scene.pcm, tmp_path / "talk.mp4")
    sent = emulator.requests
    result = run_dubber("dub", video, "--to", "en,ja", "--from", "en", "--no-cache")
    assert result.code == 0, result.stderr
    media = tmp_path / "talk.en+ja.mp4"
    files = {lang: [tmp_path / f"talk.en+ja.{lang}.{s}" for s in ("srt", "vtt", "dub.json")] for lang in ("en", "ja")}
    assert result.stdout.split() == [str(media), *map(str, files["en"] + files["ja"])]
    reports = {lang: json.loads(files[lang][2].read_text(encoding="utf-8")) for lang in ("en", "ja")}
    windows = [(w["window_start_ms"], w["window_end_ms"]) for w in reports["en"]["windows"]]
    assert len(windows) == len(LAYOUT) and windows == [(w["window_start_ms"], w["window_end_ms"])
                                                       for w in reports["ja"]["windows"]]  # planned once
    assert emulator.requests - sent == 2 * len(windows)  # each window once per language
    for lang, report in reports.items():  # today's schema, one report per language
        assert (report["target"], report["output"]) == (lang, str(media))
        assert report["sidecars"] == [str(files[lang][0]), str(files[lang][1])]
        assert report["summary"]["windows"] == len(windows) and _placed(report)
    summaries = [m.groups() for line in result.stderr.splitlines()
                 if (m := re.fullmatch(r"dubber: (\w+): (\d+) windows, (\d+) dubbed clips, \d+ sped up "
                                       r"\(fastest [\d.]+x\), \d+ cut short, \d+ tokens", line))]
    assert summaries == [(lang, str(len(windows)), str(reports[lang]["summary"]["clips"])) for lang in ("en", "ja")]

    streams = avprobe.streams(media)
    assert [(s.type, s.codec) for s in streams] == [("video", "h264"), ("audio", "aac"), ("audio", "aac"),
                                                    ("audio", "aac"), ("subtitle", "mov_text"), ("subtitle", "mov_text")]
    eng, jpn = parse_lang("en").iso639_2, parse_lang("ja").iso639_2
    assert _tags(streams, "audio") == [(eng, "English dub", True), (jpn, "Japanese dub", False),
                                       ("eng", "Original (English)", False)]
    assert [t[:2] for t in _tags(streams, "subtitle")] == [(eng, "English"), (jpn, "Japanese")]
    en_texts, ja_texts = _track_texts(media, 0, tmp_path), _track_texts(media, 1, tmp_path)
    assert en_texts == [t for *_, t in read_srt(files["en"][0])] and not any(KANA_OR_HAN.search(t) for t in en_texts)
    assert ja_texts == [t for *_, t in read_srt(files["ja"][0])] and all(KANA_OR_HAN.search(t) for t in ja_texts)
    avprobe.assert_video_copied(media, video)

    # each mix ducks the original under its own language's dub, and leaves it whole between
    original, rate = avprobe.decode_audio(media, 3)
    for index, lang in ((1, "en"), (2, "ja")):
        mix, _ = avprobe.decode_audio(media, index)
        placed = _placed(reports[lang])
        for w in placed:
            gain = avprobe.gain_db(mix, original, rate, w["dub_start_ms"] + 20, w["dub_end_ms"] - 20)
            assert -25 < gain <= -12, (lang, w["index"], gain)
        gap = max(((a["dub_end_ms"] + 400, b["dub_start_ms"] - 250) for a, b in zip(placed, placed[1:])),
                  key=lambda g: g[1] - g[0])
        assert gap[1] - gap[0] >= 300 and abs(avprobe.gain_db(mix, original, rate, *gap)) < 1.0, (lang, gap)


def test_a_multi_track_film_in_two_languages_keeps_every_input_stream_after_the_new_tracks(tmp_path: Path,
                                                                                          run_dubber):
    film = _film(tmp_path, "mkv")  # video, main and commentary audio, a subtitle track, a font, chapters
    result = run_dubber("dub", film, "--to", "fr,zh", "--mix", "replace")
    assert result.code == 0, result.stderr
    media = tmp_path / "film.fr+zh.mkv"
    assert Path(result.stdout.split()[0]) == media and "note" not in result.stderr
    streams = avprobe.streams(media)
    assert [(s.type, s.codec) for s in streams] == [
        ("video", "h264"), ("audio", "opus"), ("audio", "opus"), ("audio", "flac"), ("audio", "flac"),
        ("subtitle", "subrip"), ("subtitle", "subrip"), ("subtitle", "subrip"), ("attachment", "ttf")]
    fra, zho = parse_lang("fr").iso639_2, parse_lang("zh").iso639_2
    assert _tags(streams, "audio") == [(fra, "French dub", True), (zho, "Chinese dub", False),
                                       ("eng", "Original", False), ("eng", "Commentary", False)]
    assert _tags(streams, "subtitle") == [(fra, "French", False), (zho, "Chinese", False), ("eng", "English", False)]
    # the input's streams, after the new ones, copied bit for bit
    assert _packets(media, 0) == _packets(film, 0)
    assert _packets(media, 3) == _packets(film, 1) and _packets(media, 4) == _packets(film, 2)
    assert _track_texts(media, 2, tmp_path) == ["Hello there", "Second line"]
    fr_texts, zh_texts = _track_texts(media, 0, tmp_path), _track_texts(media, 1, tmp_path)
    assert fr_texts and not any(KANA_OR_HAN.search(t) for t in fr_texts)
    assert zh_texts and all(KANA_OR_HAN.search(t) for t in zh_texts)

    # each dub track speaks where its own report places its clips, and the two are different speech
    reports = {lang: json.loads((tmp_path / f"film.fr+zh.{lang}.dub.json").read_text(encoding="utf-8"))
               for lang in ("fr", "zh")}
    fr, rate = avprobe.decode_audio(media, 1)
    zh, _ = avprobe.decode_audio(media, 2)
    _check_dub_energy(fr, rate, reports["fr"])
    _check_dub_energy(zh, rate, reports["zh"])
    n = min(len(fr), len(zh))
    assert abs(np.corrcoef(fr[:n], zh[:n])[0, 1]) < 0.5


@pytest.mark.parametrize("name, args, refused", [
    ("talk.mp3", [], "talk.en+fr.mp3: a .mp3"),
    ("talk.m4a", ["-o", "{dir}/dubbed.wav"], "dubbed.wav: a .wav"),
    ("talk.mp4", ["-o", "{dir}/dubbed.flac"], "dubbed.flac: a .flac"),
])
def test_a_kind_that_holds_one_audio_stream_refuses_two_languages_before_paying(tmp_path: Path, run_dubber,
                                                                                 emulator, name, args, refused):
    talk = write_media(compose([(0.5, "en01")], tail_s=0.5).pcm, tmp_path / name)
    sent = emulator.requests
    result = run_dubber("dub", talk, "--to", "en,fr", *[a.format(dir=tmp_path) for a in args])
    assert result.code == 2 and emulator.requests == sent, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"dubber: error: {refused} holds one audio stream") and ".mka or .mkv" in line, line
    assert "one language a run" in line and os.listdir(tmp_path) == [name]


class _Watcher(Events):
    def __init__(self) -> None:
        self.stages: list[list] = []  # [name, total, unit, detail, advanced]

    def stage(self, name, total=None, unit="", detail=""):
        self.stages.append([name, total, unit, detail, 0.0])

    def advance(self, amount=1.0):
        self.stages[-1][4] += amount


def test_the_job_reports_each_stage_and_keeps_every_language_reachable(tmp_path: Path, scene, emulator):
    talk = write_media(scene.pcm, tmp_path / "talk.m4a")
    choice = backend_choice("livetranslate", DEFAULT_KEY, emulator.base_url)
    job = DubJob(input=talk, backend=choice, target=parse_lang("fr"), extra_targets=(parse_lang("de"),),
                 transcriber=backend_choice("asr", DEFAULT_KEY, emulator.base_url), mix="replace")
    sent, watcher = emulator.requests, _Watcher()
    result = run_dub(job, events=watcher)
    windows = len(LAYOUT)
    assert emulator.requests - sent == 3 * windows  # transcribed once for both languages, translated per language
    assert [(s[0], s[3]) for s in watcher.stages] == [("extract", ""), ("transcribe", ""), ("translate", "fr"),
                                                      ("render", "fr"), ("translate", "de"), ("render", "de"),
                                                      ("mux", ""), ("write", "")]
    fr, de = result.languages
    assert (fr.code, de.code) == ("fr", "de") and result.summary == fr.summary
    for stage, done in zip([s for s in watcher.stages if s[0] == "render"], (fr, de)):
        assert stage[1] == stage[4] == len(done.placements) > 0 and stage[2] == "clips"
    mux = watcher.stages[6]
    assert mux[2] == "s" and abs(mux[1] - scene.duration_ms / 1000) < 0.1 and abs(mux[4] - mux[1]) < 0.25, mux
    assert watcher.stages[7][1] == len(result.outputs.all()) == 7
    media = tmp_path / "talk.fr+de.m4a"
    assert result.outputs.media == media and [f.code for f in result.outputs.languages] == ["fr", "de"]
    for done in (fr, de):  # what the --report of a run needs, per language, and the report file says the same
        assert done.files.report == tmp_path / f"talk.fr+de.{done.code}.dub.json"
        assert json.loads(done.files.report.read_text(encoding="utf-8")) == json.loads(json.dumps(done.report()))
        assert done.summary.windows == windows and done.facts.rate_limits.jobs == job.fetch.jobs
        assert done.facts.overlong_cues == () and len(done.translations) == windows
        assert done.usage.total_tokens > 0
    assert result.usage.total_tokens > fr.usage.total_tokens + de.usage.total_tokens  # and the transcripts'
    assert [s.type for s in avprobe.streams(media)] == ["audio"] * 3
    assert "subtitles are in the sidecar files only: this kind of file cannot hold them" in result.notes


def test_a_job_naming_one_language_twice_is_refused():
    fr = parse_lang("fr")
    with pytest.raises(OptionError, match="--to names fr twice"):
        DubJob(input=Path("talk.mp4"), backend=backend_choice("livetranslate", DEFAULT_KEY), target=fr,
               extra_targets=(parse_lang("French"),))
    assert [lang.code for lang in DubJob(input=Path("talk.mp4"), backend=backend_choice("livetranslate", DEFAULT_KEY),
                                         target=fr, extra_targets=(parse_lang("ja"),)).targets] == ["fr", "ja"]
