"""A real cluster for the engine's tests: S3 served by moto on loopback, a Ray cluster of 2 worker
processes started here (the CLI joins it with --address), an emulator with an account's concurrency
quota, and a catalog of 12 inputs (two of them the same media under other names)."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from dubber.emulator import Emulator, Faults
from tests.support.mediagen import compose, write_media

QUOTA = 4  # the account's concurrency quota at the emulator: a request beyond it is answered 429
_CLIPS = ("en01", "de01", "en02", "es01", "en03", "zh01", "en04", "en05", "en06")


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def aws_env(s3_endpoint) -> dict[str, str]:
    """What every process that reaches the bucket needs: moto takes any credentials."""
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": s3_endpoint}


@pytest.fixture(scope="module")
def cluster(aws_env):
    """A local Ray cluster of 2 worker processes (its workers see the bucket); yields its address."""
    import ray

    saved = {k: os.environ.get(k) for k in aws_env}
    os.environ.update(aws_env)  # the workers inherit this process's environment
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="dubber-tests",
                 logging_level=logging.ERROR)
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture()
def quota_emulator():
    """An emulator of its own (its peak in flight is this test's), answering after 0.3 s, with the quota."""
    with Emulator(port=0, faults=Faults(max_in_flight=QUOTA, latency=0.3)) as server:
        yield server


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> list[Path]:
    """12 inputs of 4 sentences each (about 3 windows), in WAV and MP4; two repeat another's media."""
    folder = tmp_path_factory.mktemp("catalog")
    inputs = []
    for i in range(10):
        scene = compose([(0.9, _CLIPS[(i + k) % len(_CLIPS)]) for k in range(4)], tail_s=0.5)
        inputs.append(write_media(scene.pcm, folder / f"item{i:02d}.{'mp4' if i % 3 == 0 else 'wav'}"))
    # each copy right after its original: the two run at once on the two workers, and one waits for the
    # other's answers (a claim) rather than paying for them again
    for i in (1, 0):
        inputs.insert(i + 1, Path(shutil.copy(inputs[i], folder / f"again{i}{inputs[i].suffix}")))
    return inputs
