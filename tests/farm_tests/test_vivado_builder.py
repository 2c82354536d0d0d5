"""The vivado builder end to end under Tcl-executing stand-ins of AMD's tools (CI has no Vivado).

The stand-ins (``tests/xilinx_standin``) run hil's and hls4ml's Tcl in a real Tcl interpreter with
every vendor command checked against UG835/UG1399, keep the project, IP catalog and block design,
and write the real tools' files at their paths, decoys included (Vivado's own reports in the run
tree, with numbers unlike the ones ``report_utilization`` gives). So a misspelt command, an IP
version of another release, a renamed port or a report read from the wrong file fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.bundle import read_bundle
from hil.farm import ArtifactStore, Ledger, build_one, make_job
from hil.farm.reports import parse_timing_summary, parse_utilization, parse_utilization_hierarchical
from hil.inventory import load_inventory


def _farm(tmp_path: Path) -> tuple[Ledger, ArtifactStore]:
    return Ledger(tmp_path / "bs" / "ledger.sqlite"), ArtifactStore(tmp_path / "bs")


def _calls(artifact_or_dir: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (artifact_or_dir / "standin_calls.jsonl").read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("release", "board"),
    [
        ("2024.2", "zcu104"),
        ("2025.1", "zcu104"),
        ("2024.2", "kv260"),
        ("2025.1", "pynq-z2"),
        ("2020.1", "pynq-z2"),
    ],
)
def test_cli_build_makes_a_bitstream(xilinx_tools, run_cli, dense_onnx, tmp_path, release, board) -> None:
    xilinx_tools(release)
    code, out, err = run_cli(
        "build", dense_onnx, "--board", board, "--builder", "vivado", "--json",
        "--artifacts", tmp_path / "bs", "--keep-failed",
    )  # fmt: skip
    outcome = json.loads(out)
    assert code == 0 and outcome["state"] == "done", (err, outcome["message"])
    artifact = Path(outcome["artifact"])
    bundle = read_bundle(artifact / "board")
    bundle.verify()
    assert bundle.has_bitstream and (artifact / "board" / "design.hwh").read_bytes().startswith(b"<?xml")
    accelerator = release == "2020.1"
    assert bundle.build["flow"] == ("vivado-accelerator" if accelerator else "vitis")
    assert bundle.build["standin"] is True and bundle.axis["tlast"].startswith("last word of the batch")
    plan = json.loads((artifact / "hls4ml" / "plan.json").read_text())
    argvs = [" ".join(call["argv"]) for call in plan["calls"]]
    assert ("vivado_hls" in argvs[0]) == accelerator and "vivado -mode batch" in argvs[1]
    m = outcome["metrics"]
    # every number is the stand-in's and says so, keeping the stage it stands in for
    assert {metric["provenance"] for metric in m.values()} == {"standin"}
    reports = artifact / "reports"
    hier = parse_utilization_hierarchical(reports / "utilization_hier.rpt")
    kernel = hier.row_for_instance(plan["kernel_cell"])
    assert (m["lut"]["value"], m["lut"]["source"]) == (kernel.total_luts, "impl")
    assert m["ff"]["value"] == kernel.ffs and m["dsp"]["value"] == kernel.dsp
    flat = parse_utilization(reports / "utilization.rpt")
    assert (m["design_lut"]["value"], flat.top) == (flat.lut, "design_1_wrapper")
    assert m["design_lut"]["value"] > m["lut"]["value"]  # the shell (PS, DMA, SmartConnects) is apart
    timing = parse_timing_summary(reports / "timing.rpt")
    assert timing.met and m["clock_mhz"]["source"] == "impl"
    assert abs(m["clock_mhz"]["value"] - 1000.0 / (timing.clock_period_ns - timing.wns_ns)) < 1e-6


@pytest.mark.slow
def test_decoy_reports_in_the_run_tree_are_not_read(xilinx_tools, dense_onnx, tmp_path) -> None:
    """Vivado leaves its own *_utilization_placed / *_timing_summary_routed / per-IP *_utilization_synth
    reports in the run tree: the build reads the ones its Tcl wrote, whose numbers differ."""
    xilinx_tools("2024.2")
    board = load_inventory().board("zcu104")
    job = make_job(dense_onnx, board, {"backend": "Vitis"}, builder="vivado", timeout_s=300, keep_failed=True)
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
    assert outcome["state"] == "done", outcome["message"]
    assert (
        outcome["metrics"]["design_lut"]["value"]
        == parse_utilization(Path(outcome["artifact"]) / "reports" / "utilization.rpt").lut
    )


@pytest.mark.slow
def test_stop_after_hls_and_synth(xilinx_tools, dense_onnx, tmp_path) -> None:
    xilinx_tools("2025.1")
    board = load_inventory().board("zcu104")
    ledger, store = _farm(tmp_path)
    with ledger:
        hls_job = make_job(dense_onnx, board, {}, builder="vivado", builder_params={"stop_after": "hls"})
        synth_job = make_job(dense_onnx, board, {}, builder="vivado", builder_params={"stop_after": "synth"})
        hls, synth = build_one(hls_job, ledger, store), build_one(synth_job, ledger, store)
    assert hls["state"] == "done" and synth["state"] == "done", (hls["message"], synth["message"])
    assert hls["metrics"]["lut"]["source"] == "hls" and "design_lut" not in hls["metrics"]
    assert not read_bundle(Path(hls["artifact"]) / "board").has_bitstream
    assert (
        synth["metrics"]["lut"]["source"] == "synth" and synth["metrics"]["design_lut"]["source"] == "synth"
    )
    assert not read_bundle(Path(synth["artifact"]) / "board").has_bitstream


@pytest.mark.slow
def test_timing_not_met_is_timing(xilinx_tools, dense_onnx, tmp_path, monkeypatch) -> None:
    xilinx_tools("2024.2")
    monkeypatch.setenv("HIL_STANDIN_WNS", "-0.412")
    board = load_inventory().board("zcu104")
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(make_job(dense_onnx, board, {}, builder="vivado"), ledger, store)
    assert outcome["state"] == "failed" and outcome["error_code"] == "TIMING"
    assert "WNS -0.412 ns" in outcome["message"]


def test_accelerator_backend_on_a_vitis_release_is_refused_before_anything_runs(
    xilinx_tools, run_cli, dense_onnx, tmp_path
) -> None:
    xilinx_tools("2024.2")
    code, _out, err = run_cli(
        "build", dense_onnx, "--board", "pynq-z2", "--builder", "vivado", "--backend", "VivadoAccelerator",
        "--artifacts", tmp_path / "bs",
    )  # fmt: skip
    assert code == 2 and "no vivado_hls" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bs").exists()  # refused before a job was made or a tool ran


def test_missing_tool_says_so(dense_onnx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    board = load_inventory().board("pynq-z2")
    job = make_job(dense_onnx, board, {"backend": "Vitis"}, builder="vivado", timeout_s=120)
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
    assert outcome["state"] == "failed" and "no AMD tools on PATH" in outcome["message"]


def test_worker_with_other_vivado_refuses_the_job(xilinx_tools, dense_onnx: Path, tmp_path: Path) -> None:
    """The inventory declares Vivado 2023.2, this host has (stand-in) 2025.1: refused before any work."""
    xilinx_tools("2025.1")
    board = load_inventory().board("zcu104")
    declared = make_job(dense_onnx, board, {}, builder="vivado", tools={"vivado": "2023.2"})
    local = make_job(dense_onnx, board, {}, builder="vivado")
    assert declared.tools["vivado"] == "2023.2" and local.tools["vivado"] == "2025.1-standin"
    assert declared.key != local.key  # the expected release is in the key
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(declared, ledger, store)
        assert outcome["state"] == "failed" and outcome["error_code"] == "HLS"
        assert "vivado 2025.1-standin here, the job expects 2023.2" in outcome["message"]
        assert [e.event for e in ledger.events(declared.key)][-2:] == ["refused", "failed"]
        assert not (tmp_path / "bs" / declared.key).exists()


def test_declared_standins_never_share_a_key_with_real_tools(xilinx_tools, dense_onnx: Path) -> None:
    board = load_inventory().board("zcu104")
    xilinx_tools("2024.2", declared=False)
    real = make_job(dense_onnx, board, {}, builder="vivado")
    xilinx_tools("2024.2")
    standin = make_job(dense_onnx, board, {}, builder="vivado")
    assert (real.tools["vivado"], standin.tools["vivado"]) == ("2024.2", "2024.2-standin")
    assert real.key != standin.key
    assert real.builder_params["stop_after"] == "bitstream"
    assert real.builder_params["board_build"]["board_part"] == "xilinx.com:zcu104:part0:*"
