"""Joining a Ray cluster (``--address``) or starting a local one, and running each input as a task.

A task is a plain function and its input (``fn(item)``), run in the driver's working folder so that
relative paths mean what they meant on the command line. Ray reruns a task whose worker process died
(``RETRIES``): the rerun finds every window its first run had finished in the shared cache, and the
windows the dead worker had in flight free again once its lease runs out (``ledger``).
"""
from __future__ import annotations

import logging
import os
import socket
from typing import Any, Callable, Iterator, Sequence

from dubber.engine import EngineOptions, require_extra
from dubber.engine.account import NAMESPACE, AccountActor
from dubber.engine.ledger import Books
from dubber.errors import EngineError

log = logging.getLogger(__name__)

RETRIES = 3  # reruns of a task whose worker died (an error the task itself raised is never rerun)


class Cancelled(Exception):
    """A task the driver cancelled (Ctrl-C, or a refused key) before it ended."""


def _in_folder(fn: Callable[[Any], Any], item: Any, cwd: str) -> Any:
    if os.path.isdir(cwd):  # a worker on another machine may not have it: paths are then taken as absolute
        os.chdir(cwd)
    return fn(item)


def check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """Refuse at once a cluster address nothing answers at (Ray itself retries for minutes, in C++ logs).
    ``auto`` (the cluster this machine is part of) is left to Ray."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"--address {address}: give the cluster's HOST:PORT (ray start prints it)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise EngineError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from exc


def _said(exc: BaseException) -> str:
    """One line for a task Ray lost (its worker died more than RETRIES times, or the node went away)."""
    text = str(exc).strip().splitlines()
    return f"the cluster lost this task ({type(exc).__name__}: {text[0] if text else 'no detail'})"


class Cluster:
    """A cluster for one batch, with the batch's account actor (``options.account_limit``: the most requests in
    flight)."""

    def __init__(self, options: EngineOptions) -> None:
        require_extra()
        self.options = options
        self.pending: dict[Any, int] = {}
        self.actor: Any = None

    def __enter__(self) -> "Cluster":
        import ray

        local = self.options.address is None
        if not local:
            check_reachable(self.options.address)
        try:
            ray.init(address=self.options.address, namespace=NAMESPACE, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.ERROR,
                     **({"num_cpus": self.options.workers or os.cpu_count()} if local else {}))
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"at {self.options.address}" if not local else "on this machine"
            raise EngineError(f"cannot start or join a Ray cluster {where}: {str(exc).splitlines()[0]}") from exc
        actor = ray.remote(AccountActor).options(name=self.options.account_name, namespace=NAMESPACE,
                                                 num_cpus=0, max_concurrency=1000)
        self.actor = actor.remote(self.options.account_limit)
        log.info("cluster: %s CPUs; at most %d requests in flight over it",
                 ray.cluster_resources().get("CPU", 0), self.options.account_limit)
        return self

    def __exit__(self, *exc: object) -> None:
        import ray

        self.cancel()
        ray.shutdown()

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Each item's ``fn(item)`` as its task ends, with the item's index; a task lost for good gives an
        EngineError, a cancelled one ``Cancelled``, in place of its result."""
        import ray
        from ray.exceptions import RayError, TaskCancelledError

        task = ray.remote(_in_folder).options(num_cpus=1, max_retries=RETRIES)
        cwd = os.getcwd()
        self.pending = {task.remote(fn, item, cwd): i for i, item in enumerate(items)}
        while self.pending:
            ready, _ = ray.wait(list(self.pending), num_returns=1)
            for ref in ready:
                index = self.pending.pop(ref)
                try:
                    yield index, ray.get(ref)
                except TaskCancelledError:
                    yield index, Cancelled()
                except RayError as exc:
                    yield index, EngineError(_said(exc))

    def cancel(self) -> None:
        """Stop every task not yet ended (their workers are killed: requests under way are dropped)."""
        import ray

        for ref in self.pending:
            ray.cancel(ref, force=True)

    def books(self) -> Books:
        import ray

        return ray.get(self.actor.books.remote())
