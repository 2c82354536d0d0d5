"""Which release and flow hil finds on PATH, in both AMD install layouts, and what it says is missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hil.flow import FLOW_ACCELERATOR, FLOW_VITIS, detect_toolchain, release_of_path


def _tool(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)


def _path(*folders: Path) -> str:
    return os.pathsep.join(str(f) for f in folders)


@pytest.mark.parametrize(
    ("path", "release"),
    [
        ("/tools/Xilinx/Vivado/2024.2/bin/vivado", "2024.2"),
        ("/opt/amd/2025.1/Vivado/bin/vivado", "2025.1"),
        ("/tools/Xilinx/Vitis_HLS/2023.2/bin/vitis_hls", "2023.2"),
        ("/opt/Xilinx/Vivado/2020.1/bin/vivado_hls", "2020.1"),
        ("/usr/local/bin/vivado", None),
        ("/home/me/v2024.2x/bin/vivado", None),  # a release must be a whole folder name
    ],
)
def test_release_from_both_install_layouts(path: str, release: str | None) -> None:
    assert release_of_path(path) == release


def test_2024_2_layout_runs_the_vitis_flow_through_vitis_run(tmp_path: Path) -> None:
    root = tmp_path / "Xilinx"
    _tool(root / "Vivado" / "2024.2" / "bin", "vivado")
    _tool(root / "Vitis_HLS" / "2024.2" / "bin", "vitis_hls")
    _tool(root / "Vitis" / "2024.2" / "bin", "vitis-run")
    found = detect_toolchain(
        path=_path(root / "Vivado/2024.2/bin", root / "Vitis_HLS/2024.2/bin", root / "Vitis/2024.2/bin")
    )
    assert (found.release, found.flow, found.hls_tool, found.usable) == (
        "2024.2",
        FLOW_VITIS,
        "vitis-run",
        True,
    )
    assert found.tool("vivado_hls").path is None


def test_2025_1_release_first_layout(tmp_path: Path) -> None:
    _tool(tmp_path / "2025.1" / "Vivado" / "bin", "vivado")
    _tool(tmp_path / "2025.1" / "Vitis" / "bin", "vitis-run")
    found = detect_toolchain(path=_path(tmp_path / "2025.1/Vivado/bin", tmp_path / "2025.1/Vitis/bin"))
    assert (found.release, found.flow, found.hls_tool, found.missing) == (
        "2025.1",
        FLOW_VITIS,
        "vitis-run",
        (),
    )


def test_2020_1_runs_the_accelerator_flow(tmp_path: Path) -> None:
    bin_dir = tmp_path / "Vivado" / "2020.1" / "bin"
    _tool(bin_dir, "vivado")
    _tool(bin_dir, "vivado_hls")
    found = detect_toolchain(path=str(bin_dir))
    assert (found.release, found.flow, found.hls_tool, found.usable) == (
        "2020.1",
        FLOW_ACCELERATOR,
        "vivado_hls",
        True,
    )


def test_missing_pieces_are_named(tmp_path: Path) -> None:
    _tool(tmp_path / "Vivado" / "2024.2" / "bin", "vivado")
    _tool(tmp_path / "Vitis_HLS" / "2023.2" / "bin", "vitis_hls")  # another release: not usable with it
    found = detect_toolchain(path=_path(tmp_path / "Vivado/2024.2/bin", tmp_path / "Vitis_HLS/2023.2/bin"))
    assert not found.usable and found.release == "2024.2"
    assert any("no Vitis HLS 2024.2" in line for line in found.missing)
    assert any("vitis_hls 2023.2" in line and "ignored" in line for line in found.notes)
    nothing = detect_toolchain(path=str(tmp_path / "empty"))
    assert not nothing.usable and "no AMD tools on PATH" in nothing.missing[0]


def test_standin_declaration_changes_the_version_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tool(tmp_path / "Vivado" / "2020.1" / "bin", "vivado")
    _tool(tmp_path / "Vivado" / "2020.1" / "bin", "vivado_hls")
    monkeypatch.delenv("HIL_STANDIN_TOOLS", raising=False)
    real = detect_toolchain(path=str(tmp_path / "Vivado/2020.1/bin"))
    monkeypatch.setenv("HIL_STANDIN_TOOLS", "1")
    standin = detect_toolchain(path=str(tmp_path / "Vivado/2020.1/bin"))
    assert (real.version_label(), standin.version_label()) == ("2020.1", "2020.1-standin")


def test_hil_toolchain_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli) -> None:
    _tool(tmp_path / "2025.1" / "Vivado" / "bin", "vivado")
    monkeypatch.setenv("PATH", f"{tmp_path / '2025.1/Vivado/bin'}{os.pathsep}/usr/bin:/bin")
    code, out, _err = run_cli("toolchain", "--json")
    report = json.loads(out)
    assert code == 1 and report["release"] == "2025.1" and report["flow"] == "vitis"
    assert any("no Vitis HLS 2025.1" in line for line in report["missing"])
    _tool(tmp_path / "2025.1" / "Vitis" / "bin", "vitis-run")
    monkeypatch.setenv("PATH", f"{tmp_path / '2025.1/Vivado/bin'}{os.pathsep}{tmp_path / '2025.1/Vitis/bin'}")
    code, out, _err = run_cli("toolchain")
    assert code == 0 and "a bitstream can be built here" in out and "vitis-run" in out
