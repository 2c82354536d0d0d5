"""Turning what the agent printed into one MeasureResult (or a BoardFault).

Why here and not in the agent: the agent has no hil import, so the provenance rules live on the
host, and only here is ``Provenance.BOARD`` ever set, and only when the agent's own report and
the bundle agree (``run_provenance``):

* ``board``: the agent ran its real path with the real ``pynq`` on one of pynq's own devices and
  says so itself: the pynq version, the board name PYNQ reports and the sha256 of the bitstream
  it loaded, which must be the bundle's ``design.bit`` (unsigned: this defeats an edited bundle or
  a mixed-up file, not a hostile board);
* ``standin``: the real path on a stand-in device under the real pynq, an agent that does not
  say which device it ran on, or a bundle built with stand-in tools: outputs checked, timing
  whatever the stand-in was told;
* ``emulated``: the C simulation's outputs with timing modelled here (``hil.board._transfer``)
  from the bundle's II and latency, naming that timing's provenance (``source``) and the model
  and its constants (``basis``), so the reward never ranks it above its source.

Verdicts: WRONG_ANSWER means one thing: an output of the board differs from the bit-exact C
simulation of the same design (the check inputs, every image of every timed batch, every
single-image latency run). Agreement with the float reference is a property of the design, not
of the board: it is reported with its N and a Wilson 95 % interval, warned about when the
interval's upper bound is below 0.9, and fails (LOW_AGREEMENT) only when asked for with
``min_agreement`` and the upper bound is below it. In emulation the outputs *are* the C
simulation's, so the bit-exact check is vacuous, and the result says so.
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

__all__ = [
    "BUILD_TIMING_PROVENANCE",
    "check_bundle_claims",
    "parse_agent_output",
    "power_note",
    "result_from_agent",
    "run_provenance",
    "wilson_interval",
]

_log = logging.getLogger(__name__)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def parse_agent_output(run: AgentRun, where: str, *, emulated: bool = False) -> dict[str, Any]:
    """The agent's JSON object; raises BoardFault when it was killed, crashed or reported an error.

    A run that never reached the agent is classified by what stopped it: ``sudo`` asking for a
    password or a missing interpreter is the board's set-up (BOARD_SETUP, with the fix); an
    emulated run killed by a signal is its C simulation crashing (DESIGN_FAULT).
    """
    stderr_tail = _last_line(run.stderr)
    if run.status is None:
        if emulated:
            raise BoardFault(
                ErrorCode.DESIGN_FAULT,
                f"{where}: the design's C simulation crashed the agent after {run.seconds:.1f} s "
                f"(stderr: {stderr_tail or 'empty'})",
            )
        raise BoardFault(
            ErrorCode.BOARD_UNREACHABLE,
            f"{where}: agent was killed mid-run after {run.seconds:.1f} s (stderr: {stderr_tail or 'empty'})",
        )
    try:
        payload = json.loads(_last_line(run.stdout))
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        setup = _setup_failure(run)
        if setup is not None:
            raise BoardFault(ErrorCode.BOARD_SETUP, f"{where}: {setup}")
        raise BoardFault(
            ErrorCode.DEPLOY,
            f"{where}: agent exited {run.status} without a result (stderr: {stderr_tail or 'empty'})",
        )
    if not payload.get("ok"):
        try:
            code = ErrorCode(str(payload.get("error")))
        except ValueError:
            code = ErrorCode.DEPLOY
        raise BoardFault(code, f"{where}: {payload.get('message') or 'agent failed'}")
    return payload


def _setup_failure(run: AgentRun) -> str | None:
    """What kept the agent from starting, when it is the board's set-up (sudo, interpreter)."""
    text = run.stderr
    if "sudo:" in text and (
        "password is required" in text or "not allowed" in text or "not in the sudoers" in text
    ):
        return f"sudo refused to run the agent as root without a password ({_last_line(text)})"
    if run.status in (126, 127) and (
        "not found" in text or "No such file" in text or "Permission denied" in text
    ):
        return f"the board's python could not be started ({_last_line(text)}): set python: in the inventory"
    return None


