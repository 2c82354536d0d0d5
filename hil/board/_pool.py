"""BoardPool: exclusive, crash-safe board leases across processes, and quarantine of failing boards.

Why ``fcntl.flock`` on a lock file per board: the kernel drops the lock when its holder's file
descriptor closes, which includes the holder crashing or being killed, so a dead search never
leaves a board locked; and two processes (two searches, or two ``hil measure``) can never hold
one board at once. Why quarantine: a board that fails N times in a row (unreachable, deploy or
run timeout) would otherwise eat every candidate of an overnight search; it is skipped until a
successful ``hil boards --check`` clears it. Only infrastructure faults count (``BOARD_FAULTS``):
a design that fails (DESIGN_FAULT, WRONG_ANSWER) says nothing against the board.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from hil.board._fault import BOARD_FAULTS, SETUP_FAULTS, BoardFault
from hil.records import ErrorCode

__all__ = ["BoardHealth", "BoardPool", "Lease", "default_lease_dir"]

_log = logging.getLogger(__name__)
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")
_POLL_S = 0.05


def default_lease_dir() -> Path:
    """$HIL_LEASE_DIR, else ``<cache>/leases`` (the C-sim cache root, ~/.cache/hil by default)."""
    explicit = os.environ.get("HIL_LEASE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    from hil.convert import cache_root

    return cache_root() / "leases"


@dataclass
class BoardHealth:
    """What the pool remembers of a board between leases."""

    consecutive_failures: int = 0
    quarantined: bool = False
    last_error: str = ""
    last_code: str = ""
    #: A missing prerequisite stopped the board (BOARD_SETUP): not a flaky board, not a bad design.
    setup_required: bool = False


class Lease:
    """An exclusive hold on one board; ``record`` its outcome before it is released."""

    def __init__(self, pool: BoardPool, board: str, handle: IO[str]) -> None:
        self.pool = pool
        self.board = board
        self._handle = handle
        self.acquired_at = time.time()

    def record(self, code: ErrorCode, message: str = "") -> BoardHealth:
        """Count a board fault towards quarantine, or reset the count on any board-side success."""
        health = self.pool.health(self.board)
        if code in SETUP_FAULTS:  # stop at once: retrying cannot help until someone fixes the board
            health.setup_required = True
            health.last_error, health.last_code = message, code.value
            _log.warning("board %s stopped until it is set up: %s", self.board, message)
        elif code in BOARD_FAULTS:
            health.consecutive_failures += 1
            health.last_error, health.last_code = message, code.value
            if health.consecutive_failures >= self.pool.quarantine_after and not health.quarantined:
                health.quarantined = True
                _log.warning(
                    "board %s quarantined after %d consecutive failures (last: %s)",
                    self.board,
                    health.consecutive_failures,
                    message,
                )
        else:  # OK or a design fault (WRONG_ANSWER, DESIGN_FAULT, LOW_AGREEMENT): the board worked
            health = BoardHealth()
        self.pool._write_health(self.board, health)
        return health

    def release(self) -> None:
        if self._handle.closed:
            return
        self.pool._log_event(self.board, "release")
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


class BoardPool:
    """Leases on the boards of an inventory, shared by every process using the same lease folder.

    Args:
        lease_dir: folder of the lock, health and log files (default ``default_lease_dir()``).
        quarantine_after: consecutive board faults that quarantine a board.
    """

    def __init__(self, lease_dir: str | os.PathLike[str] | None = None, *, quarantine_after: int = 3) -> None:
        self.lease_dir = Path(lease_dir) if lease_dir is not None else default_lease_dir()
        if quarantine_after < 1:
            raise ValueError("quarantine_after must be >= 1")
        self.quarantine_after = quarantine_after

    def _file(self, board: str, suffix: str) -> Path:
        stem = board if _SAFE.fullmatch(board) else hashlib.sha256(board.encode()).hexdigest()[:16]
        return self.lease_dir / f"{stem}{suffix}"

    def _log_event(self, board: str, event: str) -> None:
        line = json.dumps(
            {"event": event, "pid": os.getpid(), "host": socket.gethostname(), "t": time.time()}
        )
        with open(self._file(board, ".log"), "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def history(self, board: str) -> list[dict[str, object]]:
        """Acquire/release events of a board, oldest first (who held it, when)."""
        path = self._file(board, ".log")
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def health(self, board: str) -> BoardHealth:
        path = self._file(board, ".health.json")
        try:
            return BoardHealth(**json.loads(path.read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError, TypeError):
            return BoardHealth()

    def _write_health(self, board: str, health: BoardHealth) -> None:
        path = self._file(board, ".health.json")
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        staging.write_text(json.dumps(asdict(health)), encoding="utf-8")
        os.replace(staging, path)

    def clear_quarantine(self, board: str) -> None:
        """Forget a board's failures (after a successful check)."""
        self._write_health(board, BoardHealth())

    def acquire(self, board: str, timeout_s: float, *, ignore_quarantine: bool = False) -> Lease:
        """Wait up to ``timeout_s`` for an exclusive lease on ``board``.

        Raises:
            BoardFault: BOARD_UNREACHABLE when the board stays busy or is quarantined.
        """
        self.lease_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout_s
        handle = open(self._file(board, ".lock"), "a+", encoding="utf-8")
        try:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise BoardFault(
                            ErrorCode.BOARD_UNREACHABLE,
                            f"board {board} is busy (leased by {holder}) for more than {timeout_s:g} s",
                        ) from None
                    time.sleep(_POLL_S)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}")
            handle.flush()
            health = self.health(board)
            if health.setup_required and not ignore_quarantine:
                raise BoardFault(
                    ErrorCode.BOARD_SETUP,
                    f"board {board} is stopped until it is set up ({health.last_error}); fix that, then run "
                    f"`hil boards --check --board {board}` to put it back in service",
                )
            if health.quarantined and not ignore_quarantine:
                raise BoardFault(
                    ErrorCode.BOARD_UNREACHABLE,
                    f"board {board} is quarantined after {health.consecutive_failures} consecutive failures "
                    f"(last: {health.last_error}); fix it, then run `hil boards --check` to clear it",
                )
        except BaseException:
            handle.close()  # closing drops the lock too
            raise
        self._log_event(board, "acquire")
        return Lease(self, board, handle)

    @contextlib.contextmanager
    def lease(self, board: str, timeout_s: float, *, ignore_quarantine: bool = False) -> Iterator[Lease]:
        """``acquire`` as a context manager that always releases."""
        held = self.acquire(board, timeout_s, ignore_quarantine=ignore_quarantine)
        try:
            yield held
        finally:
            held.release()
