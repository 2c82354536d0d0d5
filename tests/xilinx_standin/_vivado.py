"""Vivado's Tcl commands (project, IP integrator, runs, non-project flow, reports).

Option tables: UG835 "Vivado Design Suite Tcl Command Reference Guide" (2020.1-2025.1; the tables below
are the union of the releases' documented options unless a comment says otherwise). Behaviour modelled
after UG994 (IP integrator), UG893/UG904 (project runs, implementation) and UG896 (IP catalog).

State lives in Python objects; the files on disk are where Vivado puts them: ``<dir>/<name>.xpr``,
``<name>.srcs/sources_1/bd/<bd>/<bd>.bd``, ``<name>.gen/sources_1/bd/<bd>/...`` from 2020.2 (``.srcs``
before), ``<name>.runs/<run>/...``. Run trees hold Vivado's own report files as decoys whose numbers
differ from what ``report_utilization``/``report_timing_summary`` give for the same design.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.xilinx_standin import _hwh, _reports
from tests.xilinx_standin._catalog import (
    AXIMM,
    AXIS,
    BOARD_PART_NAMES,
    IntfPin,
    IpDef,
    Pin,
    board_parts,
    builtin_catalog,
    device,
    known_part,
    release_key,
)
from tests.xilinx_standin._reports import Util
from tests.xilinx_standin._tcl_runtime import Parsed, Runtime, StandinError, VivadoMessages, spec

UG835 = "UG835 Vivado Design Suite Tcl Command Reference"
PS_NAMES = ("processing_system7", "zynq_ultra_ps_e")
HDL_SUFFIXES = (".v", ".sv", ".vh", ".vhd", ".vhdl")
IMPL_STEPS = (
    "opt_design",
    "power_opt_design",
    "place_design",
    "post_place_power_opt_design",
    "phys_opt_design",
    "route_design",
    "post_route_phys_opt_design",
    "write_bitstream",
    "write_device_image",
)

#: post-synthesis figures of the platform IP (fixed, plausible for the IP's default configuration)
PLATFORM_UTIL = {
    "axi_dma": Util(1476, 88, 61, 2157, 1, 2),
    "axi_interconnect": Util(712, 60, 0, 873),
    "smartconnect": Util(1588, 64, 46, 2290),
    "proc_sys_reset": Util(18, 0, 1, 34),
    "processing_system7": Util(0, 0, 0, 0),
    "zynq_ultra_ps_e": Util(0, 0, 0, 0),
}
#: HLS csynth -> post-synthesis ratios (from the 2020.1 hls4ml pair: 2532 -> 1526 LUT, 7969 -> 2428 FF)
LUT_RATIO, FF_RATIO = 0.6, 0.3
DECOY_RATIO, DECOY_OFFSET = 1.37, 111


# ------------------------------------------------------------------------------------------------
# objects
# ------------------------------------------------------------------------------------------------
@dataclass
class Fileset:
    name: str
    kind: str  # SourceSet, Constrs, SimulationSrcs, Utils
    files: list[Path] = field(default_factory=list)
    props: dict[str, str] = field(default_factory=dict)


@dataclass
class Run:
    name: str
    synth: bool
    parent: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    launched: bool = False
    step: str = ""  # last step completed

    @property
    def status(self) -> str:
        return f"{self.step} Complete!" if self.step else "Not started"


@dataclass
class Cell:
    name: str
    parent: str  # "" for the BD root, "/hier_0" inside a hierarchy
    ipdef: IpDef | None  # None: a hierarchy
    config: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{self.parent}/{self.name}"

    def param(self, key: str) -> str | None:
        for k, v in self.config.items():
            if k.lower() == key.lower():
                return v
        if self.ipdef is not None:
            for k, v in self.ipdef.defaults.items():
                if k.lower() == key.lower():
                    return v
        return None

    def _enabled(self, enable: tuple[str, str] | None) -> bool:
        return enable is None or (self.param(enable[0]) or "0") == enable[1]

    def intf_pins(self) -> list[IntfPin]:
        if self.ipdef is None:
            return []
        pins = [p for p in self.ipdef.intf_pins if self._enabled(p.enable)]
        if self.ipdef.name in ("smartconnect", "axi_interconnect"):
            si, mi = int(self.param("NUM_SI") or 1), int(self.param("NUM_MI") or 1)
            pins += [IntfPin(f"S{i:02d}_AXI", "Slave", AXIMM) for i in range(si)]
            pins += [IntfPin(f"M{i:02d}_AXI", "Master", AXIMM) for i in range(mi)]
        return pins

    def pins(self) -> list[Pin]:
        if self.ipdef is None:
            return []
        pins = [p for p in self.ipdef.pins if self._enabled(p.enable)]
        if self.ipdef.name == "xlconcat":
            n = int(self.param("NUM_PORTS") or 2)
            pins = [p for p in pins if not p.name.startswith("In") or int(p.name[2:]) < n]
        if self.ipdef.name == "axi_interconnect":
            si, mi = int(self.param("NUM_SI") or 1), int(self.param("NUM_MI") or 2)
            for i in range(si):
                pins += [Pin(f"S{i:02d}_ACLK", "I", "clk"), Pin(f"S{i:02d}_ARESETN", "I", "rst")]
            for i in range(mi):
                pins += [Pin(f"M{i:02d}_ACLK", "I", "clk"), Pin(f"M{i:02d}_ARESETN", "I", "rst")]
        return pins


@dataclass
class Port:
    name: str
    dir: str
    type: str = "data"
    intf_vlnv: str | None = None  # set for interface ports
    mode: str = ""
    freq_hz: str | None = None

    @property
    def path(self) -> str:
        return f"/{self.name}"


@dataclass
class BlockDesign:
    name: str
    file: Path
    cells: dict[str, Cell] = field(default_factory=dict)  # path -> cell
    ports: dict[str, Port] = field(default_factory=dict)
    nets: list[dict[str, Any]] = field(default_factory=list)  # {"name", "members": set of endpoint paths}
    intf_nets: list[dict[str, Any]] = field(default_factory=list)  # {"name", "a", "b"}
    addresses: dict[str, dict[str, Any]] = field(default_factory=dict)  # slave endpoint -> segment
    validated: bool = False


@dataclass
class Design:
    """An open design (``current_design``): post-synthesis or post-route netlist of ``top``."""

    name: str
    top: str
    part: str
    state: str  # Synthesized, Placed, Routed
    hierarchy: list[tuple[int, str, str, Util]]
    clocks: list[tuple[str, float]]
    run: str | None = None


@dataclass
class Project:
    name: str
    dir: Path
    part: str
    in_memory: bool = False
    props: dict[str, str] = field(default_factory=dict)
    filesets: dict[str, Fileset] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    bds: dict[str, BlockDesign] = field(default_factory=dict)

    @property
    def xpr(self) -> Path:
        return self.dir / f"{self.name}.xpr"

    def sub(self, kind: str) -> Path:
        return self.dir / f"{self.name}.{kind}"


# ------------------------------------------------------------------------------------------------
# the tool
# ------------------------------------------------------------------------------------------------
class VivadoTool:
    """The Vivado process: projects, IP catalog, block designs, runs, designs."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.release = rt.release
        self.gen_dir_era = release_key(self.release) >= (2020, 2)
        self.catalog: list[IpDef] = builtin_catalog(self.release)
        self.project: Project | None = None
        self.bd: BlockDesign | None = None
        self.design: Design | None = None
        self.params: dict[str, str] = {}
        self._group_depth = 0
        self._register()

    # -- small helpers --------------------------------------------------------------------------
    def _split(self, value: str) -> list[str]:
        return [str(x) for x in self.rt.tcl.tk.splitlist(value)]

    def _flat(self, values: list[str]) -> list[str]:
        out: list[str] = []
        for v in values:
            out += self._split(v)
        return out

    def _need_project(self) -> Project:
        if self.project is None:
            raise StandinError(
                "[Common 17-53] User Exception: No open project. Please create or open a "
                "project before executing this command."
            )
        return self.project

    def _implicit_project(self, part: str = "") -> Project:
        if self.project is None:
            self.project = self._new_project("project_1", self.rt.cwd, part, in_memory=True)
        return self.project

    def _need_bd(self) -> BlockDesign:
        if self.bd is None:
            raise StandinError(
                "[BD 5-101] No block design is open. Please create or open a block design first."
            )
        return self.bd

    def _need_design(self) -> Design:
        if self.design is None:
            raise StandinError(
                "[Common 17-53] User Exception: No open design. Please open an elaborated, "
                "synthesized or implemented design before executing this command."
            )
        return self.design

    def _path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else Path.cwd() / p

    def _new_project(self, name: str, folder: Path, part: str, in_memory: bool = False) -> Project:
        proj = Project(name, folder, part, in_memory)
        proj.filesets = {
            "sources_1": Fileset("sources_1", "SourceSet"),
            "constrs_1": Fileset("constrs_1", "Constrs"),
            "sim_1": Fileset("sim_1", "SimulationSrcs"),
            "utils_1": Fileset("utils_1", "Utils"),
        }
        proj.runs = {
            "synth_1": Run("synth_1", True, props={"PART": part}),
            "impl_1": Run("impl_1", False, "synth_1", props={"PART": part}),
        }
        proj.props = {
            "NAME": name,
            "DIRECTORY": str(folder),
            "PART": part,
            "BOARD_PART": "",
            "IP_REPO_PATHS": "",
            "TARGET_LANGUAGE": "Verilog",
            "DEFAULT_LIB": "xil_defaultlib",
        }
        return proj

    def _write_xpr(self) -> None:
        p = self.project
        if p is None or p.in_memory:
            return
        state = {
            "name": p.name,
            "part": p.part,
            "props": p.props,
            "filesets": {k: [str(f) for f in fs.files] for k, fs in p.filesets.items()},
            "runs": {k: r.step for k, r in p.runs.items()},
        }
        files = "".join(
            f'\n      <File Path="{_reports.xml_text(str(f))}"/>' for f in p.filesets["sources_1"].files
        )
        p.xpr.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!-- Product Version: Vivado v'
            f"{self.release} (64-bit), written by the hil stand-in -->\n"
            f'<Project Version="7" Minor="{release_key(self.release)[1]}" Path="{p.xpr}">\n'
            f'  <Configuration>\n    <Option Name="Part" Val="{p.part}"/>\n'
            f'    <Option Name="BoardPart" Val="{p.props.get("BOARD_PART", "")}"/>\n  </Configuration>\n'
            f'  <FileSets>\n    <FileSet Name="sources_1" Type="DesignSrcs">{files}\n'
            "    </FileSet>\n  </FileSets>\n"
            f"  <!-- hil-standin-state {json.dumps(state)} -->\n</Project>\n"
        )

    # -- registration -----------------------------------------------------------------------------
    def _register(self) -> None:
        r, d = self.rt.register, UG835
        r(
            spec("create_project", "-part= -force -in_memory -ip -rtl_kernel", (0, 2), doc=d),
            self.create_project,
        )
        r(spec("open_project", "-read_only -part=", (1, 1), doc=d), self.open_project)
        r(spec("close_project", "-delete", doc=d), self.close_project)
        r(
            spec(
                "save_project_as",
                "-force -scan_for_includes -exclude_run_results -include_local_ip_cache",
                (1, 2),
                doc=d,
            ),
            lambda p: "",
        )
        r(spec("current_project", "", (0, 1), doc=d), self.current_project)
        r(spec("get_projects", "-regexp -nocase -filter= -of_objects=", (0, None), doc=d), self.get_projects)
        r(spec("set_property", "-dict= -objects= -name= -value=", (0, None), doc=d), self.set_property)
        r(spec("get_property", "-min -max -object=", (1, 2), doc=d), self.get_property)
        r(
            spec("report_property", "-all -class= -return_string -file= -append -regexp", (0, 2), doc=d),
            self.report_property,
        )
        r(spec("list_property", "-class= -regexp", (0, 2), doc=d), self.list_property)
        r(spec("set_param", "", (2, 2), doc=d), self.set_param)
        r(spec("get_param", "", (1, 1), doc=d), lambda p: self.params.get(p.pos[0], ""))
        r(
            spec(
                "set_msg_config",
                "-id= -string= -severity= -limit= -new_severity= -suppress -regexp -quiet_level "
                "-ruleid= -source= -count -reset -default_severity",
                doc=d,
            ),
            lambda p: "",
        )
        r(spec("get_parts", "-regexp -nocase -filter= -of_objects=", (0, None), doc=d), self.get_parts)
        r(
            spec(
                "get_board_parts",
                "-regexp -nocase -filter= -of_objects= -latest_file_version -latest_hw_revision",
                (0, None),
                doc=d,
            ),
            self.get_board_parts,
        )
        r(
            spec(
                "get_boards", "-regexp -nocase -filter= -of_objects= -latest_file_version", (0, None), doc=d
            ),
            self.get_boards,
        )
        r(
            spec(
                "update_ip_catalog",
                "-rebuild -scan_changes -add_ip= -delete_ip= -disable_ip= -enable_ip= "
                "-repo_path= -create_index -add_interface= -update_module_ref -quiet_level",
                doc=d,
            ),
            self.update_ip_catalog,
        )
        r(
            spec(
                "get_ipdefs",
                "-regexp -nocase -filter= -of_objects= -all -name= -vlnv= -include_deprecated",
                (0, None),
                doc=d,
            ),
            self.get_ipdefs,
        )
        # block designs
        r(
            spec("create_bd_design", "-dir= -cell= -mode= -bdsource= -srcset=", (1, 1), doc=d),
            self.create_bd_design,
        )
        r(spec("open_bd_design", "", (1, 1), doc=d), self.open_bd_design)
        r(spec("close_bd_design", "", (1, 1), doc=d), self.close_bd_design)
        r(spec("current_bd_design", "", (0, 1), doc=d), self.current_bd_design)
        r(
            spec("get_bd_designs", "-regexp -nocase -filter= -of_objects=", (0, None), doc=d),
            self.get_bd_designs,
        )
        r(spec("current_bd_instance", "", (0, 1), doc=d), lambda p: "/")
        r(spec("save_bd_design", "", (0, 1), doc=d), self.save_bd_design)
        r(spec("validate_bd_design", "-force -design=", doc=d), self.validate_bd_design)
        r(
            spec(
                "create_bd_cell",
                "-type= -vlnv= -reference= -dir= -prop_name=",
                (1, 1),
                required=["-type"],
                doc=d,
            ),
            self.create_bd_cell,
        )
        r(
            spec("get_bd_cells", "-regexp -hierarchical -nocase -filter= -of_objects=", (0, None), doc=d),
            self.get_bd_cells,
        )
        r(
            spec("get_bd_pins", "-regexp -hierarchical -nocase -filter= -of_objects=", (0, None), doc=d),
            lambda p: self.get_pins(p, intf=False),
        )
        r(
            spec("get_bd_intf_pins", "-regexp -hierarchical -nocase -filter= -of_objects=", (0, None), doc=d),
            lambda p: self.get_pins(p, intf=True),
        )
        r(
            spec("get_bd_ports", "-regexp -nocase -filter= -of_objects=", (0, None), doc=d),
            lambda p: self.get_ports(p, intf=False),
        )
        r(
            spec("get_bd_intf_ports", "-regexp -nocase -filter= -of_objects=", (0, None), doc=d),
            lambda p: self.get_ports(p, intf=True),
        )
        r(
            spec(
                "get_bd_nets",
                "-regexp -hierarchical -nocase -filter= -of_objects= -boundary_type=",
                (0, None),
                doc=d,
            ),
            lambda p: self.get_nets(p, intf=False),
        )
        r(
            spec(
                "get_bd_intf_nets",
                "-regexp -hierarchical -nocase -filter= -of_objects= -boundary_type=",
                (0, None),
                doc=d,
            ),
            lambda p: self.get_nets(p, intf=True),
        )
        r(
            spec(
                "create_bd_port",
                "-dir= -from= -to= -type= -freq_hz= -clk_domain= -polarity=",
                (1, 1),
                required=["-dir"],
                doc=d,
            ),
            self.create_bd_port,
        )
        r(
            spec("create_bd_intf_port", "-mode= -vlnv=", (1, 1), required=["-mode", "-vlnv"], doc=d),
            self.create_bd_intf_port,
        )
        r(
            spec("make_bd_pins_external", "-name=", (1, None), doc=d),
            lambda p: self.make_external(p, intf=False),
        )
        r(
            spec("make_bd_intf_pins_external", "-name=", (1, None), doc=d),
            lambda p: self.make_external(p, intf=True),
        )
        r(spec("connect_bd_net", "-net= -boundary_type=", (0, None), doc=d), self.connect_bd_net)
        r(spec("connect_bd_intf_net", "-intf_net= -boundary_type=", (0, 2), doc=d), self.connect_bd_intf_net)
        r(spec("disconnect_bd_net", "", (1, None), doc=d), lambda p: "")
        r(
            spec("apply_bd_automation", "-rule= -dict= -config= -opts=", (0, 1), required=["-rule"], doc=d),
            self.apply_bd_automation,
        )
        r(
            spec(
                "assign_bd_address",
                "-target_address_space= -offset= -range= -external -force -export_to_file= "
                "-import_from_file= -boundary -export_gui_to_file= -dict= -combine_segments",
                (0, None),
                doc=d,
            ),
            self.assign_bd_address,
        )
        r(
            spec(
                "get_bd_addr_segs",
                "-regexp -hierarchical -nocase -filter= -of_objects= -excluded -addressables -addressing",
                (0, None),
                doc=d,
            ),
            self.get_bd_addr_segs,
        )
        r(
            spec(
                "get_bd_addr_spaces", "-regexp -hierarchical -nocase -filter= -of_objects=", (0, None), doc=d
            ),
            self.get_bd_addr_spaces,
        )
        r(spec("group_bd_cells", "-prop_name= -prop_value=", (1, None), doc=d), self.group_bd_cells)
        r(spec("delete_bd_objs", "", (1, None), doc=d), self.delete_bd_objs)
        r(spec("startgroup", "-try", doc=d), self.startgroup)
        r(spec("endgroup", "", doc=d), self.endgroup)
        r(
            spec("regenerate_bd_layout", "-hierarchy= -layout_file= -layout_string= -routing", (0, 1), doc=d),
            lambda p: "",
        )
        r(
            spec(
                "make_wrapper",
                # UG835 2022.2+: ``make_wrapper [-top] [-testbench] [-inst_template] [-fileset <arg>]
                # [-import] [-force] <files>``; older releases (and most scripts) spell it ``-files <arg>``
                "-files= -top -testbench -inst_template -fileset= -import -force",
                (0, 1),
                doc=d,
            ),
            self.make_wrapper,
        )
        r(spec("generate_target", "-force -of_objects=", (1, 2), doc=d), self.generate_target)
        r(
            spec(
                "export_ip_user_files",
                "-of_objects= -ip_user_files_dir= -ipstatic_source_dir= -lib_map_path= "
                "-no_script -sync -reset -force -use_ip_compiled_libs",
                doc=d,
            ),
            lambda p: "",
        )
        r(spec("create_ip_run", "-force", (1, 1), doc=d), lambda p: "")
        r(
            spec("get_ips", "-regexp -nocase -filter= -all -exclude_bd_ips -of_objects=", (0, None), doc=d),
            self.get_ips,
        )
        # files and filesets
        r(
            spec(
                "get_files",
                "-regexp -nocase -filter= -of_objects= -compile_order= -used_in= -all -references",
                (0, None),
                doc=d,
            ),
            self.get_files,
        )
        r(
            spec(
                "add_files",
                "-fileset= -of_objects= -norecurse -scan_for_includes -copy_to= -force",
                (1, None),
                doc=d,
            ),
            lambda p: self.add_files(p, copy=False),
        )
        r(
            spec(
                "import_files",
                "-fileset= -of_objects= -norecurse -flat -relative_to= -force",
                (0, None),
                doc=d,
            ),
            lambda p: self.add_files(p, copy=True),
        )
        r(spec("read_verilog", "-library= -sv -quiet_diff", (1, None), doc=d), lambda p: self.read_hdl(p))
        r(spec("read_vhdl", "-library= -vhdl2008 -vhdl2019", (1, None), doc=d), lambda p: self.read_hdl(p))
        r(spec("read_xdc", "-cells= -ref= -mode= -unmanaged -no_add", (1, None), doc=d), self.read_xdc)
        r(spec("read_ip", "", (1, None), doc=d), lambda p: self.read_hdl(p))
        r(
            spec(
                "read_checkpoint",
                "-cell= -incremental -auto_incremental -directive= -reuse_objects= -fix_objects= "
                "-dcp_cell_list= -part=",
                (1, 1),
                doc=d,
            ),
            lambda p: self._exists_check(p.pos),
        )
        r(spec("update_compile_order", "-fileset=", doc=d), lambda p: "")
        r(spec("current_fileset", "-constrset -simset -srcset", (0, 1), doc=d), self.current_fileset)
        r(spec("get_filesets", "-regexp -nocase -filter= -of_objects=", (0, None), doc=d), self.get_filesets)
        r(
            spec(
                "create_fileset",
                "-constrset -simset -blockset -define_from= -clone_properties=",
                (1, 1),
                doc=d,
            ),
            self.create_fileset,
        )
        # runs
        r(spec("get_runs", "-regexp -nocase -filter= -of_objects=", (0, None), doc=d), self.get_runs)
        r(
            spec("current_run", "-synthesis -implementation", (0, 1), doc=d),
            lambda p: "impl_1" if p.get("implementation") else "synth_1",
        )
        r(
            spec(
                "create_run",
                "-constrset= -parent_run= -part= -srcset= -flow= -strategy= -report_strategy= -pr_config=",
                (1, 1),
                required=["-flow"],
                doc=d,
            ),
            self.create_run,
        )
        r(spec("reset_run", "-prev_step -from_step=", (1, 1), doc=d), self.reset_run)
        r(
            spec(
                "launch_runs",
                "-jobs= -scripts_only -lsf= -sge= -cluster_configuration= -dir= -to_step= "
                "-next_step -host= -remote_cmd= -email_to= -email_all -pre_launch_script= "
                "-post_launch_script= "
                "-custom_script= -force",
                (1, None),
                doc=d,
            ),
            self.launch_runs,
        )
        r(spec("wait_on_run", "-timeout=", (1, 1), doc=d), self.wait_on_run)
        r(spec("wait_on_runs", "-timeout= -exit_condition=", (1, None), doc=d), self.wait_on_run)
        r(spec("open_run", "-name= -pr_config=", (1, 1), doc=d), self.open_run)
        r(spec("close_design", "", doc=d), self.close_design)
        # non-project flow
        r(
            spec(
                "synth_design",
                "-name= -part= -constrset= -top= -include_dirs= -generic= -verilog_define= "
                "-flatten_hierarchy= -gated_clock_conversion= -directive= -rtl -bufg= -no_lc -fanout_limit= "
                "-shreg_min_size= -mode= -fsm_extraction= -rtl_skip_ip -rtl_skip_constraints "
                "-keep_equivalent_registers "
                "-resource_sharing= -cascade_dsp= -control_set_opt_threshold= -incremental= -max_bram= "
                "-max_uram= "
                "-max_dsp= -max_bram_cascade_height= -max_uram_cascade_height= -retiming -no_srlextract "
                "-assert -no_timing_driven -sfcu -debug_log -global_retiming= -lint -file=",
                doc=d,
            ),
            self.synth_design,
        )
        r(
            spec(
                "opt_design",
                "-retarget -propconst -sweep -bram_power_opt -remap -aggressive_remap -resynth_area "
                "-resynth_seq_area -directive= -muxf_remap -hier_fanout_limit= -bufg_opt -mbufg_opt "
                "-shift_register_opt -dsp_register_opt -srl_remap_modes= -control_set_merge "
                "-merge_equivalent_drivers -carry_remap -debug_log -property_opt_only",
                doc=d,
            ),
            lambda p: self._step("opt_design", ("Synthesized", "Placed", "Routed")),
        )
        r(
            spec(
                "place_design",
                "-directive= -no_timing_driven -timing_summary -unplace -post_place_opt -no_psip "
                "-no_bufg_opt -ultrathreads -quiet_level",
                doc=d,
            ),
            lambda p: self._step("place_design", ("Synthesized",), "Placed"),
        )
        r(
            spec(
                "phys_opt_design",
                "-fanout_opt -placement_opt -routing_opt -slr_crossing_opt -rewire "
                "-insert_negative_edge_ffs -critical_cell_opt -dsp_register_opt -bram_register_opt "
                "-uram_register_opt -bram_enable_opt -shift_register_opt -hold_fix -aggressive_hold_fix "
                "-retime -force_replication_on_nets= -directive= -critical_pin_opt -clock_opt -path_groups=",
                doc=d,
            ),
            lambda p: self._step("phys_opt_design", ("Placed", "Routed")),
        )
        r(
            spec(
                "route_design",
                "-unroute -release_memory -nets= -physical_nets -pins= -directive= -tns_cleanup "
                "-no_timing_driven -preserve -delay -auto_delay -max_delay= -min_delay= -timing_summary "
                "-finalize "
                "-ultrathreads -eco",
                doc=d,
            ),
            lambda p: self._step("route_design", ("Placed",), "Routed"),
        )
        r(
            spec(
                "write_bitstream",
                "-force -verbose_level -raw_bitfile -no_binary_bitfile -mask_file "
                "-readback_file -logic_location_file -bin_file -reference_bitfile= -cell= "
                "-no_partial_bitfile "
                "-no_partial_mask",
                (1, 1),
                doc=d,
            ),
            self.write_bitstream,
        )
        r(
            spec(
                "write_checkpoint",
                "-force -cell= -logic_function_stripped -encrypt -key= -incremental_synth",
                (1, 1),
                doc=d,
            ),
            self.write_checkpoint,
        )
        r(
            spec(
                "write_hw_platform",
                "-fixed -force -include_bit -include_sim_content -minimal -hw -hw_emu -file=",
                (0, 1),
                doc=d,
            ),
            self.write_hw_platform,
        )
        r(spec("current_design", "", (0, 1), doc=d), self.current_design)
        r(
            spec(
                "get_cells",
                "-hierarchical -hier -regexp -nocase -filter= -of_objects= -match_style= "
                "-include_replicated_objects",
                (0, None),
                doc=d,
            ),
            self.get_cells,
        )
        r(
            spec(
                "report_utilization",
                "-file= -append -pblocks= -cells= -evaluate_pblock -slr -packthru "
                "-hierarchical -hierarchical_depth= -hierarchical_min_primitive_count= "
                "-hierarchical_percentages -return_string -spreadsheet_file= -spreadsheet_table= "
                "-spreadsheet_depth= -name= -no_primc -format= -exclude_cells=",
                doc=d,
            ),
            self.report_utilization,
        )
        r(
            spec(
                "report_timing_summary",
                "-check_timing_verbose -delay_type= -no_detailed_paths -max_paths= "
                "-nworst= -unique_pins -path_type= -input_pins -no_pr_attribute -routable_nets "
                "-report_unconstrained -warn_on_violation -significant_digits= -no_header -setup -hold "
                "-pulse_width -file= -append -name= -cells= -rpx= -return_string -datasheet "
                "-no_check_timing -exclude_cell_delay -cell_delay_only",
                doc=d,
            ),
            self.report_timing_summary,
        )
        r(
            spec(
                "report_power",
                "-advisory -file= -name= -format= -xpe= -l= -return_string -append -rpx= -hier= "
                "-no_propagation -hierarchical_depth= -vid -thermal -supply",
                doc=d,
            ),
            self.report_power,
        )
        r(
            spec(
                "report_drc",
                "-name= -upgrade_cw -checks= -ruledecks= -file= -rpx= -append -return_string "
                "-no_waivers -internal",
                doc=d,
            ),
            lambda p: "",
        )

    # -- projects --------------------------------------------------------------------------------------
    def create_project(self, p: Parsed) -> str:
        name = p.pos[0] if p.pos else "project_1"
        folder = self._path(p.pos[1]) if len(p.pos) > 1 else Path.cwd()
        part = str(p.get("part", "xc7vx485tffg1157-1"))
        if "part" in p and not known_part(part):
            raise StandinError(f"[Coretcl 2-106] Specified part could not be found: '{part}'")
        if p.get("in_memory"):
            self.project = self._new_project(name, folder, part, in_memory=True)
            return name
        xpr = folder / f"{name}.xpr"
        if xpr.exists() and not p.get("force"):
            raise StandinError(
                f"[Vivado 12-3624] Project '{name}' already exists at '{folder}'. Use -force to overwrite."
            )
        if p.get("force"):
            for kind in ("srcs", "gen", "runs", "cache", "hw", "ip_user_files", "sim"):
                shutil.rmtree(folder / f"{name}.{kind}", ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        self.project = self._new_project(name, folder, part)
        for kind in ("srcs/sources_1", "cache", "hw", "ip_user_files", "runs", "sim"):
            (folder / f"{name}.{kind}").mkdir(parents=True, exist_ok=True)
        if self.gen_dir_era:
            (folder / f"{name}.gen" / "sources_1").mkdir(parents=True, exist_ok=True)
        self._write_xpr()
        self.rt.info("Vivado 12-...", f"Created project '{name}' in '{folder}' for part '{part}'")
        return name

    def open_project(self, p: Parsed) -> str:
        path = self._path(p.pos[0])
        if path.suffix != ".xpr":
            path = path.with_suffix(".xpr")
        if not path.is_file():
            raise StandinError(f"[Coretcl 2-45] Could not find project file '{p.pos[0]}'")
        m = re.search(r"<!-- hil-standin-state (.*) -->", path.read_text())
        if not m:
            raise StandinError(f"[Coretcl 2-45] '{path}' was not written by this (stand-in) Vivado")
        state = json.loads(m.group(1))
        proj = self._new_project(state["name"], path.parent, state["part"])
        proj.props.update(state["props"])
        for k, files in state["filesets"].items():
            proj.filesets.setdefault(k, Fileset(k, "SourceSet")).files = [Path(f) for f in files]
        for k, step in state["runs"].items():
            if k in proj.runs:
                proj.runs[k].step = step
                proj.runs[k].launched = bool(step)
        self.project = proj
        return proj.name

    def close_project(self, p: Parsed) -> str:
        self._need_project()
        self.project = None
        self.bd = None
        self.design = None
        return ""

    def current_project(self, p: Parsed) -> str:
        return self._need_project().name

    def get_projects(self, p: Parsed) -> list[str]:
        return [self.project.name] if self.project else []

    # -- properties -------------------------------------------------------------------------------------
    def _objects(self, text: str, cmd: str) -> list[tuple[str, Any]]:
        objs: list[tuple[str, Any]] = []
        for item in self._split(text):
            obj = self._resolve(item)
            if obj is None:
                raise StandinError(f"[Common 17-161] Invalid option value '{item}' specified for 'objects'.")
            objs.append(obj)
        return objs

    def _resolve(self, item: str) -> tuple[str, Any] | None:
        proj, bd = self.project, self.bd
        if bd is not None:
            cell = self._cell(item)
            if cell is not None:
                return ("bd_cell", cell)
            pin = self._pin_endpoint(item)
            if pin is not None:
                return ("bd_pin", pin)
            if item.lstrip("/") in bd.ports:
                return ("bd_port", bd.ports[item.lstrip("/")])
        if proj is not None:
            if item == proj.name:
                return ("project", proj)
            if item in proj.runs:
                return ("run", proj.runs[item])
            if item in proj.filesets:
                return ("fileset", proj.filesets[item])
            if item in proj.bds:
                return ("bd_design", proj.bds[item])
            for fs in proj.filesets.values():
                for f in fs.files:
                    if str(f) == item:
                        return ("file", {"path": f, "props": {}})
        for ip in self.catalog:
            if ip.vlnv == item:
                return ("ipdef", ip)
        if item in board_parts(self.release) or re.match(r"^[\w.-]+:[\w.-]+:part0:[\d.]+$", item):
            return ("board_part", item)
        if self.design is not None and item in (self.design.name, self.design.top):
            return ("design", self.design)
        return None

    def set_property(self, p: Parsed) -> str:
        pairs: list[tuple[str, str]] = []
        if "dict" in p:
            items = self._split(str(p.get("dict")))
            if len(items) % 2:
                raise StandinError(
                    "[Common 17-163] -dict requires an even number of elements (name value ...)"
                )
            pairs = list(zip(items[::2], items[1::2], strict=True))
            objects = p.get("objects") or " ".join(p.pos)
            if not p.pos and "objects" not in p:
                raise StandinError(
                    "[Common 17-163] Missing value for option 'objects', please type "
                    "'set_property -help' for usage info."
                )
            if len(p.pos) > 1:
                objects = " ".join(p.pos)
        else:
            pos = list(p.pos)
            name = p.get("name") or (pos.pop(0) if pos else None)
            if name is None:
                raise StandinError(
                    "[Common 17-163] Missing value for option 'name', please type "
                    "'set_property -help' for usage info."
                )
            if "value" in p:
                value = str(p.get("value"))
            elif pos:
                value = pos.pop(0)
            else:
                raise StandinError(
                    "[Common 17-163] Missing value for option 'value', please type "
                    "'set_property -help' for usage info."
                )
            pairs = [(str(name), value)]
            objects = p.get("objects") or " ".join(pos)
            if not str(objects).strip():
                raise StandinError(
                    "[Common 17-163] Missing value for option 'objects', please type "
                    "'set_property -help' for usage info."
                )
        objs = self._objects(str(objects), "set_property")
        if not objs:
            raise StandinError("[Common 17-55] 'set_property' expects at least one object.")
        for kind, obj in objs:
            for name, value in pairs:
                self._set_one(kind, obj, name, value)
        self._write_xpr()
        return ""

    def _set_one(self, kind: str, obj: Any, name: str, value: str) -> None:
        key = name.upper()
        if kind == "bd_cell":
            if not key.startswith("CONFIG."):
                if key in ("NAME",):
                    obj.name = value
                return
            param = name[7:]
            if param.upper().endswith(".VALUE_SRC"):
                return
            obj.config[param] = value
            if self.bd is not None:
                self.bd.validated = False
            return
        if kind == "project":
            if key == "BOARD_PART":
                if value and value not in board_parts(self.release):
                    raise StandinError(
                        f"[Board 49-71] The board_part definition was not found for {value}. The "
                        "project's board_part property was not set, but the project's part property "
                        f"was set to {obj.part}. Valid board_part values can be retrieved with the "
                        "'get_board_parts' Tcl command. Check if board.repoPaths parameter is set and "
                        "the board_part is installed from the tcl app store."
                    )
                board = value.split(":")[1] if value else ""
                if board in BOARD_PART_NAMES:
                    obj.part = BOARD_PART_NAMES[board]
                    obj.props["PART"] = obj.part
            if key == "PART" and not known_part(value):
                raise StandinError(f"[Coretcl 2-106] Specified part could not be found: '{value}'")
            if key == "PART":
                obj.part = value
            obj.props[key] = value
            return
        if kind in ("run", "fileset"):
            obj.props[key] = value
            return
        if kind == "file":
            obj["props"][key] = value
            return
        if kind == "bd_port":
            if key == "CONFIG.FREQ_HZ":
                obj.freq_hz = value
            return
        if kind in ("bd_pin", "bd_design", "design", "ipdef", "board_part"):
            return

    def get_property(self, p: Parsed) -> Any:
        name = p.pos[0]
        target = p.get("object") or (p.pos[1] if len(p.pos) > 1 else None)
        if target is None:
            raise StandinError(
                "[Common 17-163] Missing value for option 'object', please type 'get_property -help' "
                "for usage info."
            )
        objs = self._objects(str(target), "get_property")
        if not objs:
            raise StandinError("[Common 17-55] 'get_property' expects at least one object.")
        values = [self._get_one(kind, obj, name) for kind, obj in objs]
        return values[0] if len(values) == 1 else values

    def _props(self, kind: str, obj: Any) -> dict[str, str]:
        if kind == "bd_cell":
            props = {
                "NAME": obj.name,
                "PATH": obj.path,
                "TYPE": "ip" if obj.ipdef else "hier",
                "VLNV": obj.ipdef.vlnv if obj.ipdef else "",
            }
            if obj.ipdef is not None:
                for k in {**obj.ipdef.defaults, **obj.config}:
                    props[f"CONFIG.{k}"] = obj.param(k) or ""
            return props
        if kind == "project":
            return {**obj.props, "NAME": obj.name, "PART": obj.part, "DIRECTORY": str(obj.dir)}
        if kind == "run":
            folder = self.project.sub("runs") / obj.name if self.project else Path(obj.name)
            return {
                **obj.props,
                "NAME": obj.name,
                "STATUS": obj.status,
                "PROGRESS": "100%" if obj.step else "0%",
                "DIRECTORY": str(folder),
                "NEEDS_REFRESH": "0",
                "IS_IMPLEMENTATION": "0" if obj.synth else "1",
                "IS_SYNTHESIS": "1" if obj.synth else "0",
                "PARENT": obj.parent or "",
                "CURRENT_STEP": obj.step,
            }
        if kind == "fileset":
            return {
                **obj.props,
                "NAME": obj.name,
                "FILESET_TYPE": obj.kind,
                "TOP": obj.props.get("TOP", self._top()),
            }
        if kind == "ipdef":
            return {
                "NAME": obj.name,
                "VLNV": obj.vlnv,
                "VENDOR": obj.vendor,
                "LIBRARY": obj.library,
                "VERSION": obj.version,
                "DISPLAY_NAME": obj.display or obj.name,
                "REPOSITORY": obj.repo or "",
            }
        if kind == "board_part":
            vendor, board, _, ver = obj.split(":")
            return {
                "NAME": obj,
                "VENDOR": vendor,
                "BOARD_NAME": board,
                "FILE_VERSION": ver,
                "PART_NAME": BOARD_PART_NAMES.get(board, ""),
                "DISPLAY_NAME": board.upper(),
            }
        if kind == "bd_pin":
            cell, pin = obj
            return {
                "NAME": pin.name,
                "PATH": f"{cell.path}/{pin.name}",
                "DIR": getattr(pin, "dir", ""),
                "TYPE": getattr(pin, "type", ""),
                "MODE": getattr(pin, "mode", ""),
                "VLNV": getattr(pin, "vlnv", ""),
            }
        if kind == "bd_port":
            return {
                "NAME": obj.name,
                "DIR": obj.dir,
                "TYPE": obj.type,
                "MODE": obj.mode,
                "CONFIG.FREQ_HZ": obj.freq_hz or "",
            }
        if kind == "design":
            return {"NAME": obj.name, "TOP": obj.top, "PART": obj.part}
        if kind == "file":
            return {"NAME": str(obj["path"]), **obj["props"]}
        if kind == "bd_design":
            return {"NAME": obj.name, "FILE_NAME": str(obj.file)}
        return {}

    def _get_one(self, kind: str, obj: Any, name: str) -> str:
        props = self._props(kind, obj)
        for k, v in props.items():
            if k.upper() == name.upper():
                return v
        return ""

    def report_property(self, p: Parsed) -> str:
        objs = self._objects(p.pos[0], "report_property") if p.pos else []
        lines = ["Property  Type  Read-only  Value"]
        for kind, obj in objs:
            for k, v in sorted(self._props(kind, obj).items()):
                lines.append(f"{k:<40} string  false  {v}")
        text = "\n".join(lines)
        if p.get("return_string"):
            return text
        self.rt.say(text)
        return ""

    def list_property(self, p: Parsed) -> list[str]:
        objs = self._objects(p.pos[0], "list_property") if p.pos else []
        return sorted({k for kind, obj in objs for k in self._props(kind, obj)})

    def set_param(self, p: Parsed) -> str:
        self.params[p.pos[0]] = p.pos[1]
        return ""

    # -- filters -----------------------------------------------------------------------------------------
    def _filter(self, items: list[tuple[str, Any]], expr: str | None) -> list[tuple[str, Any]]:
        if not expr:
            return items
        return [it for it in items if self._match_filter(it, expr)]

    def _match_filter(self, item: tuple[str, Any], expr: str) -> bool:
        props = {k.upper(): v for k, v in self._props(*item).items()}
        expr = expr.strip()
        while expr.startswith("(") and expr.endswith(")"):
            expr = expr[1:-1].strip()
        for alt in re.split(r"\s*\|\|\s*", expr):
            ok = True
            for term in re.split(r"\s*&&\s*", alt):
                term = term.strip().strip("()")
                m = re.match(r'^!?\s*([\w.]+)\s*(==|!=|=~|!~|>=|<=|>|<)\s*"?([^"]*)"?$', term)
                if not m:
                    if re.match(r"^!?\s*[\w.]+$", term):  # boolean property
                        val = props.get(term.lstrip("!").strip().upper(), "")
                        ok = ok and ((val in ("1", "true", "TRUE")) != term.startswith("!"))
                        continue
                    raise StandinError(f"[Common 17-56] Invalid filter expression '{expr}'")
                key, op, value = m.group(1).upper(), m.group(2), m.group(3)
                have = props.get(key, "")
                if op == "==":
                    ok = ok and have == value
                elif op == "!=":
                    ok = ok and have != value
                elif op == "=~":
                    ok = ok and fnmatch.fnmatchcase(have.lower(), value.lower())
                elif op == "!~":
                    ok = ok and not fnmatch.fnmatchcase(have.lower(), value.lower())
                else:
                    try:
                        a, b = float(have), float(value)
                    except ValueError:
                        a, b = 0.0, 0.0
                        ok = False
                    ok = ok and {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]
            if ok:
                return True
        return False

    @staticmethod
    def _match(name: str, patterns: list[str], regexp: bool = False, nocase: bool = False) -> bool:
        if not patterns:
            return True
        for pat in patterns:
            if regexp:
                if re.fullmatch(pat, name, re.I if nocase else 0):
                    return True
            elif fnmatch.fnmatchcase(name.lower() if nocase else name, pat.lower() if nocase else pat):
                return True
        return False

    # -- parts, boards, IP catalog ----------------------------------------------------------------------
    def get_parts(self, p: Parsed) -> list[str]:
        parts = [
            "xc7z020clg400-1",
            "xc7z020clg484-1",
            "xc7z045ffg900-2",
            "xc7a35tcpg236-1",
            "xc7a100tcsg324-1",
            "xczu7ev-ffvc1156-2-e",
            "xczu9eg-ffvb1156-2-e",
            "xczu3eg-sbva484-1-e",
            "xck26-sfvc784-2LV-c",
            "xcu250-figd2104-2L-e",
        ]
        pats = self._flat(p.pos)
        items = [
            ("part", x) for x in parts if self._match(x, pats, bool(p.get("regexp")), bool(p.get("nocase")))
        ]
        return [x for _, x in items]

    def get_board_parts(self, p: Parsed) -> list[str]:
        pats = self._flat(p.pos)
        items = [
            ("board_part", b)
            for b in board_parts(self.release)
            if self._match(b, pats, bool(p.get("regexp")), bool(p.get("nocase")))
        ]
        items = self._filter(items, p.get("filter"))
        result = [b for _, b in items]
        if p.get("latest_file_version"):
            best: dict[str, str] = {}
            for b in result:
                key = ":".join(b.split(":")[:3])
                if key not in best or _ver(b.split(":")[3]) > _ver(best[key].split(":")[3]):
                    best[key] = b
            result = list(best.values())
        if not result and not p.get("quiet"):
            self.rt.warning("Vivado 12-180", f"No board parts matched '{' '.join(pats)}'.")
        return result

    def get_boards(self, p: Parsed) -> list[str]:
        return [":".join(b.split(":")[:2]) + ":" + b.split(":")[3] for b in self.get_board_parts(p)]

    def update_ip_catalog(self, p: Parsed) -> str:
        proj = self._implicit_project()
        repos = self._split(proj.props.get("IP_REPO_PATHS", ""))
        if p.get("repo_path"):
            repos.append(str(p.get("repo_path")))
        self.catalog = [ip for ip in self.catalog if ip.repo is None]
        for repo in repos:
            root = self._path(repo)
            if not root.exists():
                self.rt.warning(
                    "IP_Flow 19-2248",
                    f"Failed to load user IP repository '{repo}'; Can't find the specified path.",
                )
                continue
            for comp in sorted(root.rglob("component.xml")):
                ip = read_component(comp)
                if ip is not None:
                    self.catalog.append(ip)
                    self.rt.info("IP_Flow 19-234", f"Refreshing IP repositories: found IP '{ip.vlnv}'")
        self.rt.info("IP_Flow 19-1700", "Loaded Vivado IP repository '/tools/Xilinx/Vivado/data/ip'.")
        return ""

    def get_ipdefs(self, p: Parsed) -> list[str]:
        pats = self._flat(p.pos)
        if p.get("vlnv"):
            pats.append(str(p.get("vlnv")))
        items = [
            ("ipdef", ip)
            for ip in self.catalog
            if self._match(ip.vlnv, pats, bool(p.get("regexp")), bool(p.get("nocase")))
            or (p.get("name") and ip.name == p.get("name"))
        ]
        if p.get("name") and not pats:
            items = [it for it in items if it[1].name == p.get("name")]
        items = self._filter(items, p.get("filter"))
        return [ip.vlnv for _, ip in items]

    def _find_ipdef(self, vlnv: str) -> IpDef | None:
        parts = vlnv.split(":")
        if len(parts) == 4:
            return next((ip for ip in self.catalog if ip.vlnv == vlnv), None)
        if len(parts) == 3:
            cands = [ip for ip in self.catalog if ip.vlnv.startswith(vlnv + ":")]
            return max(cands, key=lambda ip: _ver(ip.version)) if cands else None
        return None

    # -- block design --------------------------------------------------------------------------------------
    def _bd_dir(self, proj: Project, name: str, gen: bool) -> Path:
        kind = "gen" if gen and self.gen_dir_era else "srcs"
        return proj.sub(kind) / "sources_1" / "bd" / name

    def create_bd_design(self, p: Parsed) -> str:
        proj = self._need_project()
        name = p.pos[0]
        if name in proj.bds:
            raise StandinError(f"[BD 5-5] Block design '{name}' already exists in the project.")
        base = self._path(str(p.get("dir"))) / name if p.get("dir") else self._bd_dir(proj, name, gen=False)
        base.mkdir(parents=True, exist_ok=True)
        bd = BlockDesign(name, base / f"{name}.bd")
        proj.bds[name] = bd
        proj.filesets["sources_1"].files.append(bd.file)
        self.bd = bd
        self._save_bd()
        self.rt.info("BD 5-320", f"Created block design '{name}' ({bd.file})")
        self._write_xpr()
        return name

    def open_bd_design(self, p: Parsed) -> str:
        proj = self._need_project()
        for bd in proj.bds.values():
            if str(bd.file) == str(self._path(p.pos[0])) or bd.name == Path(p.pos[0]).stem:
                self.bd = bd
                return bd.name
        raise StandinError(f"[BD 5-106] Cannot find block design file '{p.pos[0]}'")

    def close_bd_design(self, p: Parsed) -> str:
        self.bd = None
        return ""

    def current_bd_design(self, p: Parsed) -> str:
        if p.pos:
            proj = self._need_project()
            if p.pos[0] not in proj.bds:
                raise StandinError(f"[BD 5-106] Block design '{p.pos[0]}' does not exist.")
            self.bd = proj.bds[p.pos[0]]
        return self._need_bd().name

    def get_bd_designs(self, p: Parsed) -> list[str]:
        proj = self.project
        return [n for n in (proj.bds if proj else {}) if self._match(n, self._flat(p.pos))]

    def _save_bd(self) -> None:
        bd = self.bd
        if bd is None:
            return
        data = {
            "design": {
                "design_info": {
                    "name": bd.name,
                    "tool_version": self.release,
                    "device": self.project.part if self.project else "",
                    "validated": str(bd.validated).lower(),
                    "hil_standin": True,
                },
                "components": {
                    c.path: {"vlnv": c.ipdef.vlnv if c.ipdef else "hier", "parameters": c.config}
                    for c in bd.cells.values()
                },
                "nets": [{"name": n["name"], "ports": sorted(n["members"])} for n in bd.nets],
                "interface_nets": bd.intf_nets,
                "addressing": bd.addresses,
            }
        }
        bd.file.parent.mkdir(parents=True, exist_ok=True)
        bd.file.write_text(json.dumps(data, indent=2, default=str))

    def save_bd_design(self, p: Parsed) -> str:
        self._need_bd()
        self._save_bd()
        return ""

    def _cell(self, item: str) -> Cell | None:
        bd = self.bd
        if bd is None:
            return None
        path = item if item.startswith("/") else "/" + item
        return bd.cells.get(path)

    def create_bd_cell(self, p: Parsed) -> str:
        bd = self._need_bd()
        kind = p.get("type")
        target = p.pos[0]
        path = target if target.startswith("/") else "/" + target
        parent, _, name = path.rpartition("/")
        if parent and parent not in bd.cells:
            raise StandinError(f"[BD 5-104] Parent hierarchy '{parent}' of cell '{target}' does not exist.")
        if path in bd.cells:
            raise StandinError(f"[BD 5-59] Cell '{path}' already exists in the block design.")
        if kind == "hier":
            bd.cells[path] = Cell(name, parent, None)
            return path
        if kind != "ip":
            raise StandinError(f"[BD 5-7] Error: create_bd_cell -type '{kind}' is not modelled (ip, hier).")
        vlnv = p.get("vlnv")
        if vlnv is None:
            raise StandinError(
                "[Common 17-163] Missing value for option 'vlnv', please type 'create_bd_cell -help' "
                "for usage info."
            )
        ipdef = self._find_ipdef(str(vlnv))
        if ipdef is None:
            raise StandinError(
                f"[BD 5-7] Error: running create_bd_cell  -vlnv {vlnv} -type ip {name}: IP '{vlnv}' "
                f"was not found in the IP catalog of Vivado {self.release}."
            )
        bd.cells[path] = Cell(name, parent, ipdef)
        bd.validated = False
        self.rt.info("Device 21-403", f"Created cell {path} ({ipdef.vlnv})")
        return path

    def get_bd_cells(self, p: Parsed) -> list[str]:
        bd = self._need_bd()
        pats = self._flat(p.pos)
        cells = list(bd.cells.values())
        if p.get("of_objects"):
            out = []
            for item in self._split(str(p.get("of_objects"))):
                ep = self._pin_endpoint(item)
                if ep is not None:
                    out.append(ep[0])
            cells = out
        elif not p.get("hierarchical"):
            cells = (
                [c for c in cells if c.parent == ""] if not any("/" in x.strip("/") for x in pats) else cells
            )
        res = []
        for c in cells:
            names = (
                [c.path, c.path.lstrip("/")]
                if p.get("hierarchical") or "/" in "".join(pats).strip("/")
                else [c.name, c.path]
            )
            if p.get("hierarchical"):
                names.append(c.name)
            if not pats or any(
                self._match(n, pats, bool(p.get("regexp")), bool(p.get("nocase"))) for n in names
            ):
                res.append(("bd_cell", c))
        res = self._filter(res, p.get("filter"))
        if not res and pats and not p.get("quiet"):
            self.rt.warning("BD 5-699", f"No cells matched 'get_bd_cells {' '.join(pats)}'")
        return [c.path for _, c in res]

    def _pin_endpoint(self, item: str) -> tuple[Cell, Any] | None:
        bd = self.bd
        if bd is None:
            return None
        path = item if item.startswith("/") else "/" + item
        cell_path, _, pin = path.rpartition("/")
        cell = bd.cells.get(cell_path)
        if cell is None:
            return None
        for ip in cell.intf_pins():
            if ip.name == pin:
                return (cell, ip)
        for pn in cell.pins():
            if pn.name == pin:
                return (cell, pn)
        return None

    def get_pins(self, p: Parsed, intf: bool) -> list[str]:
        bd = self._need_bd()
        pats = self._flat(p.pos)
        res: list[str] = []
        cells = list(bd.cells.values())
        if p.get("of_objects"):
            wanted = []
            for item in self._split(str(p.get("of_objects"))):
                c = self._cell(item)
                if c is not None:
                    wanted.append(c)
                else:
                    for n in bd.intf_nets if intf else bd.nets:
                        if n["name"] == item.lstrip("/"):
                            members = {n["a"], n["b"]} if intf else n["members"]
                            res += [m for m in members if m.lstrip("/") not in bd.ports]
            if not wanted:
                return sorted(res)
            cells = wanted
        for c in cells:
            for pin in c.intf_pins() if intf else c.pins():
                full = f"{c.path}/{pin.name}"
                if not pats and p.get("of_objects"):
                    res.append(full)
                elif pats and any(
                    self._match(
                        x,
                        [pt if pt.startswith("/") else "/" + pt for pt in pats],
                        bool(p.get("regexp")),
                        bool(p.get("nocase")),
                    )
                    for x in [full]
                ):
                    res.append(full)
                elif pats and p.get("of_objects") and self._match(pin.name, pats):
                    res.append(full)
        if p.get("filter"):
            kept = []
            for full in res:
                ep = self._pin_endpoint(full)
                if ep is not None and self._filter([("bd_pin", ep)], p.get("filter")):
                    kept.append(full)
            res = kept
        if not res and not p.get("quiet"):
            self.rt.warning(
                "BD 5-699",
                f"No {'interface ' if intf else ''}pins matched "
                f"'get_bd_{'intf_' if intf else ''}pins {' '.join(pats)}'",
            )
        return res

    def get_ports(self, p: Parsed, intf: bool) -> list[str]:
        bd = self._need_bd()
        pats = self._flat(p.pos)
        res = [
            port.path
            for port in bd.ports.values()
            if (port.intf_vlnv is not None) == intf
            and (not pats or self._match(port.name, [x.lstrip("/") for x in pats]))
        ]
        return res

    def get_nets(self, p: Parsed, intf: bool) -> list[str]:
        bd = self._need_bd()
        pats = self._flat(p.pos)
        nets = bd.intf_nets if intf else bd.nets
        if p.get("of_objects"):
            objs = set()
            for x in self._split(str(p.get("of_objects"))):
                objs.add(x if x.startswith("/") else "/" + x)
            nets = [n for n in nets if ({n["a"], n["b"]} if intf else n["members"]) & objs]
        return [
            "/" + n["name"] for n in nets if not pats or self._match(n["name"], [x.lstrip("/") for x in pats])
        ]

    def create_bd_port(self, p: Parsed) -> str:
        bd = self._need_bd()
        direction = str(p.get("dir"))
        if direction not in ("I", "O", "IO"):
            raise StandinError(f"[BD 5-7] Invalid value '{direction}' for -dir (I, O, IO).")
        name = p.pos[0]
        if name in bd.ports:
            raise StandinError(f"[BD 5-59] Port '{name}' already exists.")
        bd.ports[name] = Port(name, direction, str(p.get("type", "data")), freq_hz=p.get("freq_hz"))
        return "/" + name

    def create_bd_intf_port(self, p: Parsed) -> str:
        bd = self._need_bd()
        name = p.pos[0]
        mode = str(p.get("mode"))
        if mode.lower() not in ("master", "slave", "monitor", "mirroredmaster", "mirroredslave"):
            raise StandinError(f"[BD 5-7] Invalid value '{mode}' for -mode.")
        if name in bd.ports:
            raise StandinError(f"[BD 5-59] Port '{name}' already exists.")
        bd.ports[name] = Port(name, "", "intf", str(p.get("vlnv")), mode.capitalize())
        return "/" + name

    def make_external(self, p: Parsed, intf: bool) -> str:
        bd = self._need_bd()
        made = []
        for item in self._flat(p.pos):
            ep = self._pin_endpoint(item)
            if ep is None:
                raise StandinError(f"[BD 5-104] Pin '{item}' does not exist.")
            cell, pin = ep
            name = str(p.get("name") or f"{pin.name}_0")
            if intf:
                bd.ports[name] = Port(name, "", "intf", pin.vlnv, pin.mode)
                self._connect_intf(f"{cell.path}/{pin.name}", "/" + name, f"{pin.name}_0")
            else:
                bd.ports[name] = Port(name, "O" if pin.dir == "O" else "I", pin.type)
                self._connect_net([f"{cell.path}/{pin.name}", "/" + name], None)
            made.append("/" + name)
        return " ".join(made)

    def _endpoint_info(self, item: str, intf: bool) -> tuple[str, Any]:
        bd = self._need_bd()
        path = item if item.startswith("/") else "/" + item
        if path.lstrip("/") in bd.ports:
            port = bd.ports[path.lstrip("/")]
            if (port.intf_vlnv is not None) != intf:
                raise StandinError(f"[BD 5-104] '{item}' is {'not ' if intf else ''}an interface port.")
            return path, port
        ep = self._pin_endpoint(path)
        if ep is None or isinstance(ep[1], IntfPin) != intf:
            kind = "interface pin" if intf else "pin"
            raise StandinError(
                f"[BD 5-104] A {kind} or port named '{item}' was not found in block design '{bd.name}'."
            )
        return path, ep[1]

    def _connect_net(self, members: list[str], name: str | None) -> str:
        bd = self._need_bd()
        paths = [self._endpoint_info(m, intf=False)[0] for m in members]
        joined: set[str] = set(paths)
        keep = []
        for net in bd.nets:
            if net["members"] & joined:
                joined |= net["members"]
                name = name or net["name"]
            else:
                keep.append(net)
        if name is None:
            first = paths[0].lstrip("/").replace("/", "_")
            name = first
        bd.nets = [*keep, {"name": name, "members": joined}]
        bd.validated = False
        return "/" + name

    def connect_bd_net(self, p: Parsed) -> str:
        items = self._flat(p.pos)
        if len(items) < 2 and not (items and p.get("net")):
            raise StandinError("[BD 5-106] Arguments to the connect_bd_net command cannot be empty.")
        return self._connect_net(items, p.get("net"))

    def _connect_intf(self, a: str, b: str, name: str | None) -> str:
        bd = self._need_bd()
        pa, oa = self._endpoint_info(a, intf=True)
        pb, ob = self._endpoint_info(b, intf=True)
        va = oa.vlnv if isinstance(oa, IntfPin) else oa.intf_vlnv
        vb = ob.vlnv if isinstance(ob, IntfPin) else ob.intf_vlnv
        if va != vb:
            raise StandinError(
                f"[BD 5-106] Interface types mismatch: '{pa}' is {va} and '{pb}' is {vb}; they "
                "cannot be connected."
            )
        ma, mb = oa.mode.lower(), ob.mode.lower()
        a_port, b_port = isinstance(oa, Port), isinstance(ob, Port)
        if a_port or b_port:
            if ma != mb:
                raise StandinError(
                    f"[BD 5-106] Interface port '{pa if a_port else pb}' has mode "
                    f"{oa.mode if a_port else ob.mode} but pin is {ob.mode if a_port else oa.mode}."
                )
        elif {ma, mb} != {"master", "slave"}:
            raise StandinError(
                f"[BD 5-106] Cannot connect {oa.mode} interface '{pa}' to {ob.mode} interface "
                f"'{pb}': one must be a master and the other a slave."
            )
        for net in bd.intf_nets:
            for end in (pa, pb):
                if end in (net["a"], net["b"]):
                    raise StandinError(
                        f"[BD 5-5] Interface pin '{end}' is already connected to net '{net['name']}'."
                    )
        if not name:
            src = pa if (isinstance(oa, IntfPin) and ma == "master") or b_port else pb
            name = src.lstrip("/").replace("/", "_")
        master_first = (pa, pb) if ma == "master" or b_port else (pb, pa)
        bd.intf_nets.append({"name": name, "a": master_first[0], "b": master_first[1], "vlnv": va})
        bd.validated = False
        return "/" + name

    def connect_bd_intf_net(self, p: Parsed) -> str:
        items = self._flat(p.pos)
        if len(items) != 2:
            raise StandinError(
                f"[BD 5-106] connect_bd_intf_net needs exactly two interface objects, got "
                f"{len(items)}: '{' '.join(items)}'."
            )
        return self._connect_intf(items[0], items[1], p.get("intf_net"))

    # -- automation ------------------------------------------------------------------------------------------
    def _ps(self) -> Cell | None:
        bd = self._need_bd()
        for c in bd.cells.values():
            if c.ipdef and c.ipdef.name in ("processing_system7", "zynq_ultra_ps_e"):
                return c
        return None

    def _ps_clock(self, ps: Cell) -> tuple[str, float]:
        if ps.ipdef and ps.ipdef.name == "processing_system7":
            return f"{ps.path}/FCLK_CLK0", float(ps.param("PCW_FPGA0_PERIPHERAL_FREQMHZ") or 50)
        return f"{ps.path}/pl_clk0", float(ps.param("PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ") or 100)

    def _net_of(self, endpoint: str) -> dict[str, Any] | None:
        bd = self._need_bd()
        return next((n for n in bd.nets if endpoint in n["members"]), None)

    def _reset_for(self, clk: str, freq: float) -> Cell:
        """The proc_sys_reset that automation creates for a clock (named like Vivado: rst_ps7_0_100M)."""
        bd = self._need_bd()
        ps = self._ps()
        for c in bd.cells.values():
            net = self._net_of(f"{c.path}/slowest_sync_clk")
            if c.ipdef and c.ipdef.name == "proc_sys_reset" and net is not None and clk in net["members"]:
                return c
        if ps is not None and ps.ipdef and ps.ipdef.name == "zynq_ultra_ps_e":
            mhz = int(freq) - 1 if float(freq).is_integer() and int(freq) == 100 else int(freq)
            name = f"rst_ps8_0_{mhz}M"
            ext = f"{ps.path}/pl_resetn0"
        else:
            name = f"rst_ps7_0_{int(freq)}M"
            ext = f"{ps.path}/FCLK_RESET0_N" if ps else ""
        ipdef = self._find_ipdef("xilinx.com:ip:proc_sys_reset")
        assert ipdef is not None
        cell = Cell(name, "", ipdef)
        bd.cells[cell.path] = cell
        self._connect_net([clk, f"{cell.path}/slowest_sync_clk"], None)
        if ext:
            self._connect_net([ext, f"{cell.path}/ext_reset_in"], None)
        return cell

    def _clock_cell(self, cell: Cell, clk: str, freq: float) -> None:
        """Connect every clock input of ``cell`` to ``clk`` and its resets to the clock's reset block."""
        rst = None
        for pin in cell.pins():
            full = f"{cell.path}/{pin.name}"
            if pin.dir == "I" and pin.type == "clk" and self._net_of(full) is None:
                self._connect_net([clk, full], None)
            if (
                pin.dir == "I"
                and pin.type == "rst"
                and self._net_of(full) is None
                and cell.ipdef
                and cell.ipdef.name != "proc_sys_reset"
                and (pin.name.lower().endswith("resetn") or pin.name.lower().endswith("rst_n"))
            ):
                rst = rst or self._reset_for(clk, freq)
                src = (
                    "interconnect_aresetn"
                    if cell.ipdef.iptype == "BUS" and pin.name == "ARESETN"
                    else "peripheral_aresetn"
                )
                self._connect_net([f"{rst.path}/{src}", full], None)

    def apply_bd_automation(self, p: Parsed) -> str:
        bd = self._need_bd()
        rule = str(p.get("rule"))
        cfg = dict(_pairs(self._split(str(p.get("config") or p.get("dict") or ""))))
        objs = self._flat(p.pos)
        if not objs:
            raise StandinError("[BD 5-106] apply_bd_automation needs the object to apply the rule to.")
        target = objs[0]
        ps = self._ps()
        if rule in ("xilinx.com:bd_rule:processing_system7", "xilinx.com:bd_rule:zynq_ultra_ps_e"):
            cell = self._cell(target)
            want = "processing_system7" if rule.endswith("processing_system7") else "zynq_ultra_ps_e"
            if cell is None or cell.ipdef is None or cell.ipdef.name != want:
                raise StandinError(f"[BD 5-127] Rule '{rule}' does not apply to '{target}'.")
            if cfg.get("apply_board_preset", "0") == "1":
                board = (self.project.props.get("BOARD_PART") if self.project else "") or ""
                if not board:
                    self.rt.warning("BD 41-1271", "The board preset cannot be applied: no board part is set.")
                elif want == "processing_system7":
                    cell.config.setdefault("PCW_FPGA0_PERIPHERAL_FREQMHZ", "100")
                    cell.config.setdefault("preset", board)
                else:
                    cell.config.setdefault("PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ", "100")
                    cell.config.setdefault("PSU__USE__M_AXI_GP2", "1")
            for ext in [x.strip() for x in cfg.get("make_external", "").split(",") if x.strip()]:
                pin = self._pin_endpoint(f"{cell.path}/{ext}")
                if pin is None:
                    raise StandinError(f"[BD 5-104] Interface '{ext}' not found on '{cell.path}'.")
                if ext not in bd.ports:
                    bd.ports[ext] = Port(ext, "", "intf", pin[1].vlnv, pin[1].mode)
                    self._connect_intf(f"{cell.path}/{ext}", f"/{ext}", f"{cell.name}_{ext}")
            return ""
        if rule == "xilinx.com:bd_rule:axi4":
            master, slave = cfg.get("Master", "Auto"), cfg.get("Slave", "Auto")
            tpath = target if target.startswith("/") else "/" + target
            tinfo = self._pin_endpoint(tpath)
            if tinfo is None or not isinstance(tinfo[1], IntfPin) or tinfo[1].vlnv != AXIMM:
                raise StandinError(
                    f"[BD 5-127] Rule '{rule}' applies to AXI memory-mapped interface pins; "
                    f"'{target}' is not one."
                )
            if tinfo[1].mode == "Slave":
                slave = tpath if slave in ("Auto", "") else slave
                if master in ("Auto", ""):
                    if ps is None:
                        raise StandinError("[BD 5-127] No AXI master found for automation.")
                    m = next(ip for ip in ps.intf_pins() if ip.mode == "Master" and ip.vlnv == AXIMM)
                    master = f"{ps.path}/{m.name}"
            else:
                master = tpath if master in ("Auto", "") else master
            for end, want in ((master, "Master"), (slave, "Slave")):
                info = self._pin_endpoint(end)
                if info is None or not isinstance(info[1], IntfPin) or info[1].mode != want:
                    raise StandinError(
                        f"[BD 5-104] The {want.lower()} interface '{end}' named in the automation "
                        "config does not exist (is it enabled on the IP?)."
                    )
            clk, freq = self._ps_clock(ps) if ps else (None, 100.0)
            for key in ("Clk_master", "Clk_slave", "Clk_xbar"):
                val = cfg.get(key, "Auto")
                if val not in ("Auto", ""):
                    clk = val.split(" (")[0]
                    if self._pin_endpoint(clk) is None:
                        raise StandinError(
                            f"[BD 5-104] Clock '{val}' in the automation config does not exist."
                        )
            intc_kind = cfg.get("intc_ip", "Auto")
            master_cell = self._pin_endpoint(master)[0]  # type: ignore[index]
            to_ps = ps is not None and master_cell is not ps
            if intc_kind.startswith("/"):
                intc = self._cell(intc_kind)
                if intc is None:
                    raise StandinError(f"[BD 5-104] Interconnect '{intc_kind}' does not exist.")
                n = int(intc.param("NUM_SI") or 1)
                intc.config["NUM_SI"] = str(n + 1)
                self._connect_intf(master, f"{intc.path}/S{n:02d}_AXI", None)
            else:
                smart = "SmartConnect" in intc_kind or (
                    intc_kind == "Auto"
                    and ps is not None
                    and ps.ipdef is not None
                    and ps.ipdef.name == "zynq_ultra_ps_e"
                )
                ipname = "smartconnect" if smart else "axi_interconnect"
                if smart:
                    base = "axi_smc"
                elif to_ps:
                    base = "axi_mem_intercon"
                else:
                    base = (
                        "ps7_0_axi_periph"
                        if ps and ps.ipdef and ps.ipdef.name == "processing_system7"
                        else "ps8_0_axi_periph"
                    )
                name, k = base, 0
                while f"/{name}" in bd.cells:
                    k += 1
                    name = f"{base}_{k}"
                ipdef = self._find_ipdef(f"xilinx.com:ip:{ipname}")
                assert ipdef is not None
                intc = Cell(name, "", ipdef, {"NUM_SI": "1", "NUM_MI": "1"})
                bd.cells[intc.path] = intc
                self._connect_intf(master, f"{intc.path}/S00_AXI", None)
                self._connect_intf(f"{intc.path}/M00_AXI", slave, None)
            if clk:
                ends = [self._pin_endpoint(master), self._pin_endpoint(slave)]
                paths = [e[0].path for e in ends if e is not None] + [intc.path]
                for path in dict.fromkeys(paths):
                    self._clock_cell(bd.cells[path], clk, freq)
            self._assign_addresses()
            return ""
        if rule == "xilinx.com:bd_rule:clkrst":
            pin = self._pin_endpoint(target)
            if pin is None or isinstance(pin[1], IntfPin) or pin[1].type != "clk":
                raise StandinError(f"[BD 5-127] Rule '{rule}' applies to clock pins; '{target}' is not one.")
            clk = cfg.get("Clk", "Auto").split(" (")[0]
            freq = float(cfg.get("Freq", "100") or 100)
            if clk in ("Auto", ""):
                if ps is None:
                    raise StandinError("[BD 5-127] No clock source found for automation.")
                clk, freq = self._ps_clock(ps)
            if self._pin_endpoint(clk) is None and clk.lstrip("/") not in bd.ports:
                raise StandinError(
                    f"[BD 5-104] Clock source '{clk}' in the automation config does not exist."
                )
            self._clock_cell(pin[0], clk, freq)
            return ""
        if rule == "xilinx.com:bd_rule:board":
            return ""
        raise StandinError(f"[BD 5-127] Automation rule '{rule}' is not defined.")

    def _slave_cells_of(self, master: str) -> list[tuple[str, str]]:
        """(slave endpoint, via) reached from an AXI master pin through interconnects."""
        bd = self._need_bd()
        out, todo, seen = [], [master], set()
        while todo:
            cur = todo.pop(0)
            if cur in seen:
                continue
            seen.add(cur)
            for net in bd.intf_nets:
                if net["a"] == cur and net["vlnv"] == AXIMM:
                    far = net["b"]
                    cell = bd.cells.get(far.rpartition("/")[0])
                    if cell and cell.ipdef and cell.ipdef.name in ("smartconnect", "axi_interconnect"):
                        todo += [f"{cell.path}/{ip.name}" for ip in cell.intf_pins() if ip.mode == "Master"]
                    elif cell is not None:
                        out.append((far, master))
        return out

    def _assign_addresses(self) -> None:
        bd = self._need_bd()
        ps = self._ps()
        if ps is None or ps.ipdef is None:
            return
        zynqmp = ps.ipdef.name == "zynq_ultra_ps_e"
        taken = {v["base"] for v in bd.addresses.values()}
        for mpin in [ip for ip in ps.intf_pins() if ip.mode == "Master" and ip.vlnv == AXIMM]:
            base0 = {
                "M_AXI_HPM0_FPD": 0xA0000000,
                "M_AXI_HPM1_FPD": 0xB0000000,
                "M_AXI_HPM0_LPD": 0x80000000,
                "M_AXI_GP0": 0x40000000,
                "M_AXI_GP1": 0x80000000,
            }[mpin.name]
            for slave, _ in self._slave_cells_of(f"{ps.path}/{mpin.name}"):
                if slave in bd.addresses:
                    continue
                cell = bd.cells[slave.rpartition("/")[0]]
                kind = cell.ipdef.name if cell.ipdef else ""
                if not zynqmp and kind == "axi_dma":
                    base = 0x40400000
                elif not zynqmp and kind == "axi_gpio":
                    base = 0x41200000
                elif not zynqmp:
                    base = 0x43C00000
                else:
                    base = base0
                while base in taken:
                    base += 0x10000
                taken.add(base)
                bd.addresses[slave] = {
                    "base": base,
                    "range": 0x10000,
                    "master": f"{ps.path}/{mpin.name}",
                    "block": "Reg",
                    "memtype": "REGISTER",
                }
        # memory seen by the other masters (DMA data movers) through the PS slave ports
        for cell in list(bd.cells.values()):
            if cell is ps or cell.ipdef is None or cell.ipdef.name in ("smartconnect", "axi_interconnect"):
                continue
            for ip in cell.intf_pins():
                if ip.mode != "Master" or ip.vlnv != AXIMM:
                    continue
                m = f"{cell.path}/{ip.name}"
                for slave, _ in self._slave_cells_of(m):
                    if slave.rpartition("/")[0] != ps.path:
                        continue
                    key = f"{m}->{slave}"
                    if key in bd.addresses:
                        continue
                    port = slave.rpartition("/")[2]
                    if zynqmp:
                        block = f"{port.replace('S_AXI_', '').replace('_FPD', '')}_DDR_LOW"
                        bd.addresses[key] = {
                            "base": 0,
                            "range": 0x80000000,
                            "master": m,
                            "block": block,
                            "memtype": "MEMORY",
                            "slave": slave,
                        }
                    else:
                        block = f"{port.replace('S_AXI_', '')}_DDR_LOWOCM"
                        bd.addresses[key] = {
                            "base": 0,
                            "range": 0x20000000,
                            "master": m,
                            "block": block,
                            "memtype": "MEMORY",
                            "slave": slave,
                        }

    def assign_bd_address(self, p: Parsed) -> str:
        self._need_bd()
        self._assign_addresses()
        if p.get("offset") and p.pos:
            for item in self._flat(p.pos):
                for key, seg in self._need_bd().addresses.items():
                    if item.split("/SEG_")[-1].startswith(key.split("/")[-2]) or item == key:
                        seg["base"] = int(str(p.get("offset")), 0)
                        if p.get("range"):
                            seg["range"] = _size(str(p.get("range")))
        return ""

    def get_bd_addr_segs(self, p: Parsed) -> list[str]:
        bd = self._need_bd()
        self._assign_addresses()
        segs = []
        for key, seg in bd.addresses.items():
            if "->" in key:
                continue
            cell = key.rpartition("/")[0]
            segs.append(f"{cell}/{key.rpartition('/')[2]}/{seg['block']}")
        pats = self._flat(p.pos)
        return [
            s for s in segs if not pats or self._match(s, [x if x.startswith("/") else "/" + x for x in pats])
        ]

    def get_bd_addr_spaces(self, p: Parsed) -> list[str]:
        bd = self._need_bd()
        out = []
        for c in bd.cells.values():
            for ip in c.intf_pins():
                if ip.mode == "Master" and ip.vlnv == AXIMM:
                    is_ps = c.ipdef is not None and c.ipdef.name in PS_NAMES
                    out.append(f"{c.path}/{'Data' if is_ps else ip.name.replace('M_AXI_', 'Data_')}")
        pats = self._flat(p.pos)
        return sorted(
            {
                s
                for s in out
                if not pats or self._match(s, [x if x.startswith("/") else "/" + x for x in pats])
            }
        )

    def group_bd_cells(self, p: Parsed) -> str:
        bd = self._need_bd()
        items = self._flat(p.pos)
        name, cells = items[0], items[1:]
        hier = Cell(name.lstrip("/"), "", None)
        if hier.path in bd.cells:
            raise StandinError(f"[BD 5-59] Cell '{hier.path}' already exists.")
        moving = []
        for item in cells:
            c = self._cell(item)
            if c is None:
                raise StandinError(f"[BD 5-104] Cell '{item}' does not exist.")
            moving.append(c)
        bd.cells[hier.path] = hier
        for c in moving:
            old = c.path
            del bd.cells[old]
            c.parent = hier.path
            bd.cells[c.path] = c
            self._rename_endpoints(old, c.path)
        return hier.path

    def _rename_endpoints(self, old: str, new: str) -> None:
        bd = self._need_bd()

        def ren(x: str) -> str:
            return new + x[len(old) :] if x == old or x.startswith(old + "/") else x

        for n in bd.nets:
            n["members"] = {ren(m) for m in n["members"]}
        for n in bd.intf_nets:
            n["a"], n["b"] = ren(n["a"]), ren(n["b"])
        bd.addresses = {
            ren(k.split("->")[0]) + ("->" + ren(k.split("->")[1]) if "->" in k else ""): {
                **v,
                "master": ren(v["master"]),
                **({"slave": ren(v["slave"])} if "slave" in v else {}),
            }
            for k, v in bd.addresses.items()
        }

    def delete_bd_objs(self, p: Parsed) -> str:
        bd = self._need_bd()
        for item in self._flat(p.pos):
            c = self._cell(item)
            if c is not None:
                del bd.cells[c.path]
                bd.intf_nets = [
                    n
                    for n in bd.intf_nets
                    if not (n["a"].startswith(c.path + "/") or n["b"].startswith(c.path + "/"))
                ]
                for n in bd.nets:
                    n["members"] = {m for m in n["members"] if not m.startswith(c.path + "/")}
                continue
            name = item.lstrip("/")
            before = len(bd.nets) + len(bd.intf_nets) + len(bd.ports)
            bd.nets = [n for n in bd.nets if n["name"] != name]
            bd.intf_nets = [n for n in bd.intf_nets if n["name"] != name]
            bd.ports.pop(name, None)
            if before == len(bd.nets) + len(bd.intf_nets) + len(bd.ports):
                raise StandinError(f"[BD 5-104] Object '{item}' does not exist.")
        return ""

    def startgroup(self, p: Parsed) -> str:
        self._group_depth += 1
        return "1"

    def endgroup(self, p: Parsed) -> str:
        if self._group_depth == 0:
            raise StandinError("[Common 17-1] endgroup without a matching startgroup.")
        self._group_depth -= 1
        return ""

    def validate_bd_design(self, p: Parsed) -> str:
        bd = self._need_bd()
        problems = self._bd_problems()
        for text in problems:
            self.rt.say(f"CRITICAL WARNING: {text}")
        bd.validated = True
        self._save_bd()
        return ""

    def _bd_problems(self) -> list[str]:
        bd = self._need_bd()
        problems = []
        for c in bd.cells.values():
            if c.ipdef is None:
                continue
            used = any(
                n["a"].startswith(c.path + "/") or n["b"].startswith(c.path + "/") for n in bd.intf_nets
            )
            for pin in c.pins():
                full = f"{c.path}/{pin.name}"
                if used and pin.dir == "I" and pin.type == "clk" and self._net_of(full) is None:
                    problems.append(
                        f"[BD 41-758] The following clock pins are not connected to a valid clock "
                        f"source: {full}"
                    )
            for ip in c.intf_pins():
                full = f"{c.path}/{ip.name}"
                if (
                    ip.vlnv == AXIMM
                    and ip.mode == "Slave"
                    and c.ipdef.name
                    not in ("smartconnect", "axi_interconnect", "processing_system7", "zynq_ultra_ps_e")
                ):
                    if any(full == n["b"] for n in bd.intf_nets) and full not in bd.addresses:
                        problems.append(
                            f"[BD 41-1356] Address block <{full}/Reg> is not mapped into "
                            "<Data>. Please use Address Editor to either map or exclude it."
                        )
        return problems

    def make_wrapper(self, p: Parsed) -> str:
        proj = self._need_project()
        if "files" not in p and not p.pos:
            raise StandinError(VivadoMessages.missing_value("make_wrapper", "files"))
        files = self._split(str(p.get("files"))) if "files" in p else self._split(p.pos[0])
        if len(files) != 1:
            raise StandinError("[BD 5-106] make_wrapper -files expects one block design file.")
        bd = next(
            (
                b
                for b in proj.bds.values()
                if str(b.file) == files[0] or str(b.file) == str(self._path(files[0]))
            ),
            None,
        )
        if bd is None:
            raise StandinError(
                f"[Vivado 12-4393] make_wrapper: '{files[0]}' is not a block design file of the "
                "project (use get_files to name it)."
            )
        hdl = self._bd_dir(proj, bd.name, gen=True) / "hdl"
        hdl.mkdir(parents=True, exist_ok=True)
        wrapper = hdl / f"{bd.name}_wrapper.v"
        ports = ",\n".join(f"    {port.name}" for port in bd.ports.values())
        wrapper.write_text(
            f"//Copyright 1986-2022 Xilinx, Inc. (hil stand-in, Vivado {self.release})\n"
            f"`timescale 1 ps / 1 ps\n\nmodule {bd.name}_wrapper\n   (\n{ports}\n   );\n\n"
            f"  {bd.name} {bd.name}_i ();\nendmodule\n"
        )
        (hdl / f"{bd.name}.v").write_text(
            f"// stand-in netlist of block design {bd.name}\nmodule {bd.name} ();\nendmodule\n"
        )
        if p.get("import"):
            dest = proj.sub("srcs") / "sources_1" / "imports" / "hdl" / wrapper.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(wrapper, dest)
            proj.filesets["sources_1"].files.append(dest)
            wrapper = dest
        if p.get("top"):
            proj.filesets["sources_1"].props.setdefault("TOP", f"{bd.name}_wrapper")
        self.rt.info("BD 41-1662", f"The design '{bd.name}.bd' is valid. Wrote wrapper '{wrapper}'")
        self._write_xpr()
        return str(wrapper)

    def _write_outputs(self, bd: BlockDesign) -> Path:
        proj = self._need_project()
        self._assign_addresses_for(bd)
        out = self._bd_dir(proj, bd.name, gen=True)
        (out / "hw_handoff").mkdir(parents=True, exist_ok=True)
        (out / "synth").mkdir(parents=True, exist_ok=True)
        hwh = out / "hw_handoff" / f"{bd.name}.hwh"
        hwh.write_text(_hwh.write_hwh(bd, proj.part, proj.props.get("BOARD_PART", ""), self.release))
        (out / "synth" / f"{bd.name}.hwdef").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
        return hwh

    def _assign_addresses_for(self, bd: BlockDesign) -> None:
        cur = self.bd
        self.bd = bd
        try:
            self._assign_addresses()
        finally:
            self.bd = cur

    def generate_target(self, p: Parsed) -> str:
        proj = self._need_project()
        targets = self._split(p.pos[0])
        for t in targets:
            if t not in (
                "all",
                "synthesis",
                "simulation",
                "implementation",
                "instantiation_template",
                "example",
                "test_bench",
            ):
                raise StandinError(f"[Vivado 12-...] Invalid target '{t}' for generate_target.")
        objs = self._split(p.pos[1] if len(p.pos) > 1 else str(p.get("of_objects", "")))
        if not objs:
            raise StandinError(
                "[Common 17-163] Missing value for option 'objects', please type "
                "'generate_target -help' for usage info."
            )
        for o in objs:
            bd = next(
                (
                    b
                    for b in proj.bds.values()
                    if str(b.file) == o or str(b.file) == str(self._path(o)) or b.name == o
                ),
                None,
            )
            if bd is None:
                raise StandinError(
                    f"[Vivado 12-...] generate_target: '{o}' is not a block design or IP of the project."
                )
            self._write_outputs(bd)
        return ""

    def get_ips(self, p: Parsed) -> list[str]:
        proj = self.project
        out = []
        for bd in proj.bds.values() if proj else []:
            for c in bd.cells.values():
                if c.ipdef is not None:
                    out.append(f"{bd.name}_{c.name}_0")
        return [x for x in out if self._match(x, self._flat(p.pos))]

    # -- files ---------------------------------------------------------------------------------------------
    def get_files(self, p: Parsed) -> list[str]:
        proj = self.project
        if proj is None:
            return []
        files: list[Path] = []
        if p.get("of_objects"):
            for o in self._split(str(p.get("of_objects"))):
                if o in proj.filesets:
                    files += proj.filesets[o].files
        else:
            for fs in proj.filesets.values():
                files += fs.files
        pats = self._flat(p.pos)
        out = []
        for f in files:
            if not pats or any(
                fnmatch.fnmatchcase(str(f), pt)
                or fnmatch.fnmatchcase(f.name, pt)
                or str(self._path(pt)) == str(f)
                or str(f).endswith("/" + pt.lstrip("./"))
                for pt in pats
            ):
                out.append(str(f))
        if pats and not out and not p.get("quiet"):
            self.rt.warning("Vivado 12-818", f"No files matched '{' '.join(pats)}'")
        return out

    def _exists_check(self, names: list[str]) -> str:
        for n in self._flat(names):
            if not self._path(n).exists():
                raise StandinError(f"[Vivado 12-172] File or Directory '{self._path(n)}' does not exist")
        return ""

    def add_files(self, p: Parsed, copy: bool) -> str:
        proj = self._implicit_project()
        fsname = str(p.get("fileset", "sources_1"))
        if fsname not in proj.filesets:
            raise StandinError(f"[Vivado 12-...] Fileset '{fsname}' does not exist.")
        names = self._flat(p.pos)
        added = []
        for n in names:
            path = self._path(n)
            if not path.exists():
                raise StandinError(
                    f"[filemgmt 56-197] Cannot add file(s) or directory: '{path}'. File or "
                    "directory does not exist."
                )
            if path.is_dir():
                found = sorted(
                    q
                    for q in (path.glob("*") if p.get("norecurse") else path.rglob("*"))
                    if q.is_file() and q.suffix in (*HDL_SUFFIXES, ".xdc", ".bd", ".xci", ".tcl", ".dat")
                )
                added += found
            else:
                added.append(path)
        if copy and not proj.in_memory:
            dest = proj.sub("srcs") / fsname / "imports"
            dest.mkdir(parents=True, exist_ok=True)
            copied = []
            for f in added:
                shutil.copy(f, dest / f.name)
                copied.append(dest / f.name)
            added = copied
        fs = proj.filesets[fsname]
        for f in added:
            if f not in fs.files:
                fs.files.append(f.resolve() if not copy else f)
        self._write_xpr()
        return " ".join(str(f) for f in added)

    def read_hdl(self, p: Parsed) -> str:
        proj = self._implicit_project()
        for n in self._flat(p.pos):
            path = self._path(n)
            if not path.is_file():
                raise StandinError(f"[Vivado 12-172] File or Directory '{path}' does not exist")
            proj.filesets["sources_1"].files.append(path)
        return ""

    def read_xdc(self, p: Parsed) -> str:
        proj = self._implicit_project()
        for n in self._flat(p.pos):
            path = self._path(n)
            if not path.is_file():
                raise StandinError(f"[Vivado 12-172] File or Directory '{path}' does not exist")
            proj.filesets["constrs_1"].files.append(path)
        return ""

    def current_fileset(self, p: Parsed) -> str:
        self._need_project()
        if p.get("constrset"):
            return "constrs_1"
        if p.get("simset"):
            return "sim_1"
        return "sources_1"

    def get_filesets(self, p: Parsed) -> list[str]:
        proj = self._need_project()
        return [n for n in proj.filesets if self._match(n, self._flat(p.pos))]

    def create_fileset(self, p: Parsed) -> str:
        proj = self._need_project()
        kind = "Constrs" if p.get("constrset") else "SimulationSrcs" if p.get("simset") else "BlockSrcs"
        proj.filesets[p.pos[0]] = Fileset(p.pos[0], kind)
        return p.pos[0]

    # -- runs ------------------------------------------------------------------------------------------
    def get_runs(self, p: Parsed) -> list[str]:
        proj = self._need_project()
        runs = [("run", r) for r in proj.runs.values() if self._match(r.name, self._flat(p.pos))]
        return [r.name for _, r in self._filter(runs, p.get("filter"))]

    def create_run(self, p: Parsed) -> str:
        proj = self._need_project()
        name = p.pos[0]
        if name in proj.runs:
            raise StandinError(f"[Vivado 12-...] Run '{name}' already exists.")
        parent = p.get("parent_run")
        if parent is not None and parent not in proj.runs:
            raise StandinError(f"[Vivado 12-...] Parent run '{parent}' does not exist.")
        flow = str(p.get("flow"))
        proj.runs[name] = Run(name, parent is None and "Synthesis" in flow, parent, {"FLOW": flow})
        return name

    def reset_run(self, p: Parsed) -> str:
        proj = self._need_project()
        name = p.pos[0]
        if name not in proj.runs:
            raise StandinError(f"[Vivado 12-1...] Run '{name}' does not exist.")
        run = proj.runs[name]
        run.step = ""
        run.launched = False
        shutil.rmtree(proj.sub("runs") / name, ignore_errors=True)
        if run.synth:
            for r in proj.runs.values():
                if r.parent == name:
                    r.step, r.launched = "", False
        return ""

    def _top(self) -> str:
        proj = self.project
        if proj is None:
            return ""
        fs = proj.filesets["sources_1"]
        if fs.props.get("TOP"):
            return fs.props["TOP"]
        modules, instantiated = [], set()
        for f in fs.files:
            if f.suffix in (".v", ".sv") and f.is_file():
                text = f.read_text(errors="replace")
                modules += re.findall(r"^\s*module\s+(\w+)", text, re.M)
                instantiated |= set(re.findall(r"^\s*(\w+)\s+(?:#\s*\(.*?\)\s*)?\w+\s*\(", text, re.M | re.S))
        tops = [m for m in modules if m not in instantiated]
        return tops[-1] if tops else (modules[-1] if modules else "")

    def launch_runs(self, p: Parsed) -> str:
        proj = self._need_project()
        if proj.in_memory:
            raise StandinError(
                "[Vivado 12-...] launch_runs is a project-mode command; the in-memory project has no runs."
            )
        names = self._flat(p.pos)
        to_step = p.get("to_step")
        for name in names:
            if name not in proj.runs:
                raise StandinError(f"[Vivado 12-1...] Run '{name}' does not exist.")
            run = proj.runs[name]
            if to_step is not None:
                allowed = ("synth_design",) if run.synth else IMPL_STEPS
                if to_step not in allowed:
                    raise StandinError(
                        f"[Vivado 12-...] Invalid step '{to_step}' for run '{name}'; valid steps: "
                        f"{', '.join(allowed)}"
                    )
            top = self._top()
            if not top:
                raise StandinError(
                    "[Vivado 12-...] No top module: add design sources (or set the TOP property "
                    "of sources_1) before launching runs."
                )
            if run.synth:
                self._run_synth(run, top)
            else:
                parent = proj.runs[run.parent or "synth_1"]
                if parent.step != "synth_design":
                    self._run_synth(parent, top)
                self._run_impl(run, top, str(to_step or "route_design"))
        return ""

    def _bds_of(self, top: str) -> list[BlockDesign]:
        proj = self._need_project()
        return [bd for bd in proj.bds.values() if top in (f"{bd.name}_wrapper", bd.name)] or list(
            proj.bds.values()
        )

    def _hierarchy(self, top: str, part: str) -> list[tuple[int, str, str, Util]]:
        """The true post-synthesis hierarchy of the project's top (BD cells, or one HDL top)."""
        bds = self._bds_of(top)
        if not bds:
            return [(0, top, "", self._hdl_util(top))]
        bd = bds[0]
        rows: list[tuple[int, str, str, Util]] = []
        for bd_cell in sorted(bd.cells.values(), key=lambda c: c.path):
            if bd_cell.parent != "":
                continue
            rows += self._cell_rows(bd, bd_cell, 2)
        total = Util()
        for _d, _, m, u in rows:
            if m != "__group__":
                total = total + u
        rows = [(0, top, "", total), (1, f"{bd.name}_i", bd.name, total), *rows]
        return [(d, i, ("" if m == "__group__" else m), u) for d, i, m, u in _fold_groups(rows)]

    def _cell_rows(self, bd: BlockDesign, cell: Cell, depth: int) -> list[tuple[int, str, str, Util]]:
        if cell.ipdef is None:
            children = [c for c in bd.cells.values() if c.parent == cell.path]
            rows = [(depth, cell.name, "__group__", Util())]
            for ch in sorted(children, key=lambda c: c.name):
                rows += self._cell_rows(bd, ch, depth + 1)
            return rows
        return [(depth, cell.name, f"{bd.name}_{cell.name}_0", self._ip_util(cell))]

    def _ip_util(self, cell: Cell) -> Util:
        assert cell.ipdef is not None
        if cell.ipdef.repo:
            return hls_util(Path(cell.ipdef.repo))
        return PLATFORM_UTIL.get(cell.ipdef.name, Util(50, 0, 0, 60))

    def _hdl_util(self, top: str) -> Util:
        proj = self.project
        for f in proj.filesets["sources_1"].files if proj else []:
            xml = f.parent.parent / "report" / f"{top}_csynth.xml"
            if xml.is_file():
                return hls_util_from_csynth(xml)
        return Util(1200, 0, 20, 1500)

    def _clocks(self) -> list[tuple[str, float]]:
        proj = self.project
        clocks = []
        for bd in proj.bds.values() if proj else []:
            for c in bd.cells.values():
                if c.ipdef and c.ipdef.name == "processing_system7":
                    clocks.append(
                        ("clk_fpga_0", 1000.0 / float(c.param("PCW_FPGA0_PERIPHERAL_FREQMHZ") or 50))
                    )
                elif c.ipdef and c.ipdef.name == "zynq_ultra_ps_e":
                    clocks.append(
                        ("clk_pl_0", 1000.0 / float(c.param("PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ") or 100))
                    )
        for f in proj.filesets["constrs_1"].files if proj else []:
            if f.is_file():
                for m in re.finditer(r"create_clock\s+(.*)", f.read_text()):
                    per = re.search(r"-period\s+([\d.]+)", m.group(1))
                    name = re.search(r"-name\s+(\S+)", m.group(1))
                    if per:
                        clocks.append((name.group(1) if name else "clk", float(per.group(1))))
        return clocks

    def _run_synth(self, run: Run, top: str) -> None:
        proj = self._need_project()
        folder = proj.sub("runs") / run.name
        folder.mkdir(parents=True, exist_ok=True)
        for bd in self._bds_of(top):
            self._write_outputs(bd)
            self._check_bd(bd)
            for c in bd.cells.values():
                if c.ipdef is None:
                    continue
                ip = f"{bd.name}_{c.name}_0"
                ooc = proj.sub("runs") / f"{ip}_synth_1"
                ooc.mkdir(parents=True, exist_ok=True)
                u = self._ip_util(c)
                decoy = u.scaled(DECOY_RATIO, DECOY_OFFSET)
                (ooc / f"{ip}_utilization_synth.rpt").write_text(
                    _reports.utilization_rpt(
                        release=self.release,
                        command=f"report_utilization -file {ip}_utilization_synth.rpt -pb "
                        f"{ip}_utilization_synth.pb",
                        top=ip,
                        part=proj.part,
                        state="Synthesized",
                        util=decoy,
                    )
                )
                (ooc / f"{ip}.dcp").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
                proj.runs.setdefault(
                    f"{ip}_synth_1", Run(f"{ip}_synth_1", True, step="synth_design", launched=True)
                )
        hier = self._hierarchy(top, proj.part)
        decoy_util = hier[0][3].scaled(DECOY_RATIO, DECOY_OFFSET)
        (folder / f"{top}_utilization_synth.rpt").write_text(
            _reports.utilization_rpt(
                release=self.release,
                command=f"report_utilization -file {top}_utilization_synth.rpt -pb "
                f"{top}_utilization_synth.pb",
                top=top,
                part=proj.part,
                state="Synthesized",
                util=decoy_util,
            )
        )
        (folder / f"{top}.dcp").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
        (folder / "runme.log").write_text(f"synth_design -top {top} -part {proj.part}\n(hil stand-in)\n")
        run.launched, run.step = True, "synth_design"
        self.rt.info(
            "Vivado 12-...", f"Launched {run.name}... Run output will be captured here: {folder}/runme.log"
        )

    def _check_bd(self, bd: BlockDesign) -> None:
        cur = self.bd
        self.bd = bd
        try:
            for text in self._bd_problems():
                self.rt.say(f"CRITICAL WARNING: {text}")
        finally:
            self.bd = cur

    def _run_impl(self, run: Run, top: str, to_step: str) -> None:
        proj = self._need_project()
        folder = proj.sub("runs") / run.name
        folder.mkdir(parents=True, exist_ok=True)
        hier = self._hierarchy(top, proj.part)
        decoy = hier[0][3].scaled(DECOY_RATIO, DECOY_OFFSET)
        steps = list(IMPL_STEPS)
        last = steps.index(to_step)
        if last >= steps.index("place_design"):
            (folder / f"{top}_utilization_placed.rpt").write_text(
                _reports.utilization_rpt(
                    release=self.release,
                    command=f"report_utilization -file {top}_utilization_placed.rpt -pb "
                    f"{top}_utilization_placed.pb",
                    top=top,
                    part=proj.part,
                    state="Fully Placed",
                    util=decoy,
                )
            )
        if last >= steps.index("route_design"):
            (folder / f"{top}_timing_summary_routed.rpt").write_text(
                _reports.timing_summary_rpt(
                    release=self.release,
                    command=f"report_timing_summary -max_paths 10 -report_unconstrained -file "
                    f"{top}_timing_summary_routed.rpt -pb {top}_timing_summary_routed.pb -rpx "
                    f"{top}_timing_summary_routed.rpx -warn_on_violation ",
                    top=top,
                    part=proj.part,
                    clocks=self._clocks(),
                    wns=self._wns() + 1.234,
                    routed=True,
                )
            )
            (folder / f"{top}_routed.dcp").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
        if to_step == "write_bitstream":
            (folder / f"{top}.bit").write_bytes(_bitfile(top, proj.part))
        (folder / "runme.log").write_text(f"implementation of {top} to {to_step} (hil stand-in)\n")
        run.launched, run.step = True, to_step
        self.rt.info(
            "Vivado 12-...", f"Launched {run.name}... Run output will be captured here: {folder}/runme.log"
        )

    def _wns(self) -> float:
        env = os.environ.get("HIL_STANDIN_WNS")
        if env:
            return float(env)
        clocks = self._clocks()
        period = min((p for _, p in clocks), default=10.0)
        return round(period * 0.123, 3)

    def wait_on_run(self, p: Parsed) -> str:
        proj = self._need_project()
        for name in self._flat(p.pos):
            if name not in proj.runs:
                raise StandinError(f"[Vivado 12-1...] Run '{name}' does not exist.")
            run = proj.runs[name]
            if not run.launched:
                self.rt.warning("Vivado 12-...", f"Run '{name}' has not been launched.")
            else:
                self.rt.info("Vivado 12-...", f"{name} finished: {run.status}")
        return ""

    def open_run(self, p: Parsed) -> str:
        proj = self._need_project()
        name = p.pos[0]
        if name not in proj.runs:
            raise StandinError(f"[Vivado 12-1...] Run '{name}' does not exist.")
        run = proj.runs[name]
        if not run.launched or not run.step:
            raise StandinError(
                f"[Common 17-69] Command failed: Run '{name}' has not been launched. Unable to open"
            )
        if not run.synth and IMPL_STEPS.index(run.step) < IMPL_STEPS.index("route_design"):
            raise StandinError(
                f"[Common 17-69] Command failed: Run '{name}' is not complete ({run.status}); "
                "unable to open the implemented design."
            )
        top = self._top()
        state = "Synthesized" if run.synth else "Routed"
        self.design = Design(
            str(p.get("name", name)),
            top,
            proj.part,
            state,
            self._hierarchy(top, proj.part),
            self._clocks(),
            run=name,
        )
        return self.design.name

    def close_design(self, p: Parsed) -> str:
        self._need_design()
        self.design = None
        return ""

    # -- non-project flow --------------------------------------------------------------------------------
    def synth_design(self, p: Parsed) -> str:
        proj = self._implicit_project()
        top = p.get("top") or self._top()
        part = str(p.get("part") or proj.part)
        if not known_part(part):
            raise StandinError(f"[Coretcl 2-106] Specified part could not be found: '{part}'")
        if not top:
            raise StandinError("[Synth 8-439] No top module specified and none could be determined.")
        modules = set()
        for f in proj.filesets["sources_1"].files:
            if f.suffix in (".v", ".sv") and f.is_file():
                modules |= set(re.findall(r"^\s*module\s+(\w+)", f.read_text(errors="replace"), re.M))
            elif f.suffix in (".vhd", ".vhdl") and f.is_file():
                modules |= set(re.findall(r"^\s*entity\s+(\w+)", f.read_text(errors="replace"), re.M | re.I))
        if top not in modules and not any(f.suffix == ".bd" for f in proj.filesets["sources_1"].files):
            raise StandinError(f"[Synth 8-439] module '{top}' not found")
        mode = p.get("mode", "default")
        if mode not in ("default", "out_of_context"):
            raise StandinError(f"[Common 17-...] Invalid value '{mode}' for -mode (default, out_of_context).")
        self.rt.info("Synth 8-6157", f"synthesizing module '{top}'")
        hier = (
            self._hierarchy(str(top), part)
            if any(f.suffix == ".bd" for f in proj.filesets["sources_1"].files)
            else [(0, str(top), "", self._hdl_util(str(top)))]
        )
        self.design = Design("synth_1", str(top), part, "Synthesized", hier, self._clocks())
        self.rt.info("Common 17-83", "Releasing license: Synthesis\nsynth_design completed successfully")
        return ""

    def _step(self, name: str, allowed: tuple[str, ...], new_state: str | None = None) -> str:
        d = self._need_design()
        if d.state not in allowed:
            raise StandinError(
                f"[Common 17-69] Command failed: {name} needs a design in state "
                f"{' or '.join(allowed)}; the current design is {d.state}."
            )
        if new_state:
            d.state = new_state
        self.rt.info("Common 17-83", f"{name} completed successfully")
        return ""

    def write_bitstream(self, p: Parsed) -> str:
        d = self._need_design()
        if d.state != "Routed":
            self.rt.say("ERROR: [DRC RTSTAT-1] Unrouted nets: the design is not routed.")
            raise StandinError("[Vivado 12-1345] Error(s) found during DRC. Bitgen not run.")
        path = self._path(p.pos[0])
        if path.suffix != ".bit":
            path = path.with_name(path.name + ".bit")
        if path.exists() and not p.get("force"):
            raise StandinError(f"[Vivado 12-...] The file '{path}' already exists. Use -force to overwrite.")
        path.write_bytes(_bitfile(d.top, d.part))
        return ""

    def write_checkpoint(self, p: Parsed) -> str:
        self._need_design()
        path = self._path(p.pos[0])
        if path.suffix != ".dcp":
            path = path.with_name(path.name + ".dcp")
        if path.exists() and not p.get("force"):
            raise StandinError(f"[Common 17-...] The file '{path}' already exists. Use -force to overwrite.")
        path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
        return ""

    def write_hw_platform(self, p: Parsed) -> str:
        proj = self._need_project()
        target = p.get("file") or (p.pos[0] if p.pos else None)
        if target is None:
            raise StandinError(
                "[Common 17-163] Missing value for option 'file', please type 'write_hw_platform "
                "-help' for usage info."
            )
        path = self._path(str(target))
        if path.exists() and not p.get("force"):
            raise StandinError(f"[Vivado 12-4413] The file '{path}' already exists. Use -force to overwrite.")
        top = self._top()
        with zipfile.ZipFile(path, "w") as z:
            for bd in self._bds_of(top):
                hwh = self._write_outputs(bd)
                z.write(hwh, hwh.name)
            if p.get("include_bit"):
                impl = proj.runs.get("impl_1")
                if impl is None or impl.step != "write_bitstream":
                    raise StandinError(
                        "[Vivado 12-4398] -include_bit: the bitstream has not been generated "
                        "(run impl_1 to write_bitstream first)."
                    )
                z.write(proj.sub("runs") / "impl_1" / f"{top}.bit", f"{top}.bit")
            z.writestr("xsa.json", json.dumps({"name": top, "vivado": self.release}))
        return str(path)

    def current_design(self, p: Parsed) -> str:
        return self._need_design().name

    def get_cells(self, p: Parsed) -> list[str]:
        d = self._need_design()
        names = []
        stack: list[str] = []
        for depth, inst, _, _ in d.hierarchy[1:]:
            stack = [*stack[: depth - 1], inst]
            names.append("/".join(stack))
        pats = self._flat(p.pos)
        if not p.get("hierarchical") and not p.get("hier"):
            names = [n for n in names if "/" not in n]
        return [
            n for n in names if not pats or self._match(n, pats) or self._match(n.rpartition("/")[2], pats)
        ]

    def _emit(self, p: Parsed, text: str) -> str:
        if p.get("file"):
            path = self._path(str(p.get("file")))
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a" if p.get("append") else "w", encoding="utf-8") as fh:
                fh.write(text)
            return ""
        if p.get("return_string"):
            return text
        self.rt.say(text)
        return ""

    def _command_line(self, name: str, p: Parsed) -> str:
        parts = [name]
        for k, v in p.opts.items():
            parts.append(f"-{k}" if v is True else f"-{k} {v}")
        return " ".join(parts)

    def report_utilization(self, p: Parsed) -> str:
        d = self._need_design()
        fmt = p.get("format", "text")
        if fmt not in ("text", "xml"):
            raise StandinError(f"[Common 17-...] Invalid value '{fmt}' for -format (text, xml).")
        depth = int(p.get("hierarchical_depth", 0) or 0)
        if depth < 0:
            raise StandinError("[Common 17-...] -hierarchical_depth must be positive.")
        hier = None
        if p.get("hierarchical"):
            hier = [r for r in d.hierarchy if not depth or r[0] <= depth]
        text = _reports.utilization_rpt(
            release=self.release,
            command=self._command_line("report_utilization", p),
            top=d.top,
            part=d.part,
            state=d.state,
            util=d.hierarchy[0][3],
            hierarchy=hier,
            percentages=bool(p.get("hierarchical_percentages")),
        )
        return self._emit(p, text)

    def report_timing_summary(self, p: Parsed) -> str:
        d = self._need_design()
        text = _reports.timing_summary_rpt(
            release=self.release,
            command=self._command_line("report_timing_summary", p),
            top=d.top,
            part=d.part,
            clocks=d.clocks,
            wns=self._wns(),
            routed=d.state == "Routed",
        )
        if p.get("warn_on_violation") and d.clocks and self._wns() < 0:
            self.rt.say(
                "CRITICAL WARNING: [Timing 38-282] The design failed to meet the timing requirements. "
                "Please see the timing summary report for details on the timing violations."
            )
        return self._emit(p, text)

    def report_power(self, p: Parsed) -> str:
        d = self._need_design()
        u = d.hierarchy[0][3]
        total = 0.2 + u.lut * 2e-5 + u.dsp * 3e-3 + (1.5 if d.part.startswith("xczu") else 1.3)
        return self._emit(
            p,
            _reports.power_rpt(
                release=self.release,
                command=self._command_line("report_power", p),
                top=d.top,
                part=d.part,
                total_w=total,
            ),
        )


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _ver(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text))


