# A hil-style ZCU104 design for the stand-in tests (str.format placeholders: board, mhz, tail).
# PS + DMA + an HLS IP; IP versions asked of the tool, paths from the commands' return values.
create_project p ./p -part xczu7ev-ffvc1156-2-e
set_property board_part {board} [current_project]
set_property ip_repo_paths ./prj [current_project]
update_ip_catalog
create_bd_design design_1
set ps [create_bd_cell -type ip -vlnv [lindex [get_ipdefs -all xilinx.com:ip:zynq_ultra_ps_e:*] end] zynq_ultra_ps_e_0]
apply_bd_automation -rule xilinx.com:bd_rule:zynq_ultra_ps_e -config {{apply_board_preset "1"}} $ps
set_property -dict [list CONFIG.PSU__USE__S_AXI_GP2 {{1}} CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ {{{mhz}}}] $ps
set dma [create_bd_cell -type ip -vlnv [get_ipdefs -filter {{NAME == axi_dma}}] axi_dma_0]
set_property -dict [list CONFIG.c_include_sg {{0}} CONFIG.c_sg_length_width {{26}}] $dma
create_bd_cell -type ip -vlnv xilinx.com:hls:nn:1.0 nn_0
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {{Master {{/zynq_ultra_ps_e_0/M_AXI_HPM0_FPD}} Slave {{/axi_dma_0/S_AXI_LITE}} intc_ip {{New AXI SmartConnect}}}} [get_bd_intf_pins axi_dma_0/S_AXI_LITE]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {{Master {{/axi_dma_0/M_AXI_MM2S}} Slave {{/zynq_ultra_ps_e_0/S_AXI_HP0_FPD}} intc_ip {{New AXI SmartConnect}}}} [get_bd_intf_pins zynq_ultra_ps_e_0/S_AXI_HP0_FPD]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {{Master {{/axi_dma_0/M_AXI_S2MM}} Slave {{/zynq_ultra_ps_e_0/S_AXI_HP0_FPD}} intc_ip {{/axi_smc_1}}}} [get_bd_intf_pins axi_dma_0/M_AXI_S2MM]
connect_bd_intf_net [get_bd_intf_pins axi_dma_0/M_AXIS_MM2S] [get_bd_intf_pins nn_0/in_r]
connect_bd_intf_net [get_bd_intf_pins nn_0/out_r] [get_bd_intf_pins axi_dma_0/S_AXIS_S2MM]
apply_bd_automation -rule xilinx.com:bd_rule:clkrst -config {{Clk {{/zynq_ultra_ps_e_0/pl_clk0}}}} [get_bd_pins nn_0/ap_clk]
assign_bd_address
validate_bd_design
save_bd_design
set wrapper [make_wrapper -files [get_files design_1.bd] -top]
puts "WRAPPER=$wrapper"
add_files -norecurse $wrapper
{tail}
