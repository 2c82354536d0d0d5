"""The vivado builder against a STAND-IN tool chain (CI has no Vivado; see conftest's fake_vivado).

The stand-in copies the recorded real reports of an hls4ml Dense(8->5)+ReLU design on
xc7z020 (../shared/reports/vivado2020.1_hls4ml_test) into the layout the real tools write; the
build must parse those exact numbers, keep the reports, and write the board bundle.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.bundle import read_bundle
from hil.farm import ArtifactStore, Ledger, build_one, make_job
from hil.inventory import load_inventory
from tests._shared import require_shared


def _as_this_conversion(reports: Path, tmp_path: Path) -> Path:
    """The recorded reports with their per-layer module names renumbered to this conversion's layers.

    hls4ml names each layer's HLS config ``config<layer index>``; the recorded design was converted
    from Keras (Dense = config2, ReLU = config3), ours from ONNX (Dense_MatMul_0 = 8, Relu_0 = 6).
    Only those suffixes change: every number stays as Vivado HLS wrote it.
    """
    copy = tmp_path / "recorded"
    copy.mkdir()
    for source in reports.iterdir():
        text = source.read_text()
        text = text.replace("config2", "config8").replace("config3", "config6")
        (copy / source.name).write_text(text)
    return copy


def _farm(tmp_path: Path) -> tuple[Ledger, ArtifactStore]:
    return Ledger(tmp_path / "bs" / "ledger.sqlite"), ArtifactStore(tmp_path / "bs")


def test_vivado_build_parses_real_reports(fake_vivado, dense_onnx: Path, tmp_path: Path) -> None:
    reports = require_shared("reports/vivado2020.1_hls4ml_test")
    fake_vivado(_as_this_conversion(reports, tmp_path))
    board = load_inventory().board("pynq-z2")  # the recorded design's part: xc7z020-clg400-1
    job = make_job(dense_onnx, board, {"backend": "Vivado"}, builder="vivado", timeout_s=120)
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
    assert outcome["state"] == "done", outcome["message"]
    m = outcome["metrics"]
    # post-synthesis utilization (vivado_synth.rpt) replaces HLS resources; II/latency stay HLS
    assert (m["lut"]["value"], m["lut"]["provenance"]) == (1526, "synth")
    assert (m["ff"]["value"], m["dsp"]["value"], m["bram_18k"]["value"]) == (2428, 66, 0)
    assert (m["ii_cycles"]["value"], m["ii_cycles"]["provenance"]) == (8, "hls")
    assert m["latency_cycles"]["value"] == 10
    artifact = Path(outcome["artifact"])
    assert {p.name for p in (artifact / "reports").iterdir()} == {
        "myproject_csynth.xml", "myproject_csynth.rpt", "vivado_synth.rpt",
    }  # fmt: skip
    report = json.loads((artifact / "report.json").read_text())
    assert report["details"]["reports"]["hls"]["lut"] == 2532  # the HLS estimate is kept too
    layers = {row["name"]: row for row in report["layers"]}
    assert layers["Dense_MatMul_0"]["metrics"]["lut"] == 2134  # per-layer row (csynth module config2)
    assert layers["Dense_MatMul_0"]["provenance"] == "hls"
    assert layers["Relu_0"]["metrics"]["lut"] == 256
    bundle = read_bundle(artifact / "board")
    bundle.verify()
    assert (bundle.timing.ii_cycles, bundle.timing.latency_cycles) == (8, 10)
    manifest = json.loads((artifact / "manifest.json").read_text())
    assert manifest["tool_versions"]["vivado"] == "2020.1"  # from the (stand-in) install path
    assert job.tools["vivado"] == "2020.1" and manifest["job"]["tools"] == job.tools
    assert not (artifact / "hls4ml" / "myproject_prj").exists()


def test_accelerator_build_keeps_bitstream(fake_vivado, dense_onnx: Path, tmp_path: Path) -> None:
    reports = require_shared("reports/vivado2020.1_hls4ml_test")
    fake_vivado(reports)
    board = load_inventory().board("pynq-z2")
    job = make_job(dense_onnx, board, {"backend": "VivadoAccelerator"}, builder="vivado", timeout_s=120)
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
    # The recorded report's top is 'myproject', an accelerator build's HLS top is 'myproject_axi':
    # the build must refuse the foreign report rather than record its numbers.
    assert outcome["state"] == "failed"
    assert outcome["error_code"] in ("HLS", "SYNTH") and "myproject_axi" in outcome["message"]


def test_report_for_another_part_is_rejected(fake_vivado, dense_onnx: Path, tmp_path: Path) -> None:
    fake_vivado(require_shared("reports/vivado2020.1_xczu9eg"))  # an xczu9eg design
    board = load_inventory().board("pynq-z2")
    job = make_job(dense_onnx, board, {"backend": "Vivado"}, builder="vivado", timeout_s=120)
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
    assert outcome["state"] == "failed" and outcome["error_code"] == "HLS"
    assert "xczu9eg" in outcome["message"] and not store.complete(job.key)


def test_tool_failure_is_recorded_with_log_tail(fake_vivado, dense_onnx, tmp_path, monkeypatch) -> None:
    fake_vivado(require_shared("reports/vivado2020.1_hls4ml_test"))
    monkeypatch.setenv("HIL_FAKE_FAIL", "vivado_hls")
    board = load_inventory().board("pynq-z2")
    job = make_job(
        dense_onnx, board, {"backend": "Vivado"}, builder="vivado", timeout_s=120, keep_failed=True
    )
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
    assert outcome["state"] == "failed" and outcome["error_code"] == "HLS"
    assert "exited with status 1" in outcome["message"] and "HLS 200-70" in outcome["message"]
    kept = store.failed_path(job.key)
    assert (kept / "prj" / "build_prj.tcl").is_file()  # --keep-failed keeps the tool project


def test_missing_tool_says_so(dense_onnx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    board = load_inventory().board("pynq-z2")
    job = make_job(dense_onnx, board, {"backend": "Vitis"}, builder="vivado", timeout_s=120)
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(job, ledger, store)
    assert outcome["state"] == "failed" and "'vitis-run' not found on PATH" in outcome["message"]


def test_worker_with_other_vivado_refuses_the_job(fake_vivado, dense_onnx: Path, tmp_path: Path) -> None:
    """The inventory declares Vivado 2023.2, this host has (stand-in) 2020.1: refused before any work."""
    fake_vivado(require_shared("reports/vivado2020.1_hls4ml_test"))
    board = load_inventory().board("pynq-z2")
    options = {"backend": "Vivado"}
    declared = make_job(dense_onnx, board, options, builder="vivado", tools={"vivado": "2023.2"})
    local = make_job(dense_onnx, board, {"backend": "Vivado"}, builder="vivado")
    assert declared.tools["vivado"] == "2023.2" and local.tools["vivado"] == "2020.1"
    assert declared.key != local.key  # the expected release is in the key
    ledger, store = _farm(tmp_path)
    with ledger:
        outcome = build_one(declared, ledger, store)
        assert outcome["state"] == "failed" and outcome["error_code"] == "HLS"
        assert "vivado 2020.1 here, the job expects 2023.2" in outcome["message"]
        assert "farm.tools" in outcome["message"]
        assert [e.event for e in ledger.events(declared.key)][-2:] == ["refused", "failed"]
        assert not (tmp_path / "bs" / declared.key).exists()
        assert not list((tmp_path / "bs").glob(".tmp-*"))


def test_vivado_release_of_a_mixed_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HLS from one release and vivado from another is no release at all: no declaration matches it."""
    from hil.farm.builders import VivadoBuilder

    for release, tool in (("2020.1", "vivado_hls"), ("2023.2", "vivado")):
        folder = tmp_path / release / "bin"
        folder.mkdir(parents=True)
        (folder / tool).write_text("#!/bin/sh\n")
        (folder / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / '2020.1' / 'bin'}:{tmp_path / '2023.2' / 'bin'}:/usr/bin:/bin")
    versions = VivadoBuilder().tool_versions({"backend": "Vivado"})
    assert versions == {"vivado": "mixed (vivado_hls 2020.1, vivado 2023.2)"}
    vitis = VivadoBuilder().tool_versions({"backend": "Vitis"})["vivado"]
    assert vitis.startswith("incomplete (vitis-run absent")


