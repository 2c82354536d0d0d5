"""LocalTarget: an emulated board without a host runs the same agent here, as a subprocess.

Why a subprocess and not an import: the agent must behave the same as on a board (its own
process, its own sha256 checks, one JSON object on stdout, killable on timeout), and a C-sim
library that crashes must not take the caller down with it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from hil._process import kill_group, start_group
from hil.board._base import AgentRun, BaseTarget
from hil.board._fault import BoardFault
from hil.inventory import Board
from hil.records import ErrorCode

__all__ = ["LocalTarget"]

_log = logging.getLogger(__name__)
_TAIL = 8192


class LocalTarget(BaseTarget):
    """Runs the agent in place on this host with this interpreter (nothing to upload or remove)."""

    def __init__(self, board: Board, *, python: str | None = None) -> None:
        self.board = board
        self.python = python or sys.executable

    def connect(self) -> None:
        return None

    def deploy(self, bundle_dir: Path | None, agent: Path) -> tuple[str, str]:
        return str(agent), str(bundle_dir) if bundle_dir is not None else ""

    def run(self, argv: list[str], timeout_s: float) -> AgentRun:
        started = time.perf_counter()
        try:
            process = start_group(  # its own group: a timeout kills everything it started
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise BoardFault(ErrorCode.DEPLOY, f"{self.board.name}: cannot start the agent: {exc}") from None
        try:
            out, err = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_group(process)
            process.communicate()
            raise BoardFault(
                ErrorCode.RUN_TIMEOUT,
                f"{self.board.name}: agent did not finish within {timeout_s:g} s; killed it",
            ) from None
        kill_group(process)  # what the agent left running goes with it (and the group is forgotten)
        status = process.returncode
        return AgentRun(
            status=None if status < 0 else status,
            stdout=out.decode("utf-8", "replace"),
            stderr=err[-_TAIL:].decode("utf-8", "replace"),
            seconds=time.perf_counter() - started,
        )

    def close(self) -> None:
        return None
