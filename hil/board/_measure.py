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
from hil.board._result import check_bundle_claims, parse_agent_output, result_from_agent
from hil.board._ssh import SshTarget
from hil.bundle import BoardBundle, read_bundle, sha256_file
from hil.errors import BoardError, InputError
from hil.inventory import Board
from hil.records import ErrorCode, MeasureResult

__all__ = [
    "MeasureConfig",
    "check_board",
    "check_emulation_arch",
    "make_target",
    "measure_bundle",
]

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
    #: Fail (LOW_AGREEMENT) when the upper bound of the Wilson 95 % interval of the agreement with
    #: the float reference is below this; None only reports (and warns below 0.9).
    min_agreement: float | None = None

    def __post_init__(self) -> None:
        if self.batch < 1 or self.repeats < 1 or self.warmup < 0:
            raise InputError("--batch and repeats must be >= 1, warmup >= 0")
        if self.min_seconds < 0:
            raise InputError(f"--min-seconds must be >= 0, got {self.min_seconds}")
        for name in ("connect_timeout_s", "run_timeout_s", "lease_timeout_s", "dma_timeout_s"):
            if getattr(self, name) <= 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.min_agreement is not None and not 0.0 < self.min_agreement <= 1.0:
            raise InputError(f"--min-agreement must be in (0, 1], got {self.min_agreement}")


def check_emulation_arch(board: Board, target: BaseTarget) -> None:
    """Refuse (one line) an emulation on a target whose CPU cannot load this host's C-sim library.

    Why: ``--emulate`` runs the bundle's C simulation, compiled here, on the target; uploading an
    x86-64 library to a board's ARM CPU could only fail there, after the upload. The target is
    asked (``uname -m``), so a loopback "board" on this very host may emulate.
    """
    import platform

    here, there = platform.machine(), target.machine()
    if here != there:
        raise InputError(
            f"--emulate on board {board.name} ({board.host}) would run a C-sim library built for {here} "
            f"on its {there} CPU; measure it for real (--builder vivado) or emulate a board without a host"
        )


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
        *target.agent_prefix(),
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
    xrt = getattr(target, "xrt", None)
    if xrt:
        argv += ["--xrt", xrt]
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
        if emulate:
            check_emulation_arch(board, target)
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
        payload = parse_agent_output(run, board.name, emulated=emulate)
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
        check_bundle_claims(bundle)
    except BoardFault as refused:
        return _failure(None, board, refused, stages, candidate)
    except BoardError as exc:
        return _failure(None, board, BoardFault(ErrorCode.DEPLOY, str(exc)), stages, candidate)
    if not emulate and not bundle.has_bitstream:
        raise InputError(
            f"board {board.name} is a real board and bundle {bundle.path} has no bitstream "
            "(the estimate builder makes none); build with --builder vivado, or pass --emulate"
        )
    if emulate and (bundle.timing.ii_cycles <= 0 or bundle.clock_mhz <= 0):
        # A design fault found before any board is involved: a record, not a board failure.
        bad_timing = BoardFault(
            ErrorCode.DESIGN_FAULT,
            f"bundle {bundle.path}: timing has II {bundle.timing.ii_cycles} at {bundle.clock_mhz:g} MHz; "
            "an emulation needs a positive II and clock",
        )
        return _failure(bundle, board, bad_timing, stages, candidate)
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
            result = result_from_agent(
                payload, bundle, board.name, stages, candidate, min_agreement=config.min_agreement
            )
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


#: Free space the agent needs in its workdir: a bundle (bitstream up to ~20 MB, C-sim library,
#: test data) with room to spare.
MIN_FREE_BYTES = 256 << 20


def sudoers_line(board: Board) -> str:
    """The one sudoers rule that lets the agent's command run as root without a password."""
    workdir = board.workdir.rstrip("/")
    return f"{board.user} ALL=(root) NOPASSWD: {board.python} {workdir}/run-*/agent.py *"


def _same_board(reported: str, board: Board) -> bool:
    wanted = board.pynq_board or board.name

    def norm(text: str) -> str:
        return text.lower().replace("-", "").replace("_", "")

    return norm(reported) == norm(wanted)


def _same_release(reported: str, wanted: str) -> bool:
    """``3.1.2`` is a 3.1; ``3.1`` is not a 3.0 (PYNQ's __version__ reads like 3.1 or 3.0.1)."""
    have, want = reported.split("."), wanted.split(".")
    return have[: len(want)] == want