def run_provenance(payload: Mapping[str, Any], bundle: BoardBundle | None = None) -> Provenance:
    """``board`` only for the real pynq on a real device that reports itself and the bitstream it loaded.

    Every path to ``board`` goes through here and needs all of: a non-emulated run; pynq's own
    device class (no stand-in flag from the device or the pynq package); the agent's report of the
    pynq version and of the bitstream it loaded, equal to the bundle's ``design.bit``; a bundle
    not built with stand-in tools. Anything less is ``standin`` (or ``emulated``).
    """
    if payload.get("emulated"):
        return Provenance.EMULATED
    versions = payload.get("versions") or {}
    device = payload.get("device") or {}
    if device.get("standin") is not False:  # a stand-in device, or an agent that does not say
        return Provenance.STANDIN
    if not versions.get("pynq") or not device.get("class"):
        return Provenance.STANDIN
    if bundle is None:
        return Provenance.STANDIN
    if bundle.build.get("standin") or bundle.timing.provenance == Provenance.STANDIN.value:
        return Provenance.STANDIN
    if device.get("bitstream_sha256") != bundle.files.get("design.bit"):
        return Provenance.STANDIN
    return Provenance.BOARD


#: What a bundle's timing may come from: a build stage (or a stand-in build). A bundle that says
#: otherwise (``board``, ``emulated``, ``csim``) was edited: no build writes it.
BUILD_TIMING_PROVENANCE = frozenset({"estimate", "hls", "synth", "impl", "standin"})


def check_bundle_claims(bundle: BoardBundle) -> None:
    """Refuse a bundle whose claims no build makes (one line): an edited manifest.

    Raises:
        BoardFault: DEPLOY, naming the claim.
    """
    claimed = bundle.timing.provenance
    if claimed not in BUILD_TIMING_PROVENANCE:
        raise BoardFault(
            ErrorCode.DEPLOY,
            f"bundle {bundle.path} says its timing is {claimed!r}, which no build writes (a build's "
            f"timing is {', '.join(sorted(BUILD_TIMING_PROVENANCE))}): refusing an edited bundle",
        )
    if bundle.build.get("standin") and claimed != Provenance.STANDIN.value:
        raise BoardFault(
            ErrorCode.DEPLOY,
            f"bundle {bundle.path} was built with stand-in tools but says its timing is {claimed!r}: "
            "refusing an edited bundle",
        )


