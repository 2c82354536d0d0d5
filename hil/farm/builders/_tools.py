"""Running vendor tools: own working folder, log file, per-job timeout, exit status checked.

Why not hls4ml's ``build()``: it changes the process-wide directory, runs ``os.system`` and
ignores the exit status, with no timeout; a farm worker would hang or record garbage. Here each
tool runs in its own session (process group) so a timeout kills it and every child it started
(vivado_hls starts vivado for vsynth).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from hil.farm.builders._base import BuildFailure
from hil.records import ErrorCode

__all__ = ["find_tool", "run_tool", "tool_version", "xilinx_release", "log_tail"]

_log = logging.getLogger(__name__)


def find_tool(name: str) -> str | None:
    """Absolute path of ``name`` on PATH, or None."""
    return shutil.which(name)


def tool_version(name: str) -> str:
    """A tool's release from its install path (``.../Vivado/2020.1/bin/vivado`` -> 2020.1).

    Why from the path: starting Vivado to ask its version takes ~20 s and a license check; Xilinx
    installs always live under a folder named by the release. ``absent`` when not on PATH.
    """
    path = find_tool(name)
    if path is None:
        return "absent"
    match = re.search(r"(\d{4}\.\d)", os.path.realpath(path))
    return match.group(1) if match else "unknown"


def xilinx_release(tools: Iterable[str]) -> str:
    """The one Xilinx release that ``tools`` come from (``2023.2``), or a description of the problem.

    Why one value: a farm declares its release (``farm.tools: {vivado: "2023.2"}``), and the HLS
    tool and Vivado of one build must come from the same install. Returns ``absent`` when none
    is on PATH, ``incomplete (vivado_hls absent, vivado 2023.2)`` when some are missing, and
    ``mixed (...)`` when they come from different releases; neither matches a declared release.
    """
    found = {name: tool_version(name) for name in tools}
    releases = set(found.values())
    if releases == {"absent"}:
        return "absent"
    if len(releases) == 1:
        return releases.pop()
    detail = ", ".join(f"{name} {version}" for name, version in found.items())
    return f"incomplete ({detail})" if "absent" in releases else f"mixed ({detail})"


def log_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ('' when absent)."""
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_tool(argv: list[str], *, cwd: Path, log: Path, deadline: float, code: ErrorCode, what: str) -> None:
    """Run a tool to completion, appending its output to ``log``.

    Args:
        argv: the command (argv[0] resolved on PATH).
        cwd: its working folder.
        log: log file (appended).
        deadline: ``time.monotonic()`` by which it must finish (the job's timeout).
        code: the ErrorCode of a non-zero exit (HLS, SYNTH).
        what: a label for messages.

    Raises:
        BuildFailure: BUILD_TIMEOUT when past the deadline (the process group is killed), ``code``
            on a non-zero exit or a missing tool; messages carry the log's last lines.
    """
    executable = find_tool(argv[0])
    if executable is None:
        raise BuildFailure(
            code, f"{what}: '{argv[0]}' not found on PATH (is the Xilinx settings script sourced?)"
        )
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise BuildFailure(ErrorCode.BUILD_TIMEOUT, f"{what}: no time left before the job's timeout")
    _log.info("running %s in %s (timeout %.0f s)", " ".join(argv), cwd, remaining)
    with open(log, "a", encoding="utf-8") as sink:
        sink.write(f"$ {' '.join(argv)}\n")
        sink.flush()
        process = subprocess.Popen(
            [executable, *argv[1:]], cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            status = process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise BuildFailure(
                ErrorCode.BUILD_TIMEOUT, f"{what}: killed after the job's timeout\n{log_tail(log, 10)}"
            ) from None
    if status != 0:
        raise BuildFailure(code, f"{what}: {argv[0]} exited with status {status}\n{log_tail(log, 15)}")
