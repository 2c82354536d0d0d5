"""The build ledger: one SQLite file (WAL) that is the source of truth of every build's state.

Why SQLite and not the dask scheduler: a scheduler forgets everything when it or the coordinator
restarts, and an overnight farm must resume without repeating a six-hour build. Only the
coordinator process writes here (workers report back to it), so there is one writer and no lock
contention; WAL lets ``hil farm status`` read while a run writes. Keep the file on local disk:
SQLite locking is unreliable on network file systems.

States: queued -> running -> done | failed. A job left ``running`` by a coordinator that died is
put back to ``queued`` by ``requeue_stale`` at the start of the next run.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.errors import ConfigError

__all__ = ["Ledger", "LedgerEntry", "JOB_STATES"]

_log = logging.getLogger(__name__)

JOB_STATES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    queued_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    seconds REAL,
    error_code TEXT,
    message TEXT,
    log_tail TEXT,
    artifact TEXT,
    result TEXT
);
CREATE TABLE IF NOT EXISTS attempts (
    key TEXT NOT NULL,
    n INTEGER NOT NULL,
    worker TEXT,
    started_at REAL NOT NULL,
    PRIMARY KEY (key, n)
);
"""


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

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Ledger:
    """The SQLite ledger of one artifact store (default ``<artifacts>/ledger.sqlite``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path}: not a usable ledger database ({exc})") from None

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

    # --- writes (coordinator only) ---------------------------------------------------------

    def enqueue(self, key: str, job: dict[str, Any]) -> str:
        """Add a job as queued unless the key is known; returns its state afterwards.

        A failed job is queued again (a re-run retries failures); done stays done.
        """
        with self._tx() as db:
            row = db.execute("SELECT state FROM jobs WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO jobs (key, job, state, queued_at) VALUES (?, ?, 'queued', ?)",
                    (key, json.dumps(job, sort_keys=True), time.time()),
                )
                return "queued"
            if row[0] == "failed":
                db.execute(
                    "UPDATE jobs SET state = 'queued', job = ?, queued_at = ? WHERE key = ?",
                    (json.dumps(job, sort_keys=True), time.time(), key),
                )
                return "queued"
            return str(row[0])

    def requeue_stale(self) -> int:
        """Put jobs left ``running`` (by a coordinator that died) back to ``queued``; returns the count."""
        with self._tx() as db:
            count = db.execute("UPDATE jobs SET state = 'queued' WHERE state = 'running'").rowcount
        if count:
            _log.warning("re-queued %d job(s) left running by an earlier coordinator", count)
        return int(count)

    def mark_started(self, key: str, worker: str | None, started_at: float | None = None) -> int:
        """Record an attempt starting on ``worker``; returns the attempt number."""
        when = started_at or time.time()
        with self._tx() as db:
            row = db.execute("SELECT attempts, state FROM jobs WHERE key = ?", (key,)).fetchone()
            if row is None:
                return 0
            n = int(row[0]) + 1
            if row[1] in ("done", "failed"):  # the start event arrived after the result
                db.execute("UPDATE jobs SET attempts = ? WHERE key = ?", (n, key))
            else:
                db.execute(
                    "UPDATE jobs SET state = 'running', attempts = ?, worker = ?, started_at = ? "
                    "WHERE key = ?",
                    (n, worker, when, key),
                )
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
    ) -> None:
        """Record the outcome. A done job is never overwritten (a duplicate result is ignored)."""
        with self._tx() as db:
            row = db.execute("SELECT state, attempts FROM jobs WHERE key = ?", (key,)).fetchone()
            if row is None or row[0] == "done":
                return
            attempts = max(int(row[1]), 1)
            if int(row[1]) == 0:  # the start event never arrived: still one attempt
                db.execute(
                    "INSERT OR IGNORE INTO attempts (key, n, worker, started_at) VALUES (?, 1, ?, ?)",
                    (key, worker, time.time() - (seconds or 0.0)),
                )
            db.execute(
                "UPDATE jobs SET state = ?, attempts = ?, worker = COALESCE(?, worker), finished_at = ?, "
                "seconds = ?, error_code = ?, message = ?, log_tail = ?, artifact = ?, result = ? "
                "WHERE key = ?",
                (
                    "done" if ok else "failed",
                    attempts,
                    worker,
                    time.time(),
                    seconds,
                    error_code,
                    message,
                    log_tail[-4000:],
                    artifact,
                    None if result is None else json.dumps(result, sort_keys=True),
                    key,
                ),
            )

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

    def _entry(self, row: tuple[Any, ...]) -> LedgerEntry:
        names = [d[0] for d in self._db.execute("SELECT * FROM jobs LIMIT 0").description]
        raw = dict(zip(names, row, strict=True))
        raw["job"] = json.loads(raw["job"])
        raw["result"] = json.loads(raw["result"]) if raw["result"] else None
        return LedgerEntry(**raw)
