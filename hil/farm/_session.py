"""A process's membership of a ledger: its heartbeat, its claims, and the owner's maintenance.

Why one rule for everyone: an overnight ``hil farm run`` shares the ledger and artifact folder
with people's ``hil build`` and ``hil measure`` and with searches. Each of them opens a
``FarmSession``; a background thread refreshes its heartbeat every ``limit/6`` seconds. Exactly
one session at a time is the ledger's *owner* (a lease in the ledger): only the owner re-queues
jobs and removes staging folders, and only those of processes whose heartbeat is older than the
limit they declared. Any session takes the lease over when the owner's heartbeat expires, so a
``kill -9`` of the owner costs one heartbeat limit, and the rest is finished by whoever remains.

A session that finds its own row gone (it stalled for longer than its limit and was presumed
dead) registers again and says so: its claims were released, and the jobs went to others.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

from hil.farm._ledger import Ledger
from hil.farm._store import ArtifactStore

__all__ = ["FarmSession", "DEFAULT_HEARTBEAT_LIMIT_S"]

_log = logging.getLogger(__name__)

#: Default heartbeat limit (inventory ``farm.heartbeat_limit_s``).
DEFAULT_HEARTBEAT_LIMIT_S = 60.0


class FarmSession:
    """This process on one ledger; use as a context manager (``close`` releases claims and ownership).

    Args:
        ledger_path: the ledger file.
        store: the artifact store whose staging folders the owner sweeps.
        heartbeat_limit_s: after this long without a heartbeat, others presume this process dead.
        label: how this process is shown in ``hil farm status`` (default: its command, pid, host).
    """

    def __init__(
        self,
        ledger_path: str | Path,
        store: ArtifactStore,
        *,
        heartbeat_limit_s: float = DEFAULT_HEARTBEAT_LIMIT_S,
        label: str | None = None,
    ) -> None:
        self.ledger_path = Path(ledger_path)
        self.store = store
        self.limit_s = float(heartbeat_limit_s)
        self.interval_s = max(self.limit_s / 6.0, 0.05)
        self.label = label
        self.token = uuid.uuid4().hex[:12]
        self.is_owner = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> FarmSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Register, take ownership if it is free (then maintain once), and start the heartbeat."""
        with Ledger(self.ledger_path) as ledger:
            ledger.register(self.token, limit_s=self.limit_s, label=self.label)
            self._tick(ledger)
        self._thread = threading.Thread(target=self._run, name=f"hil-heartbeat-{self.token}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the heartbeat; give back unfinished claims and the owner lease; unregister."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with Ledger(self.ledger_path) as ledger:
            released = ledger.release(self.token)
            if released:
                _log.info("gave back %d unfinished job(s)", len(released))
            if self.is_owner:
                ledger.release_ownership(self.token)
                self.is_owner = False
            ledger.unregister(self.token)

    def maintain_now(self) -> None:
        """Run one heartbeat and, as owner, one maintenance pass now (a waiting client calls this)."""
        with Ledger(self.ledger_path) as ledger:
            self._tick(ledger)

    def _run(self) -> None:
        ledger = Ledger(self.ledger_path)
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    self._tick(ledger)
                except Exception as exc:  # a locked or busy ledger: try again next beat
                    _log.warning("heartbeat on %s failed (%s); retrying", self.ledger_path, exc)
        finally:
            ledger.close()

    def _tick(self, ledger: Ledger) -> None:
        with self._lock:
            if not ledger.beat(self.token):
                _log.error(
                    "%s: this process was presumed dead (no heartbeat for over %.0f s); its claimed "
                    "jobs went to other processes. Registering again.", self.ledger_path, self.limit_s,
                )  # fmt: skip
                ledger.register(self.token, limit_s=self.limit_s, label=self.label)
            change = ledger.acquire_ownership(self.token)
            if change in ("acquired", "took-over"):
                _log.log(
                    logging.WARNING if change == "took-over" else logging.INFO,
                    "%s: this process now owns the ledger (%s)",
                    self.ledger_path,
                    change,
                )
            elif change == "busy" and self.is_owner:
                _log.error("%s: lost the ledger's ownership to another process", self.ledger_path)
            self.is_owner = change != "busy"
            if self.is_owner:
                self._maintain(ledger)

    def _maintain(self, ledger: Ledger) -> None:
        """Owner only: re-queue the jobs of dead holders, forget them, sweep their staging folders."""
        ledger.requeue_stale(by=self.token)
        ledger.prune_dead(by=self.token)
        removed = self.store.sweep(
            ledger.live_tokens(), min_age_s=self.limit_s, still_owner=lambda: ledger.owns(self.token)
        )
        for name in removed:
            ledger.note(None, "swept", by=self.token, folder=name)

    def describe(self) -> dict[str, Any]:
        return {"token": self.token, "owner": self.is_owner, "heartbeat_limit_s": self.limit_s}