def _size(text: str) -> int:
    m = re.fullmatch(r"(\d+)\s*([KMG]?)", text.strip().upper())
    if not m:
        return int(text, 0)
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    return list(zip(items[::2], items[1::2], strict=False))


def _fold_groups(rows: list[tuple[int, str, str, Util]]) -> list[tuple[int, str, str, Util]]:
    """Give each hierarchy row (``__group__``) the sum of its children."""
    out = list(rows)
    for i in range(len(out) - 1, -1, -1):
        depth, inst, module, _ = out[i]
        if module == "__group__":
            total = Util()
            for d, _, _m, u in out[i + 1 :]:
                if d <= depth:
                    break
                if d == depth + 1:
                    total = total + u
            out[i] = (depth, inst, "__group__", total)
    return out


def hls_util_from_csynth(xml: Path) -> Util:
    root = ET.parse(xml).getroot()
    res = root.find("AreaEstimates/Resources")

    def num(tag: str) -> int:
        el = res.find(tag) if res is not None else None
        return int(el.text) if el is not None and el.text and el.text.isdigit() else 0

    lut, ff, dsp, bram = num("LUT"), num("FF"), num("DSP") or num("DSP48E"), num("BRAM_18K")
    return Util(
        int(lut * LUT_RATIO) - 48 if lut > 100 else lut,
        0,
        48 if lut > 100 else 0,
        int(ff * FF_RATIO),
        bram // 2,
        bram % 2,
        num("URAM"),
        dsp,
    )


