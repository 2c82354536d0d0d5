"""The farm runner: build what the ledger says is unfinished, record every outcome, never crash.

Why the ledger decides and not dask: dask forgets its tasks when the coordinator or scheduler
restarts, and other processes (``hil build``, ``hil measure``, searches) share the ledger. A run
enqueues its jobs, serves a job as done only when its stored artifact verifies against the
hashes in its manifest and was built with the expected tools (else the artifact is quarantined
and the job rebuilt, both recorded), *claims* the rest, and builds only what it claimed. A job
another live process holds is waited for, never built twice: it ends done or failed there, or
comes back queued when that process dies (heartbeat), and is claimed then. Each attempt (start
events from the workers), each result (artifact unpacked atomically into the store) and each
failure (error code + log tail) is recorded. A worker lost mid-job is handled by dask (the task
runs again elsewhere; attempt 2 in the ledger); a worker with other tools refuses the job, which
then goes to the workers that have not refused it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from hil.farm._backends import DaskBackend, InlineBackend
from hil.farm._job import BuildJob
from hil.farm._ledger import Ledger, LedgerEntry
from hil.farm._session import FarmSession
from hil.farm._store import ArtifactStore
from hil.farm._tool_versions import tool_mismatch
from hil.records import ErrorCode

__all__ = ["FarmRunner", "RunSummary", "RunCounts", "ProgressEvent"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunCounts:
    """Where a run's jobs stand, for a progress display."""

    total: int
    queued: int
    running: int
    done: int
    failed: int
    skipped: int
    eta_s: float | None

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped


@dataclass(frozen=True)
class ProgressEvent:
    """What the runner tells a progress display.

    ``kind``: skipped (done before this run), waiting (held by another process), started,
    refused (a worker's tools differ; offered to others), done, failed, elsewhere (finished by
    another process while this run waited).
    """

    kind: str
    job: BuildJob
    detail: str = ""
    counts: RunCounts | None = None


@dataclass
class RunSummary:
    """Counts of one run, and the keys per outcome."""

    total: int = 0
    skipped: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waited: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "skipped": len(self.skipped),
            "built": len(self.done),
            "waited": len(self.waited),
            "failed": len(self.failed),
            "requeued": len(self.requeued),
            "seconds": round(self.seconds, 3),
        }


