"""`dubber dub --subtitles`: a dub voiced from given subtitles, and an edited dub re-voiced only where its
words changed. Generated speech at known times, the real CLI against the emulator (omni's text-only speech
for the DashScope family, /audio/speech for the OpenAI one), every dub decoded and measured."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import srt

from dubber.emulator import DEFAULT_KEY
from tests.support import avprobe
from tests.support.cues import read_srt
from tests.support.mediagen import compose, write_media

LAYOUT = [(0.8, "en01"), (1.4, "en02"), (1.2, "en03"), (1.6, "en05"), (1.1, "en04"), (1.3, "en06")]
# French-looking text of about 13 characters a second of the cue: a translator's pace, under the 14 a
# second the emulator reads at, so each line fits its cue at natural speed or a little faster
WORDS = ("bonjour", "merci", "nous", "avons", "le", "temps", "de", "parler", "ensemble", "aujourd'hui", "et",
         "demain", "sans", "doute", "la", "réunion", "commence")
FRAME_MS = 10


def _text(chars: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    words: list[str] = []
    while len(" ".join(words)) < chars:
        words.append(WORDS[rng.integers(len(WORDS))])
    return " ".join(words).capitalize() + "."


def _talk(tmp_path: Path) -> tuple[Path, list]:
    scene = compose(LAYOUT, tail_s=1.5, seed=5)
    return write_media(scene.pcm, tmp_path / "talk.wav"), list(scene.speech)


def _given(speech, path: Path) -> list[srt.Subtitle]:
    """A translator's cues: one per utterance, from its start to 400 ms after its end."""
    subs = []
    for n, utt in enumerate(speech, start=1):
        start, end = utt.start_ms, utt.end_ms + 400
        subs.append(srt.Subtitle(n, _ms(start), _ms(end), _text(round((end - start) / 1000 * 13), n)))
    path.write_text(srt.compose(subs), encoding="utf-8")
    return subs


def _ms(ms: int):
    from datetime import timedelta
    return timedelta(milliseconds=ms)


def _voiced(path: Path) -> np.ndarray:
    """The dub track's 10 ms frames that sound (start times, ms)."""
    dub, rate = avprobe.decode_audio(path, 0)
    return avprobe.voiced_ms(dub, rate, frame_ms=FRAME_MS)


