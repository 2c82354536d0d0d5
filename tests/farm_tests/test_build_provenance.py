"""Each number of a Vivado build says where it came from (real reports through the stand-in tools).

Kernel vs block-design utilization, csynth's estimated clock and the TIMING verdict it implies,
and the II-derived throughput labelled as the estimate it is. The numbers are the recorded real
reports' (../shared/reports/vivado2020.1_hls4ml_test: an hls4ml Dense(8->5)+ReLU on xc7z020).
"""

from __future__ import annotations

import json
from pathlib import Path

from hil.farm import ArtifactStore, Ledger, build_one, make_job
from hil.inventory import load_inventory
from tests._shared import require_shared
from tests.farm_tests.test_vivado_builder import _as_this_conversion


def _build(dense_onnx: Path, tmp_path: Path, clock_mhz: float = 100.0) -> dict:  # type: ignore[type-arg]
    board = load_inventory().board("pynq-z2").model_copy(update={"clock_mhz": clock_mhz})
    job = make_job(dense_onnx, board, {"backend": "Vivado"}, builder="vivado", timeout_s=120)
    with Ledger(tmp_path / "bs" / "ledger.sqlite") as ledger:
        return build_one(job, ledger, ArtifactStore(tmp_path / "bs"))


def test_throughput_is_an_estimate_and_the_clock_is_csynths(
    fake_vivado, dense_onnx: Path, tmp_path: Path
) -> None:
    fake_vivado(_as_this_conversion(require_shared("reports/vivado2020.1_hls4ml_test"), tmp_path))
    outcome = _build(dense_onnx, tmp_path)
    assert outcome["state"] == "done", outcome["message"]
    m = outcome["metrics"]
    # csynth: target 5.00 ns, estimated 4.049 ns -> the kernel reaches ~247 MHz by HLS's estimate
    assert m["clock_mhz"]["provenance"] == "hls" and m["clock_mhz"]["value"] == 1000.0 / 4.049
    # II 8 at the 100 MHz target is arithmetic on an HLS figure: an estimate whose source is hls
    fps = m["throughput_fps"]
    assert (fps["value"], fps["provenance"], fps["source"]) == (100e6 / 8, "estimate", "hls")
    assert "no host transfers" in fps["basis"]
    assert all(metric["value"] != 100.0 for metric in m.values() if metric["provenance"] == "hls")
    report = json.loads((Path(outcome["artifact"]) / "report.json").read_text())
    assert report["details"]["clock"] == {
        "target_mhz": 100.0, "target_ns": 10.0, "hls_estimated_ns": 4.049, "hls_estimated_mhz": 246.975,
    }  # fmt: skip


def test_an_estimated_clock_slower_than_the_target_is_timing(
    fake_vivado, dense_onnx: Path, tmp_path: Path
) -> None:
    """250 MHz asks for 4 ns; csynth estimates 4.049 ns and there is no routed timing report."""
    fake_vivado(_as_this_conversion(require_shared("reports/vivado2020.1_hls4ml_test"), tmp_path))
    outcome = _build(dense_onnx, tmp_path, clock_mhz=250.0)
    assert outcome["state"] == "failed" and outcome["error_code"] == "TIMING"
    assert "4.049 ns, slower than the 4 ns (250 MHz) target" in outcome["message"]


def test_a_block_designs_utilization_is_never_the_networks(
    run_cli, fake_vivado, dense_onnx: Path, tmp_path: Path
) -> None:
    """The real post-synthesis report, relabelled as a routed block design (top design_1_wrapper), is
    stored as design_* and the kernel keeps csynth's figures; only those reach the cost model."""
    reports = _as_this_conversion(require_shared("reports/vivado2020.1_hls4ml_test"), tmp_path)
    text = (reports / "vivado_synth.rpt").read_text()
    text = text.replace("| Design       : myproject", "| Design       : design_1_wrapper")
    text = text.replace("| Design State : Synthesized", "| Design State : Routed")
    (reports / "vivado_synth.rpt").write_text(text)
    fake_vivado(reports)
    outcome = _build(dense_onnx, tmp_path)
    assert outcome["state"] == "done", outcome["message"]
    m = outcome["metrics"]
    assert (m["lut"]["value"], m["lut"]["provenance"]) == (2532, "hls")  # csynth's kernel figure
    assert (m["design_lut"]["value"], m["design_lut"]["provenance"]) == (1526, "impl")
    assert m["design_lut"]["basis"] == "block design design_1_wrapper"
    out = tmp_path / "builds.jsonl"
    code, _, err = run_cli("farm", "export", "--jsonl", out, "--artifacts", tmp_path / "bs")
    assert code == 0, err
    network = json.loads(out.read_text().splitlines()[0])
    assert network["metrics"]["lut"]["value"] == 2532 and network["metrics"]["design_lut"]["value"] == 1526
    from hil.cost import read_cost_data

    row = read_cost_data([out])[0]
    assert row.source.endswith("record 1") and len(row.layers) == 2  # the network record
    assert row.truth["lut"] == 2532  # the cost model is calibrated on the kernel, never on the shell
