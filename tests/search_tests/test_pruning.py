"""``--pruner``: candidates stopped between epochs, counted exactly, and more of them in the same budget."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from hil.errors import ConfigError, InputError
from search.datasets import load_dataset
from search.report import finalize
from search.runner import SearchOutcome, run_search
from search.training import TrainRecipe, train_classifier
from tests.search_tests._profile import tiny

_IMAGES = 300  # tiny()'s training subset
_PRUNED = optuna.trial.TrialState.PRUNED
_COMPLETE = optuna.trial.TrialState.COMPLETE


def _study(out: Path, name: str = "hil-joint-joint") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{(out / 'study.db').resolve()}")


@pytest.fixture(scope="module")
def _pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, SearchOutcome]]:
    """The same search (4 candidates' worth of 3 epochs) without and with successive halving."""
    runs = {}
    for pruner in ("none", "halving"):
        out = tmp_path_factory.mktemp(pruner)
        runs[pruner] = (out, run_search(tiny(out, trials=4, epochs=3, pruner=pruner)))
    return runs


def test_halving_stops_candidates_early_and_counts_exactly_what_each_trained(
    _pair: dict[str, tuple[Path, SearchOutcome]],
) -> None:
    out, outcome = _pair["halving"]
    trials = {t.number: t for t in _study(out).trials}
    halted = [(n, e) for n, e in outcome.final.trainings if e.halted]  # shared verdicts: see below
    complete = [(n, e) for n, e in outcome.final.trainings if e.complete]
    assert halted and complete
    for n, ev in halted:
        t = trials[n]
        assert t.state == _PRUNED and t.user_attrs["halted_at_epoch"] == ev.epochs < 3
        assert t.user_attrs["halted_by"] in ("pruner", "budget") and ev.stage == "halted"
        assert ev.sample_epochs == ev.epochs * _IMAGES  # exactly what it trained
        assert sorted(t.intermediate_values) == list(range(1, ev.epochs + 1))
        # Optuna's value for it is the accuracy it reported last, which is the accuracy it is recorded
        # with (scored the same way: BatchNorms folded, the full validation split) and its reward
        assert t.value == pytest.approx(ev.accuracy) and ev.reward == pytest.approx(ev.accuracy)
    assert any(e.halted_by == "pruner" for _, e in halted)
    for n, ev in complete:
        assert trials[n].state == _COMPLETE and ev.epochs == 3 and ev.sample_epochs == 3 * _IMAGES
        assert ev.halted_at_epoch is None and trials[n].user_attrs["halted_at_epoch"] is None
    # a halted candidate is never a design: not ranked (so never gated, walked or retrained)
    assert {n for n, _ in outcome.final.ranked()} <= {n for n, _ in complete}
    assert outcome.compute().halted == len(halted)


def test_at_equal_sample_epochs_halving_trains_more_candidates(
    _pair: dict[str, tuple[Path, SearchOutcome]],
) -> None:
    plain, halving = _pair["none"][1], _pair["halving"][1]
    budget = 4 * 3 * _IMAGES
    assert plain.budget() == halving.budget() == {"trained_candidates": 4, "sample_epochs": budget}
    assert plain.compute().sample_epochs == halving.compute().sample_epochs == budget  # spent exactly
    assert plain.compute().trained == 4 and plain.compute().halted == 0
    assert halving.compute().trained > plain.compute().trained
    # the candidates halving let finish trained exactly as they would have without it
    plain_acc = {e.candidate: e.accuracy for _, e in plain.final.trained}
    shared = [e for _, e in halving.final.trained if e.complete and e.candidate in plain_acc]
    assert shared and all(e.accuracy == plain_acc[e.candidate] for e in shared)
    summary = finalize(halving)
    assert summary["pruner"] == "halving" and summary["halted"] == halving.compute().halted
    assert summary["compute"]["sample_epochs"] == budget
    assert summary["compute_by_stage"]["search"]["halted"] == summary["halted"]
    assert (
        "halted early by --pruner halving" in (Path(summary["pareto_png"]).parent / "report.md").read_text()
    )
    assert all(not r["halted_at_epoch"] for r in summary["top"][: len(halving.final.ranked())])


def test_a_pruner_setting_changed_on_resume_is_refused(
    _pair: dict[str, tuple[Path, SearchOutcome]], tmp_path: Path
) -> None:
    import shutil

    for made, other, named in (
        ("none", "halving", "pruner (was <unset>, now halving)"),
        ("halving", "hyperband", "pruner (was halving, now hyperband)"),
    ):
        out = tmp_path / made
        shutil.copytree(_pair[made][0], out)
        with pytest.raises(ConfigError) as err:
            run_search(tiny(out, trials=4, epochs=3, pruner=other))
        assert named in str(err.value) and "\n" not in str(err.value) and err.value.exit_code == 2


def test_a_resume_after_a_kill_keeps_the_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed in the middle of a candidate's training: the re-run spends the budget exactly."""
    from search.pruning import EpochJudge

    monkeypatch.setenv("HIL_SEARCH_HEARTBEAT", "1")  # the killed trial is stale after 3 s
    real, calls = EpochJudge.__call__, []

    def killed(self: EpochJudge, epoch: int, accuracy: float) -> bool:
        calls.append(self.trial.number)
        if len(set(calls)) == 3:
            raise KeyboardInterrupt  # the third candidate's first epoch: a kill
        return real(self, epoch, accuracy)

    monkeypatch.setattr(EpochJudge, "__call__", killed)
    with pytest.raises(KeyboardInterrupt):
        run_search(tiny(tmp_path, trials=3, epochs=3, pruner="halving"))
    monkeypatch.setattr(EpochJudge, "__call__", real)
    time.sleep(3.2)
    outcome = run_search(tiny(tmp_path, trials=3, epochs=3, pruner="halving"))
    trials = _study(tmp_path).trials
    assert any(t.state == optuna.trial.TrialState.FAIL for t in trials)  # the killed one
    finished = [
        t
        for t in trials
        if t.state in (_COMPLETE, _PRUNED)
        and t.user_attrs.get("epochs")
        and t.user_attrs["reused_from"] is None
    ]
    assert outcome.compute().sample_epochs == 3 * 3 * _IMAGES
    assert sum(t.user_attrs["sample_epochs"] for t in finished) == 3 * 3 * _IMAGES
    assert outcome.compute().trained == len(finished) and outcome.final.elapsed["runs"] == 2


@pytest.mark.parametrize("controller", ["rl", "tpe"])
def test_the_controllers_learn_from_halted_candidates(tmp_path: Path, controller: str) -> None:
    outcome = run_search(tiny(tmp_path, trials=3, epochs=2, controller=controller, pruner="halving"))
    assert outcome.compute().sample_epochs == 3 * 2 * _IMAGES
    study = _study(tmp_path)
    finished = study.get_trials(states=(_COMPLETE, _PRUNED))
    if controller == "rl":  # every finished trial, halted ones included, was told its reward
        state = __import__("torch").load(tmp_path / "study.hil-joint-joint.controller.pt", weights_only=True)
        assert set(state["told"]) == {t.number for t in finished}
    # Optuna's samplers see a halted trial as PRUNED, valued at its last reported accuracy
    assert all(t.value is not None for t in finished if t.state == _PRUNED)


def test_hyperband_spends_the_budget_exactly(tmp_path: Path) -> None:
    outcome = run_search(tiny(tmp_path, trials=3, epochs=3, pruner="hyperband"))
    assert outcome.compute().sample_epochs == 3 * 3 * _IMAGES
    assert all(e.sample_epochs == e.epochs * _IMAGES for _, e in outcome.final.trainings)
    states = {t.state for t in _study(tmp_path).trials if t.user_attrs.get("epochs")}
    assert states <= {_COMPLETE, _PRUNED}


def test_separate_spends_each_phase_budget_and_walks_fully_trained_architectures_first(
    tmp_path: Path,
) -> None:
    outcome = run_search(
        tiny(tmp_path, trials=4, epochs=2, strategy="separate", luts=60000, pruner="halving")
    )
    arch_phase, hw_phase = outcome.phases
    assert [p.compute().sample_epochs for p in outcome.phases] == [2 * 2 * _IMAGES, 2 * 2 * _IMAGES]
    order = [e.candidate.arch for _, e in arch_phase.walk_order()]
    complete = [e.candidate.arch for _, e in arch_phase.ranked()]
    assert order[: len(complete)] == complete and len(order) == len(arch_phase.trained)
    walked = []
    for _, e in hw_phase.trained:
        if e.candidate.arch not in walked:
            walked.append(e.candidate.arch)
    assert walked == [a for a in order if a in walked]  # best first, fully trained ones before halted


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["joint", "separate", "hw-nas", "random"])
def test_every_strategy_spends_the_same_sample_epochs_with_halving(tmp_path: Path, strategy: str) -> None:
    outcome = run_search(
        tiny(tmp_path, trials=4, epochs=3, strategy=strategy, controller="rl", pruner="halving")
    )
    assert outcome.compute().sample_epochs == outcome.budget()["sample_epochs"] == 4 * 3 * _IMAGES
    assert all(e.sample_epochs == e.epochs * _IMAGES for p in outcome.phases for _, e in p.trainings)
    assert all(e.sample_epochs == 0 for p in outcome.phases for _, e in p.trained if not e.trains)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"pruner": "median"}, "--pruner must be one of"),
        ({"pruner": "halving", "epochs": 1}, "--epochs >= 2"),
        ({"pruner": "halving", "epochs": 2, "controller": "nsga2"}, "nsga2"),
    ],
)
def test_a_pruner_that_cannot_work_is_refused_up_front(
    tmp_path: Path, change: dict[str, Any], needle: str
) -> None:
    with pytest.raises(InputError, match=needle):
        tiny(tmp_path, **change).resolved()


