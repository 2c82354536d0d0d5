"""The ``vivado`` builder: Vivado/Vitis HLS, Vivado synthesis, and for accelerator designs the bitstream.

Flow (tools found on PATH, each in the build's own folder, with the job's timeout):
  1. HLS: ``vitis-run --tcl build_prj.tcl --mode hls`` (backend Vitis) or ``vivado_hls -f
     build_prj.tcl "reset=1 csim=0 synth=1 ... vsynth=1"`` (Vivado, VivadoAccelerator); hls4ml's
     build_prj.tcl runs csynth, exports the IP and (vsynth) Vivado out-of-context synthesis.
  2. VivadoAccelerator only: ``vivado -mode batch -source design.tcl`` builds the block design
     (Zynq PS + AXI DMA + the network) to a bitstream; the .bit and .hwh go into the bundle.
  3. Reports are parsed by hil.farm.reports; a report for another part or top module is rejected.

Numbers: HLS gives provenance ``hls`` (also II and latency); post-synthesis utilization replaces
the resource figures with provenance ``synth`` (``impl`` when the report says Routed). The Vivado
project folders are deleted after a successful build (a failed one keeps them with keep_failed).
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

    def _collect(self, job: BuildJob, design: Any, out: Path, stage: Stage) -> BuildOutput:
        from hil.cost import fits, layer_to_dict
        from hil.farm.reports import check_report_matches, find_report_files, read_reports

        prj = design.project_dir
        accelerator = job.options.get("backend") == "VivadoAccelerator"
        top = f"{_PROJECT}_axi" if accelerator else _PROJECT
        try:
            files = find_report_files(prj, top=top)
            reports = read_reports(prj, top=top)
        except ReportParseError as exc:
            raise BuildFailure(stage.code, f"reports: {exc}") from None
        if reports.hls is None:
            raise BuildFailure(ErrorCode.HLS, f"HLS wrote no csynth report for top '{top}'")
        try:
            check_report_matches(reports.hls, part=job.part, top=top)
            if reports.synth is not None:
                check_report_matches(reports.synth, part=job.part, top=None if accelerator else _PROJECT)
            if reports.timing is not None:
                check_report_matches(reports.timing, part=job.part)
        except ReportParseError as exc:
            raise BuildFailure(stage.code, f"rejected report: {exc}") from None
        (out / "reports").mkdir(exist_ok=True)
        for path in (files.csynth_xml, files.csynth_rpt, files.utilization, files.timing):
            if path is not None:
                shutil.copyfile(path, out / "reports" / path.name)
        hls = reports.hls
        metrics: dict[str, dict[str, Any]] = {}

        def put(key: str, value: float | None, provenance: str) -> None:
            metrics[key] = {"value": None if value is None else float(value), "provenance": provenance}

        for key in ("lut", "ff", "dsp", "bram_18k", "uram"):
            put(key, getattr(hls, key), "hls")
        put("ii_cycles", hls.ii_max_cycles, "hls")
        put("latency_cycles", hls.latency_worst_cycles, "hls")
        put("clock_mhz", job.clock_mhz, "hls")
        if hls.ii_max_cycles:
            put("throughput_fps", job.clock_mhz * 1e6 / hls.ii_max_cycles, "hls")
        provenance = "hls"
        if reports.synth is not None:
            synth = reports.synth
            provenance = "impl" if (synth.design_state or "").lower().startswith("routed") else "synth"
            put("lut", synth.lut, provenance)
            put("ff", synth.ff, provenance)
            put("dsp", synth.dsp, provenance)
            put("bram_18k", round(2 * synth.bram_tile), provenance)
            if synth.uram is not None:
                put("uram", synth.uram, provenance)
        if reports.timing is not None and reports.timing.met is False:
            stage.code = ErrorCode.TIMING
            raise BuildFailure(
                ErrorCode.TIMING,
                f"timing not met: WNS {reports.timing.wns_ns} ns, WHS {reports.timing.whs_ns} ns",
            )
        if job.resources:
            used = {
                k: m["value"] for k, m in metrics.items() if k in job.resources and m["value"] is not None
            }
            fit = fits(job.resources, used)
            if not fit.ok:
                raise BuildFailure(
                    ErrorCode.RESOURCE_OVERFLOW, f"design exceeds {job.board}: {', '.join(fit.over)}"
                )
        specs = layer_specs(design.hls_model)
        names = {int(layer.index): layer.name for layer in design.hls_model.get_layers()}
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
                    "spec": layer_to_dict(specs[name]),
                    "provenance": "hls",
                    "metrics": {
                        "lut": module.lut, "ff": module.ff, "dsp": module.dsp, "bram_18k": module.bram_18k,
                        "latency_cycles": module.latency_worst_cycles, "ii_cycles": module.ii_max_cycles,
                    },
                }
            )  # fmt: skip
        return BuildOutput(
            metrics=metrics,
            layers=layers,
            candidate={"layers": [layer_to_dict(s) for s in specs.values()], "clock_mhz": job.clock_mhz},
            report={"reports": reports.to_dict(), "timing_source": "hls", "csim": design.csim_stats},
            provenance=provenance,
        )
