"""`hil measure` and `hil boards --check` end to end, on a trained digits model and a loopback sshd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from hil.board import BoardPool
from hil.bundle import read_bundle
from tests._shared import REPO
from tests.board_tests._sshd import LoopbackSshd, free_port
from tests.board_tests.conftest import RESOURCES

Cli = Callable[..., tuple[int, str, str]]
# Resource strategy with reuse 32: the dense net fits the ZCU104's LUTs by the cost model.
FITS = ("--strategy", "Resource", "--reuse", "32")


@pytest.fixture(scope="session")
def digits_dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests._models import digits_float_models

    return digits_float_models(tmp_path_factory.mktemp("digits"))["dense"].path


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


def _inventory(
    folder: Path, sshd: LoopbackSshd, store: Path, python: str = sys.executable, **extra: dict[str, object]
) -> Path:
    common = {"part": "xczu7ev-ffvc1156-2-e", "resources": RESOURCES, "clock_mhz": 200}
    boards = {
        "loop": {**common, **sshd.board_fields(), "python": python, "workdir": str(folder / "work")},
        "emu": dict(common),
        **{name: {**common, **fields} for name, fields in extra.items()},
    }
    for entry in boards.values():
        for key in ("key_file", "known_hosts"):
            if key in entry:
                entry[key] = str(entry[key])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.yaml"
    path.write_text(
        yaml.safe_dump({"boards": boards, "farm": {"artifacts": str(store), "builder": "estimate"}})
    )
    return path


@pytest.fixture
def leases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "leases"
    monkeypatch.setenv("HIL_LEASE_DIR", str(folder))
    return folder


@pytest.mark.slow
def test_hil_measure_emulated_over_ssh_is_bit_exact_and_labelled(
    run_cli: Cli, sshd: LoopbackSshd, digits_dense: Path, store: Path, tmp_path: Path, leases: Path
) -> None:
    inventory = _inventory(tmp_path, sshd, store)
    records = tmp_path / "records.jsonl"
    code, out, err = run_cli(
        "measure", digits_dense, "--board", "loop", "--emulate", "--batch", "8", "--check-inputs", "16",
        *FITS, "--inventory", inventory, "--records", records, "--json",
    )  # fmt: skip
    assert code == 0, err + out
    result = json.loads(out)
    assert result["error_code"] == "OK" and result["message"].startswith("16/16 outputs bit-exact with C-sim")
    for key in ("throughput_fps", "latency_ms_p50", "latency_ms_p99"):
        assert result["metrics"][key]["provenance"] == "emulated"
        assert result["metrics"][key]["source"] == "estimate"  # the estimate builder's timing
        assert "pynq-z2 DMA round trip" in result["metrics"][key]["basis"]
    assert "clock_mhz" not in result["metrics"]  # requested, not measured
    assert result["metrics"]["ii_cycles"]["provenance"] == "estimate"
    for stage in ("build", "lease_wait", "connect", "upload", "run", "collect", "cleanup"):
        assert stage in result["stage_seconds"]
    assert json.loads(records.read_text())["design_key"] == result["design_key"]
    # Independently: the bundle's expected outputs are what its C-sim library computes.
    from tests.board_tests._bundles import run_library

    bundle = next(p for p in store.rglob("bundle.json")).parent
    meta = read_bundle(bundle)
    inputs = np.load(bundle / "inputs.npy")
    expected = np.load(bundle / "expected.npy")
    assert meta.project == "myproject" and len(inputs) == 16
    np.testing.assert_array_equal(run_library(bundle / "csim.so", inputs), expected)
    # The table form of the same (cached) measurement.
    code, out, _ = run_cli(
        "measure", digits_dense, "--board", "emu", *FITS, "--inventory", inventory, "--batch", "8"
    )
    assert code == 0 and "emulated (from estimate)" in out


def test_real_board_with_the_estimate_builder_exits_2(
    run_cli: Cli, sshd: LoopbackSshd, store: Path, tmp_path: Path
) -> None:
    inventory = _inventory(tmp_path, sshd, store)
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not needed: refused before conversion")
    code, _, err = run_cli(
        "measure", model, "--board", "loop", "--builder", "estimate", "--inventory", inventory
    )
    assert code == 2 and "no bitstream" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_two_concurrent_measures_on_one_board_are_serialized(
    sshd: LoopbackSshd, digits_dense: Path, store: Path, tmp_path: Path, leases: Path
) -> None:
    inventory = _inventory(tmp_path, sshd, store)
    command = [
        sys.executable, "-m", "hil", "measure", str(digits_dense), "--board", "loop", "--emulate",
        "--batch", "8", "--check-inputs", "16", *FITS, "--inventory", str(inventory), "--json",
    ]  # fmt: skip
    env = {**os.environ, "HIL_LEASE_DIR": str(leases)}
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
        for _ in "ab"
    ]
    outputs = [run.communicate(timeout=150) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err.decode()[-2000:]
        assert json.loads(out)["error_code"] == "OK"
    events = BoardPool(leases).history("loop")
    assert [e["event"] for e in events] == ["acquire", "release", "acquire", "release"]
    assert events[0]["pid"] == events[1]["pid"] != events[2]["pid"] == events[3]["pid"]
    assert events[1]["t"] <= events[2]["t"]  # the second lease began only after the first ended
    waits = sorted(json.loads(out)["stage_seconds"]["lease_wait"] for out, _ in outputs)
    print(f"lease waits: {waits}")


def test_boards_check_connects_and_runs_the_agent(
    run_cli: Cli, sshd: LoopbackSshd, store: Path, tmp_path: Path, leases: Path, pynq4_python: str
) -> None:
    inventory = _inventory(tmp_path, sshd, store, python=pynq4_python)
    code, out, err = run_cli("boards", "--check", "--json", "--inventory", inventory)
    assert code == 0, err + out
    rows = {row["board"]: row for row in json.loads(out)["check"]}
    assert rows["loop"]["ok"] and rows["loop"]["agent"] == "2" and rows["loop"]["target"] == "127.0.0.1"
    setup = rows["loop"]["setup"]
    assert setup["euid"] == os.geteuid() == 0 and setup["pynq"] == "4.0.0" and setup["xilinx_xrt"] == "/usr"
    assert setup["device"]["class"].endswith("HilStandinDevice") and rows["loop"]["problems"] == []
    assert rows["emu"]["ok"] and rows["emu"]["target"] == "local (emulated)"
    dead = _inventory(
        tmp_path / "dead", sshd, store, dead={"host": "127.0.0.1", "port": free_port(), "user": sshd.user}
    )
    code, out, _ = run_cli("boards", "--check", "--inventory", dead, "--timeout", "3")
    assert code == 1 and "cannot connect" in out
    code, out, _ = run_cli("boards", "--json", "--inventory", inventory)  # the listing is unchanged
    assert code == 0 and {row["board"] for row in json.loads(out)["boards"]} == {"loop", "emu"}


def test_boards_check_probes_a_bundles_overlay_on_the_board(
    run_cli: Cli,
    sshd: LoopbackSshd,
    store: Path,
    tmp_path: Path,
    leases: Path,
    pynq4_python: str,
    library: Path,
) -> None:
    """The board's own pynq (4.0, over SSH) parses the bundle's real hls4ml .hwh and names the DMA."""
    from tests.board_tests._bundles import OverlaySpec, make_bundle

    bundle = make_bundle(tmp_path / "bundle", library, n=4, overlay=OverlaySpec(hwh="pynq-z2"))
    inventory = _inventory(tmp_path, sshd, store, python=pynq4_python)
    code, out, err = run_cli(
        "boards", "--check", "--bundle", bundle.path, "--board", "loop", "--json", "--inventory", inventory
    )
    assert code == 0, err + out
    (row,) = json.loads(out)["check"]
    probe = row["probe"]
    assert row["ok"] and row["pynq"] == "4.0.0" and "RuntimeMetadataParser (pynq 4.0.0)" in probe["parser"]
    assert probe["dma"]["path"] == "hier_0/axi_dma_0" and probe["dma"]["max_transfer_bytes"] == (1 << 26) - 1
    # an emulated board runs the agent here, without pynq: the built-in reader gives the same DMA
    code, out, _ = run_cli(
        "boards", "--check", "--bundle", bundle.path, "--board", "emu", "--inventory", inventory
    )
    assert code == 0 and "hier_0/axi_dma_0" in out and "67,108,863" in out and "built-in" in out
    code, _, err = run_cli("boards", "--bundle", bundle.path, "--inventory", inventory)
    assert code == 2 and "--bundle and --board go with --check" in err


@pytest.mark.slow
def test_a_bit_exact_but_coarse_design_is_measured_and_fails_only_under_min_agreement(
    run_cli: Cli, sshd: LoopbackSshd, digits_dense: Path, store: Path, tmp_path: Path, leases: Path
) -> None:
    """At ap_fixed<4,1> the digits net's fixed-point outputs pick other classes than its float reference.
    That is the design's property, not the board's: measured, its agreement reported with N and a
    Wilson interval and a warning; a failure (LOW_AGREEMENT, not WRONG_ANSWER) only under --min-agreement."""
    inventory = _inventory(tmp_path, sshd, store)
    args = (
        "measure", digits_dense, "--board", "emu", "--precision", "ap_fixed<4,1>", *FITS,
        "--check-inputs", "32", "--inventory", inventory, "--json",
    )  # fmt: skip
    code, out, err = run_cli(*args)
    assert code == 0, err
    result = json.loads(out)
    assert result["error_code"] == "OK", result["message"]
    agreement = result["candidate"]["checks"]["reference_agreement"]
    _low, high = agreement["wilson95"]
    assert agreement["n"] == 32 and agreement["agree"] < 29 and high < 0.9
    assert "WARNING" in result["message"] and "(vacuous" in result["message"]
    assert result["candidate"]["checks"]["bit_exact"] == {"checked": 32, "exact": 32, "vacuous": True}
    code, out, err = run_cli(*args, "--min-agreement", "0.9")
    assert code == 1, err
    failed = json.loads(out)
    assert failed["error_code"] == "LOW_AGREEMENT" and "below --min-agreement 0.9" in failed["message"]
