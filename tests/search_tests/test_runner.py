"""The search loop over an Optuna study: budgets, pruning, constraints, resume, re-queue, strategies."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import optuna
import pytest

from hil.errors import ConfigError, InputError
from search.ladder import Target
from search.report import finalize
from search.runner import SearchConfig, run_search
from search.study import recover_stale
from tests.search_tests._profile import script_proposals, tiny


def _study(out: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{(out / 'study.db').resolve()}")


@pytest.mark.parametrize("controller", ["rl", "tpe", "nsga2", "random"])
def test_joint_search_trains_the_budget_and_never_trains_pruned(tmp_path: Path, controller: str) -> None:
    outcome = run_search(tiny(tmp_path, controller=controller))
    study = _study(tmp_path, "hil-joint-joint")
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    trained = [t for t in done if t.user_attrs["epochs"] > 0]
    pruned = [t for t in done if t.user_attrs["stage"] == "pruned"]
    trainings = [t for t in trained if t.user_attrs["reused_from"] is None]  # the others share weights
    assert len(trainings) == 3 and len(outcome.final.trainings) == 3
    assert all(t.user_attrs["sample_epochs"] == 0 for t in trained if t not in trainings)
    assert len(done) == len(trained) + len(pruned)
    target = outcome.target
    for t in done:
        values = {k: v["value"] for k, v in t.user_attrs["hardware"].items()}
        assert t.user_attrs["constraints"] == target.constraints(values)  # resource - budget
        if t in pruned:
            assert t.user_attrs["model_path"] is None and t.user_attrs["epochs"] == 0
            # minus how far it missed (Target.miss): a direction for the controller, below any design
            assert t.user_attrs["reward"] == -t.user_attrs["miss"] == t.values[0] < 0
            assert max(t.user_attrs["constraints"]) > 0
        else:
            assert Path(t.user_attrs["model_path"]).is_file()
    if controller == "nsga2":
        assert len(study.directions) == 2 and all(len(t.values) == 2 for t in done)
    if controller == "rl":  # checkpointed beside the study after every update
        state = __import__("torch").load(tmp_path / "study.hil-joint-joint.controller.pt", weights_only=True)
        assert set(state["told"]) == {t.number for t in done}


def test_rerun_resumes_without_training_and_counts_all_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_search(tiny(tmp_path, controller="rl"))
    before = len(_study(tmp_path, "hil-joint-joint").trials)

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("trained again on resume")

    monkeypatch.setattr("search.training.train_classifier", boom)
    monkeypatch.setattr("search.ladder.Ladder._train", boom)
    outcome = run_search(tiny(tmp_path, controller="rl"))
    assert len(_study(tmp_path, "hil-joint-joint").trials) == before
    assert len(outcome.final.trainings) == 3
    # elapsed time is the total of both runs, not the resume's
    assert outcome.final.elapsed["runs"] == 2
    assert outcome.wall_seconds > first.wall_seconds > 0
    assert outcome.compute().sample_epochs == first.compute().sample_epochs == 3 * 300


@pytest.fixture(scope="module")
def _finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("finished")
    run_search(tiny(out, trials=1))
    return out


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"luts": 30000}, "luts (was 20000.0, now 30000.0)"),
        ({"epochs": 2}, "recipe.epochs (was 1, now 2)"),
        ({"lr": 0.02}, "recipe.lr (was 0.01, now 0.02)"),
        ({"batch_size": 32}, "recipe.batch_size (was 16, now 32)"),
        ({"top_k": 1}, "top_k (was 3, now 1)"),
        ({"csim_n": 50}, "csim_n (was None, now 50)"),
        ({"fidelity": "csim"}, "fidelity (was estimate, now csim)"),
        ({"subset": 200}, "subset (was 300, now 200)"),
        ({"data_dir": Path("/nonexistent/cifar")}, "data_dir (was None, now /nonexistent/cifar)"),
        ({"estimate_edge": "upper"}, "estimate_edge (was point, now upper)"),
    ],
)
def test_a_changed_setting_on_resume_is_refused_naming_it(
    _finished: Path, tmp_path: Path, change: dict[str, object], named: str
) -> None:
    out = tmp_path / "run"
    shutil.copytree(_finished, out)
    run_search(tiny(out, trials=1))  # the same settings resume (nothing to do)
    with pytest.raises(ConfigError) as err:
        run_search(tiny(out, trials=1, **change))
    message = str(err.value)
    assert named in message and "\n" not in message and err.value.exit_code == 2


def test_a_trial_left_running_without_heartbeat_is_requeued_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIL_SEARCH_HEARTBEAT", "1")  # grace: 3 s
    run_search(tiny(tmp_path, trials=1))
    study = _study(tmp_path, "hil-joint-joint")
    done = [t for t in study.trials if t.user_attrs.get("epochs")]
    study.enqueue_trial(done[0].params)
    orphan = study.ask()  # what another tool (or hil before heartbeats) leaves: RUNNING, no heartbeat
    for name, dist in done[0].distributions.items():
        orphan.suggest_categorical(name, dist.choices)
    recover_stale(study, 1)  # young: left alone (a live search's first heartbeat may still come)
    assert _study(tmp_path, "hil-joint-joint").trials[orphan.number].state == optuna.trial.TrialState.RUNNING
    time.sleep(3.2)
    outcome = run_search(tiny(tmp_path, trials=2))
    trials = _study(tmp_path, "hil-joint-joint").trials
    assert trials[orphan.number].state == optuna.trial.TrialState.FAIL
    requeued = [t for t in trials if t.user_attrs.get("requeue_of") == orphan.number]
    assert len(requeued) == 1 and requeued[0].state == optuna.trial.TrialState.COMPLETE
    assert requeued[0].params == done[0].params
    assert len(outcome.final.trainings) == 2


def test_separate_has_equal_budgets_and_walks_phase_one_architectures_best_first(tmp_path: Path) -> None:
    # A roomy LUT budget: every phase-one architecture can fit, so the walk takes them in order
    joint = run_search(tiny(tmp_path / "j", trials=4, strategy="joint", luts=60000))
    sep = run_search(tiny(tmp_path / "s", trials=4, strategy="separate", luts=60000))
    arch_phase, hw_phase = sep.phases
    assert [p.plan.name for p in sep.phases] == ["architecture", "hardware"]
    assert len(arch_phase.trainings) + len(hw_phase.trainings) == len(joint.final.trainings) == 4
    # equal budgets: the same trained candidates and sample-epochs (warm starts counted once, in
    # phase 1 where they were trained), within 5 % (here exactly)
    assert sep.budget() == joint.budget() == {"trained_candidates": 4, "sample_epochs": 4 * 1 * 300}
    jc, sc = joint.compute(), sep.compute()
    assert jc.trained == sc.trained == 4
    assert abs(sc.sample_epochs - jc.sample_epochs) <= 0.05 * jc.sample_epochs
    assert jc.sample_epochs == sc.sample_epochs == 4 * 300
    assert jc.cpu_seconds > 0 and sc.cpu_seconds > 0 and jc.wall_seconds > 0 and sc.wall_seconds > 0
    assert all(not e.candidate.quantized for _, e in arch_phase.trained)  # float, accuracy alone
    ranked = [e.candidate.arch for _, e in arch_phase.ranked()]
    walked = [e.candidate.arch for _, e in hw_phase.trained]
    assert walked == ranked[: len(walked)]  # best first, one trained design each
    assert all(e.candidate.quantized for e in hw_phase.evaluations.values())
    # every warm-started candidate starts from its own architecture's phase-one weights
    cost = {e.candidate.arch: e.sample_epochs for _, e in arch_phase.trainings}
    assert all(e.inherited_sample_epochs == cost[e.candidate.arch] for _, e in hw_phase.trainings)
    assert {e.inherited_sample_epochs for _, e in joint.final.trainings} == {0}
    summary = finalize(sep)
    assert set(summary["compute"]) == {"sample_epochs", "cpu_seconds", "wall_seconds"}
    assert summary["compute"]["sample_epochs"] == sc.sample_epochs
    assert [p["compute"]["sample_epochs"] for p in summary["phases"]] == [2 * 300, 2 * 300]


@pytest.mark.slow
def test_every_strategy_spends_the_same_compute_at_a_tight_spec(tmp_path: Path) -> None:
    """20,000 LUTs at 100,000 img/s: ~97 % of random digits proposals are pruned by the estimate."""
    outcomes = {
        name: run_search(
            tiny(tmp_path / name, trials=4, strategy=name, controller="rl", max_proposals_factor=200)
        )
        for name in ("joint", "separate", "hw-nas", "random")
    }
    spent = {name: o.compute().sample_epochs for name, o in outcomes.items()}
    assert all(abs(v - spent["joint"]) <= 0.05 * spent["joint"] for v in spent.values()), spent
    for name, o in outcomes.items():
        pruned = sum(ev.stage == "pruned" for ev in o.final.evaluations.values())
        assert o.budget()["sample_epochs"] == spent[name] == 4 * 300, name
        if name != "separate":
            assert pruned > 0, name  # pruning mattered
    # separate trained quantized designs of phase-one architectures, each warm-started
    arch_phase, hw_phase = outcomes["separate"].phases
    assert hw_phase.trained and all(e.candidate.quantized and e.feasible for _, e in hw_phase.trained)
    phase_one = {e.candidate.arch for _, e in arch_phase.trained}
    assert {e.candidate.arch for _, e in hw_phase.trained} <= phase_one
    # hw-nas: 8-bit weights and activations everywhere; random: the random controller's study
    hw_nas = outcomes["hw-nas"].final.evaluations.values()
    assert all(h.weight_bits == 8 and h.act_bits in (0, 8) for ev in hw_nas for h in ev.candidate.hw)
    assert _study(tmp_path / "random", "hil-random-joint").user_attrs["hil"]["controller"] == "random"


def test_ranking_uses_validation_accuracy_only(tmp_path: Path) -> None:
    """C-sim accuracy on a subset never re-ranks: B (torch 0.92) beats A (torch 0.90, C-sim 0.99)."""
    outcome = run_search(tiny(tmp_path, trials=3))
    phase = outcome.final
    numbers = [n for n, _ in phase.trained]
    a, b, c = (phase.evaluations[n] for n in numbers)
    for ev in (a, b, c):
        ev.feasible = True
    a.accuracy, a.csim, a.csim_gate = 0.90, {"hls_accuracy": 0.99, "argmax_agreement": 1.0}, "passed"
    b.accuracy, b.csim, b.csim_gate = 0.92, {"hls_accuracy": 0.50, "argmax_agreement": 1.0}, "passed"
    c.accuracy, c.csim_gate, c.feasible = 0.99, "failed", False  # failed the gate: infeasible
    ranked = [n for n, _ in phase.ranked()]
    assert ranked == [numbers[1], numbers[0]] and phase.best() == (numbers[1], b)
    assert c.reward == 0.0 and b.reward == 0.92


def test_separate_reports_no_valid_design(tmp_path: Path) -> None:
    outcome = run_search(tiny(tmp_path, trials=2, strategy="separate", luts=50, max_proposals_factor=5))
    summary = finalize(outcome)
    assert summary["valid"] is False and summary["best"] is None and "no valid design" in summary["message"]
    # 50 LUTs: the cost model says no phase-one architecture fits at any setting; none is proposed
    assert summary["trials"] == 0 and summary["proposed"] == 0
    assert Path(summary["pareto_png"]).is_file()
    # ...so phase 2's training moved to phase 1 (one more float architecture): the budget is spent
    arch_phase, hw_phase = outcome.phases
    assert len(arch_phase.trainings) == 2 and not hw_phase.trainings
    assert outcome.compute().sample_epochs == outcome.budget()["sample_epochs"] == 2 * 300


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


def test_the_csim_gate_runs_after_the_search_on_the_best_until_top_k_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.ladder import Ladder

    gated: list[float] = []

    def fake_gate(self: Ladder, ev):  # type: ignore[no-untyped-def]
        gated.append(ev.accuracy)
        if len(gated) == 1:  # the most accurate design disagrees with its fixed-point design
            ev.csim_gate, ev.feasible, ev.binding, ev.stage = "failed", False, "csim", "csim failed"
        else:
            ev.csim_gate, ev.stage = "passed", "csim"
        return ev

    def no_compile(*_a: object, **_k: object) -> None:
        raise AssertionError("a C-sim ran inside a trial at --fidelity csim")

    monkeypatch.setattr(Ladder, "gate", fake_gate)
    monkeypatch.setattr(Ladder, "_csim", no_compile)
    cfg = tiny(tmp_path, fidelity="csim", trials=4, top_k=2)
    outcome = run_search(cfg)
    accuracies = sorted((e.accuracy for _, e in outcome.final.trained), reverse=True)
    assert gated == accuracies[:3]  # best first; the failure is replaced by the next one
    ranked = outcome.final.ranked()
    assert ranked[0][1].accuracy == accuracies[1] and ranked[0][1].csim_gate == "passed"
    assert all(e.accuracy != accuracies[0] or not e.feasible for _, e in outcome.final.trained)

    gated.clear()  # a resumed search reads the gate's results from the study: nothing is gated again
    again = run_search(cfg)
    assert gated == [] and [n for n, _ in again.final.ranked()] == [n for n, _ in ranked]


def test_estimates_are_judged_at_the_band_upper_edge_by_default(tmp_path: Path) -> None:
    assert SearchConfig(board="zcu104", dataset="digits").estimate_edge == "upper"
    with pytest.raises(InputError, match="estimate-edge"):
        tiny(tmp_path, estimate_edge="middle").resolved()


def test_the_cost_model_fingerprint_follows_the_bands_as_well_as_the_estimates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Feasibility is judged at the band's upper edge: a recalibration that moves only the bands
    must refuse a resume just as one that moves the estimates."""
    import dataclasses

    import search.resume
    from hil.cost import estimate as real_estimate

    before = search.resume._cost_model_fingerprint((1, 8, 8), 10)
    assert search.resume._cost_model_fingerprint((1, 8, 8), 10) == before  # deterministic

    def wider(*args: Any, **kwargs: Any) -> Any:
        est = real_estimate(*args, **kwargs)
        bands = {k: (lo, hi * 1.5) for k, (lo, hi) in est.bands.items()}
        return dataclasses.replace(est, bands=bands)

    monkeypatch.setattr(search.resume, "estimate", wider)
    assert search.resume._cost_model_fingerprint((1, 8, 8), 10) != before


