"""The build ledger: one SQLite file (WAL) that is the source of truth of every build's state.

Why SQLite and not the dask scheduler: a scheduler forgets everything when it or the coordinator
restarts, and an overnight farm must resume without repeating a six-hour build. Several
processes share one ledger (an overnight ``hil farm run``, people's ``hil build`` and ``hil
measure``, a search's build rung), so every change is a short ``BEGIN IMMEDIATE`` transaction
and the rules below keep them from undoing each other's work. Keep the file on local disk:
SQLite locking is unreliable on network file systems.

One writer per attempt: every start of a build is an *attempt* with its own id (made by the
worker, announced with the start and returned with the result). The job's row names the
attempt that may write it; a start, a result, a failure or a re-queue is a single UPDATE whose
WHERE clause names the holder and the attempt, so a stale attempt's late write (its job timed
out and went to someone else) matches no row and changes nothing. The owner's maintenance
statements carry the owner check the same way (``hil.farm._liveness.OWNER_CHECK``).

States: queued -> running -> done | failed. A process *claims* a queued job (``holder``) before
building it or submitting it to dask; nobody else builds a held job, they wait for it. A job
goes back to queued when its holder is dead by heartbeat (``requeue_stale``, run only by the
ledger's owner, see ``hil.farm._liveness``), when its holder exits cleanly without finishing it
(``release``), or when its stored artifact is missing or damaged (``invalidate``). Every change
is also appended to ``events`` (who, when, why): ``hil farm status`` shows them.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.errors import ConfigError
from hil.farm._ledger_schema import create_or_upgrade
from hil.farm._liveness import OWNER_CHECK, LivenessMixin, process_label
from hil.farm._storage import refuse_network_filesystem

__all__ = ["Ledger", "LedgerEntry", "LedgerEvent", "JOB_STATES"]

_log = logging.getLogger(__name__)

JOB_STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the ledger, decoded (``job`` and ``result`` are the stored JSON objects)."""

    key: str
    job: dict[str, Any]
    state: str
    attempts: int
    worker: str | None
    queued_at: float
    started_at: float | None
    finished_at: float | None
    seconds: float | None
    error_code: str | None
    message: str | None
    log_tail: str | None
    artifact: str | None
    result: dict[str, Any] | None
    holder: str | None = None
    manifest_sha256: str | None = None
    attempt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LedgerEvent:
    """One appended event: a job's state change (``key`` set) or a maintenance act (``key`` None)."""

    id: int
    t: float
    key: str | None
    event: str
    state: str | None
    by: str | None
    actor: str | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Ledger(LivenessMixin):
    """The SQLite ledger of one artifact store (default ``<artifacts>/ledger.sqlite``).

    One connection per thread: a ``FarmSession``'s heartbeat thread opens its own.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        refuse_network_filesystem(self.path.parent)
        self.actor = process_label()
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            create_or_upgrade(self._db)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path}: not a usable ledger database ({exc})") from None
        self._columns = [d[0] for d in self._db.execute("SELECT * FROM jobs LIMIT 0").description]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- job transitions -------------------------------------------------------------------

    def enqueue(self, key: str, job: dict[str, Any], *, by: str | None = None) -> str:
        """Add a job as queued unless the key is known; returns its state afterwards.

        A failed job is queued again (a re-run retries failures); done stays done.
        """
        with self._tx() as db:
            row = db.execute("SELECT state, error_code FROM jobs WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO jobs (key, job, state, queued_at) VALUES (?, ?, 'queued', ?)",
                    (key, json.dumps(job, sort_keys=True), time.time()),
                )
                self._event(db, key, "queued", "queued", by)
                return "queued"
            if row[0] == "failed":
                db.execute(
                    "UPDATE jobs SET state = 'queued', holder = NULL, attempt = NULL, job = ?, queued_at = ? "
                    "WHERE key = ?",
                    (json.dumps(job, sort_keys=True), time.time(), key),
                )
                self._event(db, key, "queued", "queued", by, {"retry_after": row[1]})
                return "queued"
            return str(row[0])

    def claim(self, keys: Iterable[str], holder: str) -> list[str]:
        """Claim every queued job of ``keys`` that nobody else holds; returns the keys now ``holder``'s."""
        claimed = []
        with self._tx() as db:
            for key in keys:
                row = db.execute("SELECT state, holder FROM jobs WHERE key = ?", (key,)).fetchone()
                if row is None or row[0] != "queued" or row[1] not in (None, holder):
                    continue
                if row[1] is None:
                    taken = db.execute(
                        "UPDATE jobs SET holder = ?, attempt = NULL WHERE key = ? AND state = 'queued' "
                        "AND holder IS NULL",
                        (holder, key),
                    ).rowcount
                    if not taken:
                        continue
                    self._event(db, key, "claimed", "queued", holder)
                claimed.append(key)
        return claimed

    def mark_started(
        self,
        key: str,
        worker: str | None,
        started_at: float | None = None,
        *,
        by: str | None = None,
        attempt: str | None = None,
    ) -> int:
        """Record an attempt starting on ``worker``; returns the attempt number (0: not recorded).

        Only the holder ``by`` starts an attempt (in the UPDATE's WHERE clause): a process that
        lost the job (presumed dead, its claim re-queued) records nothing. A start while another
        attempt of the job runs means that one was lost (its worker died): recorded as
        ``attempt-lost``. A start that arrives after its own attempt's result only counts it.
        """
        when = started_at or time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT attempts, state, attempt, worker FROM jobs WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return 0
            n = int(row[0]) + 1
            if row[1] in ("done", "failed"):  # the start event arrived after the result
                if attempt is None or row[2] != attempt or not db.execute(
                    "UPDATE jobs SET attempts = ? WHERE key = ? AND attempt = ?", (n, key, attempt)
                ).rowcount:
                    return 0
            else:
                changed = db.execute(
                    "UPDATE jobs SET state = 'running', attempts = ?, worker = ?, started_at = ?, "
                    "attempt = ? WHERE key = ? AND state IN ('queued', 'running') AND holder IS ? "
                    "AND (attempt IS NULL OR attempt IS NOT ?)",
                    (n, worker, when, attempt, key, by, attempt),
                ).rowcount
                if not changed:
                    ignored: dict[str, Any] = {"attempt": attempt, "worker": worker}
                    self._event(db, key, "late-start-ignored", None, by, ignored)
                    return 0
                if row[1] == "running" and row[2] is not None:
                    self._event(db, key, "attempt-lost", "running", by,
                                {"attempt": row[2], "worker": row[3], "next": attempt})  # fmt: skip
                detail = {"attempt": n, "worker": worker, "id": attempt}
                self._event(db, key, "running", "running", by, detail)
            db.execute(
                "INSERT OR REPLACE INTO attempts (key, n, worker, started_at) VALUES (?, ?, ?, ?)",
                (key, n, worker, when),
            )
        return n

    def mark_finished(
        self,
        key: str,
        *,
        ok: bool,
        worker: str | None,
        seconds: float | None,
        error_code: str,
        message: str = "",
        log_tail: str = "",
        artifact: str | None = None,
        result: dict[str, Any] | None = None,
        manifest_sha256: str | None = None,
        by: str | None = None,
        attempted: bool = True,
        attempt: str | None = None,
    ) -> bool:
        """Record the outcome; returns whether it was recorded.

        ``attempted=False``: no build started (every worker refused the job); no attempt is counted.

        Written only by the attempt that holds the job, checked in the UPDATE itself: the row's
        holder is ``by`` and its attempt is ``attempt`` (or none started yet). A result of a done
        job, of a job re-queued and given to someone else, or of an older attempt of the same
        holder (a worker presumed lost) changes nothing (``late-result-ignored``).
        """
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT state, attempts FROM jobs WHERE key = ?", (key,)).fetchone()
            if row is None:
                return False
            attempts = max(int(row[1]), 1 if attempted else 0)
            state = "done" if ok else "failed"
            changed = db.execute(
                "UPDATE jobs SET state = ?, attempts = ?, worker = COALESCE(?, worker), finished_at = ?, "
                "seconds = ?, error_code = ?, message = ?, log_tail = ?, artifact = ?, result = ?, "
                "holder = NULL, manifest_sha256 = ?, attempt = COALESCE(attempt, ?) "
                "WHERE key = ? AND state IN ('queued', 'running') AND holder IS ? "
                "AND (attempt IS NULL OR attempt = ?)",
                (
                    state,
                    attempts,
                    worker,
                    now,
                    seconds,
                    error_code,
                    message,
                    log_tail[-4000:],
                    artifact,
                    None if result is None else json.dumps(result, sort_keys=True),
                    manifest_sha256 if ok else None,
                    attempt,
                    key,
                    by,
                    attempt,
                ),
            ).rowcount
            if not changed:
                if row[0] != "done":
                    self._event(db, key, "late-result-ignored", row[0], by,
                                {"error_code": error_code, "attempt": attempt, "worker": worker})  # fmt: skip
                return False
            if int(row[1]) == 0 and attempted:  # the start event never arrived: still one attempt
                db.execute(
                    "INSERT OR IGNORE INTO attempts (key, n, worker, started_at) VALUES (?, 1, ?, ?)",
                    (key, worker, now - (seconds or 0.0)),
                )
            detail = {"error_code": error_code, "worker": worker, "seconds": seconds, "attempt": attempt}
            if not ok and message:
                detail["message"] = message.splitlines()[0][:200]
            self._event(db, key, state, state, by, detail)
        return True

    def requeue_attempt(
        self, key: str, reason: str, *, by: str | None, attempt: str | None, worker: str | None = None,
        message: str = "",
    ) -> bool:  # fmt: skip
        """The attempt failed for the farm's reason (license, disk): back to queued, still ``by``'s.

        Same rule as ``mark_finished``: only the attempt holding the job changes it.
        """
        first_line = message.splitlines()[0][:300] if message else ""
        with self._tx() as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'queued', attempt = NULL, message = ? "
                "WHERE key = ? AND state IN ('queued', 'running') AND holder IS ? "
                "AND (attempt IS NULL OR attempt = ?)",
                (f"re-queued ({reason}): {first_line}", key, by, attempt),
            ).rowcount
            if changed:
                self._event(db, key, "requeued", "queued", by,
                            {"reason": reason, "worker": worker, "attempt": attempt,
                             "message": first_line})  # fmt: skip
            else:
                self._event(db, key, "late-result-ignored", None, by, {"reason": reason, "attempt": attempt})
        return bool(changed)

    def release_job(self, key: str, holder: str) -> bool:
        """Give one claimed, unfinished job back (queued, unheld)."""
        with self._tx() as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'queued', holder = NULL, attempt = NULL "
                "WHERE key = ? AND holder = ? AND state IN ('queued', 'running')",
                (key, holder),
            ).rowcount
            if changed:
                self._event(db, key, "released", "queued", holder)
        return bool(changed)

    def invalidate(
        self, key: str, reason: str, *, by: str | None = None, manifest_sha256: str | None = None
    ) -> bool:
        """A done job whose artifact is missing or damaged goes back to queued (recorded).

        Only while the row still names the build that was checked (``manifest_sha256``): a
        process that checked an older row must not throw away a rebuild another one just
        finished. Returns False when nothing changed.
        """
        with self._tx() as db:
            changed = db.execute(
                "UPDATE jobs SET state = 'queued', holder = NULL, attempt = NULL, artifact = NULL, "
                "manifest_sha256 = NULL, error_code = NULL, message = ?, queued_at = ? "
                "WHERE key = ? AND state = 'done' AND manifest_sha256 IS ?",
                (f"rebuilding: {reason}", time.time(), key, manifest_sha256),
            ).rowcount
            if changed:
                self._event(db, key, "invalidated", "queued", by, {"reason": reason})
        if changed:
            _log.warning("%s: stored build not served (%s); rebuilding", key[:12], reason)
        return bool(changed)

    def note(self, key: str | None, event: str, *, by: str | None = None, **detail: Any) -> None:
        """Append an event that changes no state (a refusal, a sweep)."""
        with self._tx() as db:
            self._event(db, key, event, None, by, detail)

    def release(self, holder: str) -> list[str]:
        """A holder exiting cleanly gives its unfinished jobs back (queued, unheld); returns their keys."""
        with self._tx() as db:
            keys = [
                row[0] for row in db.execute(
                    "SELECT key FROM jobs WHERE holder = ? AND state IN ('queued', 'running')", (holder,)
                )
            ]  # fmt: skip
            for key in keys:
                db.execute(
                    "UPDATE jobs SET state = 'queued', holder = NULL, attempt = NULL "
                    "WHERE key = ? AND holder = ?",
                    (key, holder),
                )
                self._event(db, key, "released", "queued", holder)
        return keys

    def requeue_stale(self, *, by: str) -> list[str]:
        """Jobs held by processes dead by heartbeat go back to queued; owner only. Returns their keys.

        A ``running`` job with no holder (left by an hil that recorded none) counts as stale too.
        Each UPDATE carries the owner check (``by`` owns the ledger and its heartbeat is fresh)
        and the holder it saw, so an owner that stalled and lost the ledger re-queues nothing.
        """
        now = time.time()
        requeued = []
        with self._tx() as db:
            live = {
                r[0]
                for r in db.execute("SELECT token FROM processes WHERE heartbeat_at + limit_s >= ?", (now,))
            }
            stale = [(key, state, holder) for key, state, holder in self._holders(db) if holder not in live]
            for key, state, holder in stale:
                info = None if holder is None else self._process(db, holder)
                detail: dict[str, Any] = {"holder": holder, "was": state}
                if info is not None:
                    detail.update(heartbeat_age_s=round(info.age_s(now), 3), limit_s=info.limit_s,
                                  pid=info.pid, host=info.host, label=info.label)  # fmt: skip
                changed = db.execute(
                    "UPDATE jobs SET state = 'queued', holder = NULL, attempt = NULL "
                    f"WHERE key = ? AND holder IS ? AND state = ? AND {OWNER_CHECK}",
                    (key, holder, state, by, now),
                ).rowcount
                if changed:
                    self._event(db, key, "requeued", "queued", by, detail)
                    requeued.append(key)
        if requeued:
            _log.warning("re-queued %d job(s) whose holder's heartbeat expired", len(requeued))
        return requeued

    # --- reads -----------------------------------------------------------------------------

    def get(self, key: str) -> LedgerEntry | None:
        row = self._db.execute("SELECT * FROM jobs WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._entry(row)

    def entries(self, state: str | None = None) -> list[LedgerEntry]:
        if state is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY queued_at, key").fetchall()
        else:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE state = ? ORDER BY queued_at, key", (state,)
            ).fetchall()
        return [self._entry(r) for r in rows]

    def attempts(self, key: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT n, worker, started_at FROM attempts WHERE key = ? ORDER BY n", (key,)
        ).fetchall()
        return [{"n": n, "worker": w, "started_at": t} for n, w, t in rows]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(JOB_STATES, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
            out[state] = int(n)
        return out

    def events(self, key: str | None = None, *, limit: int | None = None) -> list[LedgerEvent]:
        """Events oldest first: of one job (``key``), or all; ``limit`` keeps the newest ones."""
        where, args = ("WHERE key = ?", [key]) if key is not None else ("", [])
        query = f"SELECT id, t, key, event, state, by, actor, detail FROM events {where} ORDER BY id DESC"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        rows = self._db.execute(query, args).fetchall()
        return [
            LedgerEvent(id=r[0], t=r[1], key=r[2], event=r[3], state=r[4], by=r[5], actor=r[6],
                        detail=json.loads(r[7]) if r[7] else {})
            for r in reversed(rows)
        ]  # fmt: skip

    def _entry(self, row: tuple[Any, ...]) -> LedgerEntry:
        raw = dict(zip(self._columns, row, strict=True))
        raw["job"] = json.loads(raw["job"])
        raw["result"] = json.loads(raw["result"]) if raw["result"] else None
        return LedgerEntry(**raw)
