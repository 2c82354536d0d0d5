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
        (["--board", "zcu104", "--device", "tpu"], "--device"),
        (["--board", "zcu104", "--final-epochs", "-1"], "--final-epochs"),
        (["--board", "zcu104", "--final-top", "0"], "--final-top"),
        (["--board", "zcu104", "--pruner", "median"], "--pruner"),
        (["--board", "zcu104", "--pruner", "halving", "--epochs", "1"], "--epochs >= 2"),
        (["--board", "zcu104", "--pruner", "hyperband", "--controller", "nsga2"], "nsga2"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path: Path, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("search", *args, "--out", str(tmp_path))
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "study.db").exists()


def test_cuda_without_a_gpu_is_bad_input(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: --device cuda is valid here")
    code, _out, err = run_cli("search", "--board", "zcu104", "--device", "cuda", "--out", str(tmp_path))
    assert code == 2 and "no CUDA GPU" in err and len(err.strip().splitlines()) == 1


# --estimate-edge point: a 20,000-LUT budget judged at the band's upper edge leaves too few feasible
# proposals for these mechanics tests (see tests/search_tests/_profile.py)
_TINY = ("--board", "zcu104", "--luts", "20000", "--fps", "100000", "--trials", "1", "--epochs", "1",
         "--controller", "random", "--fidelity", "estimate", "--subset", "300", "--estimate-edge", "point",
         "--json")  # fmt: skip


def test_resume_with_a_changed_setting_is_one_line_naming_it(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = ("--out", str(tmp_path))
    code, first, _ = run_cli("search", *_TINY, *out)
    assert code == 0
    code, again, _ = run_cli("search", *_TINY, *out)  # same command: resumes, trains nothing
    assert (
        code == 0
        and json.loads(again)["compute"]["sample_epochs"] == json.loads(first)["compute"]["sample_epochs"]
    )
    assert json.loads(again)["phases"][0]["runs"] == 2
    code, _, err = run_cli("search", *_TINY, "--epochs", "2", *out)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "recipe.epochs (was 1, now 2)" in err and "other settings" in err
    code, _, err = run_cli("search", *_TINY, "--top-k", "1", *out)
    assert code == 2 and "top_k (was 3, now 1)" in err
    code, _, err = run_cli("search", *_TINY, "--epochs", "2", "--pruner", "halving", *out)
    assert code == 2 and "pruner (was <unset>, now halving)" in err and len(err.strip().splitlines()) == 1


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
        "--estimate-edge",
        "point",
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
    assert best["provenance"]["lut"] == "estimate" and best["provenance"]["test_accuracy"] == "bitexact"
    assert best["provenance"]["throughput_fps"] == "estimate"  # its own label, not the LUT's
    assert best["export"]["csim_test"]["bit_identical_fraction"] == 1.0
    # one ranking metric: torch validation accuracy on the full split; C-sim checks the same split
    from search.datasets import load_dataset

    data = load_dataset("digits")
    assert best["provenance"]["accuracy"] == "torch"
    assert best["csim_gate"] == "passed" and best["csim_check"]["n_inputs"] == len(data.x_val)
    assert best["csim_check"]["argmax_agreement"] >= 0.98 and best["csim_check"]["reference"] == "torch"
    # the final design's test accuracy: C-sim on the full test split
    assert best["test_n"] == len(data.x_test) == best["export"]["csim_test"]["n_inputs"]
    assert best["test_accuracy"] == best["export"]["csim_test"]["hls_accuracy"]
    assert set(s["compute"]) == {"sample_epochs", "cpu_seconds", "wall_seconds"}
    assert s["compute"]["sample_epochs"] == 2 * 2 * len(data.x_train) and s["compute"]["cpu_seconds"] > 0
    assert all(r["accuracy_provenance"] == "torch" for r in s["top"])
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
