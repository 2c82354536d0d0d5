"""The tiny search profile the search tests share (seconds per search on 2 cores)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import pytest

from search.runner import SearchConfig
from search.space import Candidate


def tiny(out: Path, **overrides: Any) -> SearchConfig:
    """digits, 300 training images, 1 epoch, 3 trained candidates, estimate fidelity.

    Estimates are judged at the point (``estimate_edge="point"``): these tests check the loop's
    mechanics within a 20,000-LUT budget, where the default upper band edge (up to ~5x the point for
    constant-weight layers) leaves too few feasible proposals for three trained candidates."""
    base: dict[str, Any] = {
        "board": "zcu104",
        "dataset": "digits",
        "luts": 20000,
        "fps": 100000,
        "trials": 3,
        "epochs": 1,
        "controller": "random",
        "fidelity": "estimate",
        "out": out,
        "subset": 300,
        "max_proposals_factor": 100,
        "estimate_edge": "point",
    }
    base.update(overrides)
    return SearchConfig(**base)


def script_proposals(monkeypatch: pytest.MonkeyPatch, design: Callable[[int], Candidate]) -> None:
    """Every controller the runner makes proposes ``design(trial_number)`` (the trial is still the
    controller's own, so Optuna's bookkeeping is unchanged)."""
    import search.runner as runner

    real = runner.make_controller

    def make(*args: Any, **kwargs: Any) -> Any:
        controller = real(*args, **kwargs)
        ask = controller.ask

        def fixed(study: optuna.Study, **kw: Any) -> Any:
            trial, _ = ask(study, **kw)
            return trial, design(trial.number)

        monkeypatch.setattr(controller, "ask", fixed)
        return controller

    monkeypatch.setattr(runner, "make_controller", make)
