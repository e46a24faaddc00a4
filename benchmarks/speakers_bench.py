"""Speaker diarization on real meetings: the diarization error rate the standard way and the speed.

For each ``*.wav``/``*.flac`` of ``--data`` that has reference turns (``*.rttm`` there, NIST RTTM), the audio is
decoded as dubber decodes it and diarized in this process (timed: compute only), then scored with
``dubber.speakers.score``: missed speech + false alarm + confusion over the reference speech, overlap
included, optimal speaker mapping, with a no-score collar on each side of every reference boundary. The
collar is reported at 0.25 s a side (NIST md-eval's ``-c 0.25``, pyannote.metrics' ``collar=0.5``) and at
0.125 s a side (pyannote.metrics' ``collar=0.25``). With pyannote.metrics installed (``pip install
"dubber[bench]"``) its own figures are printed beside ours.

Then ``dubber speakers`` is run as a user runs it, on each file (wall time of the whole command), and
memory is measured on a long input made by repeating the files.

    python benchmarks/speakers_bench.py --data ../shared/data/meetings
    python benchmarks/speakers_bench.py --leads 0 0.3 0.5 0.7 --minutes            # where the chunks fall
    python benchmarks/speakers_bench.py --leads 0 0.3 0.5 0.7 --minutes --gain-db -10   # a quieter recording
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dubber.media.audio import ANALYSIS_RATE, PcmFile, extract_pcm  # noqa: E402
from dubber.media.probe import probe  # noqa: E402
from dubber.speakers import SpeakerOptions  # noqa: E402
from dubber.speakers.diarize import diarize  # noqa: E402
from dubber.speakers.score import Labelled, diarization_errors  # noqa: E402


def read_rttm(path: Path) -> dict[str, list[Labelled]]:
    turns: dict[str, list[Labelled]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            start, length = round(float(f[3]) * 1000), round(float(f[4]) * 1000)
            turns.setdefault(f[1], []).append(Labelled(start, start + length, f[7]))
    return turns


def references(data: Path) -> dict[str, list[Labelled]]:
    found: dict[str, list[Labelled]] = {}
    for rttm in sorted(data.glob("*.rttm")):
        found.update(read_rttm(rttm))
    return found


def meetings(data: Path, refs: dict[str, list[Labelled]]) -> list[tuple[str, Path]]:
    """The recordings of ``data`` that have reference turns, with the name the RTTM gives them (a copy
    named ``meeting-<name>`` too), in name order."""
    media = [(p.stem.split("meeting-")[-1], p) for p in sorted(data.iterdir()) if p.suffix in (".wav", ".flac")]
    return [(name, path) for name, path in media if name in refs]


def decode(path: Path, folder: Path) -> PcmFile:
    raw = folder / f"{path.stem}.pcm"
    extract_pcm(probe(path), raw)
    return PcmFile(raw)


def pyannote_der(ref: list[Labelled], hyp: list[Labelled], collar_s: float) -> float | None:
    try:
        from pyannote.core import Annotation, Segment
        from pyannote.metrics.diarization import DiarizationErrorRate
    except ImportError:
        return None
    r, h = Annotation(), Annotation()
    for i, t in enumerate(ref):
        r[Segment(t.start_ms / 1000, t.end_ms / 1000), i] = t.speaker
    for i, t in enumerate(hyp):
        h[Segment(t.start_ms / 1000, t.end_ms / 1000), i] = t.speaker
    return DiarizationErrorRate(collar=collar_s, skip_overlap=False)(r.support(), h.support())


def louder(pcm: PcmFile, gain_db: float) -> PcmFile | np.ndarray:
    """``pcm`` raised (or lowered) by ``gain_db``, rounded and clipped to 16 bits as a recording would be."""
    if not gain_db:
        return pcm
    scaled = np.asarray(pcm[0:len(pcm)], dtype=np.float64) * 10 ** (gain_db / 20)
    return np.clip(np.round(scaled), -32768, 32767).astype(np.int16)


def alignments(data: Path, leads: list[float], gain_db: float) -> None:
    """DER (0.25 s collar) of each file with ``leads`` seconds of silence put before it (the hypothesis moved
    back): how much of a file's figure is where its chunks happen to fall, and the mean over those."""
    refs = references(data)
    means = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in meetings(data, refs):
            samples = louder(decode(path, Path(tmp)), gain_db)
            pcm = np.asarray(samples[0:len(samples)], dtype=np.int16)
            rates = []
            for lead in leads:
                pad = round(lead * ANALYSIS_RATE)
                turns = diarize(np.concatenate([np.zeros(pad, np.int16), pcm]), ANALYSIS_RATE, SpeakerOptions())
                back = pad * 1000 // ANALYSIS_RATE
                hyp = [Labelled(max(0, t.start_ms - back), t.end_ms - back, t.speaker) for t in turns if t.end_ms > back]
                rates.append(diarization_errors(refs[name], hyp, 250).rate)
            means.append(statistics.mean(rates))
            print(f"{name}: DER " + " ".join(f"{r:6.1%}" for r in rates) + f"  (mean {means[-1]:.1%})")
    half = len(means) // 2
    print(f"mean DER over leads {leads} s at {gain_db:+g} dB: {statistics.mean(means):.2%} (first half "
          f"{statistics.mean(means[:half]):.2%}, second half {statistics.mean(means[half:]):.2%})")


