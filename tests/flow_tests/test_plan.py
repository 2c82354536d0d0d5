"""Boards as data and the plan: `hil build --dry-run` writes the scripts and plan.json and runs nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.flow import board_build, shipped_board_builds
from hil.inventory import load_inventory


def test_every_inventory_board_has_build_data() -> None:
    inventory = load_inventory()
    for name, board in inventory.boards.items():
        build = board_build(name, board.part)
        assert build.part == board.part
        low, high = build.clock_range
        assert low <= board.clock_mhz <= high, name
    assert set(shipped_board_builds()) >= {"zcu104", "zcu102", "kv260", "aup-zu3", "pynq-z2"}
    assert board_build("pynq-z2", "xc7z020clg400-1").family.slave == "S_AXI_HP0"
    assert board_build("zcu104", "xczu7ev-ffvc1156-2-e").family.slave == "S_AXI_HP0_FPD"


def test_board_data_errors_are_one_line() -> None:
    with pytest.raises(ConfigError, match="no block-design data"):
        board_build("my-custom-board", "xczu7ev-ffvc1156-2-e")
    with pytest.raises(ConfigError, match="differs from its build data's part"):
        board_build("zcu104", "xczu9eg-ffvb1156-2-e")
    with pytest.raises(ConfigError, match="ps must be one of"):
        board_build("custom", "xczu3eg-sbva484-1-e", {"ps": "microblaze"})
    custom = board_build("custom", "xczu3eg-sbva484-1-e", {"ps": "zynq_ultra_ps_e", "ps_config": {"X": 1}})
    assert custom.board_part is None and custom.preset()["X"] == "1"
    with pytest.raises(ConfigError, match="outside 10-250 MHz"):
        board_build("pynq-z2", "xc7z020clg400-1").check_clock(300, "pynq-z2")


def _dry_run(run_cli, model: Path, out: Path, *args: str) -> tuple[int, dict, str]:
    code, stdout, stderr = run_cli(
        "build", model, "--builder", "vivado", "--dry-run", "--out", out, "--json", *args
    )
    return code, (json.loads(stdout) if code == 0 else {}), stderr


@pytest.fixture
def no_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")


def test_dry_run_vitis_flow_writes_scripts_and_plan(
    no_tools, dense_onnx: Path, tmp_path: Path, run_cli
) -> None:
    out = tmp_path / "plan"
    code, plan, err = _dry_run(run_cli, dense_onnx, out, "--board", "zcu104", "--release", "2024.2")
    assert code == 0, err
    assert plan["flow"] == "vitis" and plan["release"] == "2024.2" and plan["hls_top"] == "myproject_axis"
    argvs = [call["argv"] for call in plan["calls"]]
    assert argvs[0] == ["vitis-run", "--mode", "hls", "--tcl", "hil_hls.tcl"]
    assert argvs[1][:2] == ["vivado", "-mode"] and "hil_vivado.tcl" in argvs[1]
    assert not any("vivado_hls" in " ".join(argv) for argv in argvs)
    assert "design.bit" in plan["calls"][1]["produces"] and "design.hwh" in plan["calls"][1]["produces"]
    for script in plan["scripts"]:
        assert (out / script).is_file(), script
    assert json.loads((out / "plan.json").read_text())["calls"] == plan["calls"]
    vivado_tcl = (out / "hil_vivado.tcl").read_text()
    assert "zynq_ultra_ps_e:3." not in vivado_tcl  # IP versions come from the running tool
    assert "hil_ipdef xilinx.com:ip:zynq_ultra_ps_e:*" in vivado_tcl
    assert "set hil_wrapper [make_wrapper" in vivado_tcl and ".srcs/" not in vivado_tcl
    assert "CONFIG.PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ {200}" in vivado_tcl
    assert not list(out.rglob("*.bit")) and not (out / "myproject_prj").exists()  # nothing ran


def test_dry_run_release_picks_hls_entry_point(no_tools, dense_onnx: Path, tmp_path: Path, run_cli) -> None:
    code, plan, err = _dry_run(run_cli, dense_onnx, tmp_path / "a", "--board", "kv260", "--release", "2022.2")
    assert code == 0, err
    assert plan["calls"][0]["argv"][:2] == ["vitis_hls", "-f"]  # vitis-run arrived in 2023.2
    code, plan, err = _dry_run(
        run_cli,
        dense_onnx,
        tmp_path / "b",
        "--board",
        "pynq-z2",
        "--release",
        "2020.1",
        "--stop-after",
        "synth",
    )
    assert code == 0, err
    assert plan["flow"] == "vivado-accelerator" and plan["hls_top"] == "myproject_axi"
    assert plan["calls"][0]["argv"][:3] == ["vivado_hls", "-f", "build_prj.tcl"]
    assert "reports/utilization_synth_hier.rpt" in plan["calls"][1]["produces"]
    tcl = (tmp_path / "b" / "hil_vivado.tcl").read_text()
    assert "processing_system7" in tcl and "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ {100}" in tcl


def test_accelerator_backend_refused_on_a_vitis_release(
    no_tools, dense_onnx: Path, tmp_path: Path, run_cli
) -> None:
    code, _plan, err = _dry_run(
        run_cli, dense_onnx, tmp_path / "c", "--board", "zcu104", "--release", "2024.2",
        "--backend", "VivadoAccelerator",
    )  # fmt: skip
    assert code == 2 and "no vivado_hls" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()  # refused before anything ran


def test_hls_only_plan_has_no_vivado_call(no_tools, dense_onnx: Path, tmp_path: Path, run_cli) -> None:
    code, plan, err = _dry_run(
        run_cli, dense_onnx, tmp_path / "d", "--board", "zcu104", "--stop-after", "hls"
    )
    assert code == 0, err
    assert [call["tool"] for call in plan["calls"]] == ["vitis-run"] and plan["release"] == "2025.1"
    assert not (tmp_path / "d" / "hil_vivado.tcl").exists()


def test_tcl_scripts_are_complete_tcl(no_tools, dense_onnx: Path, tmp_path: Path, run_cli) -> None:
    import tkinter

    for board in ("zcu104", "pynq-z2"):
        out = tmp_path / board
        code, _plan, err = _dry_run(run_cli, dense_onnx, out, "--board", board)
        assert code == 0, err
        interp = tkinter.Tcl()
        for script in ("hil_hls.tcl", "hil_vivado.tcl"):
            text = (out / script).read_text()
            assert interp.eval(f"info complete {{{text}}}") == "1", script
    assert os.environ["PATH"] == "/usr/bin:/bin"
