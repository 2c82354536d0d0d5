"""The search loop: one Optuna SQLite study per phase, ask -> ladder -> tell, resumable.

Why the study is the source of truth: a completed trial holds its params, its ladder results, its
reward and its compute, so re-running the same command counts what is done and never trains it
again. The settings that change results are fingerprinted with the study (``search.study``); a
RUNNING trial is failed and re-queued once only when its heartbeat has expired, so a second search
on the same study never breaks a live one. The RL controller's state is checkpointed beside the
study after every update, and any completed trial it has not learned from (a kill between tell and
checkpoint) is replayed into it on resume.

Why a budget has two numbers: trained candidates (``trials``) and training compute (sample-epochs:
images x epochs, summed over every training the strategy runs, the float architecture phase of
``separate`` included). Both strategies get the same of each (``search.strategies``), and
``SearchOutcome.compute`` states what was spent, with CPU and wall time over all resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import optuna

from hil.cost import estimate
from hil.errors import ConfigError, InputError
from hil.inventory import Board, load_inventory
from search.adapters import hardware_adapter
from search.controllers import CONTROLLERS, BaseController, make_controller
from search.datasets import dataset_names, dataset_shape, load_dataset
from search.evaluation import cpu_seconds
from search.ladder import FIDELITIES, Evaluation, Ladder, Target, WarmStart
from search.profiles import profile
from search.space import Architecture, Candidate, LayerHw, default_space
from search.strategies import PhasePlan, plan_phases
from search.study import RunClock, check_fingerprint, heartbeat, open_study, recover_stale, total_elapsed
from search.training import TrainRecipe, resolve_device

__all__ = [
    "Compute",
    "PhaseResult",
    "Progress",
    "SearchConfig",
    "SearchOutcome",
    "check_resume",
    "run_search",
]

_log = logging.getLogger(__name__)
_DONE = optuna.trial.TrialState.COMPLETE


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
        csim_n: validation images in the C-sim gate, None for the full validation split.
        min_agreement: the gate: share of those images where the fixed-point class = torch's.
        estimate_edge: how feasibility judges a cost-model estimate: ``upper`` (its 80 % band's
            upper edge; default) or ``point``. Measured figures are judged as measured.
        device: where candidates train: auto, cpu or cuda.
        final_epochs: retrain the best design(s) from scratch for this many epochs (0: no retrain).
        final_top: how many of the best designs the final retrain trains (the most accurate on
            validation after retraining is reported).
        heartbeat_seconds: a running trial's heartbeat interval; one silent for 3x this is stale.
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
        if self.heartbeat_seconds < 1:
            raise InputError(f"heartbeat_seconds must be >= 1, got {self.heartbeat_seconds}")
        if self.controller not in CONTROLLERS:
            raise InputError(f"--controller must be one of {', '.join(CONTROLLERS)}, got {self.controller!r}")
        plan_phases(self.strategy, self.trials or defaults.trials)
        hardware_adapter(self.fidelity, inventory=self.inventory)  # an unavailable rung fails before any work
        return replace(
            self,
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


@dataclass(frozen=True)
class Progress:
    """A snapshot for a live display."""

    phase: str
    trial: int
    trained: int
    trials: int
    proposed: int
    feasible: int
    best_accuracy: float | None
    stage: str


@dataclass(frozen=True)
class Compute:
    """What a search (or one phase) spent: the budget unit and the clock.

    Attributes:
        trained: candidates trained.
        sample_epochs: training images x epochs over every training run (the budget unit).
        cpu_seconds: CPU time of the search processes (all threads, all resumes).
        wall_seconds: wall time (all resumes).
    """

    trained: int = 0
    sample_epochs: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0

    def __add__(self, other: Compute) -> Compute:
        return Compute(
            self.trained + other.trained,
            self.sample_epochs + other.sample_epochs,
            self.cpu_seconds + other.cpu_seconds,
            self.wall_seconds + other.wall_seconds,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trained": self.trained,
            "sample_epochs": self.sample_epochs,
            "cpu_seconds": round(self.cpu_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 1),
        }


@dataclass
class PhaseResult:
    """The trials of one phase, read back from its study."""

    plan: PhasePlan
    study_name: str
    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    elapsed: dict[str, float] = field(default_factory=dict)

    @property
    def trained(self) -> list[tuple[int, Evaluation]]:
        return [(n, e) for n, e in sorted(self.evaluations.items()) if e.trained]

    def ranked(self) -> list[tuple[int, Evaluation]]:
        """Trained designs that may be chosen, best first: by validation accuracy (the one ranking
        metric), fewer LUTs breaking ties; a hardware phase keeps only feasible ones (a candidate
        that failed the C-sim gate is infeasible)."""
        pool = [
            (n, e)
            for n, e in self.trained
            if e.accuracy is not None and (e.feasible or not self.plan.hardware)
        ]
        return sorted(
            pool,
            key=lambda ne: (
                -(ne[1].accuracy or 0.0),
                ne[1].value("lut") if self.plan.hardware else 0.0,
                ne[0],
            ),
        )

    def best(self) -> tuple[int, Evaluation] | None:
        """Most accurate design (feasible, for a hardware phase); fewer LUTs break ties."""
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def compute(self) -> Compute:
        return Compute(
            trained=len(self.trained),
            sample_epochs=sum(e.sample_epochs for _, e in self.trained),
            cpu_seconds=self.elapsed.get("cpu_seconds", 0.0),
            wall_seconds=self.elapsed.get("wall_seconds", 0.0),
        )


@dataclass
class SearchOutcome:
    """What ``run_search`` returns: the resolved config and every phase's results."""

    config: SearchConfig
    target: Target
    phases: list[PhaseResult]
    train_samples: int = 0

    @property
    def final(self) -> PhaseResult:
        return self.phases[-1]

    def budget(self) -> dict[str, int]:
        """The budget both strategies are given: trained candidates and sample-epochs."""
        trials = int(self.config.trials or 0)
        return {
            "trained_candidates": trials,
            "sample_epochs": trials * int(self.config.epochs or 0) * self.train_samples,
        }

    def compute(self) -> Compute:
        """The whole search's compute (every phase, every resume)."""
        total = Compute()
        for p in self.phases:
            total = total + p.compute()
        return total

    @property
    def wall_seconds(self) -> float:
        """Wall time of the search over all its runs (resumes included)."""
        return self.compute().wall_seconds


