"""Where builds run: an in-process dask LocalCluster (default) or a farm's dask scheduler.

Why dask.distributed: a farm is then one ``dask scheduler`` and ``dask worker tcp://HOST:8786
--resources vivado=1 --nthreads 1`` per build host (or dask-jobqueue on SLURM), with no farm
daemon of our own. Local workers are processes (builds load hls4ml and g++ libraries; threads
would share one interpreter) and each holds one ``vivado`` resource, like a licensed host.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hil.errors import ConfigError

__all__ = ["open_client"]

_log = logging.getLogger(__name__)


@contextmanager
def open_client(scheduler: str | None = None, *, workers: int = 2, timeout_s: float = 30.0) -> Iterator[Any]:
    """A connected dask ``Client``; the local cluster (if any) is closed on exit.

    Args:
        scheduler: ``tcp://HOST:PORT`` of a running scheduler; None starts a local cluster.
        workers: local worker processes (one thread each).
        timeout_s: how long to wait for the scheduler.
    """
    import dask
    from distributed import Client, LocalCluster

    # A lost worker's task is retried elsewhere; after 3 losses it fails (a build that kills workers).
    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout=timeout_s)
            except OSError as exc:
                raise ConfigError(f"cannot reach dask scheduler {scheduler} ({exc})") from None
            try:
                yield client
            finally:
                client.close()
            return
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            resources={"vivado": 1},
            dashboard_address=None,
            host="127.0.0.1",
        )
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
