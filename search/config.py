"""The configuration of a search: every option, its default and its validation, in one frozen dataclass.

Why apart from the loop: a bad option must fail before any data is loaded or any study opened
(``SearchConfig.resolved`` raises InputError naming the option), and the report, the resume check
and the benchmarks all read the same resolved values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from hil.errors import InputError
from hil.inventory import load_inventory
from search.adapters import hardware_adapter
from search.controllers import CONTROLLERS
from search.datasets import dataset_names
from search.ladder import FIDELITIES
from search.profiles import profile
from search.pruning import check_pruner
from search.strategies import plan_phases
from search.training import TrainRecipe, resolve_device

__all__ = ["SearchConfig"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchConfig:
    """Everything a search needs; ``None`` fields take the dataset's and board's defaults.

    Attributes:
        luts: LUT budget of the network IP (default: a quarter of the board's LUTs).
        fps: minimum throughput in images/s (0: none).
        trials: trained candidates in total (proposals the estimate prunes do not count, up to
            ``max_proposals_factor`` x trials proposals).
        epochs, batch_size, lr: the search-time recipe of every candidate (dataset defaults).
        fidelity: highest rung: estimate, csim, build or board.
        study: Optuna storage URL (default sqlite:///OUT/study.db).
        top_k: designs gated by C-sim: at fidelity csim the final best K (after the search), before
            a build each candidate among the best K feasible so far.
        subset: training images used by the search (a proxy), None for all; the final retrain
            always uses the full training split.
        csim_n: images C-simulated beside the bit-exact emulator, which scores the whole validation
            split (gate) and test split (final accuracy); None: ``search.bitexact.DEFAULT_CSIM_SAMPLE``.
        min_agreement: the gate: share of validation images where the fixed-point class = torch's.
        estimate_edge: how feasibility judges a cost-model estimate: ``upper`` (its 80 % band's
            upper edge; default) or ``point``. Measured figures are judged as measured.
        device: where candidates train: auto, cpu or cuda.
        final_epochs: retrain the best design(s) from scratch for this many epochs (0: no retrain).
        final_top: how many of the best designs the final retrain trains (the most accurate on
            validation after retraining is reported).
        heartbeat_seconds: a running trial's heartbeat interval; one silent for 3x this is stale.
        pruner: ``none`` (every candidate trains ``epochs``), ``halving`` or ``hyperband``: stop
            unpromising candidates between epochs and spend the sample-epochs ``trials`` full
            trainings would cost on more candidates (``search.pruning``).
        repair: give a proposal that misses the spec the implementation of its network (reuse
            factors, strategies, clock) that misses it least, by the cost model (``search.repair``).
        builds_per_network: at fidelity build or board, how many hardware variants of one network
            climb to the build per phase (0: no cap; ``search.buildcap`` says which variant).
    """

    board: str = "zcu104"
    dataset: str = "digits"
    data_dir: Path | None = None
    luts: float | None = None
    fps: float = 0.0
    trials: int | None = None
    epochs: int | None = None
    controller: str = "rl"
    strategy: str = "joint"
    fidelity: str = "csim"
    study: str | None = None
    out: Path = Path("hil-search")
    seed: int = 0
    top_k: int = 3
    subset: int | None = None
    csim_n: int | None = None
    min_agreement: float = 0.98
    estimate_edge: str = "upper"
    batch_size: int | None = None
    lr: float | None = None
    device: str = "cpu"
    final_epochs: int = 0
    final_top: int = 1
    max_proposals_factor: int = 200
    heartbeat_seconds: int = 10
    inventory: Path | None = None
    pruner: str = "none"
    repair: bool = False
    builds_per_network: int = 1

    def resolved(self) -> SearchConfig:
        """A copy with every default filled in, validated (InputError names the bad option)."""
        if self.dataset not in dataset_names():
            raise InputError(f"--dataset must be one of {', '.join(dataset_names())}, got {self.dataset!r}")
        if self.fidelity not in FIDELITIES:
            raise InputError(f"--fidelity must be one of {', '.join(FIDELITIES)}, got {self.fidelity!r}")
        board = load_inventory(self.inventory).board(self.board)
        defaults = profile(self.dataset)
        luts = board.resources.lut / 4 if self.luts is None else self.luts
        if luts <= 0:
            raise InputError(f"--luts must be > 0, got {luts:g}")
        out = Path(self.out)
        study = self.study or f"sqlite:///{(out / 'study.db').resolve()}"
        if not study.startswith(("sqlite:///", "postgresql", "mysql")):
            raise InputError(f"--study must be an Optuna storage URL such as sqlite:///PATH, got {study!r}")
        if (self.epochs is not None and self.epochs < 1) or self.fps < 0 or self.top_k < 0:
            raise InputError("--epochs must be >= 1, --fps >= 0 and --top-k >= 0")
        if self.final_epochs < 0 or self.final_top < 1:
            raise InputError(
                f"--final-epochs must be >= 0 and --final-top >= 1, got {self.final_epochs}, {self.final_top}"
            )
        if self.estimate_edge not in ("upper", "point"):
            raise InputError(f"--estimate-edge must be upper or point, got {self.estimate_edge!r}")
        if self.builds_per_network < 0:
            raise InputError(f"--builds-per-network must be >= 0 (0: no cap), got {self.builds_per_network}")
        if self.heartbeat_seconds < 1:
            raise InputError(f"heartbeat_seconds must be >= 1, got {self.heartbeat_seconds}")
        if self.controller not in CONTROLLERS:
            raise InputError(f"--controller must be one of {', '.join(CONTROLLERS)}, got {self.controller!r}")
        plan_phases(self.strategy, self.trials or defaults.trials)
        controller = "random" if self.strategy == "random" else self.controller
        epochs = self.epochs or defaults.recipe.epochs
        check_pruner(self.pruner, epochs, CONTROLLERS[controller].multi_objective)
        hardware_adapter(self.fidelity, inventory=self.inventory)  # an unavailable rung fails before any work
        return replace(
            self,
            # the random baseline is the random controller on the joint space, whatever --controller says
            controller=controller,
            luts=float(luts),
            trials=self.trials or defaults.trials,
            epochs=self.epochs or defaults.recipe.epochs,
            batch_size=self.batch_size or defaults.recipe.batch_size,
            lr=self.lr or defaults.recipe.lr,
            device=resolve_device(self.device),
            data_dir=None if self.data_dir is None else Path(self.data_dir).expanduser().resolve(),
            study=study,
            out=out,
        )

    def recipe(self) -> TrainRecipe:
        """The search-time recipe of every candidate (call on a ``resolved()`` config)."""
        return replace(
            profile(self.dataset).recipe,
            epochs=int(self.epochs or 1),
            batch_size=int(self.batch_size or 1),
            lr=float(self.lr or 1e-3),
            seed=self.seed,
        )