def test_designs_of_one_network_train_it_once_and_the_budget_counts_trainings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proposals 0-2 are one network at three reuse factors, 3 another network: two trainings."""
    import dataclasses

    from search.space import Architecture, Candidate, LayerHw

    def design(n: int) -> Candidate:
        arch = Architecture((4,), (3,), (True,), ()) if n < 3 else Architecture((6,), (3,), (True,), ())
        reuse = (160, 80, 160, 160)[min(n, 3)]  # proposal 2 repeats proposal 0 exactly
        return Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, reuse, "Resource")))

    script_proposals(monkeypatch, design)
    outcome = run_search(tiny(tmp_path, trials=2))
    evs = outcome.final.evaluations
    assert sorted(evs) == [0, 1, 2, 3] and all(ev.feasible for ev in evs.values())
    assert [evs[n].reused_from for n in range(4)] == [None, 0, 0, None]
    assert evs[1].accuracy == evs[2].accuracy == evs[0].accuracy
    # a new hardware of the network earns its accuracy; an exact repeat earns 0 and is ranked once
    assert evs[1].reward == evs[1].accuracy and evs[1].duplicate_of is None
    assert evs[2].duplicate_of == 0 and evs[2].reward == 0.0
    ranked = {n for n, _ in outcome.final.ranked()}
    assert 2 not in ranked and {0, 1} <= ranked
    assert outcome.compute().trained == 2 and outcome.compute().sample_epochs == 2 * 300
    assert [dataclasses.replace(evs[n].candidate, hw=()) for n in (1, 2)] == [
        dataclasses.replace(evs[0].candidate, hw=())
    ] * 2
    summary = finalize(outcome)
    assert summary["trials"] == 2 and summary["shared_weights"] == 2
    assert summary["compute"]["sample_epochs"] == 600


def test_a_twin_whose_weights_are_gone_gives_way_to_one_that_has_them(tmp_path: Path) -> None:
    """Trial 0 trained the network and its file was deleted; trial 2 trained it again (it could not
    share 0's): a third design of the network shares trial 2's weights instead of training a third time."""
    from search.evaluation import Evaluation
    from search.runner import _twin
    from search.space import Architecture, Candidate, LayerHw

    arch = Architecture((4,), (3,), (True,), ())

    def design(reuse: int) -> Candidate:
        return Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, reuse, "Resource")))

    kept = tmp_path / "trial_00002" / "model.pt"
    kept.parent.mkdir()
    kept.write_bytes(b"weights")

    def trained(reuse: int, path: Path) -> Evaluation:
        return Evaluation(
            design(reuse), feasible=True, accuracy=0.5, epochs=1, sample_epochs=300, model_path=str(path)
        )

    evs = {0: trained(160, tmp_path / "trial_00000" / "model.pt"), 2: trained(80, kept)}
    twin = _twin(evs, design(320), None)
    assert twin is not None and twin[0] == 2
    assert _twin({0: evs[0]}, design(320), None) is None  # no twin with weights: it trains


def test_a_reported_design_says_whose_network_it_shares() -> None:
    """report.json's rows: a shared design (0 sample-epochs, the twin's as ``inherited``) names the
    trial that trained its network, or it reads as a warm start that trained nothing."""
    from search.evaluation import Evaluation
    from search.report import top_designs
    from search.results import PhaseResult
    from search.space import Architecture, Candidate, LayerHw
    from search.strategies import PhasePlan

    arch = Architecture((4,), (3,), (True,), ())
    cand = Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, 160, "Resource")))
    own = Evaluation(cand, feasible=True, accuracy=0.5, epochs=1, sample_epochs=300)
    shared = Evaluation(
        cand, feasible=True, accuracy=0.5, epochs=1, inherited_sample_epochs=300, reused_from=0
    )
    result = PhaseResult(PhasePlan("joint", 1, hardware=True), "s", evaluations={0: own, 1: shared})
    rows = {r["trial"]: r for r in top_designs(result)}
    assert rows[0]["reused_from"] is None and rows[1]["reused_from"] == 0


def test_a_design_proposed_twice_is_ranked_once_and_a_network_retrained_once(tmp_path: Path) -> None:
    from search.evaluation import Evaluation, Measured
    from search.final import _one_per_network
    from search.results import PhaseResult
    from search.space import Architecture, Candidate, LayerHw
    from search.strategies import PhasePlan

    arch = Architecture((4,), (3,), (True,), ())
    a = Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, 160, "Resource")))
    b = Candidate(arch, (LayerHw(4, 4, 9, "Latency"), LayerHw(4, 0, 80, "Resource")))  # same network

    def ev(c: Candidate, lut: float) -> Evaluation:
        e = Evaluation(c, accuracy=0.9, epochs=1, feasible=True)
        e.hardware["lut"] = Measured(lut, "estimate")
        return e

    phase = PhaseResult(PhasePlan("joint", 3, hardware=True), "s")
    phase.evaluations = {0: ev(a, 900.0), 1: ev(b, 800.0), 2: ev(a, 900.0)}
    assert [n for n, _ in phase.ranked()] == [1, 0]  # fewest LUTs first; trial 2 repeats trial 0
    assert [n for n, _ in _one_per_network(phase.ranked())] == [1]