def test_a_pruned_training_counts_the_epochs_it_ran_and_an_unpruned_one_is_unchanged() -> None:
    data = load_dataset("digits", seed=0, subset=200)
    recipe = TrainRecipe(epochs=3, batch_size=16, lr=1e-2, schedule="cosine")

    def model() -> Any:
        import torch

        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))

    seen: list[int] = []
    stopped = model()
    stats = train_classifier(
        stopped, data.x_train, data.y_train, recipe, on_epoch=lambda e, _m: seen.append(e) or e == 2
    )
    assert seen == [1, 2] and stats.epochs == 2 and stats.sample_epochs == 2 * len(data.x_train)
    plain, watched, asked = model(), model(), []
    train_classifier(plain, data.x_train, data.y_train, recipe)
    stats = train_classifier(
        watched, data.x_train, data.y_train, recipe, on_epoch=lambda e, _m: asked.append(e) and False
    )
    assert asked == [1, 2]  # never after the last epoch: by then the compute is spent
    assert stats.epochs == 3 and stats.sample_epochs == 3 * len(data.x_train)
    for a, b in zip(plain.state_dict().values(), watched.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy())


def test_the_feasible_count_is_of_designs_that_may_be_chosen(
    _pair: dict[str, tuple[Path, SearchOutcome]],
) -> None:
    """A halted candidate fits the spec by its estimate but is never ranked: the report's "feasible"
    (beside "never ranked") counts what the live progress counts, fully trained feasible designs."""
    halving = _pair["halving"][1]
    assert any(e.halted and e.feasible for _, e in halving.final.trained)
    summary = finalize(halving)
    assert summary["feasible"] == len(halving.final.ranked())


