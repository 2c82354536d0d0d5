"""Resume: the settings fingerprint, the controller checkpoint, the trials read back from the study.

Why a fingerprint: a resumed study must continue the *same* experiment (``search.study`` compares
it); it includes what the cost model says about one fixed design, priced at the level the budget
is judged at (synthesis), so a change of the cost model or of its synthesis ratios is noticed.
Why a controller checkpoint: the RL policy is not in the study; it is saved beside it after every
update, and trials it missed are replayed on resume (``search.runner``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import optuna

from hil.cost import estimate, target_for
from hil.inventory import Board, load_inventory
from search.config import SearchConfig
from search.controllers import BaseController
from search.datasets import dataset_shape
from search.evaluation import Evaluation
from search.space import Architecture, Candidate, LayerHw, SearchSpace, default_space
from search.strategies import PhasePlan, plan_phases
from search.study import check_fingerprint

__all__ = ["check_resume", "phase_space"]

_log = logging.getLogger(__name__)
#: Finished trials that hold an evaluation: completed ones, and those a pruner halted (``--pruner``).
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
#: pruned proposals rewarded minus their miss; gate and final accuracy by the bit-exact emulator;
#: a network trained once per phase (designs differing only in hardware share its weights)
SCORING_VERSION = "miss-reward-1/bitexact-gate-1/shared-weights-1"


def _cost_model_fingerprint(input_shape: tuple[int, int, int], n_classes: int) -> str:
    """A hash of what the cost model says about one fixed design: changes whenever its numbers do."""
    arch = Architecture((8, 16), (3, 3), (True, True), (16,))
    hw = tuple(LayerHw(4, 4 if i < 3 else 0, rf, s) for i, (rf, s) in enumerate(
        [(4, "Latency"), (16, "Resource"), (32, "Resource"), (8, "Latency")]))  # fmt: skip
    probe = Candidate(arch, hw, "io_stream", 200.0)
    # priced as the ladder prices candidates: synthesis level, the Vitis flow, ZCU104's part
    target = target_for(part="xczu7ev-ffvc1156-2-e", backend="Vitis", clock_mhz=200.0)
    specs = probe.layer_specs(input_shape, n_classes)
    est = estimate(specs, clock_mhz=200.0, target=target, level="synth")
    # the bands too: feasibility is judged at their upper edge by default, and a recalibration can
    # move the bands while the point estimates stay where they were
    text = json.dumps({
        "totals": {k: round(float(v), 3) for k, v in sorted(est.totals.items())},
        "bands": {k: [round(float(x), 3) for x in band] for k, band in sorted(est.bands.items())},
    })  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _fingerprint(
    cfg: SearchConfig,
    board: Board,
    plan: PhasePlan,
    space: dict[str, Any],
    arch: Architecture | None,
    cost_model: str,
) -> dict[str, Any]:
    """Every setting that changes a trial's result (see ``search.study``)."""
    fp: dict[str, Any] = {
        "dataset": cfg.dataset,
        "data_dir": None if cfg.data_dir is None else str(cfg.data_dir),
        "subset": cfg.subset,
        "seed": cfg.seed,
        "board": cfg.board,
        "part": board.part,
        "luts": cfg.luts,
        "fps": cfg.fps,
        **{f"recipe.{k}": v for k, v in cfg.recipe().to_dict().items()},
        "device": cfg.device,
        "controller": plan.controller or cfg.controller,
        "strategy": cfg.strategy,
        "phase": plan.name,
        "fidelity": cfg.fidelity,
        "top_k": cfg.top_k,
        "csim_n": cfg.csim_n,
        "min_agreement": cfg.min_agreement,
        "estimate_edge": cfg.estimate_edge,
        "max_proposals_factor": cfg.max_proposals_factor,
        "cost_model": cost_model,
        # how trials are scored: bump when the reward or the gate changes meaning (the stored
        # rewards of old trials are replayed into the controller on resume)
        "scoring": SCORING_VERSION,
        "space": space,
        "arch": None if arch is None else asdict(arch),
    }
    if cfg.pruner != "none":  # absent when off: a study's fingerprint names only what it uses
        fp["pruner"] = cfg.pruner
    if cfg.repair:
        fp["repair"] = True
    if cfg.strategy != "joint":  # the phase split depends on it; a joint study may be extended
        fp["trials"] = cfg.trials
    if cfg.fidelity in ("build", "board"):
        fp["builder"] = load_inventory(cfg.inventory).farm.builder
        if cfg.builds_per_network:  # it decides which designs are built; absent = no cap, as before it
            fp["builds_per_network"] = cfg.builds_per_network
    return fp


