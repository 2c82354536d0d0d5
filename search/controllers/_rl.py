"""The paper's controller: an LSTM policy that emits every per-layer decision, trained by REINFORCE.

As in Lu, Jiang et al. (after Zoph & Le): one LSTM step per decision (architecture, then each
layer's bits, reuse and strategy, then io_type and clock), a softmax head per decision, the chosen
value fed back as the next input. Reward = validation accuracy when the design is feasible; a
proposal the cost model prunes earns minus how far it missed the spec (``Evaluation.reward``, the
one departure from the paper: a 0 for almost every proposal of a tight spec teaches nothing).
Update: REINFORCE with a moving-average baseline, one episode per update.
Regularisation (not shaping): an entropy bonus of ``entropy_weight`` (1e-3) on the loss, so a short
search does not collapse onto its first lucky sample.

Proposals go through the study: the sampled decisions are enqueued as the trial's params, so the
trial records exactly what the policy chose and a re-queued trial replays them. ``tell`` re-scores
the stored params under the current policy (teacher forcing), so it learns from any trial.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import optuna

from search.controllers._base import BaseController, ConstraintsFunc
from search.space import Architecture, Candidate, SearchSpace, replay

__all__ = ["RlController"]

_log = logging.getLogger(__name__)


def _policy_class() -> Any:
    import torch
    from torch import nn

    class Policy(nn.Module):
        """LSTM cell shared by all decisions; one embedding and one softmax head per decision slot."""

        def __init__(self, sizes: Sequence[int], hidden: int) -> None:
            super().__init__()
            self.start = nn.Parameter(torch.zeros(1, hidden))
            self.cell = nn.LSTMCell(hidden, hidden)
            self.heads = nn.ModuleList(nn.Linear(hidden, n) for n in sizes)
            self.embeds = nn.ModuleList(nn.Embedding(n, hidden) for n in sizes)
            self.hidden = hidden

        def initial(self) -> tuple[Any, Any, Any]:
            zeros = torch.zeros(1, self.hidden)
            return self.start, zeros, zeros

        def step(self, slot: int, x: Any, h: Any, c: Any) -> tuple[Any, Any, Any]:
            h, c = self.cell(x, (h, c))
            return self.heads[slot](h).squeeze(0), h, c

    return Policy


class RlController(BaseController):
    """LSTM policy + REINFORCE with a moving-average baseline."""

    name = "rl"

    def __init__(
        self,
        space: SearchSpace,
        input_shape: tuple[int, int, int],
        seed: int = 0,
        *,
        hidden: int = 64,
        lr: float = 0.01,
        baseline_decay: float = 0.8,
        entropy_weight: float = 1e-3,
    ) -> None:
        import torch

        super().__init__(space, input_shape, seed)
        decisions = space.all_decisions()
        self._slots = {name: (i, tuple(choices)) for i, (name, choices) in enumerate(decisions)}
        torch.manual_seed(seed)
        self.policy = _policy_class()([len(c) for _, c in decisions], hidden)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.baseline: float | None = None
        self.baseline_decay, self.entropy_weight = baseline_decay, entropy_weight
        self.updates = 0
        self._told: set[int] = set()

    def sampler(
        self, constraints_func: ConstraintsFunc | None, n_existing: int
    ) -> optuna.samplers.BaseSampler:
        # Only asked for params the policy did not fix (none, in practice).
        return optuna.samplers.RandomSampler(seed=self.seed + n_existing)

    def _index(self, name: str, value: Any) -> tuple[int, int]:
        slot, choices = self._slots[name]
        return slot, list(choices).index(value)

    def propose(self, *, arch: Architecture | None = None, hardware: bool = True) -> dict[str, Any]:
        """Sample one decision sequence from the policy; returns the params it chose."""
        import torch

        params: dict[str, Any] = {}
        x, h, c = self.policy.initial()

        def choose(name: str, choices: Sequence[Any]) -> Any:
            nonlocal x, h, c
            slot, _ = self._slots[name]
            logits, h, c = self.policy.step(slot, x, h, c)
            index = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=self.generator))
            x = self.policy.embeds[slot](torch.tensor([index]))
            params[name] = choices[index]
            return choices[index]

        with torch.no_grad():
            self.space.sample(choose, self.input_shape, arch=arch, hardware=hardware)
        return params

    def ask(
        self, study: optuna.Study, *, arch: Architecture | None = None, hardware: bool = True
    ) -> tuple[optuna.trial.Trial, Candidate]:
        if not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):
            study.enqueue_trial(self.propose(arch=arch, hardware=hardware))
        return super().ask(study, arch=arch, hardware=hardware)

    def log_prob(
        self, params: dict[str, Any], *, arch: Architecture | None = None, hardware: bool = True
    ) -> tuple[Any, Any]:
        """(sum of log-probabilities, sum of entropies) of ``params`` under the policy, with gradients."""
        import torch

        total = torch.zeros(())
        entropy = torch.zeros(())
        x, h, c = self.policy.initial()
        answer = replay(params)

        def choose(name: str, choices: Sequence[Any]) -> Any:
            nonlocal x, h, c, total, entropy
            value = answer(name, choices)
            slot, index = self._index(name, value)
            logits, h, c = self.policy.step(slot, x, h, c)
            logp = torch.log_softmax(logits, -1)
            total = total + logp[index]
            entropy = entropy - (logp.exp() * logp).sum()
            x = self.policy.embeds[slot](torch.tensor([index]))
            return value

        self.space.sample(choose, self.input_shape, arch=arch, hardware=hardware)
        return total, entropy

    def tell(
        self,
        trial_number: int,
        params: dict[str, Any],
        reward: float,
        *,
        arch: Architecture | None = None,
        hardware: bool = True,
    ) -> None:
        if trial_number in self._told or math.isnan(reward):
            return
        baseline = reward if self.baseline is None else self.baseline
        advantage = reward - baseline
        logp, entropy = self.log_prob(params, arch=arch, hardware=hardware)
        loss = -advantage * logp - self.entropy_weight * entropy
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.baseline = self.baseline_decay * baseline + (1 - self.baseline_decay) * reward
        self.updates += 1
        self._told.add(trial_number)
        _log.info(
            "RL update %d: reward %.4f, baseline %.4f, advantage %+.4f",
            self.updates,
            reward,
            self.baseline,
            advantage,
        )

    @property
    def told(self) -> set[int]:
        return set(self._told)

    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "baseline": math.nan if self.baseline is None else self.baseline,
            "updates": self.updates,
            "told": sorted(self._told),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        baseline = float(state["baseline"])
        self.baseline = None if math.isnan(baseline) else baseline
        self.updates = int(state["updates"])
        self._told = {int(n) for n in state["told"]}
        self.generator.set_state(state["generator"])
