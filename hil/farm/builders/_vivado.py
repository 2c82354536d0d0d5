"""The ``vivado`` builder: the installed AMD release's flow, from the network to a bitstream.

Flow (``hil.flow``; the release decides it, ``hil toolchain`` says which):
  * from 2020.2: hls4ml's Vitis project plus hil's AXI-stream top, synthesized and exported as
    an IP by Vitis HLS (``vitis-run --mode hls --tcl`` or ``vitis_hls -f``), then hil's block
    design (PS, AXI DMA, SmartConnects, reset) in Vivado to a bitstream and ``.hwh``;
  * up to 2020.1: hls4ml's VivadoAccelerator project through ``vivado_hls`` (its own
    ``build_prj.tcl``), then the same block design around hls4ml's ``myproject_axi`` top.
``--stop-after hls|synth`` ends the flow early. Each tool call of the plan must write the files
it promises (a missing one fails the stage, naming it); every report is read from the fixed
path the flow's own Tcl wrote it to, never searched for (a run tree holds Vivado's own reports
of the same names).

Numbers and their provenance: ``hil.farm.builders._vivado_metrics``; with declared stand-in
tools every number is labelled ``standin``. The tool projects are deleted after a successful
build (a failed one keeps them with keep_failed).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from hil.errors import HilError, ReportParseError
from hil.farm._job import BuildJob
from hil.farm.builders._base import BaseBuilder, BuildFailure, BuildOutput, Stage
from hil.farm.builders._design import Design, layer_specs, prepare_design, write_board_bundle
from hil.farm.builders._tools import run_tool
from hil.farm.builders._vivado_metrics import (
    KERNEL_KEYS,
    clock_metrics,
    hls_metrics,
    label_standin,
    synth_metrics,
)
from hil.records import ErrorCode

__all__ = ["VivadoBuilder"]

_log = logging.getLogger(__name__)

_CONFIG_INDEX = re.compile(r"config(\d+)")


def _toolchain(params: Mapping[str, Any] | None = None) -> Any:
    from hil.flow import detect_toolchain

    return detect_toolchain(standin=bool((params or {}).get("standin", False)))


class VivadoBuilder(BaseBuilder):
    """Real tools; each job holds one ``vivado`` worker resource (one license)."""

    name = "vivado"
    resources: ClassVar[dict[str, float]] = {"vivado": 1}

    def tool_versions(self, options: Mapping[str, Any] | None = None) -> dict[str, str]:
        """``{"vivado": release}`` of this host's install (``2024.2-standin`` for declared stand-ins).

        One value for the whole install: the HLS tool and Vivado of one build come from one
        release (``hil toolchain`` reports a mix as a problem).
        """
        return {"vivado": _toolchain().version_label()}

    def complete_params(self, board: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """The job's flow settings: how far it goes and the board's block-design data (in the key)."""
        from hil.errors import InputError
        from hil.flow import STOP_AFTER, board_build

        out = dict(params)
        out.setdefault("stop_after", "bitstream")
        if out["stop_after"] not in STOP_AFTER:
            choices = ", ".join(STOP_AFTER)
            raise InputError(f"--stop-after must be one of {choices}, got {out['stop_after']!r}")
        if "board_build" not in out:
            overrides = getattr(board, "build", None) or {}
            out["board_build"] = board_build(board.name, board.part, dict(overrides)).to_dict()
        return out

    def disk_needed_bytes(self, options: Mapping[str, Any] | None = None) -> int:
        from hil.flow import DISK_NEEDED

        return DISK_NEEDED.get(str((options or {}).get("stop_after", "bitstream")), DISK_NEEDED["bitstream"])

    def build(self, job: BuildJob, workdir: Path, out: Path, stage: Stage) -> BuildOutput:
        from hil.flow import BoardBuild, board_build, check_backend, make_plan

        deadline = time.monotonic() + job.timeout_s
        params = dict(job.builder_params)
        stop_after = str(params.get("stop_after", "bitstream"))
        toolchain = _toolchain(params)
        stage.code = ErrorCode.HLS
        if not toolchain.usable:
            raise BuildFailure(ErrorCode.HLS, "; ".join(toolchain.missing) or "no usable AMD toolchain")
        try:
            check_backend(toolchain.flow, toolchain.release, str(job.options.get("backend", "Vitis")))
            build = (
                BoardBuild(**params["board_build"])
                if "board_build" in params
                else board_build(job.board, job.part)
            )
        except HilError as exc:
            raise BuildFailure(ErrorCode.CONVERT, str(exc)) from None
        design = prepare_design(job, workdir, out, stage)
        prj = design.project_dir
        try:
            plan = make_plan(
                prj,
                design.hls_model,
                flow=toolchain.flow,
                release=toolchain.release,
                hls_tool=toolchain.hls_tool,
                board=job.board,
                build=build,
                clock_mhz=job.clock_mhz,
                stop_after=stop_after,
            )
        except HilError as exc:
            raise BuildFailure(ErrorCode.CONVERT, str(exc)) from None
        for script in (*plan.scripts, "plan.json"):
            target = out / "hls4ml" / script
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(prj / script, target)
        log = out / "tools.log"
        for call in plan.calls:
            code = ErrorCode(call.error_code)
            stage.code = code
            started = time.monotonic()
            cwd = prj / call.cwd
            run_tool(call.argv, cwd=cwd, log=log, deadline=deadline, code=code, what=call.stage)
            stage.seconds[call.stage] = round(time.monotonic() - started, 3)
            missing = [path for path in call.produces if not (cwd / path).is_file()]
            if missing:
                raise BuildFailure(code, f"{call.tool} exited 0 but wrote no {missing[0]} (see tools.log)")
        output = self._collect(job, design, plan, out, stage, standin=toolchain.standin)
        bitstream = prj / plan.reports["bitstream"] if "bitstream" in plan.reports else None
        hwh = prj / plan.reports["hwh"] if "hwh" in plan.reports else None
        write_board_bundle(
            job, design, out,
            ii_cycles=output.metrics["ii_cycles"]["value"] or 0,
            latency_cycles=output.metrics["latency_cycles"]["value"] or 0,
            provenance="standin" if toolchain.standin else output.report["timing_source"],
            bitstream=bitstream, hwh=hwh, axis=plan.axis if bitstream else None,
            build={"flow": plan.flow, "release": plan.release, "standin": toolchain.standin,
                   "stop_after": plan.stop_after, "hls_top": plan.hls_top},
        )  # fmt: skip
        project = design.project
        for folder in (prj / f"{project}_prj", prj / "vivado", prj / f"{project}_vivado_accelerator"):
            shutil.rmtree(folder, ignore_errors=True)  # success: the reports and bundle are kept
        return output

    def _reports(self, job: BuildJob, plan: Any, prj: Path, out: Path, stage: Stage) -> Any:
        """The reports at the plan's fixed paths, checked to be this job's, copied to ``out/reports``."""
        from hil.farm.reports import check_report_matches, read_build_reports

        paths = {key: prj / path for key, path in plan.reports.items() if key not in ("bitstream", "hwh")}
        try:
            reports = read_build_reports(
                csynth_xml=paths.get("csynth_xml"),
                csynth_rpt=paths.get("csynth_rpt"),
                utilization=paths.get("utilization"),
                utilization_hier=paths.get("utilization_hier"),
                timing=paths.get("timing"),
                kernel_instance=plan.kernel_cell if "utilization_hier" in paths else None,
            )
        except ReportParseError as exc:
            raise BuildFailure(stage.code, f"reports: {exc}") from None
        if reports.hls is None:
            raise BuildFailure(ErrorCode.HLS, f"HLS wrote no csynth report for top '{plan.hls_top}'")
        try:
            check_report_matches(reports.hls, part=job.part, top=plan.hls_top)
            for section in (reports.synth, reports.timing, reports.design):
                if section is not None:
                    check_report_matches(section, part=job.part)
        except ReportParseError as exc:
            raise BuildFailure(stage.code, f"rejected report: {exc}") from None
        (out / "reports").mkdir(exist_ok=True)
        for key, path in paths.items():
            if path.is_file():
                shutil.copyfile(path, out / "reports" / f"{key}{path.suffix}")
        return reports

    def _collect(
        self, job: BuildJob, design: Design, plan: Any, out: Path, stage: Stage, *, standin: bool
    ) -> BuildOutput:
        from hil.convert import overflow_hint
        from hil.cost import fits, layer_to_dict

        reports = self._reports(job, plan, design.project_dir, out, stage)
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
                    f"{overflow_hint(design.hls_model, job.resources, job.clock_mhz, **_hint_target(job))}",
                )
        specs = layer_specs(design.hls_model)
        layers = _layer_rows(reports.hls, design.hls_model, specs, layer_to_dict)
        timing_source = "impl" if reports.timing is not None else "hls"
        if standin:
            basis = f"declared stand-in tools ({plan.release}, {plan.flow} flow): not a real tool's figure"
            label_standin(metrics, basis)
            for layer in layers:
                layer["provenance"] = "standin"
            provenance = "standin"
        return BuildOutput(
            metrics=metrics,
            layers=layers,
            candidate={"layers": [layer_to_dict(s) for s in specs.values()], "clock_mhz": job.clock_mhz},
            report={
                "reports": reports.to_dict(),
                "timing_source": timing_source,
                "clock": clock,
                "csim": design.csim_stats,
                "flow": {
                    "name": plan.flow,
                    "release": plan.release,
                    "stop_after": plan.stop_after,
                    "hls_top": plan.hls_top,
                    "kernel_cell": plan.kernel_cell,
                    "standin": standin,
                },
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


def _hint_target(job: Any) -> dict[str, Any]:
    """The part and backend the reuse hint estimates for (the board's device family, its HLS tool)."""
    return {"part": job.part, "backend": job.options.get("backend")}