def hls_util(component_xml: Path) -> Util:
    """Post-synthesis figures of an HLS IP: its csynth report (``<sol>/syn/report``) scaled."""
    sol = component_xml.parent.parent.parent
    top = ""
    m = re.search(r"<xilinx:hilStandinTop>([^<]+)<", component_xml.read_text())
    if m:
        top = m.group(1)
    xml = sol / "syn" / "report" / f"{top}_csynth.xml"
    if xml.is_file():
        return hls_util_from_csynth(xml)
    return Util(1000, 0, 0, 1200)


def read_component(path: Path) -> IpDef | None:
    """An IpDef from an IP-XACT component.xml (Vivado IP packager's format)."""
    ns = {"spirit": "http://www.spiritconsortium.org/XMLSchema/SPIRIT/1685-2009"}
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return None

    def text(el: Any, tag: str) -> str:
        found = el.find(f"spirit:{tag}", ns)
        return found.text or "" if found is not None else ""

    vendor, library, name, version = (text(root, t) for t in ("vendor", "library", "name", "version"))
    if not all((vendor, library, name, version)):
        return None
    intf, pins, in_bus = [], [], set()
    params: dict[str, str] = {}
    for bi in root.findall("spirit:busInterfaces/spirit:busInterface", ns):
        bname = text(bi, "name")
        btype = bi.find("spirit:busType", ns)
        kind = btype.get(f"{{{ns['spirit']}}}name") if btype is not None else ""
        mode = "Master" if bi.find("spirit:master", ns) is not None else "Slave"
        for pm in bi.findall("spirit:portMaps/spirit:portMap", ns):
            phys = pm.find("spirit:physicalPort/spirit:name", ns)
            if phys is not None and phys.text:
                in_bus.add(phys.text)
        for prm in bi.findall("spirit:parameters/spirit:parameter", ns):
            params[f"{bname}.{text(prm, 'name')}"] = text(prm, "value")
        if kind == "axis":
            intf.append(IntfPin(bname, mode, AXIS))
        elif kind == "aximm":
            intf.append(IntfPin(bname, mode, AXIMM))
        elif kind == "clock":
            pins.append(Pin(bname, "I", "clk"))
        elif kind == "reset":
            pins.append(Pin(bname, "I", "rst"))
        elif kind == "interrupt":
            pins.append(Pin(bname, "O", "intr"))
    for port in root.findall("spirit:model/spirit:ports/spirit:port", ns):
        pname = text(port, "name")
        if pname in in_bus and not any(pn.name == pname for pn in pins):
            continue
        if not any(pn.name == pname for pn in pins):
            d = port.find("spirit:wire/spirit:direction", ns)
            pins.append(Pin(pname, "I" if d is not None and d.text == "in" else "O"))
    ip = IpDef(vendor, library, name, version, intf, pins, params, repo=str(path))
    return ip