class FarmRunner:
    """Runs jobs through a dask client (or in this process), with the ledger and store as the truth.

    Args:
        ledger: the ledger (this thread's connection).
        store: the artifact store.
        shared_artifacts: workers write into ``store`` themselves (it is mounted on every host).
        session: this process's ``FarmSession``; None opens one per ``run`` (default limit).
        poll_s: idle sleep of the run loop.
        wait_check_s: how often jobs held by other processes are looked up.
    """

    def __init__(
        self,
        ledger: Ledger,
        store: ArtifactStore,
        *,
        shared_artifacts: bool = False,
        session: FarmSession | None = None,
        poll_s: float = 0.1,
        wait_check_s: float = 0.5,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.shared_artifacts = shared_artifacts
        self.session = session
        self.poll_s = poll_s
        self.wait_check_s = wait_check_s

    # --- hits -----------------------------------------------------------------------------

    def hit_problem(self, job: BuildJob, entry: LedgerEntry | None = None) -> str | None:
        """None when the done job's stored build may be served; else why not (one line)."""
        entry = entry or self.ledger.get(job.key)
        problem = self.store.verify(job.key, entry.manifest_sha256 if entry else None)
        if problem is not None:
            return problem
        built_with = self.store.manifest(job.key).get("tool_versions", {})
        mismatch = tool_mismatch(job.tools, built_with, "the stored build")
        return None if mismatch is None else f"built with other tools ({mismatch.describe()})"

    def serve_or_invalidate(self, job: BuildJob, by: str | None) -> bool:
        """True when the done job is served as is; else it is put back to queued (recorded)."""
        entry = self.ledger.get(job.key)
        if entry is None or entry.state != "done":
            return False
        problem = self.hit_problem(job, entry)
        if problem is None:
            return True
        if self.ledger.invalidate(job.key, problem, by=by, manifest_sha256=entry.manifest_sha256):
            self.store.quarantine(job.key)
        return False

    def prepare(
        self, jobs: Sequence[BuildJob], *, by: str | None = None
    ) -> tuple[list[BuildJob], list[BuildJob]]:
        """Enqueue every job; returns (to build, already done with a verified artifact)."""
        todo, done = [], []
        for job in jobs:
            state = self.ledger.enqueue(job.key, job.model_dump(), by=by)
            if state == "done" and self.serve_or_invalidate(job, by):
                done.append(job)
            else:
                todo.append(job)
        return todo, done

    # --- results --------------------------------------------------------------------------

    def record(self, job: BuildJob, result: dict[str, Any], *, by: str | None = None) -> bool:
        """Store one worker result (artifact + ledger row); True when a success was recorded.

        The ledger takes it only from the attempt holding the job (``result["attempt"]``).
        """
        ok = bool(result.get("ok"))
        artifact = result.get("artifact")
        archive = result.get("archive")
        holder = by or "local"
        try:
            if archive:
                artifact = str(self.store.install(job.key, archive, holder, failed=not ok))
            elif ok:
                problem = self.store.verify(job.key)
                if problem is not None:
                    raise ValueError(
                        f"worker reported success but the stored artifact is not intact: {problem}"
                    )
        except Exception as exc:  # a bad archive is that job's failure, not the run's
            ok, result = False, {**result, "error_code": ErrorCode.CONVERT.value, "message": str(exc)}
        metrics = self.store.report(job.key).get("metrics", {}) if ok else {}
        recorded = self.ledger.mark_finished(
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
            manifest_sha256=self.store.manifest_sha256(job.key) if ok else None,
            by=by,
            attempted=not result.get("refused"),
            attempt=result.get("attempt"),
        )  # fmt: skip
        return ok and recorded

    # --- the run --------------------------------------------------------------------------

    def run(
        self,
        client: Any,
        jobs: Sequence[BuildJob],
        *,
        on_event: Callable[[ProgressEvent], None] | None = None,
        prepared: tuple[list[BuildJob], list[BuildJob]] | None = None,
    ) -> RunSummary:
        """Build every unfinished job of ``jobs`` on ``client``'s cluster (None: in this process).

        Args:
            prepared: what ``prepare(jobs)`` returned just before, so the stored builds are not
                verified twice (hashing every artifact of a large farm takes a while).
        """
        with ExitStack() as stack:
            session = self.session or stack.enter_context(FarmSession(self.ledger.path, self.store))
            return _Run(self, session, client, jobs, on_event or (lambda event: None)).go(prepared)


class _Run:
    """One ``FarmRunner.run``: the per-job status the progress display sees, and the loop."""

    def __init__(
        self, runner: FarmRunner, session: FarmSession, client: Any, jobs: Sequence[BuildJob],
        notify: Callable[[ProgressEvent], None],
    ) -> None:  # fmt: skip
        self.runner = runner
        self.ledger = runner.ledger
        self.session = session
        self.token = session.token
        self.client = client
        self.jobs = list(jobs)
        self.notify_raw = notify
        self.status: dict[str, str] = {}
        self.summary = RunSummary(total=len(self.jobs))
        self.started = time.monotonic()
        self.first_submit: float | None = None
        self.finished_here = 0
        self.by_key: dict[str, BuildJob] = {}
        self.attempts_seen: set[str] = set()

    def counts(self) -> RunCounts:
        c = Counter(self.status.values())
        remaining = c["queued"] + c["running"]
        eta = None
        if self.first_submit is not None and self.finished_here and remaining:
            eta = (time.monotonic() - self.first_submit) / self.finished_here * remaining
        return RunCounts(total=len(self.jobs), queued=c["queued"], running=c["running"], done=c["done"],
                         failed=c["failed"], skipped=c["skipped"], eta_s=eta)  # fmt: skip

    def notify(self, kind: str, job: BuildJob, detail: str = "") -> None:
        self.notify_raw(ProgressEvent(kind, job, detail, self.counts()))

    def go(self, prepared: tuple[list[BuildJob], list[BuildJob]] | None = None) -> RunSummary:
        todo, done = prepared if prepared is not None else self.runner.prepare(self.jobs, by=self.token)
        for job in done:
            self.status[job.key] = "skipped"
            self.summary.skipped.append(job.key)
            self.notify("skipped", job)
        self.by_key = {job.key: job for job in todo}
        self.status.update(dict.fromkeys(self.by_key, "queued"))
        if not todo:
            return self._finish()
        if self.client is None:
            backend: DaskBackend | InlineBackend = InlineBackend(
                store_root=str(self.runner.store.root.resolve()), holder=self.token
            )
        else:
            shared = str(self.runner.store.root.resolve()) if self.runner.shared_artifacts else None
            backend = DaskBackend(self.client, shared_root=shared, holder=self.token)
            backend.on_lost = self._on_lost
            backend.warm(todo)
        try:
            self._loop(backend, set(self.by_key))
        finally:
            backend.close()
        return self._finish()

    def _finish(self) -> RunSummary:
        self.summary.seconds = time.monotonic() - self.started
        return self.summary

    def _submit(self, backend: DaskBackend | InlineBackend, keys: list[str]) -> None:
        if keys and self.first_submit is None:
            self.first_submit = time.monotonic()
        for key in keys:
            backend.submit(self.by_key[key])

    def _loop(self, backend: DaskBackend | InlineBackend, keys: set[str]) -> None:
        claimed = self.ledger.claim(sorted(keys), self.token)
        waiting = keys - set(claimed)
        for key in sorted(waiting):
            self.notify("waiting", self.by_key[key], self._holder_label(key))
        self._submit(backend, claimed)
        next_check = time.monotonic() + self.runner.wait_check_s
        while backend.busy() or waiting:
            progressed = False
            for job, result in backend.poll(self._on_start):
                progressed = True
                self._result(backend, job, result)
            if waiting and time.monotonic() >= next_check:
                next_check = time.monotonic() + self.runner.wait_check_s
                self._submit(backend, self._check_waiting(waiting))
            if not progressed:
                time.sleep(self.runner.poll_s)

    def _on_lost(self, key: str, worker: str) -> None:
        """dask lost the worker running ``key`` (killed, host gone): recorded on the job; dask retries it."""
        if key in self.by_key:
            self.ledger.note(key, "worker-lost", by=self.token, worker=worker)
            self.notify("lost", self.by_key[key], f"worker {worker} went away; dask runs it again")

    def _on_start(self, key: str, worker: str, t: float, attempt_id: str | None = None) -> None:
        if key not in self.by_key or (attempt_id is not None and attempt_id in self.attempts_seen):
            return
        if attempt_id is not None:
            self.attempts_seen.add(attempt_id)
        attempt = self.ledger.mark_started(key, worker, t, by=self.token, attempt=attempt_id)
        if attempt:
            if self.status.get(key) == "queued":
                self.status[key] = "running"
            self.notify("started", self.by_key[key], f"attempt {attempt} on {worker}")

    def _result(self, backend: DaskBackend | InlineBackend, job: BuildJob, result: dict[str, Any]) -> None:
        if result.get("refused"):
            self.ledger.note(job.key, "refused", by=self.token, worker=result.get("worker"),
                             message=str(result.get("message", ""))[:300])  # fmt: skip
            if backend.retry_elsewhere(job, result):
                self.notify("refused", job, f"by {result.get('worker')}; offered to the other workers")
                return
        attempt = result.get("attempt")
        if attempt and attempt not in self.attempts_seen and not result.get("refused"):
            # the result overtook its start event: start the attempt first, so it may write
            seconds = result.get("seconds")
            started = time.time() - (seconds if isinstance(seconds, (int, float)) else 0.0)
            self._on_start(job.key, str(result.get("worker")), started, str(attempt))
        if result.get("farm_fault"):
            self._requeue(backend, job, result)
            return
        ok = self.runner.record(job, result, by=self.token)
        if not ok:  # our failure is ignored when another process's build of the key is done
            entry = self.ledger.get(job.key)
            ok = entry is not None and entry.state == "done"
        self.status[job.key] = "done" if ok else "failed"
        (self.summary.done if ok else self.summary.failed).append(job.key)
        self.finished_here += 1
        seconds = result.get("seconds")
        detail = str(result.get("error_code", "")) + (
            f" in {seconds:.1f} s" if isinstance(seconds, float) else ""
        )
        if not ok and result.get("message"):
            detail += ": " + str(result["message"]).splitlines()[0][:120]
        self.notify("done" if ok else "failed", job, detail)

    def _requeue(self, backend: DaskBackend | InlineBackend, job: BuildJob, result: dict[str, Any]) -> None:
        """A farm fault (license, disk): not the design's failure. Re-queued; tried on another worker."""
        reason = str(result["farm_fault"])
        message = str(result.get("message", ""))
        if not self.ledger.requeue_attempt(job.key, reason, by=self.token, attempt=result.get("attempt"),
                                           worker=result.get("worker"), message=message):  # fmt: skip
            return  # a stale attempt: the job is someone else's now
        first = message.splitlines()[0][:160] if message else reason
        if backend.retry_elsewhere(job, result):
            self.notify("requeued", job, f"{reason} on {result.get('worker')}; offered to the other workers")
            return
        self.ledger.release_job(job.key, self.token)
        self.status[job.key] = "queued"
        self.summary.requeued.append(job.key)
        self.finished_here += 1
        self.notify("requeued", job, f"left queued for a later run: {first}")

    def _check_waiting(self, waiting: set[str]) -> list[str]:
        """Look up jobs held elsewhere: finished there, or free again (then claim them); returns claims."""
        free = []
        for key in sorted(waiting):
            job = self.by_key[key]
            entry = self.ledger.get(key)
            if entry is None:
                continue
            if entry.state == "done" and self.runner.serve_or_invalidate(job, self.token):
                waiting.discard(key)
                self.status[key] = "done"
                self.summary.waited.append(key)
                self.finished_here += 1
                self.notify("elsewhere", job, f"built by {entry.worker or 'another process'}")
                continue
            if entry.state == "failed":
                waiting.discard(key)
                self.status[key] = "failed"
                self.summary.failed.append(key)
                self.finished_here += 1
                self.notify("failed", job, f"{entry.error_code} (built by another process)")
                continue
            entry = self.ledger.get(key)
            if entry is not None and entry.state == "queued" and entry.holder is None:
                free.append(key)
        claimed = self.ledger.claim(free, self.token)
        waiting.difference_update(claimed)
        return claimed

    def _holder_label(self, key: str) -> str:
        entry = self.ledger.get(key)
        if entry is None or entry.holder is None:
            return "held by another process"
        for info in self.ledger.processes():
            if info.token == entry.holder:
                return f"held by {info.label}"
        return f"held by {entry.holder}"
