"""Vivado commands (UG835 option tables), block designs, runs, reports and the .hwh they write."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.standin_tests.test_hls import CPP, PROLOGUE

ZCU104 = "xilinx.com:zcu104:part0:1.1"

#: A hil-style ZCU104 design (Tcl beside this file, with str.format placeholders).
BD_SCRIPT = (Path(__file__).parent / "zcu104_design.tcl").read_text()

RUN_TAIL = """launch_runs impl_1 -to_step write_bitstream -jobs 2
wait_on_run impl_1
puts "STATUS=[get_property STATUS [get_runs impl_1]] PROGRESS=[get_property PROGRESS [get_runs impl_1]]"
open_run impl_1
report_utilization -file util.rpt
report_utilization -hierarchical -hierarchical_depth 4 -file util_hier.rpt
report_timing_summary -max_paths 10 -report_unconstrained -file timing.rpt
write_bitstream -force out.bit
"""


def _build_ip(run, cwd: Path, release: str = "2024.2") -> None:
    (cwd / "nn.cpp").write_text(CPP)
    tool = "vivado_hls" if release == "2020.1" else "vitis_hls"
    (cwd / "hls.tcl").write_text(PROLOGUE + "csynth_design\nexport_design -format ip_catalog\nexit\n")
    done = run(release, tool, "-f", "hls.tcl", cwd=cwd)
    assert done.code == 0, done.out


def _bd(tail: str = RUN_TAIL, board: str = ZCU104, mhz: int = 200) -> str:
    return BD_SCRIPT.format(board=board, tail=tail, mhz=mhz)


def test_zynqmp_design_to_bitstream(run, vivado, tmp_path) -> None:
    _build_ip(run, tmp_path)
    done = vivado("2024.2", _bd())
    assert done.code == 0, done.out
    assert "CRITICAL WARNING" not in done.out
    gen = tmp_path / "p/p.gen/sources_1/bd/design_1"
    assert f"WRAPPER={gen}/hdl/design_1_wrapper.v" in done.out
    assert "STATUS=write_bitstream Complete! PROGRESS=100%" in done.out
    runs = tmp_path / "p/p.runs"
    assert (runs / "impl_1/design_1_wrapper.bit").is_file() and (tmp_path / "out.bit").is_file()
    assert (gen / "hw_handoff/design_1.hwh").is_file()
    assert (tmp_path / "p/p.xpr").is_file() and (
        tmp_path / "p/p.srcs/sources_1/bd/design_1/design_1.bd"
    ).is_file()
    # the reports asked for vs Vivado's own run-tree files (decoys with other numbers)
    flat = (tmp_path / "util.rpt").read_text()
    decoy = (runs / "synth_1/design_1_wrapper_utilization_synth.rpt").read_text()
    placed = (runs / "impl_1/design_1_wrapper_utilization_placed.rpt").read_text()
    assert (
        "| Design State : Routed" in flat
        and "CLB LUTs" in flat
        and "| Device       : xczu7evffvc1156-2" in flat
    )

    def luts(text: str) -> int:
        return int(re.search(r"\| CLB LUTs\*\s*\|\s*(\d+)", text).group(1))

    assert luts(flat) != luts(decoy) and luts(flat) != luts(placed)
    assert (runs / "design_1_axi_dma_0_0_synth_1/design_1_axi_dma_0_0_utilization_synth.rpt").is_file()
    hier = (tmp_path / "util_hier.rpt").read_text()
    assert "Utilization by Hierarchy" in hier and "URAM" in hier and "DSP Blocks" in hier
    rows = {
        m.group(1).strip(): int(m.group(2))
        for m in re.finditer(r"^\|\s*(\S+)\s*\|[^|]*\|\s*(\d+)", hier, re.M)
    }
    assert rows["design_1_wrapper"] == luts(flat)
    assert {"design_1_i", "axi_dma_0", "nn_0", "zynq_ultra_ps_e_0", "axi_smc", "axi_smc_1"} <= set(rows)
    timing = (tmp_path / "timing.rpt").read_text()
    assert "All user specified timing constraints are met." in timing and "clk_pl_0" in timing
    wns = float(re.search(r"WNS\(ns\).*\n.*\n\s*(-?[\d.]+)", timing).group(1))
    routed = (runs / "impl_1/design_1_wrapper_timing_summary_routed.rpt").read_text()
    assert wns > 0 and float(re.search(r"WNS\(ns\).*\n.*\n\s*(-?[\d.]+)", routed).group(1)) != wns
    assert "5.000" in timing  # the 200 MHz PL clock set on the PS


def test_wns_from_environment(run, vivado, tmp_path) -> None:
    _build_ip(run, tmp_path)
    done = vivado("2024.2", _bd(), env={"HIL_STANDIN_WNS": "-0.250"})
    assert done.code == 0, done.out
    timing = (tmp_path / "timing.rpt").read_text()
    assert "Timing constraints are not met." in timing and "-0.250" in timing


def test_hwh_parses_with_real_pynq(run, vivado, tmp_path, pynq_ip_dicts) -> None:
    _build_ip(run, tmp_path)
    done = vivado("2024.2", _bd(tail="generate_target all [get_files design_1.bd]"))
    hwh = tmp_path / "p/p.gen/sources_1/bd/design_1/hw_handoff/design_1.hwh"
    assert hwh.is_file(), done.out
    for ip in pynq_ip_dicts(hwh):
        dma = ip["axi_dma_0"]
        assert dma["type"] == "xilinx.com:ip:axi_dma:7.1" and dma["phys_addr"] == 0xA0000000
        assert dma["parameters"]["c_sg_length_width"] == "26" and dma["parameters"]["c_include_sg"] == "0"
        assert ip["zynq_ultra_ps_e_0"]["type"].startswith("xilinx.com:ip:zynq_ultra_ps_e:3.")
        assert not any(k.startswith("nn_0") for k in ip)  # AXI-Stream only: no address, not in ip_dict


@pytest.mark.parametrize(("release", "gen"), [("2020.1", False), ("2022.2", True), ("2025.1", True)])
def test_make_wrapper_path_per_release(vivado, release, gen) -> None:
    script = (
        "create_project p ./p -part xc7z020clg400-1\ncreate_bd_design d\n"
        "puts W=[make_wrapper -files [get_files d.bd] -top]\n"
        "puts X=[make_wrapper -top -force [get_files d.bd]]\n"
    )
    done = vivado(release, script)
    assert done.code == 0, done.out
    wrapper = re.search(r"W=(\S+)", done.out).group(1)
    assert f"X={wrapper}" in done.out  # UG835 2022.2's positional <files> form gives the same wrapper
    assert (
        wrapper.endswith(f"p/p.{'gen' if gen else 'srcs'}/sources_1/bd/d/hdl/d_wrapper.v")
        and Path(wrapper).is_file()
    )


@pytest.mark.parametrize(
    ("release", "vlnv", "ok"),
    [
        ("2020.1", "xilinx.com:ip:zynq_ultra_ps_e:3.3", True),
        ("2024.2", "xilinx.com:ip:zynq_ultra_ps_e:3.3", False),
        ("2024.2", "xilinx.com:ip:zynq_ultra_ps_e:3.5", True),
        ("2020.1", "xilinx.com:ip:zynq_ultra_ps_e:3.5", False),
        ("2024.2", "xilinx.com:ip:zynq_ultra_ps_e", True),
        ("2024.2", "xilinx.com:ip:axi_dma:7.1", True),
    ],
)
def test_create_bd_cell_checks_the_catalog(vivado, release, vlnv, ok) -> None:
    done = vivado(
        release,
        f"create_project p ./p -part xczu7ev-ffvc1156-2-e\ncreate_bd_design d\n"
        f"create_bd_cell -type ip -vlnv {vlnv} c0\nputs DONE\n",
    )
    assert (done.code == 0 and "DONE" in done.out) == ok, done.out
    if not ok:
        assert f"IP '{vlnv}' was not found in the IP catalog" in done.out


PS7 = (
    "create_project p ./p -part xc7z020clg400-1\ncreate_bd_design d\n"
    "create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7:5.5 ps\n"
    "create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 dma\n"
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "connect_bd_intf_net [get_bd_intf_pins dma/M_AXIS_MM2S] [get_bd_intf_pins ps/S_AXI_HP0]",
            "connect_bd_intf_net needs exactly two",
        ),  # S_AXI_HP0 is not enabled: get_bd_intf_pins finds nothing
        ("connect_bd_intf_net dma/M_AXIS_MM2S ps/M_AXI_GP0", "Interface types mismatch"),
        ("connect_bd_intf_net dma/M_AXI_MM2S ps/M_AXI_GP0", "one must be a master"),
        ("connect_bd_intf_net dma/M_AXIS_MM2S dma/S_AXIS_NOPE", "was not found"),
        ("connect_bd_net ps/FCLK_CLK0 dma/no_such_clk", "was not found"),
        ("create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma:7.1 dma", "already exists"),
        ("create_bd_cell -vlnv xilinx.com:ip:axi_dma:7.1 dma2", "Missing value for option 'type'"),
        (
            "set_property -dict [list CONFIG.c_include_sg 0] [get_bd_cells dma] -bogus",
            "Unknown option '-bogus'",
        ),
        (
            "apply_bd_automation -rule xilinx.com:bd_rule:axi4"
            " -config {Master {/ps/M_AXI_GP0} Slave {/dma/S_AXI_LITE}}",
            "needs the object",
        ),
        (
            "apply_bd_automation -rule xilinx.com:bd_rule:axi4"
            " -config {Master {/dma/M_AXI_MM2S} Slave {/ps/S_AXI_HP0}} "
            "[get_bd_intf_pins dma/M_AXI_MM2S]",
            "does not exist (is it enabled",
        ),
        ("apply_bd_automation -rule xilinx.com:bd_rule:nope ps", "is not defined"),
        ("report_utilization -file u.rpt", "No open design"),
        ("write_bitstream x.bit", "No open design"),
        ("open_run impl_1", "has not been launched"),
        ("add_files missing.v", "does not exist"),
        ("source missing.tcl", "couldn't read file"),
        ("launch_runs impl_1 -to_step write_bitstreem", "Invalid step"),
        (
            "set_property board_part tul.com.tw:pynq-z2:part0:1.0 [current_project]",
            "board_part definition was not found",
        ),
        ("get_bd_cellz", "invalid command name"),
    ],
)
def test_vivado_errors(vivado, line, message) -> None:
    done = vivado("2024.2", PS7 + line + "\nputs NOT_REACHED\n")
    assert done.code == 1 and message in done.out and "NOT_REACHED" not in done.out, done.out


def test_enabling_a_port_makes_the_pin(vivado) -> None:
    script = PS7 + (
        "puts A=[get_bd_intf_pins -quiet ps/S_AXI_HP0]\n"
        "set_property -dict [list CONFIG.PCW_USE_S_AXI_HP0 {1}] [get_bd_cells ps]\n"
        "puts B=[get_bd_intf_pins ps/S_AXI_HP0]\n"
        "puts C=[get_property CONFIG.c_include_sg [get_bd_cells dma]]\n"
        "puts D=[llength [get_bd_intf_pins -of_objects [get_bd_cells dma]]]\n"
    )
    done = vivado("2024.2", script)
    assert done.code == 0 and "A=\n" in done.out and "B=/ps/S_AXI_HP0" in done.out and "C=1" in done.out
    assert "D=6" in done.out  # S_AXI_LITE M_AXI_SG M_AXI_MM2S M_AXI_S2MM M_AXIS_MM2S S_AXIS_S2MM


def test_write_bitstream_needs_a_routed_design(run, vivado, tmp_path) -> None:
    (tmp_path / "top.v").write_text("module top(input a, output b); assign b = a; endmodule\n")
    base = "read_verilog top.v\nsynth_design -top top -part xc7a35tcpg236-1\n"
    done = vivado("2024.2", base + "write_bitstream -force t.bit\n")
    assert done.code == 1 and "Bitgen not run" in done.out and not (tmp_path / "t.bit").exists()
    done = vivado(
        "2024.2",
        base + "opt_design\nplace_design\nroute_design\nwrite_bitstream -force t.bit\n"
        "report_utilization -file u.rpt\n",
    )
    assert done.code == 0 and (tmp_path / "t.bit").is_file(), done.out
    u = (tmp_path / "u.rpt").read_text()
    assert "| Design       : top" in u and "Slice LUTs" in u and "| Device       : 7a35tcpg236-1" in u
    done = vivado("2024.2", "read_verilog top.v\nsynth_design -top nottop -part xc7a35tcpg236-1\n")
    assert done.code == 1 and "module 'nottop' not found" in done.out


def test_board_parts_env_and_queries(vivado) -> None:
    script = (
        "puts P=[get_board_parts -latest_file_version *zcu104*]\n"
        "puts Q=[get_property PART_NAME [get_board_parts *zcu104*]]\n"
        "puts R=[llength [get_board_parts *pynq*]]\n"
    )
    done = vivado("2024.2", script)
    assert (
        done.code == 0
        and f"P={ZCU104}" in done.out
        and "Q=xczu7ev-ffvc1156-2-e" in done.out
        and "R=0" in done.out
    )
    done = vivado("2024.2", script, env={"HIL_STANDIN_BOARD_PARTS": "tul.com.tw:pynq-z2:part0:1.0"})
    assert "R=1" in done.out and f"P={ZCU104}" in done.out  # added to AMD's own boards
    done = vivado("2024.2", script, env={"HIL_STANDIN_BOARD_PARTS": "-amd"})
    assert "P=\n" in done.out
    done = vivado(
        "2024.2",
        "puts V=[get_ipdefs -all xilinx.com:ip:zynq_ultra_ps_e:*]\n"
        "puts N=[get_ipdefs -filter {NAME == axi_dma}]\n",
    )
    assert "V=xilinx.com:ip:zynq_ultra_ps_e:3.5" in done.out and "N=xilinx.com:ip:axi_dma:7.1" in done.out
