"""Running vendor tools: own working folder, log file, per-job timeout, exit status checked.

Why not hls4ml's ``build()``: it changes the process-wide directory, runs ``os.system`` and
ignores the exit status, with no timeout; a farm worker would hang or record garbage. Here each
tool runs in its own session (process group, ``hil._process``) so a timeout kills it and
every child it started (vivado_hls starts vivado for vsynth), and it dies with the build child.

Why the log is read on failure: a tool that exits non-zero because the license server refused
a checkout, or because the disk filled up, says nothing about the design. Those are the farm's
faults (``FarmFault``): the job is re-queued with the reason instead of recorded as failed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from hil._process import start_group, wait_or_kill
from hil.farm.builders._base import BuildFailure, FarmFault
from hil.records import ErrorCode

__all__ = ["find_tool", "run_tool", "tool_version", "xilinx_release", "log_tail", "farm_fault_in"]

_log = logging.getLogger(__name__)

#: Lines of a failed tool's log that blame the host, not the design: (reason, pattern).
_FARM_FAULTS = (
    ("license", re.compile(r"\[Common 17-34[589]\]|A valid license was not found|"
                           r"License checkout failed|FLEXnet Licensing error|FlexNet Licensing error", re.I)),
    ("disk", re.compile(r"No space left on device|\bENOSPC\b|Disk quota exceeded", re.I)),
)  # fmt: skip
#: How much of a failed tool's log is scanned (the end says why it stopped).
_SCAN_BYTES = 256 * 1024


def farm_fault_in(log: Path) -> tuple[str, str] | None:
    """(reason, the matching line) when the end of ``log`` shows a license or disk failure; else None."""
    if not log.is_file():
        return None
    with open(log, "rb") as handle:
        handle.seek(max(0, log.stat().st_size - _SCAN_BYTES))
        text = handle.read().decode("utf-8", errors="replace")
    for line in reversed(text.splitlines()):
        for reason, pattern in _FARM_FAULTS:
            if pattern.search(line):
                return reason, line.strip()
    return None


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
        FarmFault: a non-zero exit whose log shows a license checkout failure or a full disk
            (the farm re-queues the job).
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
        process = start_group([executable, *argv[1:]], cwd=cwd, stdin=subprocess.DEVNULL, stdout=sink,
                              stderr=subprocess.STDOUT)  # fmt: skip
        status = wait_or_kill(process, remaining)
    if status is None:
        raise BuildFailure(
            ErrorCode.BUILD_TIMEOUT, f"{what}: killed after the job's timeout\n{log_tail(log, 10)}"
        )
    if status != 0:
        fault = farm_fault_in(log)
        if fault is not None:
            reason, line = fault
            raise FarmFault(reason, f"{what}: {argv[0]} failed on this host ({reason}): {line}", code)
        raise BuildFailure(code, f"{what}: {argv[0]} exited with status {status}\n{log_tail(log, 15)}")