def score_files(data: Path, options: SpeakerOptions, gain_db: float = 0.0) -> None:
    refs = references(data)
    media = meetings(data, refs)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        diarize(decode(media[0][1], Path(tmp)), ANALYSIS_RATE, options)  # load the networks once, untimed
        for name, path in media:
            pcm = louder(decode(path, Path(tmp)), gain_db)
            clock, cpu = time.perf_counter(), time.process_time()
            turns = diarize(pcm, ANALYSIS_RATE, options)
            wall, used = time.perf_counter() - clock, time.process_time() - cpu
            hyp = [Labelled(t.start_ms, t.end_ms, t.speaker) for t in turns]
            ref = refs[name]
            row = (name, len({t.speaker for t in ref}), len({t.speaker for t in hyp}),
                   diarization_errors(ref, hyp, 250), diarization_errors(ref, hyp, 125), wall, used,
                   len(pcm) / ANALYSIS_RATE, pyannote_der(ref, hyp, 0.5), pyannote_der(ref, hyp, 0.25))
            rows.append(row)
            theirs = f"  pyannote.metrics: {row[8]:.1%} / {row[9]:.1%}" if row[8] is not None else ""
            print(f"{name}: ref {row[1]} spk, found {row[2]}; DER {row[3].rate:6.1%} (0.25 s collar), "
                  f"{row[4].rate:6.1%} (0.125 s); miss {row[3].missed / row[3].total:.1%} fa "
                  f"{row[3].false_alarm / row[3].total:.1%} conf {row[3].confusion / row[3].total:.1%}; "
                  f"{wall:.2f} s wall, {used:.2f} s CPU ({row[7] / wall:.0f}x real time){theirs}")
    for label, part in (("all", rows), ("first half", rows[:len(rows) // 2]), ("second half", rows[len(rows) // 2:])):
        print(f"mean DER, {label} ({len(part)} files): {statistics.mean(r[3].rate for r in part):.1%} at 0.25 s, "
              f"{statistics.mean(r[4].rate for r in part):.1%} at 0.125 s; pooled "
              f"{sum(r[3].missed + r[3].false_alarm + r[3].confusion for r in part) / sum(r[3].total for r in part):.1%}")
    print(f"speed: {sum(r[7] for r in rows) / sum(r[5] for r in rows):.0f}x real time (wall), "
          f"{sum(r[7] for r in rows) / sum(r[6] for r in rows):.0f}x (CPU seconds)")


def cli_times(data: Path) -> None:
    media = [p for p in sorted(data.iterdir()) if p.suffix in (".wav", ".flac")]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in media:
            clock = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "dubber", "speakers", str(path), "--out-dir", tmp, "-q"],
                                  capture_output=True)
            assert done.returncode in (0, 3), done.stderr  # 3: no speech found (an empty RTTM)
            times.append(time.perf_counter() - clock)
    print(f"dubber speakers (whole command, {len(times)} files): median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s")


def memory(data: Path, minutes: list[int]) -> None:
    """Peak memory of ``dubber speakers`` on inputs of ``minutes``, made by repeating the first file."""
    first = next(p for p in sorted(data.iterdir()) if p.suffix in (".wav", ".flac"))
    from dubber.media.tool import run_ffmpeg
    with tempfile.TemporaryDirectory() as tmp:
        for m in minutes:
            long = Path(tmp) / f"long{m}.flac"
            run_ffmpeg(["-v", "error", "-stream_loop", "-1", "-i", str(first), "-t", str(m * 60), "-c:a", "flac",
                        str(long)], what="making a long input")
            code = ("import resource, sys, time; from dubber.cli import main; sys.argv = ['dubber', 'speakers', "
                    f"{str(long)!r}, '--out-dir', {tmp!r}, '-q']\nclock = time.perf_counter()\ntry: main()\n"
                    "except SystemExit: pass\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "
                    "time.perf_counter() - clock)")
            out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
            print(f"{m} min: peak {out[-2]} MiB, {float(out[-1]):.1f} s ({m * 60 / float(out[-1]):.0f}x real time)")


def _union(turns: list[Labelled]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for t in sorted(turns, key=lambda t: t.start_ms):
        if spans and t.start_ms <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], t.end_ms))
        else:
            spans.append((t.start_ms, t.end_ms))
    return spans


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def covered(ref: list[Labelled], shown: list[tuple[int, int]]) -> tuple[int, int]:
    """(reference speech regions (merged turns) at least half under ``shown``, regions)."""
    regions = _union(ref)
    return sum(1 for r in regions if sum(_overlap(r, s) for s in shown) >= (r[1] - r[0]) / 2), len(regions)