def _spans(subs) -> list[tuple[int, int]]:
    return [(s.start // _ms(1), s.end // _ms(1)) for s in subs]


@pytest.mark.parametrize("backend", ["livetranslate", "whisper"])
def test_given_subtitles_are_voiced_cue_by_cue_inside_their_spans(tmp_path, run_dubber, dubber_env, emulator, backend):
    media, speech = _talk(tmp_path)
    lang = "fr"
    subs = _given(speech, tmp_path / f"given.{lang}.srt")
    env = {**dubber_env, "OPENAI_API_KEY": DEFAULT_KEY, "OPENAI_BASE_URL": emulator.openai_base_url}
    since = emulator.requests
    result = run_dubber("dub", media, "--backend", backend, "--subtitles", tmp_path / f"given.{lang}.srt",
                        "--mix", "replace", "-o", tmp_path / "out.wav", env=env)
    assert result.code == 0, result.stderr
    sent = emulator.captured[-(emulator.requests - since):]
    assert len(sent) == len(subs), "one text request per cue, and nothing else"
    paths = {c.path for c in sent}
    assert paths == ({"/v1/audio/speech"} if backend == "whisper" else {"/compatible-mode/v1/chat/completions"}), paths

    voiced = _voiced(tmp_path / "out.wav")
    spans = _spans(subs)
    heard = [sum(1 for t in voiced if a <= t < b) * FRAME_MS for a, b in spans]
    assert sum(1 for ms in heard if ms >= 300) >= 0.95 * len(spans), heard
    outside = [t for t in voiced if not any(a <= t and t + FRAME_MS <= b for a, b in spans)]
    assert len(outside) <= 0.05 * len(voiced), f"{len(outside)} of {len(voiced)} voiced frames outside their cues"

    # the subtitle track is the given text, laid out; the report marks every cue as voiced
    assert [c[2].replace("\n", " ") for c in read_srt(tmp_path / "out.srt")] == [s.content for s in subs]
    report = json.loads((tmp_path / "out.dub.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in report["cues"]] == ["voiced"] * len(subs)


def _dub_then_edit(tmp_path: Path, run_dubber) -> tuple[Path, Path, list[srt.Subtitle]]:
    """Dub the talk with livetranslate (its sidecar beside it), keep that dub aside, and read its sidecar."""
    media, _ = _talk(tmp_path)
    first = run_dubber("dub", media, "--to", "fr", "--mix", "replace")
    assert first.code == 0, first.stderr
    dubbed, sidecar = tmp_path / "talk.fr.wav", tmp_path / "talk.fr.srt"
    shutil.copy(dubbed, tmp_path / "first.wav")
    return media, sidecar, list(srt.parse(sidecar.read_text(encoding="utf-8")))


def _save_as_an_editor_does(path: Path, subs: list[srt.Subtitle]) -> None:
    """Subtitle Edit's way: renumbered from 1, a byte-order mark, CRLF line ends."""
    text = srt.compose(subs, reindex=True).replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def _outside(signal: np.ndarray, rate: int, spans: list[tuple[int, int]]) -> np.ndarray:
    keep = np.ones(len(signal), dtype=bool)
    for a, b in spans:
        keep[a * rate // 1000:b * rate // 1000] = False
    return signal[keep]


def test_editing_two_cues_revoices_only_them(tmp_path, run_dubber, emulator):
    media, sidecar, subs = _dub_then_edit(tmp_path, run_dubber)
    assert len(subs) >= 5
    edited = [1, 3]
    for k in edited:
        subs[k] = srt.Subtitle(subs[k].index, subs[k].start, subs[k].end, "Une phrase revue par un relecteur.")
    _save_as_an_editor_does(sidecar, subs)

    since = emulator.requests
    again = run_dubber("dub", media, "--to", "fr", "--mix", "replace", "--subtitles", sidecar)
    assert again.code == 0, again.stderr
    assert emulator.requests - since == 2, "exactly the two edited cues are paid for"
    for captured in emulator.captured[-2:]:
        body = json.loads(captured.body)
        assert body["messages"][-1]["content"][0]["text"] == "Une phrase revue par un relecteur."
        assert "input_audio" not in captured.body.decode()
    report = json.loads((tmp_path / "talk.fr.dub.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in report["cues"]] == ["re-voiced" if k in edited else "kept" for k in range(len(subs))]
    assert sidecar.read_bytes().startswith(b"\xef\xbb\xbf"), "the given file is left as the editor saved it"

    before, rate = avprobe.decode_audio(tmp_path / "first.wav", 0)
    after, _ = avprobe.decode_audio(tmp_path / "talk.fr.wav", 0)
    assert len(before) == len(after)
    # the edited cues' spans, to the next cue's start: a re-voiced line may run on into the silence after it
    spans = [(subs[k].start // _ms(1), subs[k + 1].start // _ms(1)) for k in edited]
    a, b = _outside(before, rate, spans), _outside(after, rate, spans)
    assert np.sqrt(np.mean(a ** 2)) > 0.01, "the first dub has speech outside the edited cues"
    assert np.corrcoef(a, b)[0, 1] >= 0.99
    inside = [(before[s * rate // 1000:e * rate // 1000], after[s * rate // 1000:e * rate // 1000]) for s, e in spans]
    assert all(np.corrcoef(x, y)[0, 1] < 0.5 for x, y in inside), "the edited cues speak anew"


def test_a_moved_cue_is_refitted_without_a_request(tmp_path, run_dubber, emulator):
    media, sidecar, subs = _dub_then_edit(tmp_path, run_dubber)
    k = 2
    subs[k] = srt.Subtitle(subs[k].index, subs[k].start + _ms(300), subs[k].end + _ms(300), subs[k].content)
    _save_as_an_editor_does(sidecar, subs)

    since = emulator.requests
    again = run_dubber("dub", media, "--to", "fr", "--mix", "replace", "--subtitles", sidecar)
    assert again.code == 0, again.stderr
    assert emulator.requests == since, "a moved cue costs no request"
    report = json.loads((tmp_path / "talk.fr.dub.json").read_text(encoding="utf-8"))
    assert [c["status"] for c in report["cues"]] == ["re-timed" if n == k else "kept" for n in range(len(subs))]

    before, rate = avprobe.decode_audio(tmp_path / "first.wav", 0)
    after, _ = avprobe.decode_audio(tmp_path / "talk.fr.wav", 0)
    start, end = subs[k].start // _ms(1) - 300, subs[k + 1].start // _ms(1)
    old, new = before[start * rate // 1000:end * rate // 1000], after[start * rate // 1000:end * rate // 1000]
    lags = np.arange(0, 600) * rate // 1000
    scores = [np.dot(old[:len(old) - lag], new[lag:]) for lag in lags]
    assert abs(int(np.argmax(scores)) - 300) <= 20, "the cue's speech moved with it"


def test_plan_says_how_many_cues_would_be_voiced(tmp_path, run_dubber):
    media, sidecar, subs = _dub_then_edit(tmp_path, run_dubber)
    unchanged = run_dubber("plan", media, "--to", "fr", "--subtitles", sidecar)
    assert unchanged.code == 0, unchanged.stderr
    assert f"fr: talk.fr.srt: {len(subs)} cues, 0 to voice" in unchanged.stdout
    assert "requests: 0 " in unchanged.stdout
    subs[0] = srt.Subtitle(subs[0].index, subs[0].start, subs[0].end, "Autre chose.")
    _save_as_an_editor_does(sidecar, subs)
    edited = run_dubber("plan", media, "--to", "fr", "--subtitles", sidecar)
    assert f"fr: talk.fr.srt: {len(subs)} cues, 1 to voice" in edited.stdout
    assert "requests: 1 " in edited.stdout


@pytest.mark.parametrize("name, content, args, said", [
    ("given.fr.srt", "1\n00:00:01,000 --> 00:00:00,500\nBonjour.\n", (),
     "given.fr.srt: cue 1 at 00:00:01.000 ends before it starts"),
    ("given.fr.srt", "not subtitles at all", (), "given.fr.srt: not a subtitle file dubber can read"),
    ("given.srt", "1\n00:00:01,000 --> 00:00:02,000\nBonjour.\n", (),
     "given.srt: its name says no language (<stem>.<lang>.<ext>): pass --to"),
    ("given.de.srt", "1\n00:00:01,000 --> 00:00:02,000\nHallo.\n", ("--to", "fr"),
     "given.de.srt is named for German, but --to says French"),
    ("given.fr.srt", "1\n00:00:01,000 --> 00:00:02,000\nBonjour.\n", ("--bilingual",),
     "--bilingual transcribes the speech"),
])
def test_bad_subtitles_are_refused_in_one_line_before_anything_is_sent(tmp_path, run_dubber, emulator, name, content,
                                                                        args, said):
    media, _ = _talk(tmp_path)
    (tmp_path / name).write_text(content, encoding="utf-8")
    since = emulator.requests
    result = run_dubber("dub", media, "--subtitles", tmp_path / name, *args)
    assert result.code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert emulator.requests == since
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["talk.wav", name])
