"""Board leases: exclusive across processes, released when the holder crashes, quarantine counting."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.board import BoardFault, BoardPool
from hil.records import ErrorCode

_HOLD = """
import sys, time
from hil.board import BoardPool
lease = BoardPool(sys.argv[1]).acquire("zcu104", 5.0)
print("held", flush=True)
time.sleep(60)
"""


def _holder(lease_dir: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lease_dir)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_lease_held_by_another_process_blocks_until_it_dies(tmp_path: Path) -> None:
    pool = BoardPool(tmp_path)
    holder = _holder(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(BoardFault, match=r"busy \(leased by pid \d+") as caught:
            pool.acquire("zcu104", 0.5)
        assert caught.value.code is ErrorCode.BOARD_UNREACHABLE
        assert 0.5 <= time.monotonic() - started < 1.5
        holder.kill()  # a crash: no clean release
        holder.wait(timeout=10)
        started = time.monotonic()
        pool.acquire("zcu104", 5.0).release()
        assert time.monotonic() - started < 0.5
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_other_boards_stay_free(tmp_path: Path) -> None:
    pool = BoardPool(tmp_path)
    with pool.lease("zcu104", 1.0):
        with pool.lease("kv260", 0.2):
            pass


def test_quarantine_counts_consecutive_board_faults_only(tmp_path: Path) -> None:
    pool = BoardPool(tmp_path, quarantine_after=2)
    with pool.lease("b", 1.0) as lease:
        lease.record(ErrorCode.RUN_TIMEOUT, "hung")
    with pool.lease("b", 1.0) as lease:
        lease.record(ErrorCode.WRONG_ANSWER, "design fault: the board worked")  # resets
    for _ in range(3):
        with pool.lease("b", 1.0) as lease:
            assert not lease.record(ErrorCode.DESIGN_FAULT, "the DMA never finished").quarantined
    with pool.lease("b", 1.0) as lease:
        lease.record(ErrorCode.DEPLOY, "upload failed")
    with pool.lease("b", 1.0) as lease:
        health = lease.record(ErrorCode.BOARD_UNREACHABLE, "gone")
    assert health.quarantined and health.consecutive_failures == 2
    with pytest.raises(BoardFault, match="quarantined after 2 consecutive failures"):
        pool.acquire("b", 1.0)
    with pool.lease("b", 1.0, ignore_quarantine=True):
        pool.clear_quarantine("b")
    pool.acquire("b", 1.0).release()
