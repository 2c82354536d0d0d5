"""Turning what the agent printed into one MeasureResult (or a BoardFault).

Why here and not in the agent: the agent has no hil import, so the provenance rules live on the
host: a board figure is ``board``; an emulated one is ``emulated`` and names the provenance of
the timing it was derived from (``source``), so the reward never ranks it above that source.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from hil.board._base import AgentRun
from hil.board._fault import BoardFault
from hil.bundle import BoardBundle
from hil.records import ErrorCode, MeasureResult, Metric, Provenance, tool_versions

__all__ = ["parse_agent_output", "result_from_agent"]

_log = logging.getLogger(__name__)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def parse_agent_output(run: AgentRun, where: str) -> dict[str, Any]:
    """The agent's JSON object; raises BoardFault when it was killed, crashed or reported an error."""
    if run.status is None:
        raise BoardFault(
            ErrorCode.BOARD_UNREACHABLE,
            f"{where}: agent was killed mid-run after {run.seconds:.1f} s "
            f"(stderr: {_last_line(run.stderr) or 'empty'})",
        )
    try:
        payload = json.loads(_last_line(run.stdout))
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise BoardFault(
            ErrorCode.DEPLOY,
            f"{where}: agent exited {run.status} without a result "
            f"(stderr: {_last_line(run.stderr) or 'empty'})",
        )
    if not payload.get("ok"):
        try:
            code = ErrorCode(str(payload.get("error")))
        except ValueError:
            code = ErrorCode.DEPLOY
        raise BoardFault(code, f"{where}: {payload.get('message') or 'agent failed'}")
    return payload


def result_from_agent(
    payload: Mapping[str, Any],
    bundle: BoardBundle,
    board: str,
    stage_seconds: Mapping[str, float],
    candidate: dict[str, Any] | None = None,
) -> MeasureResult:
    """One MeasureResult from a successful agent run; WRONG_ANSWER when any output differs."""
    emulated = bool(payload.get("emulated"))
    if emulated:
        source = Provenance(str(payload.get("timing_provenance") or bundle.timing.provenance))

        def label(value: float) -> Metric:
            return Metric(value=value, provenance=Provenance.EMULATED, source=source)

    else:

        def label(value: float) -> Metric:
            return Metric(value=value, provenance=Provenance.BOARD)

    metrics: dict[str, Metric] = {}
    latency = payload.get("latency_ms") or {}
    for key, value in (
        ("throughput_fps", payload.get("throughput_fps")),
        ("latency_ms_p50", latency.get("image_p50")),
        ("latency_ms_p99", latency.get("image_p99")),
        ("clock_mhz", payload.get("clock_mhz")),
        ("power_w", payload.get("power_w")),
    ):
        if value is not None:
            metrics[key] = label(float(value))
    design = Provenance(bundle.timing.provenance)
    metrics["ii_cycles"] = Metric(value=float(bundle.timing.ii_cycles), provenance=design)
    metrics["latency_cycles"] = Metric(value=float(bundle.timing.latency_cycles), provenance=design)

    checked, exact = int(payload.get("n_checked", 0)), int(payload.get("n_bit_exact", 0))
    how = f"emulated from {source.value} timing" if emulated else "measured on the board"
    fps = float(payload.get("throughput_fps") or 0.0)
    if checked and exact == checked:
        code = ErrorCode.OK
        message = f"{exact}/{checked} outputs bit-exact with C-sim; {fps:,.0f} images/s ({how})"
    else:
        code = ErrorCode.WRONG_ANSWER
        message = (
            f"{checked - exact} of {checked} outputs differ from C-sim "
            f"(max |err| {float(payload.get('max_abs_error', 0.0)):.3g}); {fps:,.0f} images/s ({how})"
        )
    stages = {k: round(float(v), 4) for k, v in stage_seconds.items()}
    for key, value in (payload.get("stage_seconds") or {}).items():
        stages[f"agent_{key}"] = round(float(value), 4)
    versions = dict(tool_versions())
    for key, value in (payload.get("versions") or {}).items():
        if value is not None:
            versions[f"board_{key}"] = str(value)
    return MeasureResult(
        design_key=bundle.design_key,
        board=board,
        metrics=metrics,
        error_code=code,
        message=message,
        stage_seconds=stages,
        tool_versions=versions,
        candidate=candidate,
    )
