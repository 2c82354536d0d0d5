"""Where the runner's claimed jobs execute: a dask cluster, or this process (``hil build``).

Both take a job, report its start, and hand back one JSON-ready result per job; the dask one
also retries a job that a worker refused (other tools) on the workers that have not refused it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from hil.farm._job import BuildJob
from hil.records import ErrorCode

__all__ = ["DaskBackend", "InlineBackend", "StartHook", "LostHook"]

_log = logging.getLogger(__name__)

#: Called when an attempt starts: (key, worker name, start time, attempt id).
StartHook = Callable[[str, str, float, str | None], None]
#: Called when dask lost a worker while it ran a job: (key, worker address).
LostHook = Callable[[str, str], None]


class DaskBackend:
    """Jobs as dask tasks (``execute_job`` on a worker holding the builder's resources)."""

    def __init__(self, client: Any, *, shared_root: str | None, holder: str) -> None:
        from distributed import as_completed

        from hil.farm._build_task import EVENT_TOPIC

        self.client = client
        self.shared_root = shared_root
        self.holder = holder
        self._topic = EVENT_TOPIC
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._futures: dict[Any, BuildJob] = {}
        self._deferred: list[tuple[str, str, float, str | None]] = []
        self._lost: queue.Queue[dict[str, Any]] = queue.Queue()
        self.on_lost: LostHook | None = None
        self._tried: dict[str, set[str]] = {}
        self._completed = as_completed()
        client.subscribe_topic(
            EVENT_TOPIC, lambda event: self._events.put(event[1] if isinstance(event, tuple) else event)
        )
        # the scheduler's own record of a worker that went away with tasks running on it
        client.subscribe_topic(
            "all", lambda event: self._lost.put(event[1] if isinstance(event, tuple) else event)
        )

    def warm(self, jobs: Sequence[BuildJob]) -> None:
        """Start a spare build child on every worker when any job builds in one (``isolate``).

        In a thread of its own: a slow or stalled worker must not hold up the run's first builds
        (a build that finds no spare starts its own child).
        """
        from hil.farm.builders import get_builder

        try:
            if not any(get_builder(name).isolate is True for name in {job.builder for job in jobs}):
                return
        except Exception:  # an unknown builder fails at submit, with its own message
            return
        threading.Thread(target=self._warm_workers, name="hil-farm-warm", daemon=True).start()

    def _warm_workers(self) -> None:
        from hil.farm._build_task import prepare_spare_on_worker

        try:
            self.client.run(prepare_spare_on_worker)
        except Exception as exc:  # an optimisation: a worker without a spare starts its own child
            _log.info("could not start spare build children ahead (%s); builds start their own", exc)

    def submit(self, job: BuildJob, workers: list[str] | None = None) -> None:
        from hil.farm._build_task import execute_job
        from hil.farm.builders import get_builder

        future = self.client.submit(
            execute_job,
            job.model_dump_json(),
            self.shared_root,
            self.holder,
            key=f"hil-build-{job.key[:24]}-{time.time_ns()}",
            resources=get_builder(job.builder).resources or None,
            workers=workers,
            allow_other_workers=False,
            pure=False,
        )
        self._futures[future] = job
        self._completed.add(future)

    def busy(self) -> bool:
        return bool(self._futures or self._deferred)

    def poll(self, on_start: StartHook) -> list[tuple[BuildJob, dict[str, Any]]]:
        """Report start events, then return the results that arrived (never blocks).

        A worker starts its next job as soon as it finishes one, so that start event often
        arrives before the finished job's result: it is held back until the next poll (after
        the caller recorded the result), so the running count never exceeds the workers. A
        start event of a job whose result is in this batch is reported first (its attempt).
        """
        deferred, self._deferred = self._deferred, []
        for start in deferred:
            on_start(*start)
        self._report_lost()
        starts = self._drain()
        batch = [] if self._completed.is_empty() else self._completed.next_batch(block=False)
        finishing = {self._futures[future].key for future in batch}
        for start in starts:
            if start[0] in finishing:
                on_start(*start)
            else:
                self._deferred.append(start)
        out = []
        for future in batch:
            job = self._futures.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # e.g. KilledWorker after repeated worker loss
                result = {"key": job.key, "ok": False, "error_code": ErrorCode.BUILD_TIMEOUT.value,
                          "message": f"{type(exc).__name__}: {exc}"}  # fmt: skip
            future.release()
            out.append((job, result))
        return out

    def retry_elsewhere(self, job: BuildJob, result: dict[str, Any]) -> bool:
        """After a refusal: resubmit to workers that have the builder's resources and have not refused."""
        from hil.farm.builders import get_builder

        tried = self._tried.setdefault(job.key, set())
        if result.get("worker_address"):
            tried.add(str(result["worker_address"]))
        need = get_builder(job.builder).resources
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        candidates = [
            address for address, info in workers.items()
            if address not in tried
            and all(float((info.get("resources") or {}).get(r, 0)) >= v for r, v in need.items())
        ]  # fmt: skip
        if not candidates:
            return False
        self.submit(job, workers=candidates)
        return True

    def close(self) -> None:
        self.client.unsubscribe_topic(self._topic)
        self.client.unsubscribe_topic("all")

    def _report_lost(self) -> None:
        """Tell ``on_lost`` about each of our running jobs the scheduler lost with a worker."""
        keys = {str(future.key): job for future, job in self._futures.items()}
        while True:
            try:
                event = self._lost.get_nowait()
            except queue.Empty:
                return
            if not isinstance(event, dict) or event.get("action") != "remove-worker":
                continue
            for task in event.get("processing-tasks") or ():
                job = keys.get(str(task))
                if job is not None and self.on_lost is not None:
                    self.on_lost(job.key, str(event.get("worker", "")))

    def _drain(self) -> list[tuple[str, str, float, str | None]]:
        starts: list[tuple[str, str, float, str | None]] = []
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return starts
            if isinstance(event, dict) and event.get("event") == "started" and event.get("key"):
                # dask overwrites a "worker" field with the address; hil's name travels apart
                worker = event.get("hil_worker") or event.get("worker")
                attempt = event.get("attempt")
                starts.append((str(event["key"]), str(worker), float(event.get("t") or time.time()),
                               None if attempt is None else str(attempt)))  # fmt: skip


class InlineBackend:
    """Jobs built one after another in this process, straight into the artifact store."""

    def __init__(self, *, store_root: str, holder: str) -> None:
        self.store_root = store_root
        self.holder = holder
        self._queue: list[BuildJob] = []

    def submit(self, job: BuildJob, workers: list[str] | None = None) -> None:
        self._queue.append(job)

    def busy(self) -> bool:
        return bool(self._queue)

    def poll(self, on_start: StartHook) -> list[tuple[BuildJob, dict[str, Any]]]:
        """Build the next job now (blocking) and return its result."""
        from hil.farm._build_task import execute_job, refusal_for, worker_identity

        if not self._queue:
            return []
        job = self._queue.pop(0)
        worker = worker_identity()[0]
        refusal = refusal_for(job, worker)
        if refusal is not None:  # this host has other tools: no attempt starts
            return [(job, {**refusal, "worker": worker})]
        attempt = uuid.uuid4().hex[:16]
        on_start(job.key, worker, time.time(), attempt)
        return [(job, execute_job(job.model_dump_json(), self.store_root, self.holder, attempt))]

    def retry_elsewhere(self, job: BuildJob, result: dict[str, Any]) -> bool:
        return False

    def close(self) -> None:
        return None