def setup_problems(board: Board, facts: dict[str, Any]) -> list[str]:
    """One line per missing prerequisite, each naming its fix (empty: the board is set up)."""
    problems: list[str] = []
    emulated = board.host is None
    free = facts.get("disk_free_bytes")
    if isinstance(free, int) and free < MIN_FREE_BYTES:
        problems.append(
            f"only {free >> 20} MB free in {board.workdir} (the agent needs {MIN_FREE_BYTES >> 20} MB): "
            "free space on the board or point workdir: elsewhere"
        )
    if emulated:
        return problems  # an emulation needs the agent and numpy, nothing of PYNQ's
    if facts.get("euid") != 0:
        who = facts.get("user") or f"uid {facts.get('euid')}"
        problems.append(
            f"the agent runs as {who}, and PYNQ needs root for overlays, MMIO and DMA: set run_as: sudo "
            f"for {board.name} (with the sudoers rule `{sudoers_line(board)}`) or log in as root (user: root)"
        )
    if facts.get("pynq") is None:
        python = facts.get("python") or board.python
        why = facts.get("pynq_error") or "not installed"
        problems.append(
            f"{python} cannot import pynq ({why}): set python: to the PYNQ image's venv "
            "(/usr/local/share/pynq-venv/bin/python3)"
        )
        return problems
    if board.pynq is not None and not _same_release(str(facts["pynq"]), board.pynq):
        problems.append(
            f"the board runs pynq {facts['pynq']}, the inventory says {board.pynq}: "
            f"fix pynq: for {board.name}"
        )
    device = facts.get("device") or {}
    if device.get("error"):
        problems.append(
            f"pynq finds no device ({device['error']}) with XILINX_XRT={facts.get('xilinx_xrt')}: "
            f"set xrt: /usr for {board.name} (what PYNQ's /etc/profile.d/xrt_setup.sh sets)"
        )
    name = facts.get("board_name")
    if name and not _same_board(str(name), board):
        problems.append(
            f"PYNQ reports board {name!r}, the inventory entry is {board.name}: point host: at the right "
            "board, or set pynq_board: if the names differ"
        )
    return problems


def check_board(
    board: Board, config: MeasureConfig | None = None, *, bundle_dir: str | Path | None = None
) -> dict[str, Any]:
    """Check a board's set-up the way a measurement will run on it; a pass puts it back in service.

    Connects (SSH for a board with a host, locally for an emulated one), uploads the agent, runs
    ``agent --version`` as the login user (is the interpreter there?) and ``agent --setup`` the
    way a measurement runs it (``sudo -n`` when run_as is sudo): root, pynq and its version, a
    device (XRT), the board name PYNQ reports, free disk. Each problem is one line naming its fix;
    any problem stops the board (BOARD_SETUP) until a check passes. With ``bundle_dir`` (a bundle
    with ``design.hwh``), also runs the agent's ``--probe`` there: the board's own pynq says which
    DMA it would drive.

    Returns:
        A JSON-ready row: board, target, ok, problems, seconds, message, the agent's versions and
        set-up facts and, with a bundle, ``probe``.
    """
    config = config or MeasureConfig()
    pool = config.pool or BoardPool()
    started = time.perf_counter()
    row: dict[str, Any] = {"board": board.name, "target": board.host or "local (emulated)", "ok": False}
    probe: dict[str, Any] | None = None
    problems: list[str] = []
    try:
        bundle = read_bundle(bundle_dir) if bundle_dir is not None else None
        if bundle is not None and "design.hwh" not in bundle.files:
            raise InputError(f"bundle {bundle.path} has no design.hwh to probe (an estimate build has none)")
        with pool.lease(board.name, min(config.lease_timeout_s, 30.0), ignore_quarantine=True) as lease:
            target = make_target(board, config)
            try:
                target.connect()
                remote_agent, remote_bundle = target.deploy(
                    bundle.path if bundle else None, config.agent or agent_file()
                )
                timeout = config.connect_timeout_s + 20.0
                run = target.run([target.python, remote_agent, "--version"], timeout)
                try:
                    payload = parse_agent_output(run, board.name)
                except BoardFault as fault:
                    if fault.code is not ErrorCode.BOARD_SETUP:
                        raise
                    lease.record(fault.code, str(fault))
                    raise
                setup_argv = [*target.agent_prefix(), target.python, remote_agent, "--setup"]
                if target.xrt:
                    setup_argv += ["--xrt", target.xrt]
                try:
                    facts = parse_agent_output(target.run(setup_argv, timeout), board.name)
                except BoardFault as fault:
                    if fault.code is not ErrorCode.BOARD_SETUP:
                        raise
                    hint = (
                        f"; allow it with the sudoers rule `{sudoers_line(board)}` (visudo -f "
                        "/etc/sudoers.d/hil-agent), or log in as root (user: root)"
                        if "sudo" in str(fault)
                        else ""
                    )
                    problems.append(f"{fault}{hint}")
                    facts = {}
                else:
                    problems += setup_problems(board, facts)
                    row["setup"] = {k: v for k, v in facts.items() if k != "ok"}
                if bundle is not None and not problems:
                    hwh = str(Path(remote_bundle) / "design.hwh")
                    answer = target.run(
                        [*target.agent_prefix(), target.python, remote_agent, "--probe", hwh, "--json"],
                        timeout + 30.0,
                    )
                    probe = _probe_answer(answer, board.name)
            finally:
                target.close()
            if problems:
                lease.record(ErrorCode.BOARD_SETUP, problems[0])
            elif probe is None or probe.get("ok"):
                pool.clear_quarantine(board.name)
    except BoardFault as fault:
        row.update(message=str(fault), code=fault.code.value)
        if fault.code is ErrorCode.BOARD_SETUP:
            row["problems"] = [str(fault)]
    except BoardError as exc:
        row.update(message=str(exc), code=ErrorCode.DEPLOY.value)
    else:
        if problems:
            row.update(problems=problems, message=problems[0], code=ErrorCode.BOARD_SETUP.value)
        else:
            row.update(
                ok=probe is None or bool(probe.get("ok")),
                message="set up; agent answered"
                if probe is None
                else f"set up; probe: {probe.get('message')}",
            )
        row.update({k: payload.get(k) for k in ("agent", "python", "numpy", "pynq")})
        if probe is not None:
            row["probe"] = probe
    row.setdefault("problems", [] if row["ok"] else [row.get("message", "")])
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
