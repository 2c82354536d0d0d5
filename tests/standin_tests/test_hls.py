"""HLS commands (UG1399 / UG902 option tables) and the files csynth/export write."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile

import pytest

CPP = """#include "hls_stream.h"
#include "ap_axi_sdata.h"
typedef ap_axiu<32, 0, 0, 0> pkt;
void nn(hls::stream<pkt> &in, hls::stream<pkt> &out) {
#pragma HLS INTERFACE axis port=in
#pragma HLS INTERFACE axis port=out
#pragma HLS INTERFACE ap_ctrl_none port=return
    pkt p = in.read();
    out.write(p);
}
"""

PROLOGUE = """open_project -reset prj
set_top nn
add_files nn.cpp
open_solution -reset sol
set_part xczu7ev-ffvc1156-2-e
create_clock -period 4 -name default
"""


@pytest.fixture
def src(tmp_path):
    (tmp_path / "nn.cpp").write_text(CPP)
    return tmp_path


def test_vitis_flow_writes_reports_and_ip(run, src) -> None:
    script = (
        PROLOGUE + "csynth_design\nexport_design -format ip_catalog -vendor acme.org -version 2.1\nexit\n"
    )
    done = run("2024.2", "vitis_hls", "-f", "s.tcl", script=script)
    assert done.code == 0, done.out
    report = src / "prj/sol/syn/report"
    for name in ("nn_csynth.rpt", "nn_csynth.xml", "csynth.rpt", "csynth.xml"):
        assert (report / name).is_file(), name
    xml = ET.parse(report / "nn_csynth.xml").getroot()
    assert xml.findtext("UserAssignments/TopModelName") == "nn"
    assert xml.findtext("UserAssignments/TargetClockPeriod") == "4.00"
    ports = [e.findtext("name") for e in xml.iter("RtlPorts")]
    assert "in_r_TDATA" in ports and "out_r_TLAST" in ports and "ap_start" not in ports  # ap_ctrl_none
    assert "Synthesis Summary Report of 'nn'" in (report / "csynth.rpt").read_text()
    assert "2024.2" in (report / "nn_csynth.rpt").read_text()
    assert (src / "prj/sol/syn/verilog/nn.v").is_file() and (src / "prj/hls.app").is_file()
    comp = (src / "prj/sol/impl/ip/component.xml").read_text()
    assert (
        "<spirit:vendor>acme.org</spirit:vendor>" in comp and "<spirit:version>2.1</spirit:version>" in comp
    )
    assert re.search(r"<spirit:name>in_r</spirit:name>", comp) and "TDATA_NUM_BYTES" in comp
    with zipfile.ZipFile(src / "prj/sol/impl/ip/acme_org_hls_nn_2_1.zip") as z:
        assert "component.xml" in z.namelist()
    assert "this is a stand-in for vitis_hls 2024.2" in (src / "vitis_hls.log").read_text()


def test_vivado_hls_2020_1_names(run, src) -> None:
    done = run(
        "2020.1", "vivado_hls", "-f", "s.tcl", script=PROLOGUE + "csynth_design\nexport_design\nexit\n"
    )
    assert done.code == 0, done.out
    assert (src / "prj/vivado_hls.app").is_file() and not (src / "prj/sol/syn/report/csynth.rpt").exists()
    assert "Vivado HLS Report for 'nn'" in (src / "prj/sol/syn/report/nn_csynth.rpt").read_text()
    assert "<DSP48E>" in (src / "prj/sol/syn/report/nn_csynth.xml").read_text()


@pytest.mark.parametrize(
    ("release", "line", "message"),
    [
        ("2024.2", "config_array_partition -maximum_size 4096", "Unknown option '-maximum_size'"),
        ("2024.2", "config_compile -name_max_lenght 80", "Unknown option '-name_max_lenght'"),
        ("2020.1", "open_solution -flow_target vivado s2", "Unknown option '-flow_target'"),
        ("2024.2", "export_design -format zip", "Invalid value 'zip'"),
        ("2024.2", "create_clock -name c", "Missing value for option '-period'"),
        ("2024.2", "set_directive_pipeline -iii 1 nn", "Unknown option '-iii'"),
    ],
)
def test_option_errors(run, src, release, line, message) -> None:
    done = run(
        release,
        "vitis_hls" if release != "2020.1" else "vivado_hls",
        "-f",
        "s.tcl",
        script=PROLOGUE + f"{line}\nputs NOT_REACHED\n",
    )
    assert done.code == 1 and message in done.out and "NOT_REACHED" not in done.out


def test_accepted_spellings(run, src) -> None:
    script = PROLOGUE + (
        "config_schedule -enable_dsp_full_reg=false\nconfig_schedule -enable_dsp_full_reg\n"
        "config_schedule -enable_dsp_full_reg true\nconfig_compile -name_max_length 80\n"
        "set_clock_uncertainty 27% default\nconfig_array_partition -complete_threshold 4\n"
        "puts [catch {config_array_partition -maximum_size 4096}]\nexit\n"
    )
    done = run("2024.2", "vitis_hls", "-f", "s.tcl", script=script)
    assert done.code == 0 and "\n1\n" in done.out
    done = run(
        "2020.1", "vivado_hls", "-f", "s.tcl", script=PROLOGUE + "config_array_partition -maximum_size 4096\n"
    )
    assert done.code == 0, done.out


def test_state_and_file_checks(run, src) -> None:
    done = run("2024.2", "vitis_hls", "-f", "s.tcl", script="set_top nn\n")
    assert done.code == 1 and "no open project" in done.out
    done = run("2024.2", "vitis_hls", "-f", "s.tcl", script="open_project p\nadd_files missing.cpp\n")
    assert done.code == 1 and "missing.cpp" in done.out
    done = run(
        "2024.2",
        "vitis_hls",
        "-f",
        "s.tcl",
        script=PROLOGUE.replace("set_top nn", "set_top nm") + "csynth_design\n",
    )
    assert done.code == 1 and "Cannot find the top function 'nm'" in done.out
    done = run("2024.2", "vitis_hls", "-f", "s.tcl", script=PROLOGUE + "export_design\n")
    assert done.code == 1 and "csynth_design first" in done.out
    no_part = PROLOGUE.replace("set_part xczu7ev-ffvc1156-2-e\n", "")
    done = run("2024.2", "vitis_hls", "-f", "s.tcl", script=no_part + "csynth_design\n")
    assert done.code == 1 and "set_part" in done.out


def test_vitis_run_tcl(run, src) -> None:
    done = run(
        "2024.2",
        "vitis-run",
        "--mode",
        "hls",
        "--tcl",
        "s.tcl",
        "--work_dir",
        "w",
        script=PROLOGUE + "csynth_design\nexit\n",
    )
    assert done.code == 0, done.out
    assert (src / "w/vitis_hls.log").is_file() and (src / "prj/sol/syn/report/csynth.xml").is_file()
