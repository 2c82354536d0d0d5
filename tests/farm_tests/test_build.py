"""`hil build`: an estimate build writes a complete artifact (bundle included); the second is a ledger hit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.bundle import read_bundle
from hil.farm import ArtifactStore, Ledger


def test_estimate_build_then_cache_hit_under_2s(run_cli, dense_onnx: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "bitstreams"
    code, out, err = run_cli("build", dense_onnx, "--board", "zcu104", "--artifacts", store_dir, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["cache_hit"] is False and first["state"] == "done" and first["error_code"] == "OK"
    assert first["metrics"]["lut"]["provenance"] == "estimate" and first["metrics"]["lut"]["value"] > 0

    artifact = Path(first["artifact"])
    assert artifact == store_dir / first["key"]
    for name in ("manifest.json", "report.json", "build.log", "hls4ml/hls4ml_config.yml"):
        assert (artifact / name).is_file(), name
    assert any((artifact / "hls4ml" / "firmware").glob("*.cpp"))
    manifest = json.loads((artifact / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["error_code"] == "OK"
    assert manifest["provenance"] == "estimate" and "hls4ml" in manifest["tool_versions"]
    report = json.loads((artifact / "report.json").read_text())
    assert {layer["name"] for layer in report["layers"]} >= {"Dense_MatMul_0"}
    bundle = read_bundle(artifact / "board")
    bundle.verify()
    assert bundle.timing.provenance == "estimate" and bundle.part == "xczu7ev-ffvc1156-2-e"
    assert "csim.so" in bundle.files and not bundle.has_bitstream
    assert bundle.input_shape == (1, 8) and bundle.output_shape == (1, 5)
    assert not list(store_dir.glob(".tmp-*"))  # nothing half-written left behind

    # Whole process, second time: answered from the ledger, no conversion, under 2 s.
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hil", "build", str(dense_onnx), "--board", "zcu104",
         "--artifacts", str(store_dir), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr
    second = json.loads(proc.stdout)
    assert second["cache_hit"] is True and second["key"] == first["key"]
    assert elapsed < 2.0, f"cache hit took {elapsed:.2f} s as a whole process"
    with Ledger(store_dir / "ledger.sqlite") as ledger:
        entry = ledger.get(first["key"])
        assert entry is not None and entry.state == "done" and entry.attempts == 1


def test_options_change_the_key(run_cli, dense_onnx: Path, tmp_path: Path) -> None:
    from hil.farm import make_job
    from hil.inventory import load_inventory

    board = load_inventory().board("zcu104")
    a = make_job(dense_onnx, board, {"reuse_factor": 1})
    b = make_job(dense_onnx, board, {"reuse_factor": 2})
    c = make_job(dense_onnx, board, {"reuse_factor": 1}, builder="vivado")
    assert len({a.key, b.key, c.key}) == 3
    assert make_job(dense_onnx, board, {"reuse_factor": 1}).key == a.key


def test_bad_input_is_a_usage_error(run_cli, tmp_path: Path, dense_onnx: Path) -> None:
    code, _, err = run_cli("build", tmp_path / "missing.onnx", "--board", "zcu104", "--artifacts", tmp_path)
    assert code == 2 and "no such model file" in err
    code, _, err = run_cli("build", dense_onnx, "--board", "nope", "--artifacts", tmp_path)
    assert code == 2 and "unknown board" in err
    code, _, err = run_cli(
        "build", dense_onnx, "--board", "zcu104", "--precision", "fixed<", "--artifacts", tmp_path
    )
    assert code == 2 and "invalid precision" in err


def test_failed_build_is_a_result_in_the_ledger(tmp_path: Path, dense_onnx: Path) -> None:
    """A build that fails records its code and log tail; nothing is stored as a finished build."""
    from hil.farm import build_one, make_job
    from hil.inventory import load_inventory

    board = load_inventory().board("zcu104")
    job = make_job(dense_onnx, board, {}, builder="sleep", builder_params={"sleep_s": 0, "fail": "SYNTH"})
    ledger, store = Ledger(tmp_path / "ledger.sqlite"), ArtifactStore(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
        assert outcome["state"] == "failed" and outcome["error_code"] == "SYNTH"
        assert "asked to fail" in outcome["message"]
        assert not store.complete(job.key)


@pytest.mark.parametrize("board", ["zcu104"])
def test_zcu104_accelerator_plugin_writes_zynq_us_dma_design(
    board: str, dense_onnx: Path, tmp_path: Path
) -> None:
    """hil's zcu104 board files: registered at run time, Tcl names the part, a Zynq US+ PS and an AXI DMA."""
    import contextlib
    import io

    import hls4ml

    from hil.convert import ConversionOptions, build_hls_config
    from hil.convert.accelerator_boards import ensure_registered, register_accelerator_boards
    from hil.ingest import load_model

    assert board in register_accelerator_boards()
    ensure_registered()
    model = load_model(dense_onnx, None)
    config = build_hls_config(model, ConversionOptions(backend="VivadoAccelerator"))
    out = tmp_path / "acc"
    with contextlib.redirect_stdout(io.StringIO()):
        hls_model = hls4ml.converters.convert_from_onnx_model(
            model.graph, output_dir=str(out), project_name="myproject", io_type="io_stream",
            backend="VivadoAccelerator", hls_config=config, part="xczu7ev-ffvc1156-2-e", clock_period=5.0,
            board=board,
        )  # fmt: skip
        hls_model.write()
    tcl = (out / "design.tcl").read_text()
    assert "-part xczu7ev-ffvc1156-2-e" in tcl
    assert "xilinx.com:zcu104:part0" in tcl
    assert "xilinx.com:ip:zynq_ultra_ps_e:" in tcl and "bd_rule:zynq_ultra_ps_e" in tcl
    assert "xilinx.com:ip:axi_dma:" in tcl
    assert "M_AXIS_MM2S" in tcl and "S_AXIS_S2MM" in tcl
    assert 'set part "xczu7ev-ffvc1156-2-e"' in (out / "project.tcl").read_text()
    assert (out / "axi_stream_driver.py").is_file()
    # hls4ml's own boards are untouched
    import hls4ml.backends.vivado_accelerator.vivado_accelerator_config as module

    boards = module.json.load(open(Path(module.__file__).parent / "supported_boards.json"))
    assert {"pynq-z2", "zcu102", "zcu104"} <= set(boards)
