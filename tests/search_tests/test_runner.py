"""The search loop over an Optuna study: budgets, pruning, constraints, resume, re-queue, strategies."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from hil.errors import ConfigError, InputError
from search.ladder import Target
from search.report import finalize
from search.runner import SearchConfig, run_search
from tests.search_tests._profile import tiny


def _study(out: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{(out / 'study.db').resolve()}")


@pytest.mark.parametrize("controller", ["rl", "tpe", "nsga2", "random"])
def test_joint_search_trains_the_budget_and_never_trains_pruned(tmp_path: Path, controller: str) -> None:
    outcome = run_search(tiny(tmp_path, controller=controller))
    study = _study(tmp_path, "hil-joint-joint")
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    trained = [t for t in done if t.user_attrs["epochs"] > 0]
    pruned = [t for t in done if t.user_attrs["stage"] == "pruned"]
    assert len(trained) == 3 and len(outcome.final.trained) == 3
    assert len(done) == len(trained) + len(pruned)
    target = outcome.target
    for t in done:
        values = {k: v["value"] for k, v in t.user_attrs["hardware"].items()}
        assert t.user_attrs["constraints"] == target.constraints(values)  # resource - budget
        if t in pruned:
            assert t.user_attrs["model_path"] is None and t.user_attrs["epochs"] == 0
            assert t.user_attrs["reward"] == 0.0 and t.values[0] == 0.0
            assert max(t.user_attrs["constraints"]) > 0
        else:
            assert Path(t.user_attrs["model_path"]).is_file()
    if controller == "nsga2":
        assert len(study.directions) == 2 and all(len(t.values) == 2 for t in done)
    if controller == "rl":  # checkpointed beside the study after every update
        state = __import__("torch").load(tmp_path / "study.hil-joint-joint.controller.pt", weights_only=True)
        assert set(state["told"]) == {t.number for t in done}


def test_rerun_resumes_without_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_search(tiny(tmp_path, controller="rl"))
    before = len(_study(tmp_path, "hil-joint-joint").trials)

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("trained again on resume")

    monkeypatch.setattr("search.qat.train_classifier", boom)
    outcome = run_search(tiny(tmp_path, controller="rl"))
    assert len(_study(tmp_path, "hil-joint-joint").trials) == before
    assert len(outcome.final.trained) == 3
    with pytest.raises(ConfigError, match="other settings"):
        run_search(tiny(tmp_path, controller="rl", luts=30000))


def test_a_trial_left_running_is_requeued_once(tmp_path: Path) -> None:
    cfg = tiny(tmp_path, trials=1)
    run_search(cfg)
    study = _study(tmp_path, "hil-joint-joint")
    done = [t for t in study.trials if t.user_attrs.get("epochs")]
    study.enqueue_trial(done[0].params)
    orphan = study.ask()  # what a killed process leaves: RUNNING, params set
    for name, dist in done[0].distributions.items():
        orphan.suggest_categorical(name, dist.choices)
    outcome = run_search(tiny(tmp_path, trials=2))
    trials = _study(tmp_path, "hil-joint-joint").trials
    assert trials[orphan.number].state == optuna.trial.TrialState.FAIL
    requeued = [t for t in trials if t.user_attrs.get("requeue_of") == orphan.number]
    assert len(requeued) == 1 and requeued[0].state == optuna.trial.TrialState.COMPLETE
    assert requeued[0].params == done[0].params
    assert len(outcome.final.trained) == 2


def test_separate_has_equal_budgets_and_keeps_phase_one_architecture(tmp_path: Path) -> None:
    # A roomy LUT budget: phase one picks the float architecture by accuracy alone, and phase two must
    # still find quantizations of it that fit (the budget is not what this test is about).
    joint = run_search(tiny(tmp_path / "j", trials=4, strategy="joint", luts=60000))
    sep = run_search(tiny(tmp_path / "s", trials=4, strategy="separate", luts=60000))
    arch_phase, hw_phase = sep.phases
    assert [p.plan.name for p in sep.phases] == ["architecture", "hardware"]
    assert len(arch_phase.trained) + len(hw_phase.trained) == len(joint.final.trained) == 4
    epochs = sum(e.epochs for p in sep.phases for _, e in p.trained)
    assert epochs == sum(e.epochs for _, e in joint.final.trained) == 4
    assert all(not e.candidate.quantized for _, e in arch_phase.trained)  # float, accuracy alone
    best = arch_phase.best()
    assert best is not None
    assert {e.candidate.arch for e in hw_phase.evaluations.values()} == {best[1].candidate.arch}
    assert all(e.candidate.quantized for e in hw_phase.evaluations.values())


def test_separate_reports_no_valid_design(tmp_path: Path) -> None:
    outcome = run_search(tiny(tmp_path, trials=2, strategy="separate", luts=50, max_proposals_factor=5))
    summary = finalize(outcome)
    assert summary["valid"] is False and summary["best"] is None and "no valid design" in summary["message"]
    assert summary["trials"] == 0 and summary["pruned"] == summary["proposed"] == 5
    assert Path(summary["pareto_png"]).is_file()


def test_bad_config_is_an_input_error(tmp_path: Path) -> None:
    for kwargs in (
        {"dataset": "mnist"},
        {"luts": 0},
        {"controller": "x"},
        {"strategy": "x"},
        {"fidelity": "x"},
        {"study": "nope"},
    ):
        with pytest.raises(InputError):
            SearchConfig(**{"board": "zcu104", "out": tmp_path, **kwargs}).resolved()  # type: ignore[arg-type]
    assert Target.CONSTRAINTS[0] == "lut"
