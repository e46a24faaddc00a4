"""Speakers end to end, on real meeting recordings (samples/meeting-*.flac: AMI excerpts with their reference
turns): `dubber speakers` writes RTTM that tells the real speakers apart; `dub --speakers auto` sends a voice
per speaker through the real openai SDK to the emulator, which records each request's voice; subtitles and
transcripts mark who speaks and still cover the speech."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pysubs2
import pytest
import webvtt

from dubber.speakers.score import Labelled, diarization_errors
from tests.support.cues import read_srt

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TRN00, TRN09 = SAMPLES / "meeting-trn00.flac", SAMPLES / "meeting-trn09.flac"
# The qwen3-omni-flash voice list's own descriptions: a woman's voice or a man's
WOMEN = {"Cherry", "Jennifer", "Katerina", "Jada", "Sunny", "Kiki"}
MEN = {"Ethan", "Nofish", "Ryan", "Elias", "Dylan", "Li", "Marcus", "Roy", "Peter", "Rocky", "Eric"}


def read_rttm(path: Path) -> list[Labelled]:
    turns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        assert len(fields) == 10 and fields[0] == "SPEAKER" and fields[2] == "1", line
        start, length = round(float(fields[3]) * 1000), round(float(fields[4]) * 1000)
        assert length > 0
        turns.append(Labelled(start, start + length, fields[7]))
    return turns


def reference(media: Path) -> list[Labelled]:
    return read_rttm(media.with_suffix(".ref.rttm"))


def who_says(spans: list[Labelled], at: list[Labelled]) -> Counter:
    """How long each speaker of ``at`` talks inside ``spans``."""
    heard: Counter = Counter()
    for span in spans:
        for t in at:
            heard[t.speaker] += max(0, min(span.end_ms, t.end_ms) - max(span.start_ms, t.start_ms))
    return heard


def alone(turns: list[Labelled], speaker: str) -> list[Labelled]:
    """Where ``speaker`` talks and nobody else does (in 100 ms steps)."""
    out = []
    for ms in range(0, 30_000, 100):
        here = {t.speaker for t in turns if t.start_ms <= ms < t.end_ms}
        if here == {speaker}:
            out.append(Labelled(ms, ms + 100, speaker))
    return out


def test_speakers_tells_the_woman_from_the_man_in_a_real_meeting(run_dubber, tmp_path):
    result = run_dubber("speakers", TRN09, "--out-dir", tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "meeting-trn09.rttm")
    found = read_rttm(tmp_path / "meeting-trn09.rttm")
    assert all(line.split()[1] == "meeting-trn09" for line in (tmp_path / "meeting-trn09.rttm").read_text().splitlines())
    ref = reference(TRN09)
    # who is found where she talks alone, and where he talks (the reference has her talk throughout)
    woman = who_says(alone(ref, "FEE083"), found).most_common(1)[0][0]
    man = who_says([t for t in ref if t.speaker == "MEE094"], found).most_common(2)
    assert woman != man[0][0] or man[1][1] > 0.3 * sum(n for _, n in man), (woman, man)
    assert diarization_errors(ref, found, collar_ms=250).rate < 0.2  # 0.09 today; one label for all scores 0.29
    assert "speakers in" in result.stderr


def test_speaker_counts_are_honoured_and_bad_counts_refused(run_dubber, tmp_path):
    assert run_dubber("speakers", TRN00, "--out-dir", tmp_path, "--num-speakers", "2", "-q").code == 0
    assert len({t.speaker for t in read_rttm(tmp_path / "meeting-trn00.rttm")}) == 2
    assert run_dubber("speakers", TRN00, "--out-dir", tmp_path, "--max-speakers", "1", "-q").code == 0
    assert len({t.speaker for t in read_rttm(tmp_path / "meeting-trn00.rttm")}) == 1
    refused = run_dubber("speakers", TRN00, "--out-dir", tmp_path / "no", "--min-speakers", "3", "--max-speakers", "2")
    assert refused.code == 2 and refused.stderr.count("\n") == 1 and "--min-speakers (3)" in refused.stderr
    assert not (tmp_path / "no").exists()


def test_speakers_refuses_what_is_not_media_in_one_line_and_writes_nothing(run_dubber, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    result = run_dubber("speakers", bad)
    assert result.code == 2 and result.stderr.count("\n") == 1 and "notes.wav" in result.stderr
    assert "Traceback" not in result.log and not (tmp_path / "notes.rttm").exists()


def _dub(run_dubber, emulator, tmp_path, *args):
    before = len(emulator.voices)
    result = run_dubber("dub", TRN09, "--to", "fr", "--out-dir", tmp_path, "--mix", "replace", *args, timeout=240)
    assert result.code == 0, result.stderr
    report = json.loads((tmp_path / "meeting-trn09.fr.dub.json").read_text(encoding="utf-8"))
    return result, report, [voice for _, voice in emulator.voices[before:]]


def test_dub_gives_each_speaker_one_voice_matched_to_their_pitch(run_dubber, emulator, tmp_path):
    result, report, sent = _dub(run_dubber, emulator, tmp_path)  # --speakers auto: the extra is installed
    windows = report["windows"]
    assert len(set(sent)) >= 2 and sorted(sent) == sorted(w["voice"] for w in windows)
    by_speaker = {s["number"]: s["voice"] for s in report["speakers"]}
    assert all(w["speaker"] in by_speaker and w["voice"] == by_speaker[w["speaker"]] for w in windows)
    assert len(set(by_speaker.values())) == len(by_speaker)  # a different voice each
    # the woman is given a woman's voice and the man a man's: who is who from the same diarization's RTTM
    assert run_dubber("speakers", TRN09, "--out-dir", tmp_path, "-q").code == 0
    found, ref = read_rttm(tmp_path / "meeting-trn09.rttm"), reference(TRN09)
    woman = who_says(alone(ref, "FEE083"), found).most_common(1)[0][0]
    man = who_says([t for t in ref if t.speaker == "MEE094"], found).most_common(1)[0][0]
    voices = {f"speaker{s['number']}": s["voice"] for s in report["speakers"]}
    assert woman != man and voices[woman] in WOMEN and voices[man] in MEN, (woman, man, voices)
    # speakers marked in the subtitles: every WebVTT cue in a voice span
    cues = webvtt.read(str(tmp_path / "meeting-trn09.fr.vtt"))
    assert cues and all(c.voice and c.voice.startswith("Speaker ") for c in cues)
    assert "speakers:" in result.stderr


def test_voices_by_hand(run_dubber, emulator, tmp_path):
    _, report, sent = _dub(run_dubber, emulator, tmp_path, "--speakers", "2", "--voices", "1=Ethan,2=Jennifer")
    assert {s["number"]: s["voice"] for s in report["speakers"]} == {1: "Ethan", 2: "Jennifer"}
    assert set(sent) == {"Ethan", "Jennifer"}


@pytest.mark.parametrize("args, said", [
    (["--speakers", "off", "--voices", "1=Ethan"], "--voices gives each speaker a voice"),
    (["--voices", "1=Nobody"], "unknown voice 'Nobody'"),
    (["--speakers", "several"], "--speakers takes auto, off or a number"),
])
def test_dub_refuses_bad_speaker_options_before_sending(run_dubber, emulator, tmp_path, args, said):
    before = emulator.requests
    result = run_dubber("dub", TRN09, "--to", "fr", "--out-dir", tmp_path, *args)
    assert result.code == 2 and said in result.stderr and result.stderr.count("\n") == 1
    assert emulator.requests == before and not list(tmp_path.iterdir())


def test_subtitles_mark_speakers_in_every_format_and_cover_the_speech(run_dubber, tmp_path):
    report_path = tmp_path / "run.json"
    result = run_dubber("subtitles", TRN00, "--to", "de", "--speakers", "auto", "--format", "srt,vtt,ass",
                        "--out-dir", tmp_path, "--report", report_path)
    assert result.code == 0, result.stderr
    vtt = webvtt.read(str(tmp_path / "meeting-trn00.de.vtt"))
    assert all(c.voice for c in vtt) and len({c.voice for c in vtt}) >= 2
    ass = pysubs2.load(str(tmp_path / "meeting-trn00.de.ass"))
    assert all(e.name.startswith("Speaker ") for e in ass.events)
    dialogues = [c for c in vtt if "\n" in c.text and all(line.startswith("-") for line in c.text.split("\n"))]
    srt_texts = [text for _, _, text in read_srt(tmp_path / "meeting-trn00.de.srt")]
    assert len(dialogues) == sum(1 for t in srt_texts if t.startswith("-"))  # the same dialogue cues, dashed
    details = json.loads(report_path.read_text(encoding="utf-8"))["runs"][0]["details"]
    assert len(details["speakers"]) >= 2 and all(s["talk_ms"] > 0 for s in details["speakers"])
    # three quarters of the reference's speech regions are under a cue
    cues = [Labelled(start, end, "") for start, end, _ in read_srt(tmp_path / "meeting-trn00.de.srt")]
    ref = reference(TRN00)
    covered = [t for t in ref if who_says(cues, [t])[t.speaker] >= 0.5 * (t.end_ms - t.start_ms)]
    assert len(covered) >= 0.75 * len(ref)


def test_transcripts_mark_speakers(run_dubber, tmp_path):
    result = run_dubber("transcribe", TRN09, "--speakers", "auto", "--lang", "en", "--out-dir", tmp_path)
    assert result.code == 0, result.stderr
    cues = webvtt.read(str(tmp_path / "meeting-trn09.en.vtt"))
    assert cues and all(c.voice for c in cues)


def test_an_edited_line_of_a_two_speaker_dub_is_revoiced_alone_in_its_speakers_voice(run_dubber, emulator, tmp_path):
    import srt

    _, report, _ = _dub(run_dubber, emulator, tmp_path)
    sidecar = tmp_path / "meeting-trn09.fr.srt"
    subs = list(srt.parse(sidecar.read_text(encoding="utf-8")))
    edited = max(range(len(subs)), key=lambda k: subs[k].end - subs[k].start)
    subs[edited] = srt.Subtitle(subs[edited].index, subs[edited].start, subs[edited].end, "Une phrase revue.")
    sidecar.write_text(srt.compose(subs), encoding="utf-8")
    start_ms = subs[edited].start.total_seconds() * 1000
    under = max(report["windows"], key=lambda w: min(w["window_end_ms"], start_ms + 500) - max(w["window_start_ms"], start_ms))
    before, voices_before = emulator.requests, len(emulator.voices)
    again = run_dubber("dub", TRN09, "--to", "fr", "--out-dir", tmp_path, "--mix", "replace", "--subtitles", sidecar)
    assert again.code == 0, again.stderr
    assert emulator.requests - before == 1
    assert [voice for _, voice in emulator.voices[voices_before:]] == [under["voice"]]
