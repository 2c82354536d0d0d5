"""The ``estimate`` builder: the analytic cost model on the converted design (provenance ``estimate``).

Why it is a builder and not only a function: its results go through the same ledger, artifact
store, board bundle and export as Vivado's, so a search can climb the fidelity ladder (estimate,
then hls/synth/impl) with one code path, and the board can run an emulated design before any
bitstream exists.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hil.farm._job import BuildJob
from hil.farm.builders._base import BaseBuilder, BuildFailure, BuildOutput, Stage
from hil.farm.builders._design import layer_specs, prepare_design, write_board_bundle
from hil.records import ErrorCode

__all__ = ["EstimateBuilder"]

_log = logging.getLogger(__name__)


class EstimateBuilder(BaseBuilder):
    """Converts, C-simulates and estimates; RESOURCE_OVERFLOW when the estimate exceeds the board."""

    name = "estimate"

    def tool_versions(self, options: Mapping[str, Any] | None = None) -> dict[str, str]:
        import hashlib

        from hil.cost import default_params

        params = default_params()
        blob = repr(sorted(params.coefficients.items())).encode()
        return {"cost_params": hashlib.sha256(blob).hexdigest()[:16]}

    def build(self, job: BuildJob, workdir: Path, out: Path, stage: Stage) -> BuildOutput:
        from hil.cost import estimate, fits, layer_to_dict, target_for

        design = prepare_design(job, workdir, out, stage)
        stage.code = ErrorCode.HLS
        specs = layer_specs(design.hls_model)
        # The part and the backend decide the DSP width, the HLS tool's FIFO and ROM binding.
        target = target_for(part=job.part, backend=job.options.get("backend"), clock_mhz=job.clock_mhz)
        est = estimate(list(specs.values()), clock_mhz=job.clock_mhz, target=target)
        # A stand-in for a Vivado build reports what Vivado would: the kernel's resources after
        # synthesis (csynth's estimate x the measured synthesis/csynth ratios); cycles are csynth's.
        synth = estimate(list(specs.values()), clock_mhz=job.clock_mhz, target=target, level="synth")
        # The cost model takes the requested clock as given: an input, not a figure it estimates.
        metrics: dict[str, dict[str, Any]] = {
            k: {"value": float(v), "provenance": "estimate"}
            for k, v in synth.totals.items()
            if k != "clock_mhz"
        }
        for key in ("lut", "ff", "dsp", "bram_18k"):
            metrics[key]["basis"] = (
                "cost model at synthesis level (csynth estimate x measured synth/csynth ratio)"
            )
        if "throughput_fps" in metrics:
            metrics["throughput_fps"]["basis"] = (
                f"cost-model II at the {job.clock_mhz:g} MHz target; kernel only, no host transfers"
            )
        layers = []
        for le in est.layers:
            spec = specs.get(le.name)
            if spec is None:
                continue
            layers.append(
                {
                    "name": le.name,
                    "spec": layer_to_dict(spec),
                    "provenance": "estimate",
                    "metrics": {
                        "lut": le.lut, "ff": le.ff, "dsp": le.dsp, "bram_18k": le.bram_18k,
                        "latency_cycles": le.latency_cycles, "ii_cycles": le.ii_cycles,
                    },
                }
            )  # fmt: skip
        write_board_bundle(
            job,
            design,
            out,
            ii_cycles=est.totals.get("ii_cycles", 0),
            latency_cycles=est.totals.get("latency_cycles", 0),
            provenance="estimate",
        )
        candidate = {
            "layers": [layer_to_dict(s) for s in specs.values()],
            "clock_mhz": job.clock_mhz,
            "level": "synth",  # the resources above; the per-layer rows are csynth-level
        }
        output = BuildOutput(
            metrics=metrics,
            layers=layers,
            candidate=candidate,
            report={"estimate": est.to_dict(), "estimate_synth": synth.totals, "csim": design.csim_stats},
            provenance="estimate",
        )
        if job.resources:
            # Does the kernel fit the part? Real resources: csynth's estimate at synthesis level,
            # judged at its 80 % band's upper edge (hil.cost.fits on an Estimate).
            fit = fits(job.resources, synth)
            if not fit.ok:
                from hil.convert import overflow_hint

                raise BuildFailure(
                    ErrorCode.RESOURCE_OVERFLOW,
                    f"estimate (synthesis level) exceeds {job.board}: {', '.join(fit.over)} over "
                    f"(binding {fit.binding} at {fit.utilisation[fit.binding]:.0%})"
                    f"{overflow_hint(design.hls_model, job.resources, job.clock_mhz, **_hint_target(job))}",
                )
        return output


def _hint_target(job: Any) -> dict[str, Any]:
    """The part and backend the reuse hint estimates for (the board's device family, its HLS tool)."""
    return {"part": job.part, "backend": job.options.get("backend")}