def _study_name(cfg: SearchConfig, plan: PhasePlan) -> str:
    return f"hil-{cfg.strategy}-{plan.name}"


def check_resume(config: SearchConfig) -> SearchConfig:
    """Validate ``config`` and refuse a resume with other settings, before any data is loaded.

    Returns the resolved config. Raises InputError (bad option) or ConfigError (naming the settings
    that differ from the study's).
    """
    cfg = config.resolved()
    board = load_inventory(cfg.inventory).board(cfg.board)
    shape, classes = dataset_shape(cfg.dataset)
    cost_model = _cost_model_fingerprint(shape, classes)
    for plan in plan_phases(cfg.strategy, int(cfg.trials or 1)):
        space = phase_space(cfg, plan, board.clock_mhz).to_dict()
        fingerprint = _fingerprint(cfg, board, plan, space, None, cost_model)
        check_fingerprint(str(cfg.study), _study_name(cfg, plan), fingerprint, ignore=("arch",))
    return cfg


def phase_space(cfg: SearchConfig, plan: PhasePlan, board_clock_mhz: float) -> SearchSpace:
    """The space a phase searches: the dataset's, with the widths fixed for ``hw-nas``."""
    space = default_space(cfg.dataset, board_clock_mhz)
    if plan.fixed_bits is None:
        return space
    return replace(space, weight_bits=(plan.fixed_bits,), act_bits=(plan.fixed_bits,))


def _checkpoint(cfg: SearchConfig, name: str) -> Path:
    url = str(cfg.study)
    base = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else cfg.out / "study"
    return base.with_name(f"{base.stem}.{name.replace('/', '-')}.controller.pt")


def _save_controller(controller: BaseController, path: Path) -> None:
    state = controller.state_dict()
    if not state:
        return
    import torch

    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


class ControllerCheckpoint:
    """Saves the controller beside the study after an update, at most every ``every_s`` seconds
    unless the proposal trained a network.

    Why throttled: on a tight spec almost every proposal is pruned at the estimate, and saving the
    policy and its optimizer after each one was a sixth of the proposal loop (CIFAR-10 at 15,000
    LUT: thousands of proposals a search). What a crash loses is re-taught on resume: the runner
    tells the restored controller every finished trial it has not seen (``told``), in trial order.
    Only the controller's random stream restarts from the checkpoint, so the proposals after a crash
    differ from an uninterrupted run's (as they already did for a crash inside a trial)."""

    def __init__(self, controller: BaseController, path: Path, every_s: float = 10.0) -> None:
        self.controller, self.path, self.every_s = controller, path, every_s
        self._last = time.monotonic()

    def updated(self, *, trained: bool) -> None:
        """After ``controller.tell``: save if a network was trained or the last save is old."""
        if trained or time.monotonic() - self._last >= self.every_s:
            self.save()

    def save(self) -> None:
        _save_controller(self.controller, self.path)
        self._last = time.monotonic()


def _restore_controller(controller: BaseController, path: Path) -> None:
    if path.is_file() and controller.state_dict():
        import torch

        controller.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        _log.info("restored controller state from %s", path)


#: Study attribute holding a trial's evaluation after the end-of-search C-sim gate (a finished
#: trial's own attributes cannot change in Optuna).
_GATED_PREFIX = "gated:"


class EvaluationReader:
    """Reads a phase's finished trials back as evaluations, parsing each trial once.

    Why: the runner re-reads the study before every proposal (a search beside it may have added
    trials), and parsing every trial's attributes each time made the proposal loop quadratic: at
    4,800 proposals (a search where nothing fits) one read took ~0.2 s of a ~0.3 s proposal. A
    finished trial's attributes never change in Optuna; only the end-of-search gate stores a new
    evaluation, in the study's ``gated:<number>`` attribute, and that one is parsed again when it
    appears or changes."""

    def __init__(self) -> None:
        self._parsed: dict[int, tuple[Any, Evaluation]] = {}

    def read(self, study: optuna.Study) -> dict[int, Evaluation]:
        gated = study.user_attrs
        out: dict[int, Evaluation] = {}
        for t in study.get_trials(deepcopy=False, states=FINISHED):
            if "candidate" not in t.user_attrs:
                continue
            override = gated.get(f"{_GATED_PREFIX}{t.number}")
            cached = self._parsed.get(t.number)
            if cached is None or cached[0] != override:
                cached = (override, Evaluation.from_attrs(override or t.user_attrs))
                self._parsed[t.number] = cached
            out[t.number] = cached[1]
        return out
