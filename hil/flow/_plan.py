"""A build's plan: every tool call (argv, folder, the files it must produce) and the scripts they run.

Why a plan object: the same description drives the real build (run each call, then check that
each promised file exists, so a tool that "succeeds" without its output fails there, naming the
file), ``hil build --dry-run`` (write the scripts and ``plan.json``, run nothing) and the
README's cost figures. Every file hil reads later is in some call's ``produces``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hil.errors import InputError
from hil.flow._axis_top import AXIS_CONVENTION, axis_top_for, write_axis_top
from hil.flow._boards import BoardBuild
from hil.flow._tcl_hls import IP_LIBRARY, IP_VENDOR, SOLUTION, hls_script
from hil.flow._tcl_vivado import REPORTS, BlockDesign, vivado_script
from hil.flow._toolchain import FLOW_ACCELERATOR, FLOW_VITIS

__all__ = ["STOP_AFTER", "Plan", "ToolCall", "make_plan", "ACCELERATOR_HLS_OPTIONS"]

_log = logging.getLogger(__name__)

#: How far a build goes: csynth + IP export, the synthesized block design, or a bitstream.
STOP_AFTER = ("hls", "synth", "bitstream")

#: hls4ml's Vivado-backend build_prj.tcl options for the <= 2020.1 flow: synthesize and export
#: the IP only (no C simulation: hil ran its own; no out-of-context synthesis: the block design's
#: hierarchical report gives the kernel's own figures).
ACCELERATOR_HLS_OPTIONS = "reset=1 csim=0 synth=1 cosim=0 validation=0 export=1 vsynth=0 fifo_opt=0"

#: Disk a build may fill (bytes), by how far it goes: AMD's install guide asks for tens of GB for
#: the tools; a run of a small overlay writes ~1-3 GB (runs, IP caches, checkpoints).
DISK_NEEDED = {"hls": 1 << 30, "synth": 3 << 30, "bitstream": 5 << 30}


@dataclass(frozen=True)
class ToolCall:
    """One tool invocation: argv (argv[0] found on PATH), folder relative to the build's, outputs."""

    tool: str
    argv: list[str]
    cwd: str
    produces: list[str]
    stage: str
    error_code: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """What a build of one design for one board with one release will run and read."""

    flow: str
    release: str
    board: str
    part: str
    clock_mhz: float
    stop_after: str
    hls_top: str
    kernel_cell: str
    calls: list[ToolCall]
    scripts: list[str]
    #: report key -> path relative to the build folder (csynth_xml, csynth_rpt, utilization, ...)
    reports: dict[str, str]
    axis: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["calls"] = [call.to_dict() for call in self.calls]
        return data

    def write(self, folder: Path) -> Path:
        path = folder / "plan.json"
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def _hls_call(flow: str, hls_tool: str, script: str, produces: list[str]) -> ToolCall:
    if flow == FLOW_ACCELERATOR:
        argv = ["vivado_hls", "-f", script, ACCELERATOR_HLS_OPTIONS]
    elif hls_tool == "vitis-run":
        argv = ["vitis-run", "--mode", "hls", "--tcl", script]
    else:
        argv = ["vitis_hls", "-f", script]
    return ToolCall(argv[0], argv, ".", produces, "hls", "HLS")


def make_plan(
    project_dir: Path,
    hls_model: Any,
    *,
    flow: str,
    release: str,
    hls_tool: str,
    board: str,
    build: BoardBuild,
    clock_mhz: float,
    stop_after: str = "bitstream",
    jobs: int = 2,
) -> Plan:
    """Write the flow's scripts (and, for Vitis, hil's AXI-stream top) into ``project_dir``; return the plan.

    ``project_dir`` is the hls4ml project folder: every call runs there.

    Raises:
        InputError: an unknown ``stop_after``, or a model the AXI-stream top cannot carry.
    """
    if stop_after not in STOP_AFTER:
        raise InputError(f"--stop-after must be one of {', '.join(STOP_AFTER)}, got {stop_after!r}")
    build.check_clock(clock_mhz, board)
    project = str(hls_model.config.get_project_name())
    report_dir = f"{project}_prj/{SOLUTION}/syn/report"
    ip_repo = f"{project}_prj/{SOLUTION}/impl/ip"
    scripts: list[str] = []
    if flow == FLOW_VITIS:
        top = axis_top_for(hls_model)
        write_axis_top(project_dir, top)
        scripts += [top.header, top.source]
        (project_dir / "hil_hls.tcl").write_text(hls_script(top), encoding="utf-8")
        scripts.append("hil_hls.tcl")
        hls_top, in_port, out_port = top.function, top.in_port, top.out_port
        kernel_vlnv = f"{IP_VENDOR}:{IP_LIBRARY}:{hls_top}:*"
        hls_entry = "hil_hls.tcl"
        axis = {**AXIS_CONVENTION, "in_words_per_image": top.n_in, "out_words_per_image": top.n_out}
    elif flow == FLOW_ACCELERATOR:
        hls_top, in_port, out_port = f"{project}_axi", "in_r", "out_r"
        kernel_vlnv = f"xilinx.com:hls:{hls_top}:*"
        hls_entry = "build_prj.tcl"  # hls4ml's own, for its VivadoAccelerator project
        scripts.append(hls_entry)
        inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
        axis = {
            **AXIS_CONVENTION,
            "in_words_per_image": int(inputs[0].size()),
            "out_words_per_image": int(outputs[0].size()),
            "top": "hls4ml VivadoAccelerator axi_stream",
        }
    else:
        raise InputError(f"unknown flow {flow!r}")
    reports = {
        "csynth_xml": f"{report_dir}/{hls_top}_csynth.xml",
        "csynth_rpt": f"{report_dir}/{hls_top}_csynth.rpt",
    }
    hls_produces = [reports["csynth_xml"], reports["csynth_rpt"]]
    if stop_after != "hls":
        hls_produces.append(f"{ip_repo}/component.xml")
    calls = [_hls_call(flow, hls_tool, hls_entry, hls_produces)]
    kernel_cell = f"{hls_top}_0"
    if stop_after != "hls":
        design = BlockDesign(
            board=build,
            clock_mhz=clock_mhz,
            ip_repo=ip_repo,
            kernel_vlnv=kernel_vlnv,
            kernel_cell=kernel_cell,
            in_port=in_port,
            out_port=out_port,
            stop_after=stop_after,
            jobs=jobs,
        )
        (project_dir / "hil_vivado.tcl").write_text(vivado_script(design), encoding="utf-8")
        scripts.append("hil_vivado.tcl")
        stage_reports = REPORTS["synth" if stop_after == "synth" else "bitstream"]
        reports.update(stage_reports)
        argv = ["vivado", "-mode", "batch", "-nojournal", "-log", "vivado.log", "-source", "hil_vivado.tcl"]
        code = "SYNTH"
        calls.append(ToolCall("vivado", argv, ".", list(stage_reports.values()), stop_after, code))
    plan = Plan(
        flow=flow,
        release=release,
        board=board,
        part=build.part,
        clock_mhz=clock_mhz,
        stop_after=stop_after,
        hls_top=hls_top,
        kernel_cell=kernel_cell,
        calls=calls,
        scripts=scripts,
        reports=reports,
        axis=axis,
    )
    plan.write(project_dir)
    _log.info(
        "plan: %s flow, release %s, %d tool calls, stop after %s", flow, release, len(calls), stop_after
    )
    return plan
