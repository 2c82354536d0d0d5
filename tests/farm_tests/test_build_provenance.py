"""Each number of a Vivado build says where it came from: the rules hil applies to a real tool's reports.

These tests run the Tcl-executing stand-ins *undeclared* (as if they were the real tools), on
purpose: they check how hil labels what real tools report (csynth ``hls``, the routed design
``impl``, the whole block design apart from the network, throughput as an estimate). The stand-ins'
csynth figures are those of a real Vivado HLS 2020.1 report (estimated clock 4.049 ns, II 8,
latency 10). Declared stand-ins, as every other test uses them, relabel all of it ``standin``.
"""

from __future__ import annotations

import json
from pathlib import Path

from hil.farm import ArtifactStore, Ledger, build_one, make_job
from hil.farm.reports import parse_csynth_xml, parse_utilization_hierarchical
from hil.inventory import load_inventory


def _build(dense_onnx: Path, tmp_path: Path, *, clock_mhz: float = 200.0, stop_after: str = "hls") -> dict:  # type: ignore[type-arg]
    board = load_inventory().board("zcu104").model_copy(update={"clock_mhz": clock_mhz})
    job = make_job(dense_onnx, board, {}, builder="vivado", builder_params={"stop_after": stop_after})
    with Ledger(tmp_path / "bs" / "ledger.sqlite") as ledger:
        return build_one(job, ledger, ArtifactStore(tmp_path / "bs"))


def test_throughput_is_an_estimate_and_the_clock_is_csynths(
    xilinx_tools, dense_onnx: Path, tmp_path: Path
) -> None:
    xilinx_tools("2024.2", declared=False)
    outcome = _build(dense_onnx, tmp_path)
    assert outcome["state"] == "done", outcome["message"]
    m = outcome["metrics"]
    hls = parse_csynth_xml(Path(outcome["artifact"]) / "reports" / "csynth_xml.xml")
    # csynth: target 5.00 ns, estimated 4.049 ns -> the kernel reaches ~247 MHz by HLS's estimate
    assert (hls.clock_target_ns, hls.clock_estimated_ns) == (5.0, 4.049)
    assert m["clock_mhz"]["provenance"] == "hls" and m["clock_mhz"]["value"] == 1000.0 / 4.049
    assert (m["lut"]["value"], m["lut"]["provenance"]) == (hls.lut, "hls")
    # II 8 at the 200 MHz target is arithmetic on an HLS figure: an estimate whose source is hls
    fps = m["throughput_fps"]
    assert (fps["value"], fps["provenance"], fps["source"]) == (200e6 / hls.ii_max_cycles, "estimate", "hls")
    assert "no host transfers" in fps["basis"]
    report = json.loads((Path(outcome["artifact"]) / "report.json").read_text())
    assert report["details"]["clock"] == {
        "target_mhz": 200.0, "target_ns": 5.0, "hls_estimated_ns": 4.049, "hls_estimated_mhz": 246.975,
    }  # fmt: skip


def test_an_estimated_clock_slower_than_the_target_is_timing(
    xilinx_tools, dense_onnx: Path, tmp_path: Path
) -> None:
    """250 MHz asks for 4 ns; csynth estimates 4.049 ns and an HLS-only build has no routed timing."""
    xilinx_tools("2024.2", declared=False)
    outcome = _build(dense_onnx, tmp_path, clock_mhz=250.0)
    assert outcome["state"] == "failed" and outcome["error_code"] == "TIMING"
    assert "4.049 ns, slower than the 4 ns (250 MHz) target" in outcome["message"]


def test_a_block_designs_utilization_is_never_the_networks(
    run_cli, xilinx_tools, dense_onnx: Path, tmp_path: Path
) -> None:
    """The routed block design's totals are design_*; the network's own cell row is the kernel's figure,
    and only that reaches the cost model."""
    xilinx_tools("2024.2", declared=False)
    outcome = _build(dense_onnx, tmp_path, stop_after="bitstream")
    assert outcome["state"] == "done", outcome["message"]
    m = outcome["metrics"]
    hier = parse_utilization_hierarchical(Path(outcome["artifact"]) / "reports" / "utilization_hier.rpt")
    kernel = hier.row_for_instance("myproject_axis_0")
    assert (m["lut"]["value"], m["lut"]["provenance"]) == (kernel.total_luts, "impl")
    assert (m["design_lut"]["value"], m["design_lut"]["provenance"]) == (hier.top_row.total_luts, "impl")
    assert m["design_lut"]["basis"] == "block design design_1_wrapper"
    assert m["design_lut"]["value"] > m["lut"]["value"]
    assert m["clock_mhz"]["provenance"] == "impl" and m["clock_mhz"]["wns_ns"] > 0
    out = tmp_path / "builds.jsonl"
    code, _, err = run_cli("farm", "export", "--jsonl", out, "--artifacts", tmp_path / "bs")
    assert code == 0, err
    network = json.loads(out.read_text().splitlines()[0])
    assert network["metrics"]["lut"]["value"] == kernel.total_luts
    from hil.cost import read_cost_data

    row = read_cost_data([out])[0]
    assert (
        row.truth["lut"] == kernel.total_luts
    )  # the cost model is calibrated on the kernel, never the shell
