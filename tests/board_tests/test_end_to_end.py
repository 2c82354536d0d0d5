"""End to end on stand-ins: `hil search` picks a design -> `hil measure` builds it with the Tcl-executing
AMD tool stand-ins (declared in the inventory) -> deploys it over loopback SSH -> the real pynq 4.0 on
the stand-in device measures it. Every hardware number is labelled ``standin``, never ``board``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.board_tests._sshd import LoopbackSshd
from tests.board_tests.conftest import RESOURCES


@pytest.mark.slow
def test_search_then_standin_build_then_measure_over_ssh(
    run_cli: Callable[..., tuple[int, str, str]],
    sshd: LoopbackSshd,
    pynq4_python: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.xilinx_standin import install

    out = tmp_path / "search"
    code, stdout, err = run_cli(
        "search", "--board", "zcu104", "--luts", "20000", "--fps", "100000", "--trials", "2", "--epochs", "2",
        "--controller", "random", "--fidelity", "estimate", "--subset", "600", "--out", out, "--json",
        "--estimate-edge", "point",  # 20,000 LUTs at the bands' upper edge leave a random search nothing
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["valid"]
    model = out / "best" / "best.onnx"
    assert model.is_file()

    bins = install(tmp_path / "Xilinx", "2024.2")
    monkeypatch.setenv(
        "PATH", os.pathsep.join([*map(str, bins), str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    )
    monkeypatch.delenv("HIL_STANDIN_TOOLS", raising=False)  # the inventory declares them below
    monkeypatch.setenv("HIL_LEASE_DIR", str(tmp_path / "leases"))
    board = {
        "part": "xczu7ev-ffvc1156-2-e", "resources": RESOURCES, "clock_mhz": 200,
        **{k: str(v) if isinstance(v, Path) else v for k, v in sshd.board_fields().items()},
        "python": pynq4_python, "workdir": str(tmp_path / "work"),
    }  # fmt: skip
    inventory = tmp_path / "inventory.yaml"
    farm = {"artifacts": str(tmp_path / "bs"), "standin_tools": True}
    inventory.write_text(yaml.safe_dump({"boards": {"zcu104": board}, "farm": farm}))

    code, stdout, err = run_cli(
        "measure", model, "--board", "zcu104", "--inventory", inventory, "--batch", "8",
        "--min-seconds", "0.2", "--repeats", "5", "--check-inputs", "8", "--json",
    )  # fmt: skip
    result = json.loads(stdout)
    assert code == 0 and result["error_code"] == "OK", err + result["message"]
    assert result["candidate"]["builder"] == "vivado"  # a board with a host gets a bitstream by default
    metrics = result["metrics"]
    for key in ("throughput_fps", "latency_ms_p50", "latency_ms_p99"):
        assert metrics[key]["provenance"] == "standin" and metrics[key]["value"] > 0, key
    assert metrics["ii_cycles"]["provenance"] == "standin"  # the stand-in tools' timing, labelled so
    assert all(m["provenance"] != "board" for m in metrics.values())
    assert result["candidate"]["checks"]["bit_exact"] == {"checked": 8, "exact": 8, "vacuous": False}
    assert result["tool_versions"]["board_device"].endswith("HilStandinDevice")
