# ruff: noqa: E501  (the C++/Tcl templates keep one statement per line)
"""hil's Vivado script: a PYNQ overlay block design around the network IP, to a bitstream.

The design is the one hls4ml's PYNQ driver and hil's agent expect: the board's processing
system, an AXI DMA (no scatter-gather) whose MM2S stream feeds the network and whose S2MM
stream takes its results, a SmartConnect for the DMA's registers and one to DDR, a processor
system reset, everything on the PS's first PL clock at the requested frequency.

Rules that make the script survive AMD's release changes (each a bug of the past):

* every IP version is asked of the running Vivado (``get_ipdefs``), never written down;
* the board's files are used when installed (``get_board_parts``), else hil's PS preset;
* the wrapper's path is what ``make_wrapper`` returns (``.srcs/`` up to 2020.1, ``.gen/``
  after), and the hardware handoff is found beside it;
* every pin is looked up and must exist (a renamed port fails here, not as a dangling net);
* every report hil reads is written by this script to a fixed path under ``reports/``, and the
  bitstream by ``write_bitstream`` to ``design.bit``: nothing is searched for in the run tree,
  where Vivado leaves its own reports of the same names.

Commands and options are UG835's (Vivado Design Suite Tcl Command Reference); IP port names are
those of PG021 (AXI DMA), PG247 (SmartConnect), PG164 (Processor System Reset), PG201 (Zynq
UltraScale+ MPSoC PS) and UG585/PG082 (Zynq-7000 PS).
"""

from __future__ import annotations

from dataclasses import dataclass

from hil.flow._boards import BoardBuild

__all__ = ["REPORTS", "BlockDesign", "vivado_script"]

#: The files the Vivado script writes, relative to its folder, by stage.
REPORTS = {
    "synth": {
        "utilization": "reports/utilization_synth.rpt",
        "utilization_hier": "reports/utilization_synth_hier.rpt",
    },
    "bitstream": {
        "utilization": "reports/utilization_routed.rpt",
        "utilization_hier": "reports/utilization_routed_hier.rpt",
        "timing": "reports/timing_summary_routed.rpt",
        "bitstream": "design.bit",
        "hwh": "design.hwh",
    },
}

#: Cell names in the block design (the agent finds the DMA by type, not by name).
DMA_CELL = "axi_dma_0"
PS_CELL = "hil_ps"
RESET_CELL = "hil_reset"
CTRL_SMC = "hil_ctrl_smc"
MEM_SMC = "hil_mem_smc"
BD_NAME = "design_1"


@dataclass(frozen=True)
class BlockDesign:
    """What the script is made from.

    Attributes:
        board: the board's build data (part, PS family, board files).
        clock_mhz: the PL clock.
        ip_repo: the exported network IP's folder, relative to the script's folder.
        kernel_vlnv: a ``get_ipdefs`` pattern of the network IP (``hil.ml:hls:myproject_axis:*``).
        kernel_cell: the network's cell name (its row in the hierarchical utilization report).
        in_port, out_port: the network IP's AXI-stream ports.
        stop_after: ``synth`` (synthesized design's reports) or ``bitstream``.
        jobs: parallel jobs of Vivado's runs.
    """

    board: BoardBuild
    clock_mhz: float
    ip_repo: str
    kernel_vlnv: str
    kernel_cell: str
    in_port: str
    out_port: str
    stop_after: str = "bitstream"
    jobs: int = 2


def _tcl_dict(values: dict[str, str]) -> str:
    return " ".join(f"CONFIG.{key} {{{value}}}" for key, value in values.items())


