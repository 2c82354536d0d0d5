"""The ledger's rules for many processes, in one process with short heartbeat limits (fast).

The same rules are exercised with real processes in test_concurrency.py and test_dask_farm.py;
here each rule is pinned on its own: a live holder's job is never re-queued, a dead one's is
(after its limit, by the owner), a late failure cannot overwrite another's build, an old ledger
is upgraded, and the sweep spares staging folders of live processes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from hil.farm import ArtifactStore, FarmRunner, FarmSession, Ledger, build_one, make_job
from hil.inventory import load_inventory


def _job(model: Path, n: int, log_file: Path, sleep_s: float = 0.05):  # type: ignore[no-untyped-def]
    board = load_inventory().board("zcu104")
    return make_job(model, board, {}, builder="sleep",
                    builder_params={"sleep_s": sleep_s, "n": n, "log_file": str(log_file)})  # fmt: skip


def _halt(session: FarmSession) -> None:
    """Stop a session's heartbeat without any clean-up: how a kill -9 looks to the others."""
    session._stop.set()
    assert session._thread is not None
    session._thread.join()


class _Clock:
    """The ledger's wall clock, moved by the test: liveness is judged on it, not on how fast this host is."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __getattr__(self, name: str) -> object:  # sleep, monotonic, ...: the real ones
        return getattr(time, name)


def test_a_dead_holders_job_is_requeued_only_after_its_heartbeat_limit(
    dense_onnx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hil.farm._ledger
    import hil.farm._liveness

    clock = _Clock()
    monkeypatch.setattr(hil.farm._ledger, "time", clock)
    monkeypatch.setattr(hil.farm._liveness, "time", clock)
    limit = 0.6
    store = ArtifactStore(tmp_path)
    job = _job(dense_onnx, 0, tmp_path / "log")
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.enqueue(job.key, job.model_dump())
        dead = FarmSession(ledger.path, store, heartbeat_limit_s=limit)
        dead.start()
        assert dead.is_owner and ledger.claim([job.key], dead.token) == [job.key]
        _halt(dead)
        last_beat = next(p.heartbeat_at for p in ledger.processes() if p.token == dead.token)
        with FarmSession(ledger.path, store, heartbeat_limit_s=limit) as other:
            # just inside the dead one's limit, by the ledger's clock: hands off, however slow this host is
            clock.now = last_beat + limit - 0.001
            other.maintain_now()
            assert not other.is_owner
            assert ledger.get(job.key).holder == dead.token  # type: ignore[union-attr]
            assert not [e for e in ledger.events(job.key) if e.event == "requeued"]
            # just past it: re-queued and the lease taken over, by the next maintenance
            clock.now = last_beat + limit + 0.001
            other.maintain_now()
            assert other.is_owner and ledger.get(job.key).holder is None  # type: ignore[union-attr]
            requeue = [e for e in ledger.events(job.key) if e.event == "requeued"]
            takeover = [
                e for e in ledger.events() if e.event == "owner" and e.detail["change"] == "took-over"
            ]
            assert len(requeue) == 1 and requeue[0].by == other.token
            assert requeue[0].detail["holder"] == dead.token and requeue[0].detail["heartbeat_age_s"] >= limit
            assert len(takeover) == 1 and takeover[0].detail["previous"] == dead.token
            assert takeover[0].t - last_beat > limit  # never before the limit, with no tolerance
            assert ledger.claim([job.key], other.token) == [job.key]
            assert dead.token not in {p.token for p in ledger.processes()}  # forgotten once released


def test_a_live_holders_job_is_waited_for_not_built_twice(dense_onnx: Path, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    log_file = tmp_path / "builds.jsonl"
    job = _job(dense_onnx, 1, log_file, sleep_s=0.3)
    with (
        Ledger(tmp_path / "ledger.sqlite") as ledger,
        FarmSession(ledger.path, store, heartbeat_limit_s=2) as a,
    ):
        ledger.enqueue(job.key, job.model_dump())
        assert ledger.claim([job.key], a.token) == [job.key]
        outcome: dict[str, object] = {}

        def client() -> None:
            with Ledger(tmp_path / "ledger.sqlite") as own:
                outcome.update(build_one(job, own, store, heartbeat_limit_s=2))

        waiter = threading.Thread(target=client)
        waiter.start()
        time.sleep(1.5)  # the client waits: it neither builds nor re-queues the held job
        assert waiter.is_alive() and not log_file.exists()
        assert ledger.get(job.key).holder == a.token  # type: ignore[union-attr]
        summary = FarmRunner(ledger, store, session=a).run(None, [job])  # the holder builds it
        assert summary.done == [job.key]
        waiter.join(timeout=30)
    assert outcome["state"] == "done" and outcome["waited"] is True and outcome["cache_hit"] is False
    assert len(log_file.read_text().splitlines()) == 1  # built once


def test_a_late_failure_does_not_overwrite_the_new_holders_work(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.enqueue("k", {"n": 1})
        assert ledger.claim(["k"], "deadbeef0001") == ["k"]
        ledger.register("owner0000001", limit_s=60)
        ledger.acquire_ownership("owner0000001")
        assert ledger.requeue_stale(by="owner0000001") == ["k"]  # never registered: dead
        assert ledger.claim(["k"], "alive0000001") == ["k"]
        assert not ledger.mark_finished(
            "k", ok=False, worker="w", seconds=1, error_code="SYNTH", by="deadbeef0001"
        )
        assert ledger.get("k").state == "queued"  # type: ignore[union-attr]
        assert ledger.mark_finished("k", ok=True, worker="w", seconds=1, error_code="OK", by="alive0000001")
        assert not ledger.mark_finished(
            "k", ok=False, worker="w", seconds=1, error_code="HLS", by="alive0000001"
        )
        entry = ledger.get("k")
        assert (
            entry is not None and entry.state == "done" and entry.error_code == "OK" and entry.holder is None
        )
        assert [e.event for e in ledger.events("k")] == [
            "queued", "claimed", "requeued", "claimed", "late-result-ignored", "done",
        ]  # fmt: skip


def test_invalidate_only_the_build_that_was_checked(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.enqueue("k", {})
        ledger.mark_finished("k", ok=True, worker="w", seconds=1, error_code="OK", manifest_sha256="aa")
        assert not ledger.invalidate("k", "stale view", manifest_sha256="bb")  # a newer build is there
        assert ledger.get("k").state == "done"  # type: ignore[union-attr]
        assert ledger.invalidate("k", "report.json corrupted", manifest_sha256="aa")
        entry = ledger.get("k")
        assert entry is not None and entry.state == "queued" and entry.artifact is None
        assert ledger.events("k")[-1].detail == {"reason": "report.json corrupted"}


_V1_SCHEMA = """
CREATE TABLE jobs (key TEXT PRIMARY KEY, job TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0, worker TEXT, queued_at REAL NOT NULL, started_at REAL,
    finished_at REAL, seconds REAL, error_code TEXT, message TEXT, log_tail TEXT, artifact TEXT, result TEXT);
