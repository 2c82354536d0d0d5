"""The HLS tools' Tcl commands: Vivado HLS 2020.1 (``vivado_hls``) and Vitis HLS 2020.2+ (``vitis_hls``,
``vitis-run --mode hls --tcl``).

Option tables: UG902 (v2020.1) "Vivado HLS Command Reference" for releases up to 2020.1, UG1399 "Vitis HLS
Command Reference" (2020.2-2025.x) from 2020.2. Differences that matter to real scripts:

- ``open_solution -flow_target vivado|vitis`` exists only in Vitis HLS (UG1399).
- ``config_array_partition``: UG902 has ``-auto_partition_threshold -auto_promotion_threshold
  -include_extern_globals -include_ports -maximum_size -scalarize_all -throughput_driven``; UG1399 keeps
  only ``-complete_threshold -throughput_driven`` (``-maximum_size`` is gone: hls4ml wraps it in
  ``catch``).
- ``config_schedule``: UG902 ``-effort -enable_dsp_full_reg -relax_ii_for_timing -verbose``; UG1399
  ``-enable_dsp_full_reg -verbose``.
- ``export_design -format``: ``ip_catalog|sysgen|syn_dcp`` (UG902), plus ``xo`` (UG1399).
- default clock uncertainty: 12.5 % of the period (Vivado HLS), 27 % (Vitis HLS).
"""

from __future__ import annotations

import functools
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.xilinx_standin import _cpp, _reports
from tests.xilinx_standin._catalog import release_key
from tests.xilinx_standin._tcl_runtime import Parsed, Runtime, StandinError, spec

UG902 = "UG902 (v2020.1) Vivado HLS Command Reference"
UG1399 = "UG1399 Vitis HLS Command Reference"


@dataclass
class Solution:
    name: str
    dir: Path
    flow_target: str = "vivado"
    part: str | None = None
    period_ns: float | None = None
    clock_name: str = "default"
    uncertainty: str | None = None
    config: dict[str, dict[str, object]] = field(default_factory=dict)
    directives: list[tuple[str, list[str]]] = field(default_factory=list)
    synthesized: bool = False
    ports: _cpp.TopPorts | None = None


@dataclass
class Project:
    name: str
    dir: Path
    top: str | None = None
    files: list[tuple[Path, bool, str, str]] = field(default_factory=list)  # path, tb, cflags, csimflags


