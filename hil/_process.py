"""Starting, timing out and killing a tool or a build child: one helper for every place that does it.

Why one helper: a vendor tool starts its own children (``vitis-run`` starts ``vivado``), and a
build on a farm runs for hours. A timeout, a dead dask worker or a dead build child must take
the *whole* tree down, or a license stays checked out and a build folder stays on disk. So every
process hil starts for a build:

- runs in its own session (process group), so one ``killpg`` reaches everything it started;
- asks Linux for a parent-death signal (``prctl(PR_SET_PDEATHSIG)``), so it is told when the
  process that started it dies, even by ``kill -9`` (a no-op elsewhere);
- is remembered while it runs (``live_groups``), so a dying build child can kill the groups of
  the tools it started before it goes (the tools' own sessions are not its group).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "start_group",
    "wait_or_kill",
    "kill_group",
    "kill_live_groups",
    "live_groups",
    "set_parent_death_signal",
    "PARENT_DEATH_SUPPORTED",
]

_log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
PARENT_DEATH_SUPPORTED = sys.platform.startswith("linux")

_lock = threading.RLock()  # re-entrant: a signal handler may kill groups while this thread holds it
_groups: set[int] = set()


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies; False where unsupported.

    Linux sends it when the *thread* that forked this process exits; hil's callers fork from a
    thread that waits for the child, so the two end together.
    """
    if not PARENT_DEATH_SUPPORTED:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _in_child(parent: int, sig: int | None) -> Callable[[], None]:
    def prepare() -> None:  # runs between fork and exec: no locks, no logging
        if sig is not None and set_parent_death_signal(sig) and os.getppid() != parent:
            os._exit(1)  # the parent died before the signal was armed

    return prepare


def start_group(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    stdin: int | IO[Any] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    env: Mapping[str, str] | None = None,
    death_signal: int | None = signal.SIGKILL,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` as the leader of a new process group; remembered until ``wait_or_kill``/``kill_group``.

    Args:
        death_signal: what the process gets when this process (its parent) dies; None for none.
    """
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=None if env is None else dict(env),
        start_new_session=True,
        preexec_fn=_in_child(os.getpid(), death_signal),
    )
    with _lock:
        _groups.add(process.pid)
    return process


def kill_group(process: subprocess.Popen[bytes] | int) -> None:
    """SIGKILL the process group led by ``process`` (and reap it when it is our child)."""
    pid = process if isinstance(process, int) else process.pid
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if not isinstance(process, int):
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    with _lock:
        _groups.discard(pid)


def wait_or_kill(
    process: subprocess.Popen[bytes], timeout_s: float | None, *, grace_s: float = 0.0
) -> int | None:
    """The exit status, or None when ``timeout_s`` passed first (then the whole group is killed).

    Args:
        grace_s: on timeout, SIGTERM the group first and wait this long before SIGKILL (a build
            child then kills the groups of the tools it started, and removes its folder).

    The group is killed after a normal exit too: a tool that exits and leaves a child running
    (a daemon it started) must not outlive its build.
    """
    try:
        status = process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        if grace_s > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace_s)
        kill_group(process)
        return None
    kill_group(process)
    return status


def live_groups() -> list[int]:
    """Process groups started here and not yet waited for."""
    with _lock:
        return sorted(_groups)


def kill_live_groups() -> list[int]:
    """SIGKILL every group started here that still runs; returns their ids (a dying child's last act)."""
    groups = live_groups()
    for pgid in groups:
        kill_group(pgid)
    return groups
