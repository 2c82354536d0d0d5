"""hls4ml 1.3.0's own build scripts run to completion under the stand-ins, as on the real tools."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.standin_tests.conftest import PYNQ_Z2

BUILD_OPT = (
    "array set opt {\n reset 1\n csim 0\n synth 1\n cosim 0\n validation 0\n export 1\n vsynth 1\n"
    " fifo_opt 0\n}\n"
)


def test_vitis_backend_build_prj_2024_2(run, project_copy) -> None:
    prj = project_copy("Vitis")
    (prj / "build_opt.tcl").write_text(BUILD_OPT)
    done = run("2024.2", "vitis-run", "--mode", "hls", "--tcl", "build_prj.tcl", cwd=prj)
    assert done.code == 0, done.out
    report = prj / "myproject_prj/solution1/syn/report"
    assert {"csynth.rpt", "csynth.xml", "myproject_csynth.rpt", "myproject_csynth.xml"} <= {
        p.name for p in report.iterdir()
    }
    xml = ET.parse(report / "csynth.xml").getroot()
    assert xml.findtext("UserAssignments/Part") == "xczu7ev-ffvc1156-2-e"
    assert xml.findtext("UserAssignments/TargetClockPeriod") == "5.00"
    ports = {e.findtext("name"): int(e.findtext("Bits")) for e in xml.iter("RtlPorts")}
    assert ports["global_in_TDATA"] == 64 and ports["layer6_out_TDATA"] == 48  # 4 x and 3 x ap_fixed<16,6>
    assert (prj / "myproject_prj/solution1/impl/ip/component.xml").is_file()
    assert (
        "<spirit:version>1.0</spirit:version>"
        in (prj / "myproject_prj/solution1/impl/ip/component.xml").read_text()
    )
    synth = (prj / "vivado_synth.rpt").read_text()
    assert "| Design       : myproject" in synth and "| Design State : Synthesized" in synth
    calls = done.calls()
    assert any(c["command"] == "config_array_partition" and "error" in c for c in calls)  # caught by hls4ml
    assert [c["command"] for c in calls if c["tool"] == "vivado"][:2] == ["add_files", "synth_design"]


def test_vitis_backend_misspelt_command_fails(run, project_copy) -> None:
    prj = project_copy("Vitis")
    (prj / "build_opt.tcl").write_text(BUILD_OPT)
    text = (prj / "build_prj.tcl").read_text().replace("csynth_design\n", "csynth_desing\n")
    (prj / "build_prj.tcl").write_text(text)
    done = run("2024.2", "vitis-run", "--mode", "hls", "--tcl", "build_prj.tcl", cwd=prj)
    assert done.code == 1 and 'invalid command name "csynth_desing"' in done.out


def test_vivado_accelerator_pynq_z2_2020_1(run, project_copy, pynq_ip_dicts) -> None:
    prj = project_copy("VivadoAccelerator")
    done = run(
        "2020.1",
        "vivado_hls",
        "-f",
        "build_prj.tcl",
        "reset=1 csim=0 synth=1 cosim=0 validation=0 export=1 vsynth=1",
        cwd=prj,
    )
    assert done.code == 0, done.out
    assert (prj / "myproject_prj/solution1/syn/report/myproject_axi_csynth.rpt").is_file()
    comp = (prj / "myproject_prj/solution1/impl/ip/component.xml").read_text()
    assert "<spirit:name>in_r</spirit:name>" in comp and "<spirit:name>out_r</spirit:name>" in comp
    assert (prj / "vivado_synth.rpt").is_file()
    # without the third-party board files, hls4ml's design.tcl stops at set_property board_part
    done = run("2020.1", "vivado", "-mode", "batch", "-source", "design.tcl", cwd=prj)
    assert done.code == 1 and "board_part definition was not found" in done.out
    done = run(
        "2020.1",
        "vivado",
        "-mode",
        "batch",
        "-source",
        "design.tcl",
        cwd=prj,
        env={"HIL_STANDIN_BOARD_PARTS": PYNQ_Z2},
    )
    assert done.code == 0, done.out
    base = prj / "myproject_vivado_accelerator"
    assert (base / "project_1.runs/impl_1/design_1_wrapper.bit").is_file()
    hwh = base / "project_1.srcs/sources_1/bd/design_1/hw_handoff/design_1.hwh"
    text = hwh.read_text()
    assert 'FULLNAME="/hier_0/axi_dma_0"' in text and 'BOARD="tul.com.tw:pynq-z2:part0:1.0"' in text
    assert 'VLNV="xilinx.com:hls:myproject_axi:1.0"' in text and 'BASEVALUE="0x40400000"' in text
    for ip in pynq_ip_dicts(hwh):  # as the real hls4ml PYNQ-Z2 overlay (../shared/hwh/README.md)
        assert set(ip) == {"hier_0/axi_dma_0", "processing_system7_0"}
        assert ip["hier_0/axi_dma_0"]["phys_addr"] == 0x40400000
        assert ip["hier_0/axi_dma_0"]["parameters"]["c_m_axis_mm2s_tdata_width"] == "32"
    util = (prj / "util.rpt").read_text()
    assert "DSP48 Blocks" in util and "hier_0" in util and "(design_1_axi_dma_0_0)" in util


def test_vivado_accelerator_under_2024_2_has_no_vivado_hls(run, project_copy) -> None:
    prj = project_copy("VivadoAccelerator")
    done = run("2024.2", "vivado_hls", "-f", "build_prj.tcl", "reset=1", cwd=prj)
    assert done.code == 127
