"""Controllers: the RL policy (proposals, REINFORCE update, checkpoint), the Optuna ones, the registry."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch

from hil.errors import InputError
from search.controllers import CONTROLLERS, RlController, make_controller
from search.space import default_space, replay

SHAPE = (1, 8, 8)


def test_registry_and_unknown_name() -> None:
    assert set(CONTROLLERS) == {"rl", "tpe", "nsga2", "random"}
    with pytest.raises(InputError, match="--controller"):
        make_controller("bayes", default_space("digits", 200.0), SHAPE)


def test_rl_proposals_are_valid_and_enqueued_as_trial_params() -> None:
    space = default_space("digits", 200.0)
    rl = RlController(space, SHAPE, seed=1)
    study = optuna.create_study(direction="maximize", sampler=rl.sampler(None, 0))
    trial, cand = rl.ask(study)
    assert space.sample(replay(trial.params), SHAPE) == cand
    assert cand.quantized and len(cand.hw) == cand.arch.n_mac_layers


def test_reinforce_moves_probability_towards_rewarded_decisions() -> None:
    space = default_space("digits", 200.0)
    rl = RlController(space, SHAPE, seed=0, lr=0.05)
    good, bad = rl.propose(), rl.propose()
    before = float(rl.log_prob(good)[0])
    for n in range(10):
        rl.tell(2 * n, good, 1.0)
        rl.tell(2 * n + 1, bad, 0.0)
    assert float(rl.log_prob(good)[0]) > before
    assert rl.updates == 20 and rl.baseline is not None and 0.0 < rl.baseline < 1.0
    rl.tell(0, good, 1.0)  # a trial is learned from once
    assert rl.updates == 20


def test_rl_state_survives_a_checkpoint(tmp_path: Path) -> None:
    space = default_space("digits", 200.0)
    rl = RlController(space, SHAPE, seed=0)
    params = rl.propose()
    rl.tell(0, params, 0.8)
    rl.tell(1, rl.propose(), 0.0)
    torch.save(rl.state_dict(), tmp_path / "c.pt")
    restored = RlController(space, SHAPE, seed=99)
    restored.load_state_dict(torch.load(tmp_path / "c.pt", weights_only=True))
    assert restored.told == {0, 1} and restored.updates == 2 and restored.baseline == rl.baseline
    assert float(restored.log_prob(params)[0]) == pytest.approx(float(rl.log_prob(params)[0]))
    assert restored.propose() == rl.propose()  # same sampler stream too


def test_rl_arch_fixed_phase_asks_only_hardware() -> None:
    space = default_space("digits", 200.0)
    rl = RlController(space, SHAPE, seed=0)
    arch = space.sample(replay(rl.propose()), SHAPE).arch
    params = rl.propose(arch=arch)
    assert not any(
        k.endswith(("_channels", "_kernel", "_pool")) or k in ("conv_blocks", "dense_units") for k in params
    )
    assert space.sample(replay(params), SHAPE, arch=arch).arch == arch
