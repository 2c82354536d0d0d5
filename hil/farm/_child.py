"""Child-process entry of an isolated build: ``python -m hil.farm._child JOB.json WORKDIR OUT``.

``python -m hil.farm._child --spare`` starts one ahead of time: it loads hil, then waits for
one line on stdin (``{"spec", "workdir", "out", "log"}``) and runs that build. A dask worker
keeps one spare ready, so a build does not wait for an interpreter to start and import hil
(a fixed cost per build, about a quarter second of CPU); EOF before the line: it exits.

Why a child process: hls4ml, the compiled C simulation and the vendor tools run here, so a
segfault or a hang cannot take the dask worker down, and the parent's timeout kills this whole
process group. The result goes to WORKDIR/result.json (JSON only).

Why a watchdog: a build runs for hours, and its dask worker can die under it (``kill -9``, OOM,
a lost host). Then nobody waits for this process any more, and it and the tools it started
would run on, holding a license and ``/tmp/hil-build-*``. The worker keeps the write end of a
pipe on this process's stdin; when the worker dies the pipe closes, a thread here sees EOF and
ends the build: it kills the process groups of the tools it started, removes WORKDIR and kills
its own group. The parent-death signal (SIGHUP, armed by the worker on Linux) does the same.
The worker's timeout sends SIGTERM instead: the tools die the same way, but WORKDIR stays for
the worker (it may keep a failed build's folder). Two signals, because when the worker dies
Linux may deliver the parent-death signal while this process still has the dying worker as
its parent (the thread that started it can exit first): the parent's pid cannot tell them apart.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

_log = logging.getLogger("hil.farm._child")

#: The workdir this child removes when its worker goes (set by ``main``).
_workdir: Path | None = None
#: The parent-death signal the worker arms (``hil.farm._build_task``); SIGTERM is its timeout.
DEATH_SIGNAL = signal.SIGHUP


def end_build(reason: str, *, worker_gone: bool) -> None:
    """Kill every tool group started here, remove the build folder (when the worker is gone), then
    kill this group. Never returns."""
    from hil._process import kill_live_groups

    try:
        groups = kill_live_groups()
        sys.stderr.write(f"hil build child {os.getpid()}: {reason}; killed tool groups {groups}\n")
        sys.stderr.flush()
        if _workdir is not None and worker_gone:  # nobody else will remove it
            shutil.rmtree(_workdir, ignore_errors=True)
    finally:
        os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(1)  # pragma: no cover - the line above ends this process


def _watch(stream: int) -> None:
    """Block on the pipe from the worker; EOF means the worker is gone."""
    while True:
        try:
            data = os.read(stream, 4096)
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
        except OSError:
            data = b""
        if not data:
            # only the worker holds the write end, for this process's whole life: EOF means it is
            # exiting (its files close before the kernel re-parents this process)
            end_build("the dask worker's pipe closed (worker gone)", worker_gone=True)


def start_watchdog(stream: int = 0) -> threading.Thread:
    """Watch ``stream`` (stdin), the parent-death signal and the timeout's SIGTERM; each ends the build."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        gone = signum == DEATH_SIGNAL
        why = "worker gone" if gone else "timeout"
        end_build(f"signal {signal.Signals(signum).name} ({why})", worker_gone=gone)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(DEATH_SIGNAL, on_signal)
    thread = threading.Thread(target=_watch, args=(stream,), name="hil-build-watchdog", daemon=True)
    thread.start()
    return thread


def _read_line(stream: int = 0) -> bytes:
    """One line from the pipe, byte by byte (the rest of the pipe stays for the watchdog)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(stream, 1)
        if not chunk:
            return b""
        data += chunk
    return data


def _spare() -> list[str] | None:
    """Wait for the build to run; its arguments, or None when the worker closed the pipe first."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        end_build(f"signal {signal.Signals(signum).name} while waiting for a build", worker_gone=False)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(DEATH_SIGNAL, on_signal)
    import hil.farm._build_task  # loaded now, while no build waits for it
    import hil.farm._job  # noqa: F401

    line = _read_line()
    if not line:
        return None
    order = json.loads(line)
    descriptor = os.open(order["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.close(descriptor)
    return [order["spec"], order["workdir"], order["out"]]


def main(argv: list[str]) -> int:
    global _workdir
    if argv == ["--spare"]:
        args = _spare()
        if args is None:
            return 0
        argv = args
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    spec, workdir, out = (Path(a) for a in argv)
    _workdir = workdir
    start_watchdog()
    from hil.farm._build_task import run_builder
    from hil.farm._job import BuildJob

    job = BuildJob.model_validate_json(spec.read_text())
    result = run_builder(job, workdir, out)
    temporary = workdir / "result.json.tmp"
    temporary.write_text(json.dumps(result, default=str))
    temporary.replace(workdir / "result.json")
    return 0


def _exit_now(status: int) -> None:
    """End without the interpreter's shutdown: this process is thrown away after one build, and
    tearing down the modules it loaded (pydantic, the builders) took 50-120 ms of every isolated
    build while its worker waited. The result is on disk and its tools' groups were waited for;
    only the log streams need flushing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":
    _exit_now(main(sys.argv[1:]))
