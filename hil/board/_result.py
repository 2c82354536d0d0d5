"""Turning what the agent printed into one MeasureResult (or a BoardFault).

Why here and not in the agent: the agent has no hil import, so the provenance rules live on the
host, and only here is ``Provenance.BOARD`` ever set:

* ``board``: the agent ran its real path with the real ``pynq`` on one of pynq's own devices;
* ``standin``: the real path on a stand-in (the stand-in ``pynq`` package, or a stand-in device
  under the real pynq): the outputs were checked, the timing is whatever the stand-in was told;
* ``emulated``: the C simulation's outputs with timing modelled here (``hil.board._transfer``)
  from the bundle's II and latency, naming that timing's provenance (``source``) and the model
  and its constants (``basis``), so the reward never ranks it above its source.

A run is WRONG_ANSWER when any checked output differs from the C simulation (the check inputs,
every image of every timed batch, every single-image latency run) or when the outputs agree with
the reference model less than the bundle requires.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from hil.board._base import AgentRun
from hil.board._fault import BoardFault
from hil.board._transfer import emulated_timing
from hil.bundle import BoardBundle
from hil.records import ErrorCode, MeasureResult, Metric, Provenance, tool_versions

__all__ = ["parse_agent_output", "result_from_agent", "run_provenance"]

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


def run_provenance(payload: Mapping[str, Any]) -> Provenance:
    """``board`` only for the real pynq on a real device; ``standin`` for any stand-in."""
    if payload.get("emulated"):
        return Provenance.EMULATED
    versions = payload.get("versions") or {}
    device = payload.get("device") or {}
    if versions.get("pynq_standin") or device.get("standin") is not False:
        return Provenance.STANDIN
    return Provenance.BOARD


def _emulated_metrics(
    payload: Mapping[str, Any], bundle: BoardBundle, board: str, batch: int
) -> dict[str, Metric]:
    source = Provenance(str(payload.get("timing_provenance") or bundle.timing.provenance))
    values_in = 1
    for dim in bundle.input_shape[1:]:
        values_in *= int(dim)
    timing = emulated_timing(
        ii_cycles=float(bundle.timing.ii_cycles),
        latency_cycles=float(bundle.timing.latency_cycles),
        clock_mhz=bundle.clock_mhz,
        values_in=values_in,
        values_out=int(bundle.output_shape[-1]),
        batch=batch,
        board=board,
        timing_provenance=source.value,
    )

    def label(value: float) -> Metric:
        return Metric(value=value, provenance=Provenance.EMULATED, source=source, basis=timing.basis)

    return {
        "throughput_fps": label(timing.throughput_fps),
        "latency_ms_p50": label(timing.image_seconds * 1e3),
        "latency_ms_p99": label(timing.image_seconds * 1e3),
    }


def _measured_metrics(payload: Mapping[str, Any], provenance: Provenance) -> dict[str, Metric]:
    basis = None
    if provenance is Provenance.STANDIN:
        device = (payload.get("device") or {}).get("class") or "the stand-in pynq package"
        basis = f"stand-in device {device}: its timing and power are what the test told it"
    latency = payload.get("latency_ms") or {}
    power = payload.get("power_w")
    if isinstance(power, Mapping):
        power = power.get("p50")
    metrics: dict[str, Metric] = {}
    for key, value in (
        ("throughput_fps", payload.get("throughput_fps")),
        ("latency_ms_p50", latency.get("image_p50")),
        ("latency_ms_p99", latency.get("image_p99")),
        ("clock_mhz", payload.get("clock_mhz")),
        ("power_w", power),
    ):
        if value is not None:
            metrics[key] = Metric(value=float(value), provenance=provenance, basis=basis)
    return metrics


def _verdict(payload: Mapping[str, Any], bundle: BoardBundle) -> tuple[bool, str]:
    """(outputs right?, what was checked) from every comparison the agent made."""
    checked, exact = int(payload.get("n_checked", 0)), int(payload.get("n_bit_exact", 0))
    problems: list[str] = []
    notes = [f"{exact}/{checked} outputs bit-exact with C-sim"]
    if not checked or exact != checked:
        problems.append(
            f"{checked - exact} of {checked} check outputs differ from C-sim "
            f"(max |err| {float(payload.get('max_abs_error', 0.0)):.3g})"
        )
    window = payload.get("window_check") or {}
    if window:
        notes.append(f"{window.get('images', 0)} timed-window outputs checked")
        if window.get("wrong"):
            first = window.get("first_wrong") or {}
            problems.append(
                f"{window['wrong']} of {window.get('images')} outputs in the timed window differ from C-sim "
                f"(first: batch {first.get('batch')}, image {first.get('image')})"
            )
    single = payload.get("latency_check") or {}
    if single.get("wrong"):
        problems.append(f"{single['wrong']} of {single.get('images')} single-image outputs differ from C-sim")
    reference = payload.get("reference")
    if isinstance(reference, Mapping):
        agreement = reference.get("argmax_agreement")
        wanted = bundle.min_argmax_agreement
        if agreement is not None:
            notes.append(f"argmax agreement with the reference model {agreement:.3f}")
        if agreement is not None and wanted is not None and agreement < wanted:
            problems.append(
                f"fixed-point outputs agree with the reference model on {agreement:.1%} of argmaxes "
                f"(< {wanted:.0%}; max |err| {float(reference.get('max_abs_error', 0.0)):.3g})"
            )
    return not problems, "; ".join(problems or notes)


def result_from_agent(
    payload: Mapping[str, Any],
    bundle: BoardBundle,
    board: str,
    stage_seconds: Mapping[str, float],
    candidate: dict[str, Any] | None = None,
) -> MeasureResult:
    """One MeasureResult from a successful agent run; WRONG_ANSWER when any check failed."""
    provenance = run_provenance(payload)
    batch = int(payload.get("batch") or payload.get("batch_requested") or 1)
    if provenance is Provenance.EMULATED:
        metrics = _emulated_metrics(payload, bundle, board, batch)
        how = f"emulated from {metrics['throughput_fps'].source.value} timing"  # type: ignore[union-attr]
    else:
        metrics = _measured_metrics(payload, provenance)
        how = (
            "measured on the board" if provenance is Provenance.BOARD else "on a STAND-IN device, not a board"
        )
    design = Provenance(bundle.timing.provenance)
    metrics["ii_cycles"] = Metric(value=float(bundle.timing.ii_cycles), provenance=design)
    metrics["latency_cycles"] = Metric(value=float(bundle.timing.latency_cycles), provenance=design)

    right, what = _verdict(payload, bundle)
    fps = metrics["throughput_fps"].value if "throughput_fps" in metrics else 0.0
    code = ErrorCode.OK if right else ErrorCode.WRONG_ANSWER
    message = f"{what}; {fps or 0.0:,.0f} images/s ({how})"
    stages = {k: round(float(v), 4) for k, v in stage_seconds.items()}
    for key, value in (payload.get("stage_seconds") or {}).items():
        stages[f"agent_{key}"] = round(float(value), 4)
    versions = dict(tool_versions())
    for key, value in (payload.get("versions") or {}).items():
        if value is not None:
            versions[f"board_{key}"] = str(value)
    device = payload.get("device") or {}
    if device.get("class"):
        versions["board_device"] = str(device["class"])
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