def wilson_interval(agree: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion (sound for small N and proportions near 1)."""
    if n <= 0:
        return 0.0, 1.0
    p = agree / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


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
    power = payload.get("power") or {}
    metrics: dict[str, Metric] = {}
    for key, value in (
        ("throughput_fps", payload.get("throughput_fps")),
        ("latency_ms_p50", latency.get("image_p50")),
        ("latency_ms_p99", latency.get("image_p99")),
        ("clock_mhz", payload.get("clock_mhz")),
    ):
        if value is not None:
            metrics[key] = Metric(value=float(value), provenance=provenance, basis=basis)
    if isinstance(power, Mapping) and power.get("available") and power.get("p50") is not None:
        what = str(power.get("basis") or "rails " + ", ".join(power.get("summed") or []))
        rails = f"{what} (p50 of the timed window)"
        metrics["power_w"] = Metric(
            value=float(power["p50"]), provenance=provenance, basis=f"{basis}; {rails}" if basis else rails
        )
    return metrics


def power_note(payload: Mapping[str, Any]) -> str:
    """What the board said about power: the rails a figure sums, or that it has no sensors."""
    power = payload.get("power")
    if not isinstance(power, Mapping):
        return ""
    if power.get("available"):
        return f"power: {power.get('basis')}"
    reported = ", ".join(power.get("reported") or []) or "none"
    return f"no power sensors (rails reported: {reported})"


def _verdict(
    payload: Mapping[str, Any], emulated: bool, min_agreement: float | None
) -> tuple[ErrorCode, list[str], dict[str, Any]]:
    """(code, notes, checks): WRONG_ANSWER only for outputs that differ from the C simulation."""
    checked, exact = int(payload.get("n_checked", 0)), int(payload.get("n_bit_exact", 0))
    problems: list[str] = []
    checks: dict[str, Any] = {"bit_exact": {"checked": checked, "exact": exact, "vacuous": emulated}}
    if emulated:
        notes = [
            f"{exact}/{checked} outputs bit-exact with C-sim (vacuous: an emulation's outputs are "
            "the C-sim's own)"
        ]
    else:
        notes = [f"{exact}/{checked} outputs bit-exact with C-sim"]
    if not checked or exact != checked:
        problems.append(
            f"{checked - exact} of {checked} check outputs differ from C-sim "
            f"(max |err| {float(payload.get('max_abs_error', 0.0)):.3g})"
        )
    window = payload.get("window_check") or {}
    if window:
        notes.append(f"{window.get('images', 0)} timed-window outputs checked")
        checks["window"] = dict(window)
        if window.get("wrong"):
            first = window.get("first_wrong") or {}
            problems.append(
                f"{window['wrong']} of {window.get('images')} outputs in the timed window differ from C-sim "
                f"(first: batch {first.get('batch')}, image {first.get('image')})"
            )
    single = payload.get("latency_check") or {}
    if single:
        checks["single_images"] = dict(single)
    if single.get("wrong"):
        problems.append(f"{single['wrong']} of {single.get('images')} single-image outputs differ from C-sim")
    if problems:
        return ErrorCode.WRONG_ANSWER, problems, checks
    code = ErrorCode.OK
    reference = payload.get("reference")
    if isinstance(reference, Mapping) and reference.get("argmax_agreement") is not None:
        n = int(reference.get("n") or checked)
        agree = round(float(reference["argmax_agreement"]) * n)
        low, high = wilson_interval(agree, n)
        checks["reference_agreement"] = {
            "n": n, "agree": agree, "fraction": agree / n if n else 0.0, "wilson95": [low, high],
        }  # fmt: skip
        notes.append(f"argmax agreement with the float reference {agree}/{n} (95 % CI {low:.3f}-{high:.3f})")
        if high < 0.9:
            notes.append(
                "WARNING: the fixed-point design disagrees with its float reference on >10 % of inputs"
            )
        if min_agreement is not None and high < min_agreement:
            code = ErrorCode.LOW_AGREEMENT
            notes.insert(0, f"agreement with the float reference below --min-agreement {min_agreement:g}")
    return code, notes, checks


def result_from_agent(
    payload: Mapping[str, Any],
    bundle: BoardBundle,
    board: str,
    stage_seconds: Mapping[str, float],
    candidate: dict[str, Any] | None = None,
    *,
    min_agreement: float | None = None,
) -> MeasureResult:
    """One MeasureResult from a successful agent run (see the module docstring for verdicts)."""
    provenance = run_provenance(payload, bundle)
    batch = int(payload.get("batch") or payload.get("batch_requested") or 1)
    emulated = provenance is Provenance.EMULATED
    if emulated:
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

    code, notes, checks = _verdict(payload, emulated, min_agreement)
    power = power_note(payload)
    if power:
        notes.append(power)
    fps = metrics["throughput_fps"].value if "throughput_fps" in metrics else 0.0
    message = f"{'; '.join(notes)}; {fps or 0.0:,.0f} images/s ({how})"
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
    if device.get("board_name"):
        versions["board_name"] = str(device["board_name"])
    record_candidate = dict(candidate or {})
    record_candidate["checks"] = checks
    return MeasureResult(
        design_key=bundle.design_key,
        board=board,
        metrics=metrics,
        error_code=code,
        message=message,
        stage_seconds=stages,
        tool_versions=versions,
        candidate=record_candidate,
    )
