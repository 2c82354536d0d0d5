"""measure_bundle(): lease a board, deploy a bundle, run the agent, collect one MeasureResult.

Why every failure becomes a result: a search measures hundreds of candidates overnight; a board
that is unreachable, an upload that arrives corrupted or an agent that hangs must cost one
bounded wait and one record with its error code, never the whole run. Only a caller's mistake
(a real board asked to run a bundle without a bitstream) raises, as an InputError (exit 2).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.board._base import BaseTarget, agent_file
from hil.board._fault import BoardFault
from hil.board._local import LocalTarget
from hil.board._pool import BoardPool
from hil.board._result import parse_agent_output, result_from_agent
from hil.board._ssh import SshTarget
from hil.bundle import BoardBundle, read_bundle, sha256_file
from hil.errors import BoardError, InputError
from hil.inventory import Board
from hil.records import ErrorCode, MeasureResult

__all__ = ["MeasureConfig", "check_board", "make_target", "measure_bundle"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeasureConfig:
    """How to measure on a board. Timeouts bound every wait; units are in the names.

    Attributes:
        batch: images per DMA transfer.
        min_seconds: the agent's timed window of work (real boards; emulation models timing).
        warmup: untimed batches before the window.
        repeats: single-image transfers for latency p50/p99.
        dma_timeout_s: a DMA transfer that takes longer is a design fault (the design hangs).
        emulate: run the agent in emulation; None = emulate exactly when the board has no host.
        connect_timeout_s: TCP connect, SSH handshake, authentication, each SFTP call.
        run_timeout_s: the agent's whole run; it is killed after this.
        lease_timeout_s: how long to wait for a board another process holds.
        agent: the agent script to deploy (default: the one shipped with hil).
        pool: the lease pool (default: ``BoardPool()``).
    """

    batch: int = 64
    min_seconds: float = 1.0
    warmup: int = 3
    repeats: int = 100
    dma_timeout_s: float = 5.0
    emulate: bool | None = None
    connect_timeout_s: float = 10.0
    run_timeout_s: float = 120.0
    lease_timeout_s: float = 600.0
    agent: Path | None = None
    pool: BoardPool | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.batch < 1 or self.repeats < 1 or self.warmup < 0:
            raise InputError("--batch and repeats must be >= 1, warmup >= 0")
        if self.min_seconds < 0:
            raise InputError(f"--min-seconds must be >= 0, got {self.min_seconds}")
        for name in ("connect_timeout_s", "run_timeout_s", "lease_timeout_s", "dma_timeout_s"):
            if getattr(self, name) <= 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)}")


def make_target(board: Board, config: MeasureConfig) -> BaseTarget:
    """An SSH target for a board with a host, else the local emulation target."""
    if board.host is None:
        return LocalTarget(board)
    return SshTarget(board, connect_timeout_s=config.connect_timeout_s)


def _failure(
    bundle: BoardBundle | None, board: Board, fault: BoardFault, stages: dict[str, float], candidate: Any
) -> MeasureResult:
    return MeasureResult(
        design_key=bundle.design_key if bundle is not None else "unknown",
        board=board.name,
        error_code=fault.code,
        message=str(fault),
        stage_seconds={k: round(v, 4) for k, v in stages.items()},
        candidate=candidate,
    )


def _agent_argv(
    target: BaseTarget, agent: str, bundle_dir: str, config: MeasureConfig, **sha: str
) -> list[str]:
    argv = [
        target.python,
        agent,
        "--bundle",
        bundle_dir,
        "--batch",
        str(config.batch),
        "--min-seconds",
        repr(float(config.min_seconds)),
        "--warmup",
        str(config.warmup),
        "--repeats",
        str(config.repeats),
        "--dma-timeout",
        repr(float(config.dma_timeout_s)),
        "--manifest-sha256",
        sha["manifest"],
        "--self-sha256",
        sha["agent_sha"],
        "--deadline",
        repr(float(config.run_timeout_s)),
    ]
    return argv


def _run(
    board: Board, bundle: BoardBundle, emulate: bool, config: MeasureConfig, stages: dict[str, float]
) -> dict[str, Any]:
    agent = config.agent or agent_file()
    target = make_target(board, config)
    mark = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages[name] = stages.get(name, 0.0) + now - mark
        mark = now

    try:
        target.connect()
        stage("connect")
        remote_agent, remote_bundle = target.deploy(bundle.path, agent)
        stage("upload")
        argv = _agent_argv(
            target,
            remote_agent,
            remote_bundle,
            config,
            manifest=sha256_file(bundle.path / "bundle.json"),
            agent_sha=sha256_file(agent),
        )
        if emulate:
            argv.append("--emulate")
        run = target.run(argv, config.run_timeout_s)
        stage("run")
        payload = parse_agent_output(run, board.name)
        stage("collect")
        return payload
    finally:
        mark = time.perf_counter()
        target.close()
        stage("cleanup")


def measure_bundle(
    board: Board,
    bundle_dir: str | Path,
    config: MeasureConfig | None = None,
    *,
    candidate: dict[str, Any] | None = None,
    stage_seconds: dict[str, float] | None = None,
) -> MeasureResult:
    """Measure one bundle on one board under an exclusive lease.

    Args:
        board: the inventory entry.
        bundle_dir: a bundle folder (see ``hil.bundle``).
        config: batch, window, timeouts, emulation.
        candidate: stored as is in the result (what was measured, for the records).
        stage_seconds: seconds of earlier stages (convert, build) to include in the result.

    Returns:
        One MeasureResult: OK, or the error code of what failed with a one-line message.

    Raises:
        InputError: a real (non-emulated) run of a bundle without a bitstream.
    """
    config = config or MeasureConfig()
    stages = dict(stage_seconds or {})
    emulate = board.emulated if config.emulate is None else config.emulate
    try:
        bundle = read_bundle(bundle_dir)
        bundle.verify()
    except BoardError as exc:
        return _failure(None, board, BoardFault(ErrorCode.DEPLOY, str(exc)), stages, candidate)
    if not emulate and not bundle.has_bitstream:
        raise InputError(
            f"board {board.name} is a real board and bundle {bundle.path} has no bitstream "
            "(the estimate builder makes none); build with --builder vivado, or pass --emulate"
        )
    if emulate and (bundle.timing.ii_cycles <= 0 or bundle.clock_mhz <= 0):
        # A design fault found before any board is involved: a record, not a board failure.
        fault = BoardFault(
            ErrorCode.DESIGN_FAULT,
            f"bundle {bundle.path}: timing has II {bundle.timing.ii_cycles} at {bundle.clock_mhz:g} MHz; "
            "an emulation needs a positive II and clock",
        )
        return _failure(bundle, board, fault, stages, candidate)
    pool = config.pool or BoardPool()
    waited = time.perf_counter()
    try:
        lease = pool.acquire(board.name, config.lease_timeout_s)
    except BoardFault as fault:
        stages["lease_wait"] = time.perf_counter() - waited
        return _failure(bundle, board, fault, stages, candidate)
    stages["lease_wait"] = time.perf_counter() - waited
    try:
        try:
            payload = _run(board, bundle, emulate, config, stages)
        except BoardFault as fault:
            result = _failure(bundle, board, fault, stages, candidate)
        else:
            result = result_from_agent(payload, bundle, board.name, stages, candidate)
        lease.record(result.error_code, result.message)
    finally:
        lease.release()
    _log.info(
        "measured %s on %s: %s %s",
        bundle.design_key[:12],
        board.name,
        result.error_code.value,
        result.message,
    )
    return result


def check_board(
    board: Board, config: MeasureConfig | None = None, *, bundle_dir: str | Path | None = None
) -> dict[str, Any]:
    """Connect, upload the agent, run ``agent --version``; a success clears the board's quarantine.

    With ``bundle_dir`` (a bundle with ``design.hwh``), also upload the bundle and run the agent's
    ``--probe`` on its overlay there: the board's own pynq parses the .hwh and says which DMA it
    would drive (path, largest transfer, stream widths), before any measurement is attempted.

    Returns:
        A JSON-ready row: board, target, ok, seconds, message, the agent's versions and, with a
        bundle, ``probe`` (the agent's answer).
    """
    config = config or MeasureConfig()
    pool = config.pool or BoardPool()
    started = time.perf_counter()
    row: dict[str, Any] = {"board": board.name, "target": board.host or "local (emulated)", "ok": False}
    probe: dict[str, Any] | None = None
    try:
        bundle = read_bundle(bundle_dir) if bundle_dir is not None else None
        if bundle is not None and "design.hwh" not in bundle.files:
            raise InputError(f"bundle {bundle.path} has no design.hwh to probe (an estimate build has none)")
        with pool.lease(board.name, min(config.lease_timeout_s, 30.0), ignore_quarantine=True):
            target = make_target(board, config)
            try:
                target.connect()
                remote_agent, remote_bundle = target.deploy(
                    bundle.path if bundle else None, config.agent or agent_file()
                )
                timeout = config.connect_timeout_s + 20.0
                run = target.run([target.python, remote_agent, "--version"], timeout)
                payload = parse_agent_output(run, board.name)
                if bundle is not None:
                    hwh = str(Path(remote_bundle) / "design.hwh")
                    answer = target.run(
                        [target.python, remote_agent, "--probe", hwh, "--json"], timeout + 30.0
                    )
                    probe = _probe_answer(answer, board.name)
            finally:
                target.close()
            if probe is None or probe.get("ok"):
                pool.clear_quarantine(board.name)
    except BoardFault as fault:
        row.update(message=str(fault), code=fault.code.value)
    except BoardError as exc:
        row.update(message=str(exc), code=ErrorCode.DEPLOY.value)
    else:
        row.update(
            ok=probe is None or bool(probe.get("ok")),
            message="agent answered" if probe is None else f"agent answered; probe: {probe.get('message')}",
            **{k: payload.get(k) for k in ("agent", "python", "numpy", "pynq")},
        )
        if probe is not None:
            row["probe"] = probe
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


def _probe_answer(run: Any, where: str) -> dict[str, Any]:
    """The agent's --probe JSON (a probe that found no DMA is an answer too, with ok false)."""
    import json

    lines = [line for line in run.stdout.strip().splitlines() if line.strip()]
    try:
        answer = json.loads(lines[-1]) if lines else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise BoardFault(ErrorCode.DEPLOY, f"{where}: agent --probe exited {run.status} without an answer")
    if answer.get("parser") is None and not answer.get("ok"):
        raise BoardFault(ErrorCode.DEPLOY, f"{where}: agent --probe failed: {answer.get('message')}")
    return answer
