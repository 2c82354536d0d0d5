"""The final design: retrained from scratch, chosen on validation, C-simulated on the full test split;
the C-sim gate; parallel C simulation; provenance per column in the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from search.datasets import load_dataset
from search.evaluation import Evaluation, Measured
from search.report import _markdown, _row
from search.resume import EvaluationReader
from search.space import Candidate

_ARGS = ("--board", "zcu104", "--luts", "20000", "--fps", "100000", "--trials", "2", "--epochs", "1",
         "--controller", "random", "--estimate-edge", "point", "--json")  # fmt: skip


@pytest.mark.slow
def test_final_retrain_from_scratch_is_chosen_on_validation_and_cached(
    run_cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = (*_ARGS, "--final-epochs", "3", "--final-top", "2", "--out", str(tmp_path))
    code, out, _ = run_cli("search", *args)
    assert code == 0
    s = json.loads(out)
    data = load_dataset("digits")
    final, best = s["final"], s["best"]
    assert len(final) == 2 and all(d["retrained"] for d in final)
    assert [d["val_accuracy"] for d in final] == sorted((d["val_accuracy"] for d in final), reverse=True)
    assert best["trial"] == final[0]["trial"] and best["retrained"]
    assert best["final_val_accuracy"] == final[0]["val_accuracy"]
    assert best["test_n"] == len(data.x_test) and best["provenance"]["test_accuracy"] == "bitexact"
    assert best["test_accuracy"] == final[0]["csim"]["hls_accuracy"] >= 0.5
    assert final[0]["csim"]["argmax_agreement"] >= 0.98 and final[0]["csim"]["split"] == "test"
    # the retrain trains the full training split, and its compute is reported with the search's
    assert all(d["compute"]["sample_epochs"] == 3 * len(data.x_train) for d in final)
    assert s["compute_by_stage"]["final"]["sample_epochs"] == 2 * 3 * len(data.x_train)
    assert s["compute"]["sample_epochs"] == (
        s["compute_by_stage"]["search"]["sample_epochs"] + s["compute_by_stage"]["final"]["sample_epochs"]
    )
    assert best["recipe"]["epochs"] == 3 and best["recipe"]["schedule"] == "cosine"
    assert Path(best["export"]["qonnx"]).is_file() and Path(best["export"]["config"]).is_file()

    # the same command again: the search resumes and the retrains are read back, not redone
    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("retrained again")

    monkeypatch.setattr("search.training.train_from_scratch", boom)
    code, again, _ = run_cli("search", *args)
    assert code == 0 and json.loads(again)["final"] == final

    # several C-sim processes give the very outputs of one (each loads its own library copy)
    from hil.inventory import load_inventory
    from search.hls import _predict_parallel, convert_candidate, csim_candidate

    cand = Candidate.from_dict(best["params"])
    design = convert_candidate(
        Path(best["export"]["qonnx"]), cand, load_inventory().board("zcu104"), tmp_path / "par", (1, 8, 8), 10
    )
    x, y = data.x_test[:64], data.y_test[:64]
    one = csim_candidate(design, x, y, workers=1)
    two = csim_candidate(design, x, y, workers=2)
    assert one.hls_accuracy == two.hls_accuracy and one.bit_identical_fraction == two.bit_identical_fraction
    from hil.convert import csim_inputs

    inputs = csim_inputs(design.model, len(x), data=x)
    parallel = _predict_parallel(design, inputs, 2)
    assert parallel is not None
    np.testing.assert_array_equal(parallel, np.asarray(design.hls_model.predict(inputs)).reshape(len(x), -1))


@pytest.mark.slow
def test_a_design_that_disagrees_with_its_torch_model_fails_the_gate(
    run_cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import search.bitexact

    real = search.bitexact.score_design

    def shifted(design: Any, x: Any, y: Any, reference: Any, **kw: Any) -> Any:
        # as if the fixed-point design computed something else than the trained model
        return real(design, x, y, lambda v: np.roll(reference(v), 1, axis=1), **kw)

    monkeypatch.setattr(search.bitexact, "score_design", shifted)
    code, out, _ = run_cli("search", *_ARGS, "--out", str(tmp_path))
    s = json.loads(out)
    study = optuna.load_study(study_name="hil-joint-joint", storage=f"sqlite:///{tmp_path / 'study.db'}")
    evaluations = EvaluationReader().read(study)
    climbed = [ev for ev in evaluations.values() if ev.csim_gate]  # gated at the end of the search
    assert climbed and all(ev.csim_gate == "failed" for ev in climbed)
    assert len(climbed) == len([ev for ev in evaluations.values() if ev.trained])  # each next best, in turn
    for ev in climbed:
        assert not ev.feasible and ev.binding == "csim" and ev.reward == 0.0 and ev.stage == "csim failed"
        assert ev.accuracy is not None and ev.accuracy > 0.3  # its torch accuracy stays what it was
        assert "agrees with the torch model" in str(ev.error)
    if len(climbed) == s["trials"]:  # every trained design failed: nothing is valid
        assert code == 1 and not s["valid"] and s["best"] is None


def test_tables_show_each_metrics_own_provenance() -> None:
    arch = Candidate.from_dict(
        {
            "arch": {"conv_channels": [4], "kernel_sizes": [3], "pool": [True], "dense_units": []},
            "hw": [
                {"weight_bits": 4, "act_bits": 4, "reuse_factor": 9, "strategy": "Latency"},
                {"weight_bits": 4, "act_bits": 0, "reuse_factor": 8, "strategy": "Latency"},
            ],
        }
    )
    ev = Evaluation(arch, accuracy=0.9, accuracy_provenance="torch", epochs=1, feasible=True, stage="build")
    ev.hardware = {
        "lut": Measured(1234.0, "synth"),
        "throughput_fps": Measured(5000.0, "emulated", source="hls"),
        "dsp": Measured(3.0, "synth"),
    }
    row = _row(7, ev)
    assert row["provenance"]["lut"] == "synth" and row["provenance"]["throughput_fps"] == "emulated"
    summary = {
        "dataset": "digits", "board": "zcu104", "strategy": "joint", "controller": "rl", "lut_budget": 2e4,
        "fps_min": 1e3, "epochs": 1, "fidelity": "board", "device": "cpu", "trials": 1, "proposed": 1,
        "pruned": 0, "feasible": 1, "budget": {"trained_candidates": 1, "sample_epochs": 100},
        "compute": {"sample_epochs": 100, "cpu_seconds": 1.0, "wall_seconds": 2.0}, "message": "best design",
        "best": None, "top": [row], "pareto_png": "pareto.png",
    }  # fmt: skip
    line = next(r for r in _markdown(summary).splitlines() if r.startswith("| 7 "))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[3:7] == ["1,234", "synth", "5,000", "emulated"]
