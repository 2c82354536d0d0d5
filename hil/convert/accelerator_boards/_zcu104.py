# ruff: noqa: E501  (the Tcl below keeps Vivado's one-command-per-line form)
"""hil's ZCU104 board files for hls4ml's VivadoAccelerator backend (hls4ml ships pynq-z2, zcu102).

The block design is hls4ml's zcu102 one adapted to the ZCU104: part xczu7ev-ffvc1156-2-e, the
ZCU104 board preset, a Zynq UltraScale+ PS (zynq_ultra_ps_e) feeding the network through an AXI
DMA (MM2S -> network -> S2MM), the PL clock set from the project's clock period, and the reports
and hand-off files written under fixed names the vivado builder collects:
``vivado_impl_utilization_routed.rpt``, ``vivado_impl_timing_summary_routed.rpt``,
``design.bit`` and ``design.hwh``. ``project.tcl`` (written by hls4ml) defines project_name,
clock_period and the AXI widths.
"""

from __future__ import annotations

__all__ = ["ZCU104"]

_TCL = r"""# hil: ZCU104 (xczu7ev) block design for hls4ml's VivadoAccelerator axi_stream interface.
set tcldir [file dirname [info script]]
source [file join $tcldir project.tcl]

create_project project_1 ${project_name}_vivado_accelerator -part xczu7ev-ffvc1156-2-e -force
set_property board_part xilinx.com:zcu104:part0:1.1 [current_project]
set_property ip_repo_paths ${project_name}_prj [current_project]
update_ip_catalog

create_bd_design "design_1"
set_property ip_repo_paths ${project_name}_prj/solution1/impl/ip [current_project]
update_ip_catalog

# IP versions differ between releases: ask the running Vivado for the newest of each.
proc hil_ipdef {pattern} {
    set vlnvs {}
    foreach def [get_ipdefs -quiet $pattern] { lappend vlnvs [get_property VLNV $def] }
    if {[llength $vlnvs] == 0} { error "hil: no IP matching $pattern in this Vivado's IP catalog" }
    return [lindex [lsort -dictionary $vlnvs] end]
}

# Zynq UltraScale+ processing system with the board preset
startgroup
create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:ip:zynq_ultra_ps_e:*] zynq_ultra_ps_e_0
endgroup
apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e -config {apply_board_preset "1"} [get_bd_cells zynq_ultra_ps_e_0]
set pl_mhz [expr {int(round(1000.0 / $clock_period))}]
set_property -dict [list CONFIG.PSU__USE__S_AXI_GP0 {1} CONFIG.PSU__SAXIGP0__DATA_WIDTH {32} \
    CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ $pl_mhz] [get_bd_cells zynq_ultra_ps_e_0]

# AXI DMA: memory -> network (MM2S) and network -> memory (S2MM), no scatter-gather
startgroup
create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:ip:axi_dma:*] axi_dma_0
endgroup
set_property -dict [list CONFIG.c_m_axi_s2mm_data_width.VALUE_SRC USER CONFIG.c_s_axis_s2mm_tdata_width.VALUE_SRC USER] [get_bd_cells axi_dma_0]
set_property -dict [list CONFIG.c_include_sg {0} CONFIG.c_sg_length_width {26} CONFIG.c_sg_include_stscntrl_strm {0} \
    CONFIG.c_m_axi_mm2s_data_width ${bit_width_hls_input} CONFIG.c_m_axis_mm2s_tdata_width ${bit_width_hls_input} \
    CONFIG.c_mm2s_burst_size {256} CONFIG.c_m_axi_s2mm_data_width ${bit_width_hls_output} \
    CONFIG.c_s_axis_s2mm_tdata_width ${bit_width_hls_output} CONFIG.c_s2mm_burst_size {256}] [get_bd_cells axi_dma_0]

startgroup
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config { Clk_master {Auto} Clk_slave {Auto} Clk_xbar {Auto} Master {/zynq_ultra_ps_e_0/M_AXI_HPM0_FPD} Slave {/axi_dma_0/S_AXI_LITE} ddr_seg {Auto} intc_ip {New AXI Interconnect} master_apm {0}} [get_bd_intf_pins axi_dma_0/S_AXI_LITE]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config { Clk_master {Auto} Clk_slave {Auto} Clk_xbar {Auto} Master {/axi_dma_0/M_AXI_MM2S} Slave {/zynq_ultra_ps_e_0/S_AXI_HPC0_FPD} ddr_seg {Auto} intc_ip {New AXI SmartConnect} master_apm {0}} [get_bd_intf_pins zynq_ultra_ps_e_0/S_AXI_HPC0_FPD]
endgroup
startgroup
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config { Clk_master {Auto} Clk_slave {/zynq_ultra_ps_e_0/pl_clk0} Clk_xbar {/zynq_ultra_ps_e_0/pl_clk0} Master {/axi_dma_0/M_AXI_S2MM} Slave {/zynq_ultra_ps_e_0/S_AXI_HPC0_FPD} ddr_seg {Auto} intc_ip {/axi_smc} master_apm {0}} [get_bd_intf_pins axi_dma_0/M_AXI_S2MM]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config { Clk_master {Auto} Clk_slave {/zynq_ultra_ps_e_0/pl_clk0} Clk_xbar {/zynq_ultra_ps_e_0/pl_clk0} Master {/zynq_ultra_ps_e_0/M_AXI_HPM1_FPD} Slave {/axi_dma_0/S_AXI_LITE} ddr_seg {Auto} intc_ip {/ps8_0_axi_periph} master_apm {0}} [get_bd_intf_pins zynq_ultra_ps_e_0/M_AXI_HPM1_FPD]
endgroup

# the network
startgroup
create_bd_cell -type ip -vlnv [hil_ipdef xilinx.com:hls:${project_name}_axi:*] ${project_name}_axi_0
endgroup
connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXIS_MM2S] [get_bd_intf_pins ${project_name}_axi_0/in_r]
connect_bd_intf_net [get_bd_intf_pins axi_dma_0/S_AXIS_S2MM] [get_bd_intf_pins ${project_name}_axi_0/out_r]
apply_bd_automation -rule xilinx.com:bd_rule:clkrst -config [list Clk {/zynq_ultra_ps_e_0/pl_clk0} Freq $pl_mhz Ref_Clk0 {} Ref_Clk1 {} Ref_Clk2 {}] [get_bd_pins ${project_name}_axi_0/ap_clk]
group_bd_cells hier_0 [get_bd_cells axi_dma_0] [get_bd_cells ${project_name}_axi_0]

validate_bd_design
# make_wrapper writes under .srcs/ up to 2020.1 and .gen/ since 2020.2: use the path it returns.
set wrapper [make_wrapper -files [get_files design_1.bd] -top]
add_files -norecurse $wrapper
set_property top design_1_wrapper [current_fileset]

reset_run impl_1
reset_run synth_1
launch_runs impl_1 -to_step write_bitstream -jobs 4
wait_on_run impl_1
if {[get_property PROGRESS [get_runs impl_1]] != "100%"} {
    error "hil: implementation did not finish"
}

open_run impl_1
report_utilization -file vivado_impl_utilization_routed.rpt
report_timing_summary -file vivado_impl_timing_summary_routed.rpt
write_bitstream -force design.bit
# the hardware handoff lies beside the wrapper's folder (hdl/ and hw_handoff/ of one design)
file copy -force [file join [file dirname [file dirname $wrapper]] hw_handoff design_1.hwh] design.hwh
"""

#: supported_boards.json entry, plus the template text hil writes out at registration.
ZCU104 = {
    "part": "xczu7ev-ffvc1156-2-e",
    "tcl_scripts": {"axi_stream": "axi_stream_design.tcl"},
    "python_drivers": {"axi_stream": "axi_stream_driver.py"},
    "c_drivers": {},
    "_tcl": {"axi_stream_design.tcl": _TCL},
    # The PYNQ driver for Zynq UltraScale+ boards is board-independent: reuse hls4ml's zcu102 one.
    "_driver_from": "zcu102",
}
