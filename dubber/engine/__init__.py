"""Many machines: a batch's inputs run as tasks on a Ray cluster, with one cache and one account limit.

    ledger    the account's books, pure: requests in flight (AIMD), claims on windows, leases of the living
    account   the ledger held by one Ray actor, and the client every worker's fetch talks to
    store     the window cache anywhere fsspec reaches (``--cache-dir s3://bucket/prefix``)
    outputs   a run's files written to object storage (``--out-dir s3://...``), as one set
    cluster   joining or starting the cluster, and each input as a task that reruns where a worker died

Why Ray rather than Dask: the account limit is a living thing (AIMD halves it on a 429 and grows it back),
which a Ray actor holds naturally as plain Python state behind async methods, where Dask offers fixed
semaphores; Ray reruns a task whose worker process died (``max_retries``) without any code of ours; and
``ray.init()`` starts a local cluster in one line, ``ray start --head`` or KubeRay a real one.
"""
from __future__ import annotations

import importlib.util
import uuid
from dataclasses import dataclass, field

from dubber.errors import OptionError

ENGINES = ("local", "ray")
EXTRA_MODULES = ("ray", "fsspec")  # what ``pip install "dubber[ray]"`` brings (s3fs too, for s3:// URLs)


@dataclass(frozen=True)
class EngineOptions:
    """Where a batch runs: ``local`` (this process, input after input) or ``ray`` (each input a task on the
    cluster at ``address``, else on a local one of ``workers`` processes)."""

    kind: str = "local"
    address: str | None = None
    workers: int | None = None  # a local cluster's worker processes (default: one a CPU)
    account_limit: int = 1  # the most requests in flight over the whole cluster (--account-concurrency)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])  # names this batch's account actor

    def __post_init__(self) -> None:
        if self.kind not in ENGINES:
            raise OptionError(f"--engine takes {' or '.join(ENGINES)}, not {self.kind!r}")
        if self.kind == "local" and (self.address or self.workers):
            raise OptionError("--address and --workers need --engine ray")
        if self.address and self.workers:
            raise OptionError("--workers sizes a local cluster: a cluster at --address has its own")

    @property
    def distributed(self) -> bool:
        return self.kind == "ray"

    @property
    def account_name(self) -> str:
        return f"dubber-account-{self.run}"


def installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in EXTRA_MODULES)


def require_extra(what: str = "--engine ray") -> None:
    """Refuse, as one line, a cluster run without the extra that brings the engine."""
    if not installed():
        raise OptionError(f'{what} needs the ray extra: pip install "dubber[ray]"')
