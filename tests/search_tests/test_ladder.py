"""The evaluation ladder: constraints, pruning without training, reward, fidelity of metrics."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hil.errors import InputError
from hil.inventory import load_inventory
from search.datasets import load_dataset
from search.ladder import Evaluation, Ladder, Measured, Target, best_metric, should_climb
from search.space import Architecture, Candidate, LayerHw
from search.training import TrainRecipe

BOARD = load_inventory().board("zcu104")


def _big() -> Candidate:
    arch = Architecture((32, 32, 32), (5, 5, 5), (False, False, False), (32,))
    return Candidate(arch, tuple(LayerHw(16, 16, 1, "Latency") for _ in range(5)), "io_stream", 200.0)


def _small() -> Candidate:
    arch = Architecture((4,), (3,), (True,), ())
    # Reuse 9: a streaming conv's II is (padded pixels) x (reuse + 5) = 100 x 14 cycles, >100k img/s.
    return Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, 160, "Resource")), "io_stream", 200.0)


def test_constraints_are_resource_minus_budget() -> None:
    target = Target(BOARD, 20_000, 1_000)
    values = {"lut": 25_000.0, "throughput_fps": 400.0, "ff": 1_000.0, "dsp": 2_000.0, "bram_18k": 3.0}
    res = BOARD.resources.as_dict()
    assert target.constraints(values) == [
        5_000.0,
        600.0,
        1_000.0 - res["ff"],
        2_000.0 - res["dsp"],
        3.0 - res["bram_18k"],
        0.0 - res["uram"],
    ]
    ok, binding = target.check(values)
    assert not ok and binding == "lut"
    assert target.check({"lut": 100.0, "throughput_fps": 2_000.0})[0]
    with pytest.raises(InputError):
        Target(BOARD, 0)


def test_pruned_candidates_are_never_trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = load_dataset("digits", subset=100)
    ladder = Ladder(data, Target(BOARD, 20_000, 100_000), TrainRecipe(epochs=1), artifacts=tmp_path)

    def boom(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a pruned candidate was trained")

    monkeypatch.setattr(Ladder, "_train", boom)
    ev = ladder.evaluate(_big(), 0)
    assert ev.stage == "pruned" and not ev.feasible and ev.epochs == 0 and ev.model_path is None
    assert ev.reward == -ev.miss < 0  # minus how far it missed the spec
    # judged (and constrained) at the estimate's 80 % band upper edge, recorded as estimated
    assert ev.constraints[0] == ev.judged()["lut"] - 20_000 > ev.value("lut") - 20_000 > 0
    assert ev.hardware["lut"].provenance == "estimate"
    assert not list(tmp_path.iterdir())


def test_feasible_candidate_trains_and_reward_is_its_accuracy(tmp_path: Path) -> None:
    data = load_dataset("digits", subset=200)
    ladder = Ladder(
        data, Target(BOARD, 20_000, 100_000), TrainRecipe(epochs=1), fidelity="estimate", artifacts=tmp_path
    )
    ev = ladder.evaluate(_small(), 7)
    assert ev.feasible and ev.stage == "trained" and ev.epochs == 1
    assert ev.reward == ev.accuracy and ev.accuracy_provenance == "torch"
    assert ev.sample_epochs == len(data.x_train) and ev.cpu_seconds > 0
    assert Path(str(ev.model_path)).is_file()
    again = Evaluation.from_attrs(ev.to_attrs())
    assert again.candidate == ev.candidate and again.values() == ev.values() and again.reward == ev.reward


def test_reward_is_zero_when_infeasible_whatever_the_accuracy() -> None:
    ev = Evaluation(_small(), accuracy=0.97, feasible=False)
    assert ev.reward == 0.0
    ev.feasible = True
    assert ev.reward == 0.97
    assert Evaluation(Candidate(_small().arch), accuracy=0.9).reward == 0.9  # float phase: accuracy alone


def test_a_pruned_proposal_earns_minus_its_summed_log_miss() -> None:
    import math

    from search.evaluation import MAX_MISS

    target = Target(BOARD, 20_000, 1_000)
    assert target.miss({"lut": 10_000.0, "throughput_fps": 2_000.0}) == 0.0
    assert target.miss({"lut": 40_000.0, "throughput_fps": 2_000.0}) == pytest.approx(math.log(2))
    both = target.miss({"lut": 40_000.0, "throughput_fps": 250.0})
    assert both == pytest.approx(math.log(2) + math.log(4))
    assert target.miss({"lut": 1e12, "throughput_fps": 1.0}) == MAX_MISS  # capped
    near, far = Evaluation(_small(), stage="pruned"), Evaluation(_small(), stage="pruned")
    near.merge({"lut": Measured(25_000, "estimate"), "throughput_fps": Measured(5e3, "estimate")}, target)
    far.merge({"lut": Measured(80_000, "estimate"), "throughput_fps": Measured(5e3, "estimate")}, target)
    assert far.reward < near.reward < 0 == Evaluation(_small(), accuracy=0.9, epochs=1).reward
    assert Evaluation.from_attrs(far.to_attrs()).reward == far.reward  # survives a resume


def test_a_measured_number_replaces_the_estimate_in_feasibility() -> None:
    target = Target(BOARD, 20_000, 0)
    ev = Evaluation(_small())
    ev.merge({"lut": Measured(15_000, "estimate"), "throughput_fps": Measured(1e6, "estimate")}, target)
    assert ev.feasible
    ev.merge({"lut": Measured(21_000, "synth")}, target)
    assert not ev.feasible and ev.hardware["lut"].provenance == "synth" and ev.reward == 0.0
    ev.merge({"lut": Measured(100, "estimate")}, target)  # a lower-fidelity figure does not come back
    assert ev.value("lut") == 21_000


def test_an_emulated_number_never_outranks_its_source() -> None:
    hls = Measured(1_000.0, "hls")
    emulated = Measured(900.0, "emulated", source="hls")
    assert best_metric(hls, emulated) is hls
    assert best_metric(Measured(5.0, "estimate"), emulated) is emulated
    assert best_metric(emulated, Measured(1_100.0, "board")).provenance == "board"


def test_should_climb_keeps_the_best_k() -> None:
    assert should_climb(0.5, [], 3)
    assert should_climb(0.9, [0.95, 0.8, 0.7], 2)
    assert not should_climb(0.6, [0.95, 0.8, 0.7], 2)
    assert not should_climb(0.99, [], 0)


@pytest.mark.slow
def test_the_gate_simulates_a_trained_candidate_from_its_saved_weights(tmp_path: Path) -> None:
    data = load_dataset("digits", subset=300)
    ladder = Ladder(
        data, Target(BOARD, 20_000, 100_000), TrainRecipe(epochs=2), fidelity="csim", artifacts=tmp_path
    )
    ev = ladder.evaluate(_small(), 3)
    assert ev.stage == "trained" and ev.csim_gate is None and ev.csim is None  # not in the trial
    accuracy = ev.accuracy
    ladder.gate(ev)
    assert ev.csim_gate == "passed" and ev.stage == "csim" and ev.feasible
    assert ev.csim is not None and ev.csim["split"] == "validation" and ev.csim["n_inputs"] == len(data.x_val)
    assert ev.csim["argmax_agreement"] >= 0.98 and ev.accuracy == accuracy  # torch accuracy still ranks
    assert (tmp_path / "trial_00003" / "model.onnx").is_file()


def test_an_estimate_is_judged_at_its_bands_upper_edge_a_measurement_as_measured() -> None:
    upper, point = Target(BOARD, 20_000, 0), Target(BOARD, 20_000, 0, estimate_edge="point")
    fast = {"throughput_fps": Measured(1e6, "estimate")}
    guess = {"lut": Measured(15_000, "estimate", upper=22_000), **fast}
    ev = Evaluation(_small())
    ev.merge(guess, upper)
    assert not ev.feasible and ev.binding == "lut" and ev.value("lut") == 15_000  # recorded as estimated
    ev = Evaluation(_small())
    ev.merge(guess, point)
    assert ev.feasible
    ev = Evaluation(_small())
    ev.merge({"lut": Measured(19_000, "synth", upper=30_000), **fast}, upper)  # measured: as measured
    assert ev.feasible
    with pytest.raises(InputError):
        Target(BOARD, 20_000, 0, estimate_edge="middle")


def test_the_estimate_rung_records_each_resources_upper_edge(tmp_path: Path) -> None:
    data = load_dataset("digits", subset=100)
    ladder = Ladder(data, Target(BOARD, 20_000, 100_000), TrainRecipe(epochs=1), artifacts=tmp_path)
    ev = ladder.estimate(_small())
    lut = ev.hardware["lut"]
    assert lut.provenance == "estimate" and lut.upper is not None and lut.upper > lut.value
    assert Evaluation.from_attrs(ev.to_attrs()).hardware["lut"].upper == lut.upper  # survives a resume


def test_a_ladder_is_configured_once(tmp_path: Path) -> None:
    """Its configuration is fixed at construction; a phase gets a ladder of its own, same farm store."""
    data = load_dataset("digits", subset=100)
    ladder = Ladder(data, Target(BOARD, 20_000, 100_000), TrainRecipe(epochs=1), artifacts=tmp_path, top_k=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ladder.artifacts = tmp_path / "elsewhere"  # type: ignore[misc]
    phase = ladder.for_phase(tmp_path / "trials" / "joint")
    assert phase.artifacts == tmp_path / "trials" / "joint" and ladder.artifacts == tmp_path
    assert phase.store == ladder.store == tmp_path / "farm"
    assert (phase.top_k, phase.recipe, phase.data) == (2, ladder.recipe, ladder.data)
    with pytest.raises(InputError, match="fidelity"):
        Ladder(data, Target(BOARD, 20_000), TrainRecipe(), artifacts=tmp_path, fidelity="bogus")


def test_a_network_differing_only_in_hardware_shares_the_trained_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training is seeded, so the same network trains to the same weights whatever its reuse
    factors: shown first by training both, then the second shares the first's weights untrained."""
    import torch

    data = load_dataset("digits", subset=200)
    ladder = Ladder(
        data, Target(BOARD, 20_000, 100_000), TrainRecipe(epochs=1), fidelity="estimate", artifacts=tmp_path
    )
    first = ladder.evaluate(_small(), 1)
    other = dataclasses.replace(_small(), hw=(LayerHw(4, 4, 18, "Latency"), LayerHw(4, 0, 80, "Resource")))
    assert other.network_key() == _small().network_key() and other != _small()
    retrained = ladder.evaluate(other, 2)
    assert retrained.accuracy == first.accuracy
    a, b = (torch.load(str(e.model_path), weights_only=True) for e in (first, retrained))
    assert all(torch.equal(a[k], b[k]) for k in a)

    monkeypatch.setattr(Ladder, "_train", lambda *_a, **_k: pytest.fail("a shared network was trained"))
    shared = ladder.evaluate(other, 3, twin=(1, first))
    assert shared.feasible and shared.stage == "trained" and shared.reused_from == 1
    assert shared.accuracy == first.accuracy and shared.reward == shared.accuracy
    assert shared.sample_epochs == 0 and shared.inherited_sample_epochs == first.sample_epochs
    assert shared.trained and not shared.trains and first.trains
    assert Path(str(shared.model_path)).parent.name == "trial_00003"  # its own copy
    c = torch.load(str(shared.model_path), weights_only=True)
    assert all(torch.equal(a[k], c[k]) for k in a)
    assert Evaluation.from_attrs(shared.to_attrs()).reused_from == 1
    # a different quantization is a different network: never shared
    eight = dataclasses.replace(_small(), hw=(LayerHw(8, 8, 9, "Resource"), LayerHw(8, 0, 160, "Resource")))
    assert eight.network_key() != _small().network_key()