ProgressHook = Callable[[Progress], None]


def _cost_model_fingerprint(input_shape: tuple[int, int, int], n_classes: int) -> str:
    """A hash of what the cost model says about one fixed design: changes whenever its numbers do."""
    arch = Architecture((8, 16), (3, 3), (True, True), (16,))
    hw = tuple(LayerHw(4, 4 if i < 3 else 0, rf, s) for i, (rf, s) in enumerate(
        [(4, "Latency"), (16, "Resource"), (32, "Resource"), (8, "Latency")]))  # fmt: skip
    probe = Candidate(arch, hw, "io_stream", 200.0)
    totals = estimate(probe.layer_specs(input_shape, n_classes), clock_mhz=200.0).totals
    text = json.dumps({k: round(float(v), 3) for k, v in sorted(totals.items())})
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
        "controller": cfg.controller,
        "strategy": cfg.strategy,
        "phase": plan.name,
        "fidelity": cfg.fidelity,
        "top_k": cfg.top_k,
        "csim_n": cfg.csim_n,
        "min_agreement": cfg.min_agreement,
        "estimate_edge": cfg.estimate_edge,
        "max_proposals_factor": cfg.max_proposals_factor,
        "cost_model": cost_model,
        "space": space,
        "arch": None if arch is None else asdict(arch),
    }
    if cfg.strategy != "joint":  # the phase split depends on it; a joint study may be extended
        fp["trials"] = cfg.trials
    if cfg.fidelity in ("build", "board"):
        fp["builder"] = load_inventory(cfg.inventory).farm.builder
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
    space = default_space(cfg.dataset, board.clock_mhz).to_dict()
    for plan in plan_phases(cfg.strategy, int(cfg.trials or 1)):
        fingerprint = _fingerprint(cfg, board, plan, space, None, cost_model)
        check_fingerprint(str(cfg.study), _study_name(cfg, plan), fingerprint, ignore=("arch",))
    return cfg


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


def _restore_controller(controller: BaseController, path: Path) -> None:
    if path.is_file() and controller.state_dict():
        import torch

        controller.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        _log.info("restored controller state from %s", path)


