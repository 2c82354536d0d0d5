"""Measuring over a real loopback sshd: the emulated board end to end, and every transport fault.

Each fault must end in its error code with a one-line message, within its configured timeout,
with the lease released (the next lease is immediate) and nothing left running or uploaded.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from hil.board import BoardPool, MeasureConfig, check_board, check_remote_name, measure_bundle
from hil.board._fault import BoardFault
from hil.bundle import BoardBundle
from hil.inventory import Board
from hil.records import ErrorCode, Provenance
from tests.board_tests._sshd import LoopbackSshd, free_port

Config = Callable[..., MeasureConfig]


def _released(pool: BoardPool, board: str = "loop") -> None:
    started = time.monotonic()
    pool.acquire(board, 0.5).release()
    assert time.monotonic() - started < 0.3


def _no_leftovers(board: Board) -> None:
    workdir = Path(board.workdir)
    assert not workdir.exists() or not any(workdir.iterdir()), list(workdir.iterdir())
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            assert board.workdir.encode() not in cmdline, f"process {proc.name} still runs from the workdir"


def _fault(result_code: ErrorCode, result, seconds: float, bound_s: float) -> None:  # type: ignore[no-untyped-def]
    assert result.error_code is result_code, result.message
    assert "\n" not in result.message and result.message
    assert seconds < bound_s, f"took {seconds:.2f} s, bound {bound_s} s"
    print(f"{result_code.value}: {seconds:.2f} s: {result.message}")


def test_emulated_board_over_ssh_is_bit_exact_and_labelled(
    sshd: LoopbackSshd, bundle: BoardBundle, make_board: Callable[..., Board], config: Config, pool: BoardPool
) -> None:
    board = make_board(**sshd.board_fields())
    result = measure_bundle(board, bundle.path, config(emulate=True))
    assert result.ok, result.message
    assert result.message.startswith("32/32 outputs bit-exact with C-sim")
    throughput = result.metrics["throughput_fps"]
    assert throughput.provenance is Provenance.EMULATED and throughput.source is Provenance.HLS
    assert result.metrics["ii_cycles"].provenance is Provenance.HLS
    for stage in ("lease_wait", "connect", "upload", "run", "collect", "cleanup", "agent_verify"):
        assert stage in result.stage_seconds
    _released(pool)
    _no_leftovers(board)


def test_real_board_bundle_without_bitstream_is_an_input_error(
    sshd: LoopbackSshd, bundle: BoardBundle, make_board: Callable[..., Board], config: Config
) -> None:
    from hil.errors import InputError

    with pytest.raises(InputError, match="no bitstream"):
        measure_bundle(make_board(**sshd.board_fields()), bundle.path, config())


def test_real_path_over_ssh_with_standin_pynq(
    sshd: LoopbackSshd,
    standin_bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    venv_python: str,
) -> None:
    board = make_board(**sshd.board_fields(python=venv_python))
    result = measure_bundle(board, standin_bundle.path, config(batch=16, min_seconds=1.0))
    assert result.ok, result.message
    fps = result.metrics["throughput_fps"]
    assert fps.provenance is Provenance.BOARD and fps.source is None
    assert fps.value == pytest.approx(16 / 0.01, rel=0.05)
    assert result.metrics["power_w"].value == 7.5
    assert result.tool_versions["board_numpy"].startswith("1.")


def test_connection_refused(
    bundle: BoardBundle, make_board: Callable[..., Board], config: Config, pool: BoardPool, sshd: LoopbackSshd
) -> None:
    board = make_board(**sshd.board_fields(port=free_port()))
    started = time.monotonic()
    result = measure_bundle(board, bundle.path, config(emulate=True, connect_timeout_s=3.0))
    _fault(ErrorCode.BOARD_UNREACHABLE, result, time.monotonic() - started, 3.0)
    assert "cannot connect" in result.message
    _released(pool)


def test_wrong_key(
    sshd: LoopbackSshd, bundle: BoardBundle, make_board: Callable[..., Board], config: Config, pool: BoardPool
) -> None:
    board = make_board(**sshd.board_fields(key_file=str(sshd.stranger_key)))
    started = time.monotonic()
    result = measure_bundle(board, bundle.path, config(emulate=True, connect_timeout_s=3.0))
    _fault(ErrorCode.BOARD_UNREACHABLE, result, time.monotonic() - started, 3.0)
    assert "refused our key" in result.message and "authorized_keys" in result.message
    _released(pool)


def test_changed_host_key_is_refused_with_how_to_trust(
    sshd: LoopbackSshd,
    bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    tmp_path: Path,
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line(sshd.other_host_key))
    board = make_board(**sshd.board_fields(known_hosts=str(known)))
    started = time.monotonic()
    result = measure_bundle(board, bundle.path, config(emulate=True, connect_timeout_s=3.0))
    _fault(ErrorCode.BOARD_UNREACHABLE, result, time.monotonic() - started, 3.0)
    assert (
        "CHANGED" in result.message
        and "ssh-keyscan -p" in result.message
        and "ssh-keygen -R" in result.message
    )
    _released(pool)


def test_unknown_host_key_is_refused_never_added(
    sshd: LoopbackSshd,
    bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    tmp_path: Path,
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    board = make_board(**sshd.board_fields(known_hosts=str(known)))
    result = measure_bundle(board, bundle.path, config(emulate=True))
    assert result.error_code is ErrorCode.BOARD_UNREACHABLE
    assert "unknown" in result.message and "ssh-keyscan" in result.message
    assert known.read_text() == ""  # RejectPolicy: nothing was trusted or saved


def test_agent_hanging_times_out_and_is_killed(
    sshd: LoopbackSshd,
    bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    tmp_path: Path,
) -> None:
    hang = tmp_path / "hang_agent.py"
    hang.write_text("import time\ntime.sleep(3600)\n")
    board = make_board(**sshd.board_fields())
    started = time.monotonic()
    result = measure_bundle(board, bundle.path, config(emulate=True, run_timeout_s=2.0, agent=hang))
    _fault(ErrorCode.RUN_TIMEOUT, result, time.monotonic() - started, 2.0 + 2.0)
    _released(pool)
    _no_leftovers(board)


def test_agent_killed_mid_run(
    sshd: LoopbackSshd,
    standin_bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    venv_python: str,
) -> None:
    board = make_board(**sshd.board_fields(python=venv_python))
    results = []
    worker = threading.Thread(
        target=lambda: results.append(measure_bundle(board, standin_bundle.path, config(min_seconds=60.0)))
    )
    worker.start()
    deadline = time.monotonic() + 15
    pid = None
    while pid is None and time.monotonic() < deadline:
        for pid_file in Path(board.workdir).glob("run-*/agent.pid"):
            text = pid_file.read_text().strip()
            if text and b"agent.py" in Path(f"/proc/{text}/cmdline").read_bytes():
                pid = int(text)
        time.sleep(0.05)
    assert pid is not None, "the agent never started"
    time.sleep(0.5)  # let it get into its measurement window
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    worker.join(timeout=15)
    assert not worker.is_alive()
    _fault(ErrorCode.BOARD_UNREACHABLE, results[0], time.monotonic() - killed_at, 5.0)
    assert "killed mid-run" in results[0].message
    _released(pool)
    _no_leftovers(board)


def test_corrupted_upload_is_caught_by_sha256(
    sshd: LoopbackSshd,
    bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    original = paramiko.SFTPClient.put

    def corrupting_put(self, localpath, remotepath, callback=None, confirm=True):  # type: ignore[no-untyped-def]
        if remotepath.endswith("/csim.so"):  # flip one byte in transit (same size: SFTP's size check passes)
            data = bytearray(Path(localpath).read_bytes())
            data[100] ^= 0x01
            localpath = tmp_path / "corrupted.so"
            localpath.write_bytes(bytes(data))
        return original(self, str(localpath), remotepath, callback, confirm)

    monkeypatch.setattr(paramiko.SFTPClient, "put", corrupting_put)
    board = make_board(**sshd.board_fields())
    started = time.monotonic()
    result = measure_bundle(board, bundle.path, config(emulate=True))
    _fault(ErrorCode.DEPLOY, result, time.monotonic() - started, 5.0)
    assert "sha256 mismatch for csim.so" in result.message
    _released(pool)
    _no_leftovers(board)


def test_quarantine_after_consecutive_failures_and_check_clears_it(
    sshd: LoopbackSshd, bundle: BoardBundle, make_board: Callable[..., Board], config: Config, pool: BoardPool
) -> None:
    dead = make_board(**sshd.board_fields(port=free_port()))
    for _ in range(3):
        assert (
            measure_bundle(dead, bundle.path, config(emulate=True)).error_code is ErrorCode.BOARD_UNREACHABLE
        )
    assert pool.health("loop").quarantined
    blocked = measure_bundle(dead, bundle.path, config(emulate=True))
    assert "quarantined after 3 consecutive failures" in blocked.message
    alive = make_board(**sshd.board_fields())
    row = check_board(alive, config())
    assert row["ok"] and row["agent"] == "1", row
    assert not pool.health("loop").quarantined
    assert measure_bundle(alive, bundle.path, config(emulate=True)).ok


def test_remote_names_cannot_escape_the_workdir() -> None:
    for bad in ("../x", "a/b", ".hidden", "-rf", "..", "", "x\n"):
        with pytest.raises(BoardFault):
            check_remote_name(bad)
    assert check_remote_name("design.bit") == "design.bit"