@pytest.mark.parametrize("twin_stage", ["build", "board", "csim", "csim failed", "build cap"])
def test_a_shared_design_that_does_not_climb_is_not_labelled_with_its_twins_later_rungs(
    tmp_path: Path, twin_stage: str
) -> None:
    """A design sharing its network's weights shares the training, not what was done with the twin
    after it (gate, build, board, the build cap): one that does not climb is 'trained', never
    presented as built or gated."""
    data = load_dataset("digits", subset=100)
    target = Target(BOARD, 20_000, 100_000)
    ladder = Ladder(data, target, TrainRecipe(epochs=1), artifacts=tmp_path, fidelity="build", top_k=1)
    weights = tmp_path / "twin" / "model.pt"
    weights.parent.mkdir()
    weights.write_bytes(b"weights")
    twin = ladder.estimate(_small())
    twin.model_path, twin.accuracy, twin.accuracy_provenance = str(weights), 0.8, "torch"
    twin.epochs, twin.sample_epochs, twin.stage = 1, 100, twin_stage
    leaner = dataclasses.replace(_small(), hw=(_small().hw[0], LayerHw(4, 0, 80, "Resource")))
    # a better design is already feasible: with top_k 1 the shared one does not climb
    ev = ladder.evaluate(leaner, 1, feasible_accuracies=[0.9, 0.8], twin=(0, twin))
    assert ev.reused_from == 0 and ev.feasible and ev.accuracy == 0.8
    assert ev.csim_gate is None and not ev.rungs and ev.build_capped_by is None
    assert ev.stage == "trained"