#: Study attribute holding a trial's evaluation after the end-of-search C-sim gate (a finished
#: trial's own attributes cannot change in Optuna).
_GATED_PREFIX = "gated:"


def _read(study: optuna.Study) -> dict[int, Evaluation]:
    gated = study.user_attrs
    return {
        t.number: Evaluation.from_attrs(gated.get(f"{_GATED_PREFIX}{t.number}") or t.user_attrs)
        for t in study.get_trials(deepcopy=False, states=(_DONE,))
        if "candidate" in t.user_attrs
    }


def _gate_top(study: optuna.Study, ladder: Ladder, result: PhaseResult, hook: Callable[[int], None]) -> None:
    """The C-sim gate on the best designs, best first, until ``top_k`` have passed.

    A design that fails becomes infeasible and the next one is gated, so the designs reported are
    gated ones; results are kept in the study, so a resumed search does not gate them again.
    """
    passed = 0
    for number, ev in result.ranked():
        if passed >= ladder.top_k:
            break
        if not ev.candidate.quantized or ev.model_path is None:
            continue
        if ev.csim_gate is None:
            hook(number)
            _log.info("C-sim gate of trial %d (validation accuracy %.4f)", number, ev.accuracy or 0.0)
            ladder.gate(ev)
            study.set_user_attr(f"{_GATED_PREFIX}{number}", ev.to_attrs())
            result.evaluations[number] = ev
        passed += ev.csim_gate == "passed"


@dataclass(frozen=True)
class _PhaseContext:
    cfg: SearchConfig
    board: Board
    ladder: Ladder
    cost_model: str
    hook: ProgressHook
    setup: tuple[float, float]  # wall, cpu seconds spent before this phase (charged to it)


def _run_phase(
    ctx: _PhaseContext, plan: PhasePlan, arch: Architecture | None, warm_start: WarmStart | None
) -> PhaseResult:
    cfg, ladder, hb = ctx.cfg, ctx.ladder, _heartbeat_interval(ctx.cfg)
    space = default_space(cfg.dataset, ladder.target.board.clock_mhz)
    name = _study_name(cfg, plan)
    controller = make_controller(str(cfg.controller), space, ladder.data.input_shape, cfg.seed)

    def constraints(t: optuna.trial.FrozenTrial) -> list[float]:
        return list(t.user_attrs.get("constraints") or [0.0] * len(Target.CONSTRAINTS))

    study = open_study(
        str(cfg.study),
        name,
        directions=["maximize", "minimize"] if controller.multi_objective else ["maximize"],
        sampler=lambda n: controller.sampler(constraints if plan.hardware else None, n),
        fingerprint=_fingerprint(cfg, ctx.board, plan, space.to_dict(), arch, ctx.cost_model),
        heartbeat_seconds=hb,
    )
    clock = RunClock.start(study, setup_wall=ctx.setup[0], setup_cpu=ctx.setup[1])
    checkpoint = _checkpoint(cfg, name)
    _restore_controller(controller, checkpoint)
    recover_stale(study, hb)
    for t in study.get_trials(deepcopy=False, states=(_DONE,)):  # replay what the controller missed
        if t.number not in controller.told and "reward" in t.user_attrs:
            controller.tell(
                t.number, t.params, float(t.user_attrs["reward"]), arch=arch, hardware=plan.hardware
            )
    _save_controller(controller, checkpoint)
    result = PhaseResult(plan, name)
    ladder = ladder.for_phase(cfg.out / "trials" / name)  # this phase's trials in a folder of their own
    while True:
        recover_stale(study, hb)  # a search beside us may have died since the last trial
        result.evaluations = _read(study)
        evs = list(result.evaluations.values())
        trained = sum(e.trained for e in evs)
        feasible = [
            e.accuracy
            for e in evs
            if e.trained and e.accuracy is not None and (e.feasible or not plan.hardware)
        ]
        best = max(feasible, default=None)
        if trained >= plan.trials or len(evs) >= plan.trials * cfg.max_proposals_factor:
            break
        trial, candidate = controller.ask(study, arch=arch, hardware=plan.hardware)
        snapshot = Progress(
            plan.name, trial.number, trained, plan.trials, len(evs), len(feasible), best, "estimate"
        )

        def on_stage(stage: str, snap: Progress = snapshot, running: optuna.trial.Trial = trial) -> None:
            if stage != "estimate":  # visible in the study (optuna-dashboard) while the trial runs
                running.set_user_attr("stage", stage)
            ctx.hook(replace(snap, stage=stage))

        with heartbeat(study, trial, hb):
            ev = ladder.evaluate(
                candidate,
                trial.number,
                phase=plan.name,
                feasible_accuracies=feasible,
                warm_start=warm_start if plan.hardware else None,
                on_stage=on_stage,
            )
            for key, value in ev.to_attrs().items():
                trial.set_user_attr(key, value)
        values = [ev.reward, ev.value("lut") if plan.hardware else 0.0][
            : 2 if controller.multi_objective else 1
        ]
        study.tell(trial, values)
        controller.tell(trial.number, trial.params, ev.reward, arch=arch, hardware=plan.hardware)
        _save_controller(controller, checkpoint)
        clock.record()
        ctx.hook(
            replace(
                snapshot,
                stage=ev.stage,
                trained=trained + ev.trained,
                proposed=len(evs) + 1,
                feasible=len(feasible) + int(ev.trained and (ev.feasible or not plan.hardware)),
                best_accuracy=max(
                    [a for a in (best, ev.reward if ev.trained else None) if a is not None], default=None
                ),
            )
        )
    if plan.hardware and ladder.gates_at_end:
        ranked = result.ranked()
        last = Progress(
            plan.name, -1, len(result.trained), plan.trials, len(result.evaluations), len(ranked),
            ranked[0][1].accuracy if ranked else None, "csim gate",
        )  # fmt: skip
        _gate_top(study, ladder, result, lambda number: ctx.hook(replace(last, trial=number)))
    clock.record()
    result.elapsed = total_elapsed(study)
    return result


