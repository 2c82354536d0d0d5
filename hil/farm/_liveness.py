"""Who is alive on a ledger: one heartbeat row per process, and the one owner that does maintenance.

Why heartbeats and not pids: the processes sharing a ledger run on several hosts (a farm's
coordinator, people's ``hil build``, a search), and a pid means nothing on another host, or in
another container on the same one. A process is alive while its heartbeat is younger than the
limit it declared when it registered; the ledger's owner re-queues the jobs, and removes the
staging folders, only of processes that are dead by that rule. Hosts' clocks must agree to well
within the limit (NTP).

Ownership is a lease: at most one ``owner`` row, taken in an exclusive (``BEGIN IMMEDIATE``)
transaction when there is none or when its holder's heartbeat has expired.

Why the owner check sits in every maintenance statement (``OWNER_CHECK``): an owner can stall
(SIGSTOP, a frozen VM, swap) between deciding to act and acting. By then another process may
have taken the lease. Checked once per tick, the stalled owner would still act once when it
wakes; checked in the UPDATE or DELETE itself, its late statement matches no row.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ProcessInfo", "OwnerInfo", "LivenessMixin", "process_label", "OWNER_CHECK"]

_COLUMNS = "token, pid, host, label, started_at, heartbeat_at, limit_s"

#: SQL condition, parameters (token, now): ``token`` owns the ledger and its heartbeat is fresh.
OWNER_CHECK = (
    "EXISTS (SELECT 1 FROM owner o JOIN processes p ON p.token = o.token "
    "WHERE o.id = 1 AND o.token = ? AND p.heartbeat_at + p.limit_s >= ?)"
)


def process_label() -> str:
    """``hil farm run (pid 123 on host)``: what this process is, for people reading the ledger."""
    argv = sys.argv
    words = [a for a in argv[1:4] if not a.startswith("-") and "/" not in a][:2]
    program = Path(argv[0]).name if argv and argv[0] else "python"
    if program in ("__main__.py", "hil", "-m", "-c", ""):
        program = "hil"
    command = " ".join([program, *words]) if program == "hil" else program
    return f"{command} (pid {os.getpid()} on {socket.gethostname()})"


@dataclass(frozen=True)
class ProcessInfo:
    """One process registered on the ledger."""

    token: str
    pid: int
    host: str
    label: str
    started_at: float
    heartbeat_at: float
    limit_s: float

    def age_s(self, now: float | None = None) -> float:
        """Seconds since its last heartbeat."""
        return (now if now is not None else time.time()) - self.heartbeat_at

    def alive(self, now: float | None = None) -> bool:
        return self.age_s(now) <= self.limit_s

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        return {**self.__dict__, "heartbeat_age_s": round(self.age_s(now), 3), "alive": self.alive(now)}


@dataclass(frozen=True)
class OwnerInfo:
    """The ledger's owner: its token, when it took ownership, and its process row (None if pruned)."""

    token: str
    acquired_at: float
    process: ProcessInfo | None

    def alive(self, now: float | None = None) -> bool:
        return self.process is not None and self.process.alive(now)