def test_a_network_a_pruner_halted_shares_that_verdict_and_a_complete_twin_wins(tmp_path: Path) -> None:
    """The same network proposed again after a pruner halted it: the same seeded training would stop
    at the same epoch with the same accuracy, so it is halted at no cost; a complete twin is shared
    first; a twin the budget's end halted (never judged) is never shared."""
    from search.evaluation import Evaluation
    from search.runner import _twin
    from search.space import Architecture, Candidate, LayerHw

    arch = Architecture((4,), (3,), (True,), ())
    first = Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, 160, "Resource")))
    again = Candidate(arch, (LayerHw(4, 4, 9, "Latency"), LayerHw(4, 0, 80, "Resource")))
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"w")

    def ev(halted_by: str | None, epochs: int) -> Evaluation:
        e = Evaluation(first, stage="halted" if halted_by else "trained", accuracy=0.5, epochs=epochs)
        e.sample_epochs, e.model_path = epochs * _IMAGES, str(weights)
        e.halted_at_epoch, e.halted_by = (epochs, halted_by) if halted_by else (None, None)
        return e

    assert _twin({3: ev("pruner", 1)}, again, None) == (3, ev("pruner", 1))
    assert _twin({3: ev("budget", 1)}, again, None) is None
    assert _twin({3: ev("pruner", 1), 5: ev(None, 3)}, again, None) == (5, ev(None, 3))
    weights.unlink()  # weights gone: nothing to share
    assert _twin({3: ev("pruner", 1)}, again, None) is None


def test_a_shared_halted_design_is_halted_and_spends_nothing(tmp_path: Path) -> None:
    from hil.inventory import load_inventory
    from search.evaluation import Evaluation
    from search.ladder import Ladder, Target
    from search.space import Architecture, Candidate, LayerHw

    data = load_dataset("digits", subset=200)
    target = Target(load_inventory().board("zcu104"), 20_000, 100_000)
    ladder = Ladder(data, target, TrainRecipe(epochs=3), fidelity="estimate", artifacts=tmp_path)
    arch = Architecture((4,), (3,), (True,), ())
    first = Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, 160, "Resource")))
    again = Candidate(arch, (LayerHw(4, 4, 9, "Latency"), LayerHw(4, 0, 80, "Resource")))
    halted = ladder.evaluate(first, 1, judge=lambda epoch, accuracy: True)  # stop after epoch 1
    assert halted.halted and halted.epochs == 1 and halted.sample_epochs == len(data.x_train)
    halted.halted_by = "pruner"
    shared = ladder.evaluate(again, 2, twin=(1, halted))
    assert shared.halted and not shared.complete and not shared.trains and shared.stage == "halted"
    assert shared.halted_at_epoch == 1 and shared.halted_by == "pruner" and shared.reused_from == 1
    assert shared.sample_epochs == 0 and shared.accuracy == halted.accuracy
    assert isinstance(Evaluation.from_attrs(shared.to_attrs()).halted_at_epoch, int)
