"""Measuring over a real loopback sshd: the emulated board end to end, and every transport fault.

Each fault must end in its error code with a one-line message, within its configured timeout,
with the lease released (the next lease is immediate) and nothing left running or uploaded.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import paramiko
import pytest

from hil.board import BoardPool, MeasureConfig, check_board, check_remote_name, measure_bundle
from hil.board._fault import BoardFault
from hil.bundle import BoardBundle, BundleTiming
from hil.inventory import Board
from hil.records import ErrorCode, Provenance
from tests.board_tests._bundles import OverlaySpec, make_bundle
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
    assert "argmax agreement with the float reference 32/32 (95 % CI 0.893-1.000)" in result.message
    throughput = result.metrics["throughput_fps"]
    assert throughput.provenance is Provenance.EMULATED and throughput.source is Provenance.HLS
    basis = throughput.basis or ""
    assert "DMA round trip" in basis and "Gabriele-bot/PYNQ_IA" in basis and "UNVALIDATED" in basis
    assert "hls4ml-tutorial" not in basis  # the figure it was once fitted to is no longer its basis
    assert "clock_mhz" not in result.metrics  # the requested clock is an input, not a measurement
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


def test_real_path_over_ssh_is_labelled_standin_never_board(
    sshd: LoopbackSshd,
    overlay_bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pynq4_python: str,
) -> None:
    """The real pynq on a stand-in device: every measured number says ``standin``, and why."""
    board = make_board(**sshd.board_fields(python=pynq4_python))
    result = measure_bundle(board, overlay_bundle.path, config(batch=16, min_seconds=1.0))
    assert result.ok, result.message
    assert "on a STAND-IN device, not a board" in result.message
    for key in ("throughput_fps", "latency_ms_p50", "latency_ms_p99", "clock_mhz", "power_w"):
        metric = result.metrics[key]
        assert metric.provenance is Provenance.STANDIN and "HilStandinDevice" in (metric.basis or ""), key
    assert result.metrics["throughput_fps"].value == pytest.approx(16 / 0.04, rel=0.05)
    assert result.metrics["power_w"].value == 9.25  # p50 of the samples taken during the window
    assert result.tool_versions["board_pynq"] == "4.0.0" and result.tool_versions["board_numpy"].startswith(
        "1."
    )
    assert result.tool_versions["board_device"].endswith("HilStandinDevice")
    raw = json.loads(result.model_dump_json())
    assert all(m["provenance"] != "board" for m in raw["metrics"].values())


def test_one_wrong_output_in_the_timed_window_is_wrong_answer(
    sshd: LoopbackSshd,
    library: Path,
    make_board: Callable[..., Board],
    config: Config,
    pynq4_python: str,
    pool: BoardPool,
    tmp_path: Path,
) -> None:
    spec = OverlaySpec(0.002, corrupt_batch_transfer=2, corrupt_image=3)  # config() warms up with 1 batch
    bundle = make_bundle(tmp_path / "wrong", library, n=8, overlay=spec)
    board = make_board(**sshd.board_fields(python=pynq4_python))
    for _ in range(3):  # one flipped LSB in one image of one batch: WRONG_ANSWER every time
        result = measure_bundle(board, bundle.path, config(batch=8, min_seconds=0.2))
        assert result.error_code is ErrorCode.WRONG_ANSWER, result.message
        assert (
            "1 of" in result.message
            and "in the timed window differ from C-sim (first: batch 0, image 3)" in result.message
        )
    assert not pool.health("loop").quarantined and pool.health("loop").consecutive_failures == 0


def test_three_design_faults_leave_the_board_in_the_pool(
    sshd: LoopbackSshd,
    library: Path,
    make_board: Callable[..., Board],
    config: Config,
    pynq4_python: str,
    pool: BoardPool,
    bundle: BoardBundle,
    tmp_path: Path,
) -> None:
    """A design whose DMA never finishes is the design's fault: three in a row do not quarantine the board."""
    hang = make_bundle(tmp_path / "hang", library, n=4, overlay=OverlaySpec(0.001, hang=True))
    board = make_board(**sshd.board_fields(python=pynq4_python))
    for _ in range(3):
        result = measure_bundle(board, hang.path, config(dma_timeout_s=0.3))
        assert result.error_code is ErrorCode.DESIGN_FAULT, result.message
        assert "did not finish within 0.3 s" in result.message
    health = pool.health("loop")
    assert not health.quarantined and health.consecutive_failures == 0
    assert measure_bundle(board, bundle.path, config(emulate=True)).ok  # still leased out normally
    # a design with no positive II cannot be emulated: also a design fault, and the board is never blamed
    zero = make_bundle(tmp_path / "zero", library, n=4, timing=BundleTiming(0, 10, "estimate"))
    for _ in range(3):
        assert measure_bundle(board, zero.path, config(emulate=True)).error_code is ErrorCode.DESIGN_FAULT
    assert not pool.health("loop").quarantined


def test_an_emulated_design_that_disagrees_with_its_reference_is_reported_not_wrong_answer(
    sshd: LoopbackSshd, library: Path, make_board: Callable[..., Board], config: Config, tmp_path: Path
) -> None:
    """The emulation *is* the C-sim: its bit-exact check is vacuous, and disagreeing with the float
    reference is the design's property, reported with a Wilson interval, failing only on request."""
    from tests.board_tests._bundles import run_library

    inputs = np.random.default_rng(0).integers(0, 16, (32, 1, 8, 8)).astype(np.float32) / 16.0
    reference = np.roll(run_library(library, inputs), 1, axis=1)  # another class wins for most inputs
    wrong = make_bundle(tmp_path / "wrong", library, reference=reference)
    board = make_board(**sshd.board_fields())
    result = measure_bundle(board, wrong.path, config(emulate=True))
    assert result.error_code is ErrorCode.OK, result.message
    assert "vacuous" in result.message and "WARNING" in result.message
    low, high = result.candidate["checks"]["reference_agreement"]["wilson95"]  # type: ignore[index]
    assert 0.0 <= low < high < 0.9
    strict = measure_bundle(board, wrong.path, config(emulate=True, min_agreement=0.5))
    assert strict.error_code is ErrorCode.LOW_AGREEMENT and "--min-agreement 0.5" in strict.message


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
    overlay_bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    pynq4_python: str,
) -> None:
    board = make_board(**sshd.board_fields(python=pynq4_python))
    results = []
    worker = threading.Thread(
        target=lambda: results.append(measure_bundle(board, overlay_bundle.path, config(min_seconds=60.0)))
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
    sshd: LoopbackSshd,
    bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    pynq4_python: str,
) -> None:
    dead = make_board(**sshd.board_fields(port=free_port()))
    for _ in range(3):
        assert (
            measure_bundle(dead, bundle.path, config(emulate=True)).error_code is ErrorCode.BOARD_UNREACHABLE
        )
    assert pool.health("loop").quarantined
    blocked = measure_bundle(dead, bundle.path, config(emulate=True))
    assert "quarantined after 3 consecutive failures" in blocked.message
    alive = make_board(**sshd.board_fields(python=pynq4_python))
    row = check_board(alive, config())
    assert row["ok"] and row["agent"] == "2", row
    assert not pool.health("loop").quarantined
    assert measure_bundle(alive, bundle.path, config(emulate=True)).ok


def test_remote_names_cannot_escape_the_workdir() -> None:
    for bad in ("../x", "a/b", ".hidden", "-rf", "..", "", "x\n"):
        with pytest.raises(BoardFault):
            check_remote_name(bad)
    assert check_remote_name("design.bit") == "design.bit"
