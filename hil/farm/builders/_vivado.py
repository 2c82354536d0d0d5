"""The ``vivado`` builder: Vivado/Vitis HLS, Vivado synthesis, and for accelerator designs the bitstream.

Flow (tools found on PATH, each in the build's own folder, with the job's timeout):
  1. HLS: ``vitis-run --tcl build_prj.tcl --mode hls`` (backend Vitis) or ``vivado_hls -f
     build_prj.tcl "reset=1 csim=0 synth=1 ... vsynth=1"`` (Vivado, VivadoAccelerator); hls4ml's
     build_prj.tcl runs csynth, exports the IP and (vsynth) Vivado out-of-context synthesis.
  2. VivadoAccelerator only: ``vivado -mode batch -source design.tcl`` builds the block design
     (Zynq PS + AXI DMA + the network) to a bitstream; the .bit and .hwh go into the bundle.
  3. Reports are parsed by hil.farm.reports; a report for another part or top module is rejected.

Numbers and their provenance: see ``hil.farm.builders._vivado_metrics`` (kernel vs block-design
utilization, csynth's estimated clock and the TIMING verdict, throughput as an estimate). The
Vivado project folders are deleted after a successful build (a failed one keeps them with
keep_failed).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from hil.errors import ReportParseError
from hil.farm._job import BuildJob
from hil.farm.builders._base import BaseBuilder, BuildFailure, BuildOutput, Stage
from hil.farm.builders._design import layer_specs, prepare_design, write_board_bundle
from hil.farm.builders._tools import run_tool, xilinx_release
from hil.farm.builders._vivado_metrics import KERNEL_KEYS, clock_metrics, hls_metrics, synth_metrics
from hil.records import ErrorCode

__all__ = ["VivadoBuilder"]

_log = logging.getLogger(__name__)

_PROJECT = "myproject"
_CONFIG_INDEX = re.compile(r"config(\d+)")


def _hls_command(backend: str) -> list[str]:
    if backend == "Vitis":
        return ["vitis-run", "--tcl", "build_prj.tcl", "--mode", "hls"]
    export = 1 if backend == "VivadoAccelerator" else 0
    opts = f"reset=1 csim=0 synth=1 cosim=0 validation=0 export={export} vsynth=1 fifo_opt=0"
    return ["vivado_hls", "-f", "build_prj.tcl", opts]


def _newest(folder: Path, pattern: str) -> Path | None:
    found = sorted(folder.rglob(pattern), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


class VivadoBuilder(BaseBuilder):
    """Real tools; each job holds one ``vivado`` worker resource (one license)."""

    name = "vivado"
    resources: ClassVar[dict[str, float]] = {"vivado": 1}

    def tool_versions(self, options: Mapping[str, Any] | None = None) -> dict[str, str]:
        """``{"vivado": release}`` of the HLS tool the backend runs and of vivado (one install)."""
        backend = str((options or {}).get("backend", "Vitis"))
        return {"vivado": xilinx_release((_hls_command(backend)[0], "vivado"))}

    def build(self, job: BuildJob, workdir: Path, out: Path, stage: Stage) -> BuildOutput:
        deadline = time.monotonic() + job.timeout_s
        design = prepare_design(job, workdir, out, stage)
        prj = design.project_dir
        log = out / "tools.log"
        backend = str(job.options.get("backend", "Vitis"))
        accelerator = backend == "VivadoAccelerator"
        stage.code = ErrorCode.HLS
        if backend == "Vitis":
            (prj / "build_opt.tcl").write_text(
                "array set opt {\n reset 1\n csim 0\n synth 1\n cosim 0\n validation 0\n"
                " export 0\n vsynth 1\n fifo_opt 0\n}\n"
            )
        started = time.monotonic()
        run_tool(_hls_command(backend), cwd=prj, log=log, deadline=deadline, code=ErrorCode.HLS, what="HLS")
        stage.seconds["hls"] = round(time.monotonic() - started, 3)
        bitstream = hwh = None
        if accelerator:
            stage.code = ErrorCode.SYNTH
            started = time.monotonic()
            run_tool(
                ["vivado", "-mode", "batch", "-source", "design.tcl"],
                cwd=prj, log=log, deadline=deadline, code=ErrorCode.SYNTH, what="bitstream",
            )  # fmt: skip
            stage.seconds["bitstream"] = round(time.monotonic() - started, 3)
            bitstream, hwh = _newest(prj, "*.bit"), _newest(prj, "*.hwh")
            if bitstream is None or hwh is None:
                raise BuildFailure(ErrorCode.SYNTH, "vivado finished but wrote no .bit/.hwh")
        output = self._collect(job, design, out, stage)
        timing = output.report["timing_source"]
        write_board_bundle(
            job, design, out,
            ii_cycles=output.metrics["ii_cycles"]["value"] or 0,
            latency_cycles=output.metrics["latency_cycles"]["value"] or 0,
            provenance=timing, bitstream=bitstream, hwh=hwh,
        )  # fmt: skip
        for folder in (prj / f"{_PROJECT}_prj", prj / f"{_PROJECT}_vivado_accelerator"):
            shutil.rmtree(folder, ignore_errors=True)  # success: the reports and bundle are kept
        return output

    def _reports(self, job: BuildJob, design: Any, out: Path, stage: Stage) -> Any:
        """The build's reports, checked to be this job's, copied to ``out/reports``."""
        from hil.farm.reports import check_report_matches, find_report_files, read_reports

        prj = design.project_dir
        accelerator = job.options.get("backend") == "VivadoAccelerator"
        top = f"{_PROJECT}_axi" if accelerator else _PROJECT
        kernel_tops = frozenset({_PROJECT, top})  # hls4ml's vsynth synthesizes the core out of context
        try:
            files = find_report_files(prj, top=top, kernel_tops=kernel_tops)
            reports = read_reports(prj, top=top, kernel_tops=kernel_tops)
        except ReportParseError as exc:
            raise BuildFailure(stage.code, f"reports: {exc}") from None
        if reports.hls is None:
            raise BuildFailure(ErrorCode.HLS, f"HLS wrote no csynth report for top '{top}'")
        try:
            check_report_matches(reports.hls, part=job.part, top=top)
            if reports.synth is not None:
                check_report_matches(reports.synth, part=job.part)
            for section in (reports.timing, reports.design):
                if section is not None:
                    check_report_matches(section, part=job.part)
        except ReportParseError as exc:
            raise BuildFailure(stage.code, f"rejected report: {exc}") from None
        (out / "reports").mkdir(exist_ok=True)
        for path in (
            files.csynth_xml,
            files.csynth_rpt,
            files.utilization,
            files.timing,
            files.design_utilization,
        ):
            if path is not None:
                shutil.copyfile(path, out / "reports" / path.name)
        return reports

    def _collect(self, job: BuildJob, design: Any, out: Path, stage: Stage) -> BuildOutput:
        from hil.convert import overflow_hint
        from hil.cost import fits, layer_to_dict

        reports = self._reports(job, design, out, stage)
        metrics: dict[str, dict[str, Any]] = {}
        hls_metrics(metrics, reports.hls, job.clock_mhz)
        provenance = synth_metrics(metrics, reports)
        stage.code = ErrorCode.TIMING
        clock = clock_metrics(metrics, reports, job.clock_mhz)
        if job.resources:
            used = {
                k: metrics[k]["value"]
                for k in KERNEL_KEYS
                if k in metrics and metrics[k]["value"] is not None
            }
            fit = fits(job.resources, used)
            if not fit.ok:
                raise BuildFailure(
                    ErrorCode.RESOURCE_OVERFLOW,
                    f"design exceeds {job.board}: {', '.join(fit.over)} over "
                    f"(binding {fit.binding} at {fit.utilisation[fit.binding]:.0%} of the kernel's budget)"
                    f"{overflow_hint(design.hls_model, job.resources, job.clock_mhz)}",
                )
        specs = layer_specs(design.hls_model)
        return BuildOutput(
            metrics=metrics,
            layers=_layer_rows(reports.hls, design.hls_model, specs, layer_to_dict),
            candidate={"layers": [layer_to_dict(s) for s in specs.values()], "clock_mhz": job.clock_mhz},
            report={
                "reports": reports.to_dict(),
                "timing_source": "hls",
                "clock": clock,
                "csim": design.csim_stats,
            },
            provenance=provenance,
        )


def _layer_rows(hls: Any, hls_model: Any, specs: dict[str, Any], to_dict: Any) -> list[dict[str, Any]]:
    """Per-layer csynth rows (module ``...config<index>``) matched to the converted layers."""
    names = {int(layer.index): layer.name for layer in hls_model.get_layers()}
    layers = []
    for module in hls.modules:
        match = _CONFIG_INDEX.search(module.module)
        name = names.get(int(match.group(1))) if match else None
        if name is None or name not in specs:
            continue
        layers.append(
            {
                "name": name,
                "module": module.module,
                "spec": to_dict(specs[name]),
                "provenance": "hls",
                "metrics": {
                    "lut": module.lut, "ff": module.ff, "dsp": module.dsp, "bram_18k": module.bram_18k,
                    "latency_cycles": module.latency_worst_cycles, "ii_cycles": module.ii_max_cycles,
                },
            }
        )  # fmt: skip
    return layers