def vivado_script(design: BlockDesign) -> str:
    """The Tcl text, to run as ``vivado -mode batch -source hil_vivado.tcl`` in the build folder."""
    board, family = design.board, design.board.family
    ps_config = {**board.preset(), family.clock_property: f"{design.clock_mhz:g}"}
    board_part = board.board_part or ""
    if board.ps == "processing_system7":
        with_board = (
            f'apply_bd_automation -rule {family.preset_rule} -config {{make_external "FIXED_IO, DDR" '
            f'apply_board_preset "1" Master "Disable" Slave "Disable"}} $ps'
        )
        without_board = "make_bd_intf_pins_external " + " ".join(
            f"[hil_intf {PS_CELL}/{name}]" for name in family.external
        )
    else:
        with_board = f'apply_bd_automation -rule {family.preset_rule} -config {{apply_board_preset "1"}} $ps'
        without_board = "# the preset below is the whole PS configuration"
    clocked = " ".join(
        f"[hil_pin {pin}]"
        for pin in (
            f"{PS_CELL}/{family.master_clock}",
            f"{PS_CELL}/{family.slave_clock}",
            f"{DMA_CELL}/s_axi_lite_aclk",
            f"{DMA_CELL}/m_axi_mm2s_aclk",
            f"{DMA_CELL}/m_axi_s2mm_aclk",
            f"{CTRL_SMC}/aclk",
            f"{MEM_SMC}/aclk",
            f"{design.kernel_cell}/ap_clk",
            f"{RESET_CELL}/slowest_sync_clk",
        )
    )
    reports_synth, reports_impl = REPORTS["synth"], REPORTS["bitstream"]
    return f"""# hil: PYNQ overlay block design and bitstream (hil.flow._tcl_vivado). Run in the build folder:
#   vivado -mode batch -nojournal -log vivado.log -source hil_vivado.tcl
set hil_here [file normalize [file dirname [info script]]]
set hil_part {{{board.part}}}
set hil_board_part {{{board_part}}}
set hil_stop_after {design.stop_after}
set hil_jobs {design.jobs}
file mkdir [file join $hil_here reports]

# The newest version of an IP in this Vivado's catalog (each release ships its own versions).
proc hil_ipdef {{pattern}} {{
    set defs [get_ipdefs -quiet $pattern]
    if {{[llength $defs] == 0}} {{
        error "hil: no IP matching $pattern in this Vivado's IP catalog"
    }}
    set vlnvs {{}}
    foreach def $defs {{ lappend vlnvs [get_property VLNV $def] }}
    return [lindex [lsort -dictionary $vlnvs] end]
}}
# A block-design pin / interface pin that must exist.
proc hil_pin {{path}} {{
    set found [get_bd_pins -quiet /$path]
    if {{[llength $found] != 1}} {{ error "hil: block design pin /$path not found" }}
    return $found
}}
proc hil_intf {{path}} {{
    set found [get_bd_intf_pins -quiet /$path]
    if {{[llength $found] != 1}} {{ error "hil: block design interface pin /$path not found" }}
    return $found
}}

create_project -force hil_overlay [file join $hil_here vivado] -part $hil_part
set hil_use_board 0
if {{$hil_board_part ne ""}} {{
    set found [get_board_parts -quiet -latest_file_version $hil_board_part]
    if {{[llength $found] > 0}} {{
        set_property board_part [lindex $found end] [current_project]
        set hil_use_board 1
        puts "hil: board files [lindex $found end]"
    }} else {{
        puts "hil: no board files match $hil_board_part: the PS gets hil's preset"
    }}
}}
set_property ip_repo_paths [list [file join $hil_here {design.ip_repo}]] [current_project]
update_ip_catalog -rebuild
create_bd_design {BD_NAME}

set ps [create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:ip:{board.ps}:*] {PS_CELL}]
if {{$hil_use_board}} {{
    {with_board}
}} else {{
    {without_board}
}}
set_property -dict [list {_tcl_dict(ps_config)}] $ps

set dma [create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:ip:axi_dma:*] {DMA_CELL}]
set_property -dict [list CONFIG.c_include_sg {{0}} CONFIG.c_sg_length_width {{26}} \\
    CONFIG.c_m_axi_mm2s_data_width {{32}} CONFIG.c_m_axis_mm2s_tdata_width {{32}} CONFIG.c_mm2s_burst_size {{16}} \\
    CONFIG.c_m_axi_s2mm_data_width {{32}} CONFIG.c_s_axis_s2mm_tdata_width {{32}} CONFIG.c_s2mm_burst_size {{16}}] $dma
set net [create_bd_cell -type ip -vlnv [hil_ipdef {design.kernel_vlnv}] {design.kernel_cell}]
set ctrl [create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:ip:smartconnect:*] {CTRL_SMC}]
set_property -dict [list CONFIG.NUM_SI {{1}} CONFIG.NUM_MI {{1}}] $ctrl
set mem [create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:ip:smartconnect:*] {MEM_SMC}]
set_property -dict [list CONFIG.NUM_SI {{2}} CONFIG.NUM_MI {{1}}] $mem
set rst [create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:ip:proc_sys_reset:*] {RESET_CELL}]

# data: DDR -> DMA -> network -> DMA -> DDR
connect_bd_intf_net [hil_intf {DMA_CELL}/M_AXIS_MM2S] [hil_intf {design.kernel_cell}/{design.in_port}]
connect_bd_intf_net [hil_intf {design.kernel_cell}/{design.out_port}] [hil_intf {DMA_CELL}/S_AXIS_S2MM]
connect_bd_intf_net [hil_intf {DMA_CELL}/M_AXI_MM2S] [hil_intf {MEM_SMC}/S00_AXI]
connect_bd_intf_net [hil_intf {DMA_CELL}/M_AXI_S2MM] [hil_intf {MEM_SMC}/S01_AXI]
connect_bd_intf_net [hil_intf {MEM_SMC}/M00_AXI] [hil_intf {PS_CELL}/{family.slave}]
# control: PS -> DMA registers
connect_bd_intf_net [hil_intf {PS_CELL}/{family.master}] [hil_intf {CTRL_SMC}/S00_AXI]
connect_bd_intf_net [hil_intf {CTRL_SMC}/M00_AXI] [hil_intf {DMA_CELL}/S_AXI_LITE]
# one clock, one reset
connect_bd_net [hil_pin {PS_CELL}/{family.pl_clock}] {clocked}
connect_bd_net [hil_pin {PS_CELL}/{family.pl_reset}] [hil_pin {RESET_CELL}/ext_reset_in]
connect_bd_net [hil_pin {RESET_CELL}/peripheral_aresetn] [hil_pin {DMA_CELL}/axi_resetn] \\
    [hil_pin {design.kernel_cell}/ap_rst_n]
connect_bd_net [hil_pin {RESET_CELL}/interconnect_aresetn] [hil_pin {CTRL_SMC}/aresetn] [hil_pin {MEM_SMC}/aresetn]

assign_bd_address
validate_bd_design
save_bd_design

set hil_bd [get_files {BD_NAME}.bd]
set hil_wrapper [make_wrapper -files $hil_bd -top]
add_files -norecurse $hil_wrapper
set_property top {BD_NAME}_wrapper [current_fileset]
generate_target all $hil_bd
# The hardware handoff lies beside the wrapper's folder (hdl/ and hw_handoff/ of the same design).
set hil_hwh [file join [file dirname [file dirname $hil_wrapper]] hw_handoff {BD_NAME}.hwh]
if {{![file exists $hil_hwh]}} {{
    error "hil: generate_target wrote no hardware handoff at $hil_hwh"
}}

launch_runs synth_1 -jobs $hil_jobs
wait_on_run synth_1
if {{[get_property PROGRESS [get_runs synth_1]] ne "100%"}} {{
    error "hil: synthesis did not finish: [get_property STATUS [get_runs synth_1]]"
}}
if {{$hil_stop_after eq "synth"}} {{
    open_run synth_1 -name synth_1
    report_utilization -file [file join $hil_here {reports_synth["utilization"]}]
    report_utilization -hierarchical -file [file join $hil_here {reports_synth["utilization_hier"]}]
    puts "hil: stopped after synthesis"
}} else {{
    launch_runs impl_1 -jobs $hil_jobs
    wait_on_run impl_1
    if {{[get_property PROGRESS [get_runs impl_1]] ne "100%"}} {{
        error "hil: implementation did not finish: [get_property STATUS [get_runs impl_1]]"
    }}
    open_run impl_1
    report_utilization -file [file join $hil_here {reports_impl["utilization"]}]
    report_utilization -hierarchical -file [file join $hil_here {reports_impl["utilization_hier"]}]
    report_timing_summary -max_paths 10 -file [file join $hil_here {reports_impl["timing"]}]
    write_bitstream -force [file join $hil_here {reports_impl["bitstream"]}]
    file copy -force $hil_hwh [file join $hil_here {reports_impl["hwh"]}]
    puts "hil: bitstream [file join $hil_here {reports_impl["bitstream"]}]"
}}
close_project
exit
"""
