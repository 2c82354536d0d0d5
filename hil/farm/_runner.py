"""The farm runner: submit what the ledger says is unfinished, record every outcome, never crash.

Why the ledger decides and not dask: dask forgets its tasks when the coordinator or scheduler
restarts. On start the runner re-queues jobs a dead coordinator left ``running``, skips every
job that is ``done`` with its artifact in the store, submits the rest, and records each attempt
(start events from the workers), each result (artifact unpacked atomically into the store) and
each failure (error code + log tail). A worker lost mid-job is handled by dask (the task runs
again elsewhere); the second start event shows up as attempt 2 in the ledger.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hil.farm._job import BuildJob
from hil.farm._ledger import Ledger
from hil.farm._store import ArtifactStore
from hil.records import ErrorCode

__all__ = ["FarmRunner", "RunSummary", "ProgressEvent"]

_log = logging.getLogger(__name__)


@dataclass
class ProgressEvent:
    """What the runner tells a progress display: a job started, finished or was skipped."""

    kind: str  # skipped | started | done | failed
    job: BuildJob
    detail: str = ""


@dataclass
class RunSummary:
    """Counts of one run, and the keys per outcome."""

    total: int = 0
    skipped: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "skipped": len(self.skipped),
            "built": len(self.done),
            "failed": len(self.failed),
            "seconds": round(self.seconds, 3),
        }


class FarmRunner:
    """Runs jobs through a dask client, with the ledger and artifact store as the source of truth."""

    def __init__(self, ledger: Ledger, store: ArtifactStore, *, shared_artifacts: bool = False) -> None:
        self.ledger = ledger
        self.store = store
        self.shared_artifacts = shared_artifacts

    def pending(self, jobs: Sequence[BuildJob]) -> tuple[list[BuildJob], list[BuildJob]]:
        """(to build, already done): a job is done only with its ledger row and its artifact."""
        self.ledger.requeue_stale()
        self.store.sweep()
        todo, done = [], []
        for job in jobs:
            state = self.ledger.enqueue(job.key, job.model_dump())
            if state == "done" and self.store.complete(job.key):
                done.append(job)
            else:
                if state == "done":  # the artifact went missing: build again
                    _log.warning("%s: ledger says done but the artifact is gone; rebuilding", job.key[:12])
                    self.ledger.mark_finished(
                        job.key,
                        ok=False,
                        worker=None,
                        seconds=None,
                        error_code=ErrorCode.CONVERT.value,
                        message="artifact missing",
                    )
                    self.ledger.enqueue(job.key, job.model_dump())
                todo.append(job)
        return todo, done

    def record(self, job: BuildJob, result: dict[str, Any]) -> bool:
        """Store one worker result (artifact + ledger row); returns whether the build succeeded."""
        ok = bool(result.get("ok"))
        artifact = result.get("artifact")
        archive = result.get("archive")
        if archive:
            try:
                artifact = str(self.store.install(job.key, archive, failed=not ok))
            except Exception as exc:  # a bad archive is that job's failure, not the run's
                ok, result = False, {**result, "error_code": ErrorCode.CONVERT.value, "message": str(exc)}
        elif ok and not self.store.complete(job.key):
            ok, result = (
                False,
                {
                    **result,
                    "error_code": ErrorCode.CONVERT.value,
                    "message": "worker reported success but no artifact reached the store",
                },
            )
        metrics = self.store.report(job.key).get("metrics", {}) if ok else {}
        self.ledger.mark_finished(
            job.key,
            ok=ok,
            worker=result.get("worker"),
            seconds=result.get("seconds"),
            error_code=str(result.get("error_code", ErrorCode.OK.value if ok else ErrorCode.CONVERT.value)),
            message=str(result.get("message", "")),
            log_tail=str(result.get("log_tail", "")),
            artifact=artifact if ok else (artifact or None),
            result={"metrics": metrics, "stage_seconds": result.get("stage_seconds", {}),
                    "tool_versions": result.get("tool_versions", {})},
        )  # fmt: skip
        return ok

    def run(
        self,
        client: Any,
        jobs: Sequence[BuildJob],
        *,
        on_event: Callable[[ProgressEvent], None] | None = None,
        poll_s: float = 0.2,
    ) -> RunSummary:
        """Build every unfinished job of ``jobs`` on ``client``'s cluster; returns the summary."""
        from distributed import as_completed

        from hil.farm._execute import EVENT_TOPIC, execute_job
        from hil.farm.builders import get_builder

        started = time.monotonic()
        notify = on_event or (lambda event: None)
        summary = RunSummary(total=len(jobs))
        todo, done = self.pending(jobs)
        for job in done:
            summary.skipped.append(job.key)
            notify(ProgressEvent("skipped", job))
        if not todo:
            summary.seconds = time.monotonic() - started
            return summary
        by_key = {job.key: job for job in todo}
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        client.subscribe_topic(
            EVENT_TOPIC, lambda event: events.put(event[1] if isinstance(event, tuple) else event)
        )
        shared = str(self.store.root.resolve()) if self.shared_artifacts else None
        futures = {}
        for job in todo:
            future = client.submit(
                execute_job,
                job.model_dump_json(),
                shared,
                key=f"hil-build-{job.key[:24]}-{time.time_ns()}",
                resources=get_builder(job.builder).resources or None,
                pure=False,
            )
            futures[future] = job
        pending = as_completed(list(futures))
        try:
            while True:
                self._drain(events, by_key, notify)
                batch = pending.next_batch(block=False) if not pending.is_empty() else None
                if batch is None:
                    break
                if not batch:
                    time.sleep(poll_s)
                    continue
                for future in batch:
                    job = futures[future]
                    self._drain(events, by_key, notify)
                    try:
                        result = future.result()
                    except Exception as exc:  # e.g. KilledWorker after repeated worker loss
                        result = {"key": job.key, "ok": False, "error_code": ErrorCode.BUILD_TIMEOUT.value,
                                  "message": f"{type(exc).__name__}: {exc}"}  # fmt: skip
                    ok = self.record(job, result)
                    (summary.done if ok else summary.failed).append(job.key)
                    notify(ProgressEvent("done" if ok else "failed", job, str(result.get("error_code", ""))))
                    future.release()
        finally:
            self._drain(events, by_key, notify)
            client.unsubscribe_topic(EVENT_TOPIC)
        summary.seconds = time.monotonic() - started
        return summary

    def _drain(
        self,
        events: queue.Queue[dict[str, Any]],
        by_key: dict[str, BuildJob],
        notify: Callable[[ProgressEvent], None],
    ) -> None:
        while True:
            try:
                event = events.get_nowait()
            except queue.Empty:
                return
            key = event.get("key") if isinstance(event, dict) else None
            if key in by_key and event.get("event") == "started":
                # dask overwrites a "worker" field with the address; hil's name travels apart
                worker = event.get("hil_worker") or event.get("worker")
                attempt = self.ledger.mark_started(key, worker, event.get("t"))
                if attempt:
                    notify(ProgressEvent("started", by_key[key], f"attempt {attempt} on {worker}"))
