"""What a Vivado build records from its reports, each number with its own provenance.

Why a module of its own: the provenance rules are the point of a build's record and deserve to
be read in one place, apart from running the tools.

* ``lut`` ... ``uram``: the network kernel's resources: the HLS top (``hls``), replaced by its
  out-of-context synthesis when there is one (``synth``, ``impl`` when routed). These are what a
  LUT budget counts, what RESOURCE_OVERFLOW checks and what ``hil farm export`` gives the cost
  model as truth.
* ``design_lut`` ... ``design_uram``: a block design's whole utilization (PS wrapper, DMA,
  interconnect and the kernel) from an accelerator build; reported, never taken for the kernel.
* ``ii_cycles``, ``latency_cycles``: the HLS report's (``hls``).
* ``clock_mhz``: the clock the design is reported to reach: csynth's *estimated* clock
  (``hls``), or the routed design's ``1 / (period - WNS)`` (``impl``). Never the requested clock
  (that is an input, kept in the candidate and in ``report["clock"]``).
* ``throughput_fps``: ``target clock / II`` is arithmetic on an HLS figure, not a measurement:
  provenance ``estimate``, ``source`` ``hls``, and a ``basis`` saying it leaves out the host.

TIMING verdicts: a routed timing report that is not met; without one, a csynth estimated clock
period longer than the target period (HLS already says the design cannot run that fast).
"""

from __future__ import annotations

import logging
from typing import Any

from hil.farm.builders._base import BuildFailure
from hil.farm.reports import HlsReport, ReportSet, SynthReport
from hil.records import ErrorCode

__all__ = ["KERNEL_KEYS", "clock_metrics", "hls_metrics", "label_standin", "synth_metrics"]

_log = logging.getLogger(__name__)

KERNEL_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram")

Metrics = dict[str, dict[str, Any]]


def _put(metrics: Metrics, key: str, value: float | None, provenance: str, **extra: Any) -> None:
    metrics[key] = {"value": None if value is None else float(value), "provenance": provenance, **extra}


def _synth_provenance(report: SynthReport) -> str:
    return "impl" if (report.design_state or "").lower().startswith("routed") else "synth"


def hls_metrics(metrics: Metrics, hls: HlsReport, clock_mhz: float) -> None:
    """Kernel resources, II and latency from csynth, and the II-derived throughput (an estimate)."""
    for key in KERNEL_KEYS:
        _put(metrics, key, getattr(hls, key), "hls")
    _put(metrics, "ii_cycles", hls.ii_max_cycles, "hls")
    _put(metrics, "latency_cycles", hls.latency_worst_cycles, "hls")
    if hls.ii_max_cycles:
        _put(
            metrics, "throughput_fps", clock_mhz * 1e6 / hls.ii_max_cycles, "estimate",
            source="hls", basis=f"HLS II {hls.ii_max_cycles} cycles at the {clock_mhz:g} MHz target; "
            "kernel only, no host transfers",
        )  # fmt: skip


def synth_metrics(metrics: Metrics, reports: ReportSet) -> str:
    """Kernel resources from its own synthesis; a block design's totals under ``design_*``.

    Returns:
        The highest provenance the kernel's resources reach (hls, synth, impl).
    """
    provenance = "hls"
    if reports.synth is not None:
        synth = reports.synth
        provenance = _synth_provenance(synth)
        for key, value in _resources(synth).items():
            if value is not None:
                _put(metrics, key, value, provenance)
    if reports.design is not None:
        design = reports.design
        for key, value in _resources(design).items():
            if value is not None:
                _put(
                    metrics,
                    f"design_{key}",
                    value,
                    _synth_provenance(design),
                    basis=f"block design {design.top}",
                )
    return provenance


def _resources(report: SynthReport) -> dict[str, float | None]:
    return {
        "lut": report.lut,
        "ff": report.ff,
        "dsp": report.dsp,
        "bram_18k": round(2 * report.bram_tile),
        "uram": report.uram,
    }


def clock_metrics(metrics: Metrics, reports: ReportSet, clock_mhz: float) -> dict[str, Any]:
    """``clock_mhz`` from what the reports say the design reaches; raises BuildFailure(TIMING).

    Returns:
        The clock section of report.json: target, csynth's estimate, the routed figure.
    """
    target_ns = 1000.0 / clock_mhz
    hls = reports.hls
    estimated_ns = hls.clock_estimated_ns if hls is not None else None
    section: dict[str, Any] = {"target_mhz": clock_mhz, "target_ns": round(target_ns, 4)}
    if estimated_ns:
        section["hls_estimated_ns"] = estimated_ns
        section["hls_estimated_mhz"] = round(1000.0 / estimated_ns, 3)
        _put(metrics, "clock_mhz", 1000.0 / estimated_ns, "hls", basis="csynth estimated clock period")
    timing = reports.timing
    if timing is not None:
        if timing.met is False:
            raise BuildFailure(
                ErrorCode.TIMING,
                f"timing not met: WNS {timing.wns_ns} ns, WHS {timing.whs_ns} ns "
                f"at the {clock_mhz:g} MHz target",
            )
        if timing.met and timing.wns_ns is not None:
            # The report's own clock period when it names the clock (the PS PLL may not hit the
            # requested frequency exactly), else the requested one.
            period = getattr(timing, "clock_period_ns", None) or target_ns
            reached = 1000.0 / (period - timing.wns_ns)
            section["impl_fmax_mhz"] = round(reached, 3)
            section["impl_period_ns"] = period
            basis = f"1 / (clock period {period:g} ns - WNS {timing.wns_ns} ns)"
            _put(metrics, "clock_mhz", reached, "impl", basis=basis)
        return section
    if estimated_ns is not None and estimated_ns > target_ns:
        raise BuildFailure(
            ErrorCode.TIMING,
            f"HLS estimates a clock period of {estimated_ns:g} ns, slower than the {target_ns:g} ns "
            f"({clock_mhz:g} MHz) target, and no routed timing report says otherwise: lower the clock "
            "or raise the reuse factor",
        )
    return section


def label_standin(metrics: Metrics, basis: str) -> None:
    """Relabel every number of a build made with declared stand-in tools ``standin``.

    The figure a stand-in reports is whatever its template report says: it shows that the flow
    ran and was read, never what the design costs. ``source`` keeps the stage it stands in for.
    """
    for metric in metrics.values():
        stage = metric.get("source") or metric["provenance"]
        metric.update(provenance="standin", source=stage, basis=basis)
