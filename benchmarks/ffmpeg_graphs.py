"""Issue #18's stability measurement: how often each ffmpeg build fails the dub mix graph, run many times.

ffmpeg 7.0 aborts now and then (``Assertion best_input >= 0 failed at fftools/ffmpeg_filter.c``) on a
graph with a second sink of its own beside its output. dubber's mix once had one: the dub measured by
``ebur128`` into ``anullsink`` (and summed by ``amix ... normalize=0``, which ffmpeg 4.x lacks). This runs
the mix encoder as a run builds it (``build_encode_args``), fed a tone and a gain on stdin, through each
build, beside that former graph, and counts the runs that failed.

Run from the repository root (the builds are found as the compatibility suite finds them):

    python benchmarks/ffmpeg_graphs.py --runs 200

RESULTS, 2026-12-03, commit 03b3c71, `--runs 150` (stereo and mono 150 runs each; 2 cores, idle):

    build          graph     failed
    wheel          current   0/300
    wheel          former    0/300
    debian         current   0/300
    debian         former    300/300   (Invalid argument: framelog=quiet is new in ffmpeg 7)
    static-7.0.2   current   0/300
    static-7.0.2   former    8/300     (Assertion best_input >= 0 failed at src/fftools/ffmpeg_filter.c:1923)
    static-4.2.2   current   0/300     (it runs, though dubber refuses it: below 4.4)
    static-4.2.2   former    300/300   (Invalid argument: framelog=quiet; amix has no normalize either)

A helper's harness that fed the former graph with dubber's exact pacing saw the 7.0.2 abort in 11 of 300
runs with a 1 s tail (the feed's run past the original) and 131 of 200 with a 20 ms tail; the current graph
failed 0 of 800 there.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from dubber.errors import ToolError  # noqa: E402
from dubber.media import trials  # noqa: E402
from dubber.media.mux import build_encode_args  # noqa: E402
from dubber.media.tool import FfmpegFeed  # noqa: E402
from tests.support.ffmpeg import builds  # noqa: E402


def former_args(args: list[str], stereo: bool) -> list[str]:
    """The same encoder with the graph dubber used before issue #18."""
    layout = "stereo" if stereo else "mono"
    up = ",pan=stereo|c0=c0|c1=c0" if stereo else ""
    fmt = f"aformat=sample_fmts=fltp:channel_layouts={layout}"
    graph = ";".join([
        f"[0:0]aresample=48000:first_pts=0,{fmt}[orig]",
        "[1:a]channelsplit=channel_layout=stereo[fed][gain]",
        "[fed]asplit[dubbed][measured]",
        f"[measured]{up.lstrip(',')}{',' if up else ''}ebur128=framelog=quiet:peak=sample,anullsink",
        f"[dubbed]aresample=48000{up},{fmt}[dub]",
        f"[gain]aresample=48000{up},{fmt}[env]",
        "[orig][env]amultiply[bed]",
        "[bed][dub]amix=inputs=2:duration=first:normalize=0[mix]"])
    at = args.index("-filter_complex")
    return [*args[:at + 1], graph, *args[at + 2:]]


def failures(exe: str, folder: Path, runs: int, former: bool) -> tuple[int, str]:
    fed = np.stack([0.25 * np.sin(np.arange(16800) / 24000 * 2 * np.pi * 440), np.full(16800, 0.5)], axis=1)
    failed, reason = 0, ""
    for stereo in (True, False):
        spec = trials.mix_spec(folder, stereo)
        args = build_encode_args(spec)
        args = former_args(args, stereo) if former else args
        for _ in range(runs):
            try:
                with FfmpegFeed(args, what="mixing", exe=exe) as encoder:
                    encoder.write(fed.astype("<f4").tobytes())
                    encoder.finish()
            except ToolError as exc:
                failed, reason = failed + 1, str(exc).rsplit(": ", 1)[-1]
    return failed, reason


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs of each graph, stereo and mono each")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trials.write_tone(folder / "stereo.wav", 2)
        trials.write_tone(folder / "mono.wav", 1)
        print(f"{'build':14} {'graph':9} failed")
        for build in builds():
            if build.path is None:
                print(f"{build.name:14} missing: {build.missing}")
                continue
            for former in (False, True):
                failed, reason = failures(build.path, folder, options.runs, former)
                print(f"{build.name:14} {'former' if former else 'current':9} {failed}/{2 * options.runs}"
                      + (f"   ({reason})" if failed else ""), flush=True)


if __name__ == "__main__":
    main()