class LivenessMixin:
    """Process rows and the owner lease; mixed into ``Ledger`` (which provides ``_db`` and ``_tx``)."""

    _db: sqlite3.Connection
    actor: str

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:  # provided by Ledger
        raise NotImplementedError

    def _event(
        self, db: sqlite3.Connection, key: str | None, event: str, state: str | None, by: str | None,
        detail: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        db.execute(
            "INSERT INTO events (t, key, event, state, by, actor, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (time.time(), key, event, state, by, self.actor, json.dumps(detail or {}, sort_keys=True)),
        )

    # --- processes ------------------------------------------------------------------------

    def register(self, token: str, *, limit_s: float, label: str | None = None) -> None:
        """Add (or renew) this process's row with a fresh heartbeat."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO processes (" + _COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token,
                    os.getpid(),
                    socket.gethostname(),
                    label or process_label(),
                    now,
                    now,
                    float(limit_s),
                ),
            )

    def beat(self, token: str) -> bool:
        """Refresh the heartbeat; False when the row is gone (the owner presumed this process dead)."""
        with self._tx() as db:
            return (
                db.execute(
                    "UPDATE processes SET heartbeat_at = ? WHERE token = ?", (time.time(), token)
                ).rowcount
                == 1
            )

    def unregister(self, token: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM processes WHERE token = ?", (token,))

    def processes(self) -> list[ProcessInfo]:
        rows = self._db.execute("SELECT " + _COLUMNS + " FROM processes ORDER BY started_at").fetchall()
        return [ProcessInfo(*row) for row in rows]

    def live_tokens(self, now: float | None = None) -> set[str]:
        when = now if now is not None else time.time()
        rows = self._db.execute("SELECT token FROM processes WHERE heartbeat_at + limit_s >= ?", (when,))
        return {row[0] for row in rows}

    def _process(self, db: sqlite3.Connection, token: str) -> ProcessInfo | None:
        row = db.execute(
            "SELECT " + _COLUMNS + " FROM processes WHERE token = ?",
            (token,),
        ).fetchone()
        return None if row is None else ProcessInfo(*row)

    def prune_dead(self, by: str) -> list[ProcessInfo]:
        """Remove rows of processes dead by heartbeat (after their jobs were re-queued); owner only.

        The DELETE carries the owner check and the heartbeat it saw: a stalled owner removes nothing.
        """
        now = time.time()
        pruned = []
        with self._tx() as db:
            dead = [
                ProcessInfo(*row)
                for row in db.execute(
                    "SELECT " + _COLUMNS + " FROM processes WHERE heartbeat_at + limit_s < ?",
                    (now,),
                )
            ]
            for info in dead:
                if db.execute(
                    f"DELETE FROM processes WHERE token = ? AND heartbeat_at = ? AND {OWNER_CHECK}",
                    (info.token, info.heartbeat_at, by, now),
                ).rowcount:
                    self._event(db, None, "presumed-dead", None, by, _describe(info, now))
                    pruned.append(info)
        return pruned

    def owns(self, token: str) -> bool:
        """True while ``token`` holds the owner lease with a fresh heartbeat (checked now)."""
        row = self._db.execute("SELECT " + OWNER_CHECK, (token, time.time())).fetchone()
        return bool(row and row[0])

    # --- ownership ------------------------------------------------------------------------

    def owner(self) -> OwnerInfo | None:
        row = self._db.execute("SELECT token, acquired_at FROM owner WHERE id = 1").fetchone()
        if row is None:
            return None
        return OwnerInfo(token=row[0], acquired_at=row[1], process=self._process(self._db, row[0]))

    def acquire_ownership(self, token: str) -> str:
        """Take the owner lease if it is free or expired.

        Returns:
            ``held`` (already ours), ``acquired`` (was free), ``took-over`` (the owner's heartbeat
            had expired; the event records how old it was) or ``busy`` (a live owner has it).
        """
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT token FROM owner WHERE id = 1").fetchone()
            if row is not None and row[0] == token:
                return "held"
            if row is None:
                db.execute("INSERT INTO owner (id, token, acquired_at) VALUES (1, ?, ?)", (token, now))
                self._event(db, None, "owner", None, token, {"change": "acquired"})
                return "acquired"
            previous = self._process(db, row[0])
            if previous is not None and previous.alive(now):
                return "busy"
            db.execute("UPDATE owner SET token = ?, acquired_at = ? WHERE id = 1", (token, now))
            detail: dict[str, Any] = {"change": "took-over", "previous": row[0]}
            if previous is not None:
                detail.update(_describe(previous, now))
            self._event(db, None, "owner", None, token, detail)
            return "took-over"

    def release_ownership(self, token: str) -> bool:
        with self._tx() as db:
            released = db.execute("DELETE FROM owner WHERE id = 1 AND token = ?", (token,)).rowcount == 1
            if released:
                self._event(db, None, "owner", None, token, {"change": "released"})
        return released

    def _holders(self, db: sqlite3.Connection) -> Iterator[tuple[str, str, str | None]]:
        yield from db.execute(
            "SELECT key, state, holder FROM jobs WHERE state IN ('queued', 'running') "
            "AND (holder IS NOT NULL OR state = 'running')"
        )


def _describe(info: ProcessInfo, now: float) -> dict[str, Any]:
    return {
        "holder": info.token,
        "pid": info.pid,
        "host": info.host,
        "label": info.label,
        "heartbeat_age_s": round(info.age_s(now), 3),
        "limit_s": info.limit_s,
    }