def _heartbeat_interval(cfg: SearchConfig) -> int:
    """The heartbeat interval, seconds (``HIL_SEARCH_HEARTBEAT`` overrides it: tests, slow storages)."""
    return int(os.environ.get("HIL_SEARCH_HEARTBEAT") or cfg.heartbeat_seconds)


def run_search(config: SearchConfig, on_progress: ProgressHook | None = None) -> SearchOutcome:
    """Run (or resume) a search; returns every phase's trials. Reporting is ``search.report``'s job."""
    started, cpu = time.perf_counter(), cpu_seconds()
    cfg = check_resume(config)
    hardware = hardware_adapter(cfg.fidelity, inventory=cfg.inventory)
    board = load_inventory(cfg.inventory).board(cfg.board)
    target = Target(board, float(cfg.luts or 0), cfg.fps, cfg.estimate_edge)
    data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, seed=cfg.seed, subset=cfg.subset)
    ladder = Ladder(
        data,
        target,
        cfg.recipe(),
        fidelity=cfg.fidelity,
        top_k=cfg.top_k,
        csim_n=cfg.csim_n,
        min_agreement=cfg.min_agreement,
        device=cfg.device,
        artifacts=cfg.out / "trials",
        hardware=hardware,
    )
    cfg.out.mkdir(parents=True, exist_ok=True)
    if str(cfg.study).startswith("sqlite:///"):
        Path(str(cfg.study).removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    outcome = SearchOutcome(cfg, target, [], train_samples=len(data.x_train))
    cost_model = _cost_model_fingerprint(data.input_shape, data.n_classes)
    done: dict[str, PhaseResult] = {}
    setup = (time.perf_counter() - started, cpu_seconds() - cpu)
    for plan in plan_phases(cfg.strategy, int(cfg.trials or 1)):
        arch, warm_start = None, None
        if plan.arch_from is not None:
            source = done[plan.arch_from].best()
            if source is None:
                raise ConfigError(f"phase {plan.arch_from!r} trained nothing: no architecture to keep")
            arch = source[1].candidate.arch
            warm_start = WarmStart(str(source[1].model_path), source[1].sample_epochs)
        ctx = _PhaseContext(cfg, board, ladder, cost_model, on_progress or (lambda _p: None), setup)
        result = _run_phase(ctx, plan, arch, warm_start)
        setup = (0.0, 0.0)
        done[plan.name] = result
        outcome.phases.append(result)
    return outcome