def test_export_feeds_costmodel_check(run_cli, fake_vivado, dense_onnx: Path, tmp_path: Path) -> None:
    """Estimate builds + one (stand-in) vivado build -> hil farm export -> hil costmodel check."""
    fake_vivado(_as_this_conversion(require_shared("reports/vivado2020.1_hls4ml_test"), tmp_path))
    inventory = load_inventory()
    ledger, store = _farm(tmp_path)
    with ledger:
        for reuse in (1, 2):
            job = make_job(dense_onnx, inventory.board("zcu104"), {"reuse_factor": reuse})
            assert build_one(job, ledger, store)["state"] == "done"
        vivado = make_job(dense_onnx, inventory.board("pynq-z2"), {"backend": "Vivado"}, builder="vivado")
        assert build_one(vivado, ledger, store)["state"] == "done"
    out = tmp_path / "builds.jsonl"
    code, stdout, err = run_cli("farm", "export", "--jsonl", out, "--artifacts", tmp_path / "bs", "--json")
    assert code == 0, err
    counts = json.loads(stdout)
    assert counts["builds"] == 3 and counts["records"] > 3  # per-layer rows included
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    provenances = {r["metrics"]["lut"]["provenance"] for r in lines if "lut" in r["metrics"]}
    assert {"estimate", "hls", "synth"} <= provenances
    assert all(r["candidate"]["layers"] for r in lines)
    code, stdout, err = run_cli("costmodel", "check", "--data", out, "--json", "--max-mape", "100")
    assert code == 0, err
    check = json.loads(stdout)
    assert check["rows"] >= 2  # the vivado network record and its per-layer rows


def test_estimate_only_export_round_trips_through_check(run_cli, dense_onnx: Path, tmp_path: Path) -> None:
    """Estimate builds alone -> export -> check --include-estimates: the exported layer specs reproduce
    the builder's own estimate exactly (a plumbing check), and without the flag the check refuses."""
    inventory = load_inventory()
    ledger, store = _farm(tmp_path)
    with ledger:
        for reuse in (1, 2, 4):
            job = make_job(dense_onnx, inventory.board("zcu104"), {"reuse_factor": reuse})
            assert build_one(job, ledger, store)["state"] == "done"
    out = tmp_path / "estimates.jsonl"
    code, _stdout, err = run_cli("farm", "export", "--jsonl", out, "--artifacts", tmp_path / "bs")
    assert code == 0, err
    code, _stdout, err = run_cli("costmodel", "check", "--data", out)
    assert code == 2 and "--include-estimates" in err
    code, stdout, err = run_cli("costmodel", "check", "--data", out, "--include-estimates", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["rows"] >= 3
    for metric in ("lut", "ff", "dsp"):
        assert report["metrics"][metric]["mape"] < 1e-6, (metric, report["metrics"][metric])