class HlsTool:
    """State of one HLS process: the open project and solution."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.vitis = release_key(rt.release) >= (2020, 2)
        self.doc = UG1399 if self.vitis else UG902
        self.project: Project | None = None
        self.solution: Solution | None = None
        self._register()

    # -- helpers ------------------------------------------------------------------------------
    def _need_project(self, cmd: str) -> Project:
        if self.project is None:
            raise StandinError(f"[HLS 200-10] '{cmd}': no open project. Please use 'open_project' first.")
        return self.project

    def _need_solution(self, cmd: str) -> Solution:
        self._need_project(cmd)
        if self.solution is None:
            raise StandinError(f"[HLS 200-10] '{cmd}': no open solution. Please use 'open_solution' first.")
        return self.solution

    def _app_name(self) -> str:
        return "hls.app" if self.vitis else "vivado_hls.app"

    def _write_app(self) -> None:
        p = self.project
        if p is None:
            return
        files = "\n".join(
            f'        <file name="{_reports.xml_text(self._rel(path, tb))}" sc="0" '
            f'tb="{1 if tb else "false"}" '
            f'cflags="{_reports.xml_text(cf)}" csimflags="{_reports.xml_text(csf)}" blackbox="false"/>'
            for path, tb, cf, csf in p.files
        )
        sols = "".join(
            f'\n        <solution name="{d.name}" status=""/>'
            for d in sorted(p.dir.iterdir())
            if (d / f"{d.name}.aps").exists()
        )
        ns = "com.autoesl.autopilot.project"
        text = (
            f'<AutoPilot:project xmlns:AutoPilot="{ns}" projectType="C/C++" name="{p.name}" '
            f'top="{p.top or ""}">\n    <files>\n{files}\n    </files>\n'
            f"    <solutions>{sols}\n    </solutions>\n"
            '    <Simulation argv="">\n        <SimFlow name="csim" setup="false" optimizeCompile="false" '
            'clean="false" ldflags="" mflags=""/>\n    </Simulation>\n</AutoPilot:project>\n'
        )
        (p.dir / self._app_name()).write_text(text)

    def _rel(self, path: Path, tb: bool) -> str:
        try:
            rel = path.resolve().relative_to(self.rt.cwd.resolve())
        except ValueError:
            return str(path)
        return f"../../{rel}" if tb else str(rel)

    def _write_aps(self) -> None:
        s = self.solution
        if s is None:
            return
        s.dir.mkdir(parents=True, exist_ok=True)
        cfg = "".join(
            f'\n        <config name="{k}" {" ".join(f"{o}={v!r}" for o, v in opts.items())}/>'
            for k, opts in s.config.items()
        )
        text = (
            '<AutoPilot:solution xmlns:AutoPilot="com.autoesl.autopilot.solution">\n'
            f"    <solutionInfo>\n        <name>{s.name}</name>\n"
            f"        <flowTarget>{s.flow_target}</flowTarget>\n"
            f"    </solutionInfo>\n    <senseInfo>\n        <part>{s.part or ''}</part>\n"
            f'        <clock period="{s.period_ns or ""}" name="{s.clock_name}" '
            f'uncertainty="{s.uncertainty or ""}"/>\n'
            f"    </senseInfo>\n    <config>{cfg}\n    </config>\n</AutoPilot:solution>\n"
        )
        (s.dir / f"{s.name}.aps").write_text(text)

    # -- commands -----------------------------------------------------------------------------
    def _register(self) -> None:
        r, d = self.rt.register, self.doc
        r(spec("open_project", "-reset -upgrade", (1, 1), doc=d), self.open_project)
        r(spec("close_project", "", doc=d), self.close_project)
        r(spec("set_top", "", (1, 1), doc=d), self.set_top)
        r(spec("add_files", "-blackbox= -cflags= -csimflags= -tb", (1, None), doc=d), self.add_files)
        sol_opts = "-reset -flow_target=" if self.vitis else "-reset"
        r(spec("open_solution", sol_opts, (1, 1), doc=d), self.open_solution)
        r(spec("close_solution", "", doc=d), self.close_solution)
        r(spec("set_part", "-board" if self.vitis else "-board -tool=", (1, 1), doc=d), self.set_part)
        r(spec("create_clock", "-period= -name=", (0, 0), required=["-period"], doc=d), self.create_clock)
        r(spec("set_clock_uncertainty", "", (1, 2), doc=d), self.set_clock_uncertainty)
        configs = {
            "config_compile": (
                "-enable_auto_rewind= -ignore_long_run_time -name_max_length= -no_signed_zeros "
                "-pipeline_loops= -pipeline_style= -pragma_strict_mode= -unsafe_math_optimizations"
            ),
            "config_schedule": "-enable_dsp_full_reg? -verbose"
            if self.vitis
            else "-effort= -enable_dsp_full_reg? -relax_ii_for_timing? -verbose",
            "config_array_partition": "-complete_threshold= -throughput_driven="
            if self.vitis
            else (
                "-auto_partition_threshold= -auto_promotion_threshold= "
                "-include_extern_globals -include_ports -maximum_size= -scalarize_all "
                "-throughput_driven="
            ),
            "config_interface": (
                "-clock_enable -default_slave_interface= -m_axi_addr64= -m_axi_alignment_byte_size= "
                "-m_axi_auto_max_ports= -m_axi_buffer_impl= -m_axi_conservative_mode= "
                "-m_axi_flush_mode= -m_axi_latency= -m_axi_max_bitwidth= -m_axi_max_data_size= "
                "-m_axi_max_read_burst_length= -m_axi_max_widen_bitwidth= "
                "-m_axi_max_write_burst_length= -m_axi_min_bitwidth= -m_axi_num_read_outstanding= "
                "-m_axi_num_write_outstanding= -m_axi_offset= -register_reset_num= "
                "-s_axilite_auto_restart_counter= -s_axilite_data64= -s_axilite_interrupt_mode= "
                "-s_axilite_mailbox= -s_axilite_status_regs= -s_axilite_sw_reset= "
                "-default_interface="
            )
            if self.vitis
            else (
                "-clock_enable -expose_global -m_axi_addr64 -m_axi_offset= -register_io= -trim_dangling_port"
            ),
            "config_export": (
                "-description= -display_name= -format= -ipname= -library= -output= -rtl= "
                "-taxonomy= -vendor= -version= -vivado_clock= -vivado_impl_strategy= "
                "-vivado_optimization_level= -vivado_phys_opt= -vivado_report_level= "
                "-vivado_synth_design_args= -vivado_synth_strategy= -flow= -ip_xdc_file= "
                "-ip_xdc_ooc_file= -cosim_trace_generation? -disable_deadlock_detection "
                "-enable_verbose_report -xo_type="
            )
            if self.vitis
            else (
                "-description= -display_name= -format= -ipname= -library= -rtl= -taxonomy= "
                "-use_netlist= -vendor= -version= -vivado_optimization_level= -vivado_phys_opt= "
                "-vivado_report_level="
            ),
            "config_rtl": (
                "-deadlock_detection= -header= -kernel_profile -module_auto_prefix -module_prefix= "
                "-mult_keep_attribute -register_all_io -register_reset_num= -reset= -reset_async "
                "-reset_level="
            )
            if self.vitis
            else (
                "-encoding= -header= -module_auto_prefix -module_prefix= -mult_keep_attribute "
                "-register_all_io -register_reset_num= -reset= -reset_async -reset_level="
            ),
            "config_dataflow": (
                "-default_channel= -disable_fifo_sizing_opt -fifo_depth= -override_user_fifo_depth= "
                "-scalar_fifo_depth= -start_fifo_depth= -strict_mode= -strict_stable_sync "
                "-task_level_fifo_depth="
            )
            if self.vitis
            else (
                "-default_channel= -disable_start_propagation -fifo_depth= "
                "-override_user_fifo_depth= -scalar_fifo_depth= -start_fifo_depth= -strict_mode= "
                "-task_level_fifo_depth="
            ),
            "config_op": "-impl= -latency= -precision=",
            "config_storage": "-auto_srl_max_bits= -auto_srl_max_depth= -impl=",
            "config_unroll": "-tripcount_threshold=",
        }
        for name, opts in configs.items():
            r(
                spec(name, opts, (0, 1) if name in ("config_op", "config_storage") else (0, 0), doc=d),
                functools.partial(self.config, name),
            )
        directives = {
            "set_directive_pipeline": (
                "-II= -off -rewind -style=" if self.vitis else "-II= -enable_flush -off -rewind",
                1,
            ),
            "set_directive_unroll": ("-factor= -off -skip_exit_check", 1),
            "set_directive_array_partition": (
                "-dim= -factor= -type=" if self.vitis else "-dim= -factor= -type= -include_ports -off",
                2,
            ),
            "set_directive_array_reshape": ("-dim= -factor= -type= -object", 2),
            "set_directive_interface": (
                "-bundle= -clock= -depth= -latency= -max_read_burst_length= "
                "-max_widen_bitwidth= -max_write_burst_length= -mode= "
                "-num_read_outstanding= -num_write_outstanding= -offset= -register "
                "-register_mode= -storage_impl= -storage_type=",
                2,
            ),
            "set_directive_dataflow": ("-disable_start_propagation", 1),
            "set_directive_inline": ("-off -recursive", 1),
            "set_directive_stream": ("-depth= -type= -off", 2),
            "set_directive_top": ("-name=", 1),
            "set_directive_bind_op": ("-op= -impl= -latency=", 2),
            "set_directive_bind_storage": ("-type= -impl= -latency=", 2),
            "set_directive_loop_tripcount": ("-min= -max= -avg=", 1),
            "set_directive_allocation": ("-limit= -type=", 2),
        }
        for name, (opts, npos) in directives.items():
            r(spec(name, opts, (1, npos), doc=d), functools.partial(self.directive, name))
        r(
            spec("csim_design", "-O -argv= -clean -compiler= -ldflags= -mflags= -profile -setup", doc=d),
            self.csim,
        )
        r(
            spec("csynth_design", "-dump_cfg -dump_post_cfg -synthesis_check" if self.vitis else "", doc=d),
            self.csynth,
        )
        r(
            spec(
                "cosim_design",
                "-O -argv= -compiled_library_dir= -coverage -disable_binary_tv "
                "-disable_deadlock_detection -enable_dataflow_profiling -enable_fifo_sizing "
                "-hwemu_trace_dir= "
                "-ldflags= -mflags= -random_stall -rtl= -setup -stable_axilite_update -tool= -trace_level= "
                "-wave_debug -user_stall=",
                doc=d,
            ),
            self.cosim,
        )
        fmt = "-description= -display_name= -flow= -format= -ipname= -library= -output= -rtl= -taxonomy= "
        fmt += "-vendor= -version=" if self.vitis else "-vendor= -version= -use_netlist= -evaluate="
        r(spec("export_design", fmt, doc=d), self.export)

    def open_project(self, p: Parsed) -> str:
        name = p.pos[0]
        folder = self.rt.cwd / name if not Path(name).is_absolute() else Path(name)
        if p.get("reset") and folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.project = Project(Path(name).name, folder)
        app = folder / self._app_name()
        if app.exists():  # reopen: the top and files the project already has
            text = app.read_text()
            m = re.search(r'\btop="([^"]*)"', text)
            self.project.top = m.group(1) if m and m.group(1) else None
            for fm in re.finditer(r'<file name="([^"]+)"[^>]*tb="([^"]+)"', text):
                rel, tb = fm.group(1), fm.group(2) in ("1", "true")
                path = self.rt.cwd / (rel[6:] if rel.startswith("../../") else rel)
                self.project.files.append((path, tb, "", ""))
        self.solution = None
        self.rt.info(
            "HLS 200-10", f"{'Creating and opening' if not app.exists() else 'Opening'} project '{folder}'."
        )
        self._write_app()
        return ""

    def close_project(self, p: Parsed) -> str:
        self.project = None
        self.solution = None
        return ""

    def set_top(self, p: Parsed) -> str:
        proj = self._need_project("set_top")
        proj.top = p.pos[0]
        self.rt.info("HLS 200-1510", f"Running: set_top {p.pos[0]}")
        self._write_app()
        return ""

    def add_files(self, p: Parsed) -> str:
        proj = self._need_project("add_files")
        tb = bool(p.get("tb"))
        for arg in p.pos:
            for name in self.rt.tcl.tk.splitlist(arg):
                path = Path(name) if Path(name).is_absolute() else self.rt.cwd / name
                if not path.exists():
                    raise StandinError(f"[HLS 200-70] Cannot find the file '{name}'.")
                proj.files = [f for f in proj.files if not (f[0] == path and f[1] == tb)]
                proj.files.append((path, tb, str(p.get("cflags", "")), str(p.get("csimflags", ""))))
                self.rt.info(
                    "HLS 200-10", f"Adding {'test bench' if tb else 'design'} file '{name}' to the project"
                )
        self._write_app()
        return ""

    def open_solution(self, p: Parsed) -> str:
        proj = self._need_project("open_solution")
        name = p.pos[0]
        target = p.get("flow_target", "vivado")
        if target not in ("vivado", "vitis"):
            raise StandinError(
                f"[HLS 200-101] 'open_solution': Invalid value '{target}' for option '-flow_target' "
                "(vivado, vitis)."
            )
        folder = proj.dir / name
        if p.get("reset") and folder.exists():
            shutil.rmtree(folder)
        existed = (folder / f"{name}.aps").exists()
        self.solution = Solution(name, folder, target)
        if existed:
            text = (folder / f"{name}.aps").read_text()
            m = re.search(r"<part>([^<]*)</part>", text)
            if m and m.group(1):
                self.solution.part = m.group(1)
            m = re.search(r'<clock period="([^"]+)"', text)
            if m and m.group(1):
                self.solution.period_ns = float(m.group(1))
        self.rt.info("HLS 200-10", f"{'Opening' if existed else 'Creating and opening'} solution '{folder}'.")
        self._write_aps()
        self._write_app()
        return ""

    def close_solution(self, p: Parsed) -> str:
        self.solution = None
        return ""

    def set_part(self, p: Parsed) -> str:
        s = self._need_solution("set_part")
        part = p.pos[0]
        if not re.match(r"^x[a-z]{1,3}\w+", part.lower()):
            raise StandinError(f"[HLS 200-1611] Part '{part}' is not installed or is not a valid part name.")
        s.part = part
        self.rt.info("HLS 200-10", f"Setting target device to '{part}'")
        self._write_aps()
        return ""

    def create_clock(self, p: Parsed) -> str:
        s = self._need_solution("create_clock")
        text = str(p.get("period")).strip()
        m = re.fullmatch(r"([\d.]+)\s*(MHz|mhz|ns)?", text)
        if not m:
            raise StandinError(f"[HLS 200-101] 'create_clock': Invalid value '{text}' for option '-period'.")
        value = float(m.group(1))
        s.period_ns = 1000.0 / value if (m.group(2) or "").lower() == "mhz" else value
        s.clock_name = str(p.get("name", "default"))
        self.rt.info("SYN 201-201", f"Setting up clock '{s.clock_name}' with a period of {s.period_ns:g}ns.")
        self._write_aps()
        return ""

    def set_clock_uncertainty(self, p: Parsed) -> str:
        s = self._need_solution("set_clock_uncertainty")
        if not re.fullmatch(r"[\d.]+%?", p.pos[0]):
            raise StandinError(f"[HLS 200-101] 'set_clock_uncertainty': Invalid value '{p.pos[0]}'.")
        s.uncertainty = p.pos[0]
        self.rt.info("SYN 201-201", f"Setting up clock uncertainty to {p.pos[0]}")
        self._write_aps()
        return ""

    def config(self, name: str, p: Parsed) -> str:
        s = self._need_solution(name)
        s.config.setdefault(name, {}).update(p.opts)
        self._write_aps()
        return ""

    def directive(self, name: str, p: Parsed) -> str:
        s = self._need_solution(name)
        s.directives.append((name, list(p.pos)))
        return ""

    # -- flows ---------------------------------------------------------------------------------
    def csim(self, p: Parsed) -> str:
        s = self._need_solution("csim_design")
        proj = self._need_project("csim_design")
        if not any(not tb for _, tb, _, _ in proj.files):
            raise StandinError("[SIM 211-4] No design source files found for C simulation.")
        report = s.dir / "csim" / "report"
        report.mkdir(parents=True, exist_ok=True)
        (report / f"{proj.top}_csim.log").write_text(
            "INFO: [hil-standin] C simulation not compiled by the stand-in\n"
        )
        self.rt.warning("hil-standin", "csim_design: the stand-in does not compile or run the test bench")
        return ""

    def _uncertainty_ns(self, s: Solution) -> float:
        period = s.period_ns or 10.0
        text = s.uncertainty or ("27%" if self.vitis else "12.5%")
        return period * float(text[:-1]) / 100.0 if text.endswith("%") else float(text)

    def _top_function(self, cmd: str) -> tuple[_cpp.Function, dict[str, _cpp.Function], _cpp.Types]:
        proj = self._need_project(cmd)
        if not proj.top:
            raise StandinError("[HLS 200-1054] The top function is not set. Please use 'set_top'.")
        design = [f for f, tb, _, _ in proj.files if not tb and f.is_file()]
        if not design:
            raise StandinError("[HLS 200-70] No design source files in the project.")
        funcs = _cpp.functions(design)
        if proj.top not in funcs:
            raise StandinError(
                f"[HLS 214-133] Cannot find the top function '{proj.top}' in the design. "
                "Possible causes are: (1) the top function name is misspelled; (2) the top "
                "function is nonexistent or declared as static."
            )
        return funcs[proj.top], funcs, _cpp.Types(design)

    def csynth(self, p: Parsed) -> str:
        s = self._need_solution("csynth_design")
        proj = self._need_project("csynth_design")
        if s.part is None:
            raise StandinError("[HLS 200-1611] No part has been set for the solution. Please use 'set_part'.")
        top, funcs, types = self._top_function("csynth_design")
        if s.period_ns is None:
            s.period_ns = 10.0
            self.rt.info("HLS 200-1611", "Setting the default clock period of 10ns.")
        self.rt.info("HLS 200-10", f"Analyzing design file '{top.file.name}' ...")
        ports = _cpp.top_ports(top, types, self.vitis)
        # a plain function keeps its name as RTL module; a template instance gets a mangled ``_s`` name
        subs = [s if s in funcs else f"{s}_s" for s in _cpp.sub_functions(top, funcs)] or ["body_s"]
        fig = _reports.HlsFigures()
        unc = self._uncertainty_ns(s)
        report = s.dir / "syn" / "report"
        report.mkdir(parents=True, exist_ok=True)
        common: dict[str, Any] = dict(
            top=top.name,
            part=s.part,
            period=s.period_ns,
            uncertainty=unc,
            release=self.rt.release,
            vitis=self.vitis,
            ports=ports,
        )
        (report / f"{top.name}_csynth.rpt").write_text(
            _reports.csynth_rpt(project=proj.name, solution=s.name, subs=subs, fig=fig, **common)
        )
        (report / f"{top.name}_csynth.xml").write_text(_reports.csynth_xml(fig=fig, **common))
        if self.vitis:
            (report / "csynth.rpt").write_text(
                _reports.synthesis_summary_rpt(
                    top=top.name,
                    project=proj.name,
                    solution=s.name,
                    part=s.part,
                    period=s.period_ns,
                    release=self.rt.release,
                    ports=ports,
                    subs=subs,
                    fig=fig,
                )
            )
            (report / "csynth.xml").write_text(_reports.csynth_xml(fig=fig, **common))
        n = max(1, len(subs))
        sub_fig = _reports.HlsFigures(
            lut=fig.lut // n, ff=fig.ff // n, dsp=fig.dsp // n, latency=1, interval=1
        )
        empty = _cpp.TopPorts([], [], "ap_ctrl_hs")
        for sub in subs:
            module = sub
            (report / f"{module}_csynth.rpt").write_text(
                _reports.csynth_rpt(
                    project=proj.name,
                    solution=s.name,
                    subs=[],
                    fig=sub_fig,
                    **{**common, "top": module, "ports": empty},
                )
            )
            (report / f"{module}_csynth.xml").write_text(
                _reports.csynth_xml(fig=sub_fig, module=module, **{**common, "ports": empty})
            )
        verilog = s.dir / "syn" / "verilog"
        vhdl = s.dir / "syn" / "vhdl"
        verilog.mkdir(parents=True, exist_ok=True)
        vhdl.mkdir(parents=True, exist_ok=True)
        (verilog / f"{top.name}.v").write_text(_verilog_top(top.name, ports, subs, self.rt.release))
        for sub in subs:
            (verilog / f"{sub}.v").write_text(
                f"// stand-in module generated by hil-standin (not real RTL)\n`timescale 1 ns / 1 ps\n"
                f"module {sub} (input ap_clk, input ap_rst);\nendmodule\n"
            )
        (vhdl / f"{top.name}.vhd").write_text(f"-- stand-in VHDL for {top.name} (hil-standin)\n")
        s.synthesized = True
        s.ports = ports
        self.rt.info(
            "HLS 200-111",
            f"Finished Command csynth_design; top '{top.name}', part '{s.part}', clock {s.period_ns:g} ns.",
        )
        self.rt.info("HLS 200-790", "**** Loop Constraint Status: All loop constraints were satisfied.")
        return ""

    def cosim(self, p: Parsed) -> str:
        s = self._need_solution("cosim_design")
        proj = self._need_project("cosim_design")
        if not s.synthesized:
            raise StandinError(
                "[COSIM 212-302] Cannot find the synthesized RTL design. Please run csynth_design first."
            )
        sim = s.dir / "sim"
        (sim / "verilog").mkdir(parents=True, exist_ok=True)
        (sim / "report").mkdir(parents=True, exist_ok=True)
        (sim / "verilog" / f"{proj.top}.tcl").write_text("log_wave -r /\nrun all\nquit\n")
        (sim / "verilog" / "run_sim.tcl").write_text("# hil-standin: no RTL simulation\n")
        (sim / "report" / f"{proj.top}_cosim.rpt").write_text(
            "Result\n  RTL Status  Latency\n  Verilog Pass (stand-in: not simulated)\n"
        )
        self.rt.warning("hil-standin", "cosim_design: the stand-in does not simulate RTL")
        return ""

    def export(self, p: Parsed) -> str:
        s = self._need_solution("export_design")
        proj = self._need_project("export_design")
        formats = (
            ("ip_catalog", "sysgen", "syn_dcp", "xo") if self.vitis else ("ip_catalog", "sysgen", "syn_dcp")
        )
        fmt = str(p.get("format", s.config.get("config_export", {}).get("format", "ip_catalog")))
        if fmt not in formats:
            raise StandinError(
                f"[IMPL 213-8] Invalid value '{fmt}' for option '-format' (allowed: {', '.join(formats)})."
            )
        if fmt == "xo" and s.flow_target != "vitis":
            self.rt.warning("HLS 200-1998", "Exporting an .xo from a Vivado IP flow solution.")
        cfg = s.config.get("config_export", {})
        version = str(p.get("version", cfg.get("version", "1.0")))
        m = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
        if not m:
            raise StandinError(
                f"[IMPL 213-8] Invalid version '{version}': expected <major>.<minor>[.<revision>]."
            )
        ip_version, revision = f"{m.group(1)}.{m.group(2)}", m.group(3) or "0"
        vendor = str(p.get("vendor", cfg.get("vendor", "xilinx.com")))
        library = str(p.get("library", cfg.get("library", "hls")))
        name = str(p.get("ipname", cfg.get("ipname", proj.top)))
        rtl = str(p.get("rtl", cfg.get("rtl", "verilog")))
        if rtl not in ("verilog", "vhdl"):
            raise StandinError(f"[IMPL 213-8] Invalid value '{rtl}' for option '-rtl' (verilog, vhdl).")
        flow = p.get("flow")
        if flow is not None and flow not in ("none", "syn", "impl"):
            raise StandinError(f"[IMPL 213-8] Invalid value '{flow}' for option '-flow' (none, syn, impl).")
        if not s.synthesized or s.ports is None:
            raise StandinError(
                "[IMPL 213-28] Failed to generate IP: no synthesized design. Please run csynth_design first."
            )
        impl = s.dir / "impl"
        ipdir = impl / "ip"
        if ipdir.exists():
            shutil.rmtree(ipdir)
        (ipdir / "hdl" / "verilog").mkdir(parents=True)
        (ipdir / "hdl" / "vhdl").mkdir(parents=True)
        for v in (s.dir / "syn" / "verilog").glob("*.v"):
            shutil.copy(v, ipdir / "hdl" / "verilog" / v.name)
        (ipdir / "hdl" / "vhdl" / f"{proj.top}.vhd").write_text(f"-- stand-in VHDL for {proj.top}\n")
        xml = component_xml(
            vendor=vendor,
            library=library,
            name=name,
            version=ip_version,
            revision=revision,
            top=str(proj.top),
            ports=s.ports,
            part=s.part or "",
            period=s.period_ns or 10.0,
            display=str(p.get("display_name", cfg.get("display_name", name))),
            description=str(
                p.get(
                    "description",
                    cfg.get(
                        "description",
                        "An IP generated by Vitis HLS" if self.vitis else "An IP generated by Vivado HLS",
                    ),
                )
            ),
            taxonomy=str(
                p.get("taxonomy", cfg.get("taxonomy", "/VITIS_HLS_IP" if self.vitis else "/Vivado_HLS_IP"))
            ),
        )
        (ipdir / "component.xml").write_text(xml)
        (ipdir / "run_ippack.tcl").write_text("# hil-standin: IP packaged by the stand-in\n")
        archive = ipdir / f"{vendor.replace('.', '_')}_{library}_{name}_{ip_version.replace('.', '_')}.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for f in sorted(ipdir.rglob("*")):
                if f.is_file() and f != archive:
                    z.write(f, f.relative_to(ipdir))
        out = p.get("output", cfg.get("output"))
        if fmt == "xo":
            dest = Path(str(out)) if out else impl / f"{proj.top}.xo"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(archive, dest)
        elif out:
            dest = Path(str(out))
            if dest.suffix != ".zip":
                dest = dest / archive.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(archive, dest)
        elif self.vitis:
            shutil.copy(archive, impl / "export.zip")
        if flow in ("syn", "impl"):
            rep = impl / "report" / rtl
            rep.mkdir(parents=True, exist_ok=True)
            (rep / f"{proj.top}_export.rpt").write_text(
                f"Implementation tool: Xilinx Vivado v.{self.rt.release}\nProject: {proj.name}\n"
                f"Solution: {s.name}\nDevice target: {s.part}\n"
                f"#=== Post-{'Implementation' if flow == 'impl' else 'Synthesis'} Resource usage ===\n"
                "SLICE:            0\nLUT:           1393\nFF:            6375\nDSP:             73\n"
                "BRAM:             0\n"
                "URAM:             0\nSRL:             48\n"
            )
        self.rt.info(
            "IMPL 213-8",
            f"Exporting RTL as a Vivado IP: {vendor}:{library}:{name}:{ip_version} (format {fmt}).",
        )
        return ""


def _verilog_top(top: str, ports: _cpp.TopPorts, subs: list[str], release: str) -> str:
    decl = []
    for p in ports.ports:
        rng = f"[{p.bits - 1}:0] " if p.bits > 1 else ""
        decl.append(f"    {'input' if p.dir == 'in' else 'output'} {rng}{p.name}")
    insts = "\n".join(f"{s} {s}_U0 (.ap_clk(ap_clk), .ap_rst(~ap_rst_n));" for s in subs)
    return (
        f"// ==============================================================\n"
        f"// Generated by hil-standin for HLS {release} (NOT real RTL: a port-accurate shell)\n"
        f"// ==============================================================\n`timescale 1 ns / 1 ps\n\n"
        f'(* CORE_GENERATION_INFO="{top},hls_ip_{release.replace(".", "_")},{{HLS_INPUT_TYPE=cxx}}" *)\n'
        f"module {top} (\n" + ",\n".join(decl) + "\n);\n\n" + insts + "\n\nendmodule\n"
    )


def component_xml(
    *,
    vendor: str,
    library: str,
    name: str,
    version: str,
    revision: str,
    top: str,
    ports: _cpp.TopPorts,
    part: str,
    period: float,
    display: str,
    description: str,
    taxonomy: str,
) -> str:
    """IP-XACT (IEEE 1685-2009, ``spirit:`` namespace, Xilinx extensions) as Vivado's IP packager writes."""
    x = _reports.xml_text
    bus = []
    axis = [i.name for i in ports.interfaces if i.kind == "axis"]
    for intf in ports.interfaces:
        if intf.kind == "axis":
            btype, abstr = ("axis", "axis_rtl")
        elif intf.kind == "clock":
            btype, abstr = ("clock", "clock_rtl")
        elif intf.kind == "reset":
            btype, abstr = ("reset", "reset_rtl")
        else:
            btype, abstr = ("acc_handshake", "acc_handshake_rtl")
        lib = "signal" if intf.kind in ("clock", "reset") else "interface"
        mode = "<spirit:master/>" if intf.mode == "master" else "<spirit:slave/>"
        maps = "".join(
            f"\n          <spirit:portMap><spirit:logicalPort><spirit:name>{lg}</spirit:name>"
            "</spirit:logicalPort>"
            f"<spirit:physicalPort><spirit:name>{ph}</spirit:name></spirit:physicalPort></spirit:portMap>"
            for lg, ph in intf.ports.items()
        )
        params = []
        if intf.kind == "clock":
            params = [
                ("ASSOCIATED_BUSIF", ":".join(axis)),
                ("ASSOCIATED_RESET", "ap_rst_n"),
                ("FREQ_HZ", str(round(1e9 / period))),
            ]
        elif intf.kind == "reset":
            params = [("POLARITY", "ACTIVE_LOW")]
        elif intf.kind == "axis":
            params = [
                ("TDATA_NUM_BYTES", str(intf.tdata_bits // 8)),
                ("HAS_TLAST", "1" if intf.has_tlast else "0"),
            ]
        ptext = "".join(
            f"\n        <spirit:parameter><spirit:name>{k}</spirit:name>"
            f'<spirit:value spirit:id="BUSIFPARAM_VALUE.{intf.name.upper()}.{k}">{x(v)}</spirit:value>'
            f"</spirit:parameter>"
            for k, v in params
        )
        bus.append(
            f"    <spirit:busInterface>\n      <spirit:name>{intf.name}</spirit:name>\n"
            f'      <spirit:busType spirit:vendor="xilinx.com" spirit:library="{lib}" spirit:name="{btype}" '
            f'spirit:version="1.0"/>\n      <spirit:abstractionType spirit:vendor="xilinx.com" '
            f'spirit:library="{lib}" spirit:name="{abstr}" spirit:version="1.0"/>\n      {mode}\n'
            f"      <spirit:portMaps>{maps}\n      </spirit:portMaps>\n      <spirit:parameters>{ptext}\n"
            f"      </spirit:parameters>\n    </spirit:busInterface>"
        )
    port_xml = []
    for p in ports.ports:
        vec = (
            (
                f'<spirit:vector><spirit:left spirit:format="long">{p.bits - 1}</spirit:left>'
                f'<spirit:right spirit:format="long">0</spirit:right></spirit:vector>'
            )
            if p.bits > 1
            else ""
        )
        port_xml.append(
            f"      <spirit:port><spirit:name>{p.name}</spirit:name><spirit:wire><spirit:direction>"
            f"{p.dir}</spirit:direction>{vec}<spirit:wireTypeDefs><spirit:wireTypeDef>"
            f"<spirit:typeName>std_logic{'_vector' if vec else ''}</spirit:typeName>"
            f"</spirit:wireTypeDef></spirit:wireTypeDefs></spirit:wire></spirit:port>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<spirit:component xmlns:xilinx="http://www.xilinx.com" '
        'xmlns:spirit="http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"  <spirit:vendor>{x(vendor)}</spirit:vendor>\n  <spirit:library>{x(library)}</spirit:library>\n"
        f"  <spirit:name>{x(name)}</spirit:name>\n  <spirit:version>{x(version)}</spirit:version>\n"
        "  <spirit:busInterfaces>\n" + "\n".join(bus) + "\n  </spirit:busInterfaces>\n"
        "  <spirit:model>\n    <spirit:views/>\n    <spirit:ports>\n"
        + "\n".join(port_xml)
        + "\n    </spirit:ports>\n  </spirit:model>\n"
        f"  <spirit:description>{x(description)}</spirit:description>\n"
        "  <spirit:vendorExtensions>\n    <xilinx:coreExtensions>\n      <xilinx:supportedFamilies>\n"
        f'        <xilinx:family xilinx:lifeCycle="Production">{x(part)}</xilinx:family>\n'
        "      </xilinx:supportedFamilies>\n      <xilinx:taxonomies>\n"
        f"        <xilinx:taxonomy>{x(taxonomy)}</xilinx:taxonomy>\n      </xilinx:taxonomies>\n"
        f"      <xilinx:displayName>{x(display)}</xilinx:displayName>\n"
        f"      <xilinx:coreRevision>{x(revision)}</xilinx:coreRevision>\n"
        f"      <xilinx:hilStandinTop>{x(top)}</xilinx:hilStandinTop>\n"
        "    </xilinx:coreExtensions>\n  </spirit:vendorExtensions>\n</spirit:component>\n"
    )
