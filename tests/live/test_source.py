"""A live source through the real ffmpeg: a network stream that breaks is opened again, the time it was
gone a gap on the timeline, and a stream that ends cleanly ends the run. The stream is a WAV served over
loopback TCP by the test: its first connection is reset halfway, its second sends it whole."""
from __future__ import annotations

import io
import socket
import struct
import threading
import time
import wave

import numpy as np

from dubber.live.source import CHUNK_MS, Chunk, Gap, LiveSource
from tests.support.mediagen import compose


def _wav(pcm: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def _serve(data: bytes, connections: list[int]) -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(2)
    server.settimeout(30)

    def run() -> None:
        with server:
            for n in range(2):
                conn, _ = server.accept()
                connections.append(n)
                if n == 0:  # half the stream, then a reset (no orderly close): the connection broke
                    conn.sendall(data[:len(data) // 2])
                    time.sleep(0.2)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    conn.sendall(data)
                conn.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


def test_a_broken_stream_is_opened_again_and_its_absence_is_a_gap():
    scene = compose([(0.5, "en01"), (0.5, "en02")], tail_s=0.5)
    connections: list[int] = []
    port = _serve(_wav(scene.pcm), connections)
    items = list(LiveSource(f"tcp://127.0.0.1:{port}", reconnect_s=30))
    gaps = [i for i in items if isinstance(i, Gap)]
    chunks = [i for i in items if isinstance(i, Chunk)]
    assert connections == [0, 1]
    assert len(gaps) == 1 and gaps[0].reason
    gap = gaps[0]
    before = [c for c in chunks if c.start_ms < gap.start_ms]
    after = [c for c in chunks if c.start_ms >= gap.start_ms]
    # about half the stream, then the whole of it again, after the gap on the timeline
    assert abs(len(before) * CHUNK_MS - scene.duration_ms / 2) < 300
    assert after[0].start_ms == gap.end_ms > gap.start_ms
    assert abs(len(after) * CHUNK_MS - scene.duration_ms) < 100
    starts = [c.start_ms for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
