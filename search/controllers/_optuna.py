"""Optuna's samplers as controllers: TPE and NSGA-II with ``constraints_func``, and random search.

Why ``constraints_func``: the spec is a set of hard limits (resource - budget <= 0), and Optuna's
constrained TPE/NSGA-II rank an infeasible trial by how far it is over, which teaches the sampler
where the budget boundary is, instead of only seeing a reward of 0.
"""

from __future__ import annotations

import logging

import optuna

from search.controllers._base import BaseController, ConstraintsFunc

__all__ = ["Nsga2Controller", "RandomController", "TpeController"]

_log = logging.getLogger(__name__)


class RandomController(BaseController):
    """Uniform random proposals: the baseline every other controller must beat."""

    name = "random"

    def sampler(
        self, constraints_func: ConstraintsFunc | None, n_existing: int
    ) -> optuna.samplers.BaseSampler:
        return optuna.samplers.RandomSampler(seed=self.seed + n_existing)


class TpeController(BaseController):
    """Tree-structured Parzen estimator (multivariate, grouped: the space is conditional)."""

    name = "tpe"

    def sampler(
        self, constraints_func: ConstraintsFunc | None, n_existing: int
    ) -> optuna.samplers.BaseSampler:
        return optuna.samplers.TPESampler(
            seed=self.seed + n_existing,
            constraints_func=constraints_func,
            n_startup_trials=4,
            multivariate=True,
            group=True,
            warn_independent_sampling=False,
        )


class Nsga2Controller(BaseController):
    """NSGA-II on two objectives, accuracy (up) and LUTs (down): it returns a Pareto front."""

    name = "nsga2"
    multi_objective = True

    def __init__(self, *args: object, population_size: int = 8, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.population_size = population_size

    def sampler(
        self, constraints_func: ConstraintsFunc | None, n_existing: int
    ) -> optuna.samplers.BaseSampler:
        return optuna.samplers.NSGAIISampler(
            seed=self.seed + n_existing,
            constraints_func=constraints_func,
            population_size=self.population_size,
        )