CREATE TABLE attempts (key TEXT NOT NULL, n INTEGER NOT NULL, worker TEXT, started_at REAL NOT NULL,
    PRIMARY KEY (key, n));
INSERT INTO jobs (key, job, state, attempts, queued_at) VALUES ('left-running', '{}', 'running', 1, 0);
INSERT INTO jobs (key, job, state, attempts, queued_at, error_code)
    VALUES ('built', '{}', 'done', 1, 0, 'OK');
"""


def test_a_ledger_from_an_older_hil_is_upgraded(tmp_path: Path) -> None:
    """Version 1 (no holders, no events): opened, upgraded; its orphaned running row is re-queued."""
    path = tmp_path / "ledger.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_V1_SCHEMA)
    with Ledger(path) as ledger, FarmSession(path, ArtifactStore(tmp_path), heartbeat_limit_s=5) as session:
        assert session.is_owner
        assert ledger.get("left-running").state == "queued"  # type: ignore[union-attr]
        built = ledger.get("built")
        assert built is not None and built.state == "done" and built.manifest_sha256 is None
        assert [e.event for e in ledger.events("left-running")] == ["requeued"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        assert "attempt" in {row[1] for row in db.execute("PRAGMA table_info(jobs)")}


def test_sweep_spares_live_holders_and_young_folders(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    live = store.staging("a" * 64, "live00000001")
    dead_old = store.staging("b" * 64, "dead00000001")
    dead_young = store.staging("c" * 64, "dead00000002")
    legacy = tmp_path / ".tmp-dddddddddddddddd-1234abcd"  # the name an older hil gave staging folders
    legacy.mkdir()
    long_ago = time.time() - 3600
    for folder in (live, dead_old, legacy):
        os.utime(folder, (long_ago, long_ago))
    removed = store.sweep({"live00000001"}, min_age_s=60)
    assert sorted(removed) == sorted([dead_old.name, legacy.name])
    assert live.is_dir() and dead_young.is_dir() and not dead_old.exists() and not legacy.exists()


def test_owner_lease_is_exclusive(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for token in ("first0000001", "secnd0000001"):
            ledger.register(token, limit_s=30)
        assert ledger.acquire_ownership("first0000001") == "acquired"
        assert ledger.acquire_ownership("secnd0000001") == "busy"
        assert ledger.acquire_ownership("first0000001") == "held"
        owner = ledger.owner()
        assert owner is not None and owner.token == "first0000001" and owner.alive()
        assert owner.process is not None and owner.process.pid == os.getpid()
        assert ledger.release_ownership("first0000001")
        assert ledger.acquire_ownership("secnd0000001") == "acquired"
        details = [json.dumps(e.detail) for e in ledger.events() if e.event == "owner"]
        assert len(details) == 3  # acquired, released, acquired