def _share(hit: tuple[int, int]) -> str:
    return f"{hit[0]}/{hit[1]}"


def voice_agreement(ref: list[Labelled], windows: list[dict]) -> float:
    """The share of speech time (reference speech inside each window) whose window's voice is the one that
    the window's majority reference speaker mostly gets."""
    speech = _union(ref)
    majority, spoken = {}, {}
    for w in windows:
        span = (w["window_start_ms"], w["window_end_ms"])
        heard = {}
        for t in ref:
            heard[t.speaker] = heard.get(t.speaker, 0) + _overlap(span, (t.start_ms, t.end_ms))
        if heard and max(heard.values()) > 0:
            majority[w["index"]] = max(heard, key=heard.get)
            spoken[w["index"]] = sum(_overlap(span, s) for s in speech)
    gets: dict[str, dict[str, int]] = {}
    for w in windows:
        if w["index"] in majority:
            votes = gets.setdefault(majority[w["index"]], {})
            votes[w["voice"]] = votes.get(w["voice"], 0) + spoken[w["index"]]
    usual = {speaker: max(votes, key=votes.get) for speaker, votes in gets.items()}
    agree = sum(spoken[w["index"]] for w in windows if w["index"] in majority and w["voice"] == usual[majority[w["index"]]])
    return agree / max(1, sum(spoken.values()))


def pipelines(data: Path) -> None:
    """subtitles, transcribe and dub (--speakers auto) on every file against the emulator: exit codes, the
    reference speech covered, distinct voices sent and the voice agreement."""
    import json
    import os

    from dubber.emulator import DEFAULT_KEY, Emulator
    refs = references(data)
    media = [p for p in sorted(data.iterdir()) if p.suffix in (".wav", ".flac") and p.stem in refs]
    agreements, totals = [], {}
    with Emulator(port=0) as emu, tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DASHSCOPE_API_KEY=DEFAULT_KEY, DUBBER_BASE_URL=emu.base_url)
        for path in media:
            ref, line = refs[path.stem], [path.stem]
            for command in (["subtitles", "--to", "fr"], ["transcribe", "--lang", "en"], ["dub", "--to", "fr"]):
                before = len(emu.voices)
                done = subprocess.run([sys.executable, "-m", "dubber", command[0], str(path), *command[1:], "--speakers",
                                       "auto", "--out-dir", tmp, "--no-cache", "-q"], env=env, capture_output=True, text=True)
                if command[0] == "dub":
                    report = json.loads((Path(tmp) / f"{path.stem}.fr.dub.json").read_text())
                    sent = [(w["window_start_ms"], w["window_end_ms"]) for w in report["windows"]]
                    voices = {v for _, v in emu.voices[before:]}
                    agreement = voice_agreement(ref, report["windows"])
                    agreements.append((agreement, sum(t.end_ms - t.start_ms for t in ref)))
                    hit = covered(ref, sent)
                    totals["dub"] = tuple(a + b for a, b in zip(totals.get("dub", (0, 0)), hit))
                    line.append(f"dub exit {done.returncode}, its windows cover {_share(hit)} regions, "
                                f"{len(voices)} voices, agreement {agreement:.0%}")
                else:
                    srt = Path(tmp) / f"{path.stem}.{command[2]}.srt"
                    import srt as srt_lib
                    cues = [(int(c.start.total_seconds() * 1000), int(c.end.total_seconds() * 1000))
                            for c in srt_lib.parse(srt.read_text(encoding="utf-8"))]
                    hit = covered(ref, cues)
                    totals[command[0]] = tuple(a + b for a, b in zip(totals.get(command[0], (0, 0)), hit))
                    line.append(f"{command[0]} exit {done.returncode}, cues cover {_share(hit)} regions")
            print("; ".join(line))
    for command, (hit, regions) in totals.items():
        print(f"{command}: {hit}/{regions} reference speech regions covered ({hit / regions:.0%})")
    print(f"voice agreement: mean {statistics.mean(a for a, _ in agreements):.1%}, weighted by reference speech "
          f"{sum(a * w for a, w in agreements) / sum(w for _, w in agreements):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "meetings")
    parser.add_argument("--minutes", type=int, nargs="*", default=[1, 10, 30])
    parser.add_argument("--pipelines", action="store_true",
                        help="also run subtitles, transcribe and dub on every file against the emulator")
    parser.add_argument("--gain-db", type=float, default=0.0,
                        help="score the files raised (or, negative, lowered) by this many dB: the same speech, quieter")
    parser.add_argument("--leads", type=float, nargs="*", default=[],
                        help="also score each file behind these seconds of silence (e.g. 0 0.3 0.5 0.7), and the mean")
    args = parser.parse_args()
    if args.leads:
        alignments(args.data, args.leads, args.gain_db)
    score_files(args.data, SpeakerOptions(), args.gain_db)
    cli_times(args.data)
    if args.minutes:
        memory(args.data, args.minutes)
    if args.pipelines:
        pipelines(args.data)


if __name__ == "__main__":
    main()