def _bitfile(top: str, part: str) -> bytes:
    """A ``.bit`` in Xilinx's container layout (UG470 / PYNQ's ``parse_bit_header``): a 9-byte magic,
    fields a (design;UserID;Version), b (part), c (date), d (time), each with a 2-byte big-endian
    length, then e with a 4-byte length and the payload; the payload is not configuration data."""
    import struct
    import time as _time

    def field(key: bytes, text: str) -> bytes:
        data = text.encode("ascii") + b"\0"
        return key + struct.pack(">H", len(data)) + data

    # the b field names device and package without "xc" or speed grade: 7z020clg400, zu7evffvc1156
    pieces = (part[2:] if part.startswith("xc") else part).split("-")
    device_package = pieces[0] + (pieces[1] if len(pieces) > 2 else "")
    header = struct.pack(">H", 9) + bytes.fromhex("0ff00ff00ff00ff000") + struct.pack(">H", 1)
    header += field(b"a", f"{top};UserID=0XFFFFFFFF;Version=standin")
    header += field(b"b", device_package)
    header += field(b"c", _time.strftime("%Y/%m/%d")) + field(b"d", _time.strftime("%H:%M:%S"))
    payload = b"\xff" * 64 + b"HIL-STANDIN-BITSTREAM (not a real configuration bitstream)\n"
    payload += b" " * (-len(payload) % 4)
    return header + b"e" + struct.pack(">I", len(payload)) + payload


__all__ = ["VivadoTool", "device"]
