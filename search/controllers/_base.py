"""The one extension point of the search: a controller proposes candidates (ask) and learns (tell).

Why over an Optuna study: every controller, ours (RL) or Optuna's samplers, records its trials in
the same SQLite study, so storage, resume and optuna-dashboard work the same for all of them. The
controller never evaluates anything (the ladder does), so it cannot own the hardware loop.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import optuna

from search.space import Architecture, Candidate, SearchSpace

__all__ = ["BaseController", "ConstraintsFunc"]

_log = logging.getLogger(__name__)

#: Optuna's ``constraints_func``: a finished trial -> constraint values (<= 0 is satisfied).
ConstraintsFunc = Callable[[optuna.trial.FrozenTrial], Sequence[float]]


class BaseController(ABC):
    """Proposes candidates of ``space`` for one study.

    Attributes:
        name: the CLI name (``--controller``).
        multi_objective: whether the study has two objectives (accuracy up, LUT down).
    """

    name: ClassVar[str] = ""
    multi_objective: ClassVar[bool] = False

    def __init__(self, space: SearchSpace, input_shape: tuple[int, int, int], seed: int = 0) -> None:
        self.space, self.input_shape, self.seed = space, input_shape, seed

    @abstractmethod
    def sampler(
        self, constraints_func: ConstraintsFunc | None, n_existing: int
    ) -> optuna.samplers.BaseSampler:
        """The Optuna sampler the study uses; ``n_existing`` trials are already stored (re-seed on resume)."""

    def ask(
        self, study: optuna.Study, *, arch: Architecture | None = None, hardware: bool = True
    ) -> tuple[optuna.trial.Trial, Candidate]:
        """A new trial and its candidate (a re-queued trial first, if the study has one waiting)."""
        trial = study.ask()
        return trial, self.space.sample(
            trial.suggest_categorical, self.input_shape, arch=arch, hardware=hardware
        )

    def tell(
        self,
        trial_number: int,
        params: dict[str, Any],
        reward: float,
        *,
        arch: Architecture | None = None,
        hardware: bool = True,
    ) -> None:
        """Learn from a finished trial (its params and reward); Optuna samplers learn in study.tell."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """What must survive a restart (checkpointed beside the study: ``ControllerCheckpoint``)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``."""
        return None

    @property
    def told(self) -> set[int]:
        """Trial numbers already learned from (so a resumed run replays only the missing ones)."""
        return set()
