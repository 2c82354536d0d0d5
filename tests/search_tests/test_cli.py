"""`hil search`: bad input is one line and exit 2; a tiny real run prints the documented JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from hil.cost import estimate, spec_from_hls_model
from search.space import Candidate


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--board", "nope"], "unknown board"),
        (["--board", "zcu104", "--dataset", "mnist"], "--dataset"),
        (["--board", "zcu104", "--controller", "bayes"], "--controller"),
        (["--board", "zcu104", "--luts", "0"], "--luts"),
        (["--board", "zcu104", "--luts", "-5"], "--luts"),
        (["--board", "zcu104", "--study", "nosuch://x"], "--study"),
        (["--board", "zcu104", "--strategy", "both"], "--strategy"),
        (["--board", "zcu104", "--fidelity", "bitstream"], "--fidelity"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path: Path, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("search", *args, "--out", str(tmp_path))
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "study.db").exists()


@pytest.mark.slow
def test_tiny_csim_search_json_exports_and_matches_hls4ml(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(
        "search",
        "--board",
        "zcu104",
        "--luts",
        "20000",
        "--fps",
        "100000",
        "--trials",
        "2",
        "--epochs",
        "2",
        "--controller",
        "tpe",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert code == 0
    s = json.loads(out)
    best = s["best"]
    assert s["trials"] == 2 and s["feasible"] >= 1 and s["valid"]
    assert {"accuracy", "test_accuracy", "lut", "throughput_fps", "provenance", "params"} <= set(best)
    assert best["lut"] <= 20000 and best["throughput_fps"] >= 100000
    assert best["provenance"]["lut"] == "estimate" and best["provenance"]["test_accuracy"] == "csim"
    assert best["export"]["csim_test"]["bit_identical_fraction"] == 1.0
    for name in ("pareto.png", "report.json", "report.md", "best/best.onnx", "best/hls4ml_config.json"):
        assert (tmp_path / name).is_file(), name
    # The pure candidate -> LayerSpec mapping prices the design as hls4ml's converted model does.
    from hil.inventory import load_inventory
    from search.hls import convert_candidate

    cand = Candidate.from_dict(best["params"])
    design = convert_candidate(
        tmp_path / "best" / "best.onnx",
        cand,
        load_inventory().board("zcu104"),
        tmp_path / "check",
        (1, 8, 8),
        10,
    )
    # Zero weights are known only after training: the search's specs claim none (n_zeros 0), so they
    # match the converted model with its zeros ignored, and never undercut it.
    converted = spec_from_hls_model(design.hls_model)
    ours = estimate(cand.layer_specs((1, 8, 8), 10), clock_mhz=cand.clock_mhz).totals
    theirs = estimate([replace(s, n_zeros=0) for s in converted], clock_mhz=cand.clock_mhz).totals
    pruned = estimate(converted, clock_mhz=cand.clock_mhz).totals
    assert ours["lut"] == pytest.approx(theirs["lut"], rel=0.01)
    assert ours["ii_cycles"] == theirs["ii_cycles"] and ours["dsp"] == theirs["dsp"]
    assert ours["lut"] >= pruned["lut"] and ours["dsp"] >= pruned["dsp"]
