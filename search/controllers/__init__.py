"""Controllers of the co-search: rl (the paper's LSTM + REINFORCE), tpe, nsga2, random."""

from __future__ import annotations

from search.controllers._base import BaseController, ConstraintsFunc
from search.controllers._optuna import Nsga2Controller, RandomController, TpeController
from search.controllers._probe import ProbeResult, probe_feasibility
from search.controllers._rl import RlController

__all__ = [
    "CONTROLLERS",
    "BaseController",
    "ConstraintsFunc",
    "Nsga2Controller",
    "ProbeResult",
    "RandomController",
    "RlController",
    "TpeController",
    "make_controller",
    "probe_feasibility",
]

CONTROLLERS: dict[str, type[BaseController]] = {
    "rl": RlController,
    "tpe": TpeController,
    "nsga2": Nsga2Controller,
    "random": RandomController,
}


def make_controller(
    name: str, space: object, input_shape: tuple[int, int, int], seed: int = 0
) -> BaseController:
    """The controller named ``name`` (raises InputError naming the choices otherwise)."""
    from hil.errors import InputError

    if name not in CONTROLLERS:
        raise InputError(f"--controller must be one of {', '.join(CONTROLLERS)}, got {name!r}")
    return CONTROLLERS[name](space, input_shape, seed)  # type: ignore[arg-type]
