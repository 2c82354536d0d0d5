"""The ledger's tables, and the upgrade of a ledger written by an older hil (no holders, no events).

Version 2 (``PRAGMA user_version``) adds, to version 1's ``jobs`` and ``attempts``:

- ``jobs.holder``: the token of the process that claimed the job (it builds it, or its dask
  client does); ``jobs.manifest_sha256``: the sealed manifest's hash, checked on every hit.
- ``events``: every state change and maintenance act, append-only (who, when, why).
- ``processes``: one row per process using the ledger, with its pid, host and heartbeat.
- ``owner``: at most one row, the process that does the ledger's maintenance.

Version 3 adds ``jobs.attempt``: the id of the attempt that may write the job's result (set
when an attempt starts, cleared when the job is re-queued), so a stale attempt's late write
matches no row. A version-2 ledger is upgraded in place (the column is added, NULL).
"""

from __future__ import annotations

import logging
import sqlite3

__all__ = ["SCHEMA_VERSION", "create_or_upgrade"]

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 3

_TABLES = """
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
    result TEXT,
    holder TEXT,
    manifest_sha256 TEXT,
    attempt TEXT
);
CREATE TABLE IF NOT EXISTS attempts (
    key TEXT NOT NULL,
    n INTEGER NOT NULL,
    worker TEXT,
    started_at REAL NOT NULL,
    PRIMARY KEY (key, n)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    t REAL NOT NULL,
    key TEXT,
    event TEXT NOT NULL,
    state TEXT,
    by TEXT,
    actor TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_by_key ON events (key, id);
CREATE TABLE IF NOT EXISTS processes (
    token TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    label TEXT NOT NULL,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    limit_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS owner (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    acquired_at REAL NOT NULL
);
"""

#: Columns versions 2 and 3 added to a version-1 ``jobs`` table.
_NEW_JOB_COLUMNS = {"holder": "TEXT", "manifest_sha256": "TEXT", "attempt": "TEXT"}


def create_or_upgrade(db: sqlite3.Connection) -> None:
    """Create missing tables and columns; idempotent, safe when two processes open a ledger at once."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version >= SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")  # one upgrader at a time; the other sees the new version
    try:
        if int(db.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
            db.execute("COMMIT")
            return
        for statement in filter(str.strip, _TABLES.split(";")):
            db.execute(statement)
        have = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        for column, kind in _NEW_JOB_COLUMNS.items():
            if column not in have:
                db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
                _log.info("ledger upgraded: jobs.%s added", column)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
