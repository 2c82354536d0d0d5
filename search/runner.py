"""The search loop: one Optuna SQLite study per phase, ask -> ladder -> tell, resumable.

Why the study is the source of truth: a completed trial holds its params, its ladder results and
its reward, so re-running the same command counts what is done and never trains it again. A trial
left RUNNING by a killed process is failed and re-queued once (its params replayed). The RL
controller's state is checkpointed beside the study after every update, and any completed trial it
has not learned from (a kill between tell and checkpoint) is replayed into it on resume.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import optuna

from hil.errors import ConfigError, InputError
from hil.inventory import load_inventory
from search.adapters import hardware_adapter
from search.controllers import CONTROLLERS, BaseController, make_controller
from search.datasets import dataset_names, load_dataset
from search.ladder import FIDELITIES, Evaluation, Ladder, Target, TrainSettings
from search.space import Architecture, default_space
from search.strategies import PhasePlan, plan_phases

__all__ = ["PhaseResult", "Progress", "SearchConfig", "SearchOutcome", "run_search"]

_log = logging.getLogger(__name__)
_DONE = optuna.trial.TrialState.COMPLETE
#: Per dataset: trained candidates, epochs, batch size, learning rate (the embedded defaults).
_PROFILES: dict[str, tuple[int, int, int, float]] = {
    "digits": (16, 3, 16, 1e-2),
    "cifar10": (12, 2, 64, 3e-3),
}


@dataclass(frozen=True)
class SearchConfig:
    """Everything a search needs; ``None`` fields take the dataset's and board's defaults.

    Attributes:
        luts: LUT budget of the network IP (default: a quarter of the board's LUTs).
        fps: minimum throughput in images/s (0: none).
        trials: trained candidates in total (proposals the estimate prunes do not count, up to
            ``max_proposals_factor`` x trials proposals).
        epochs: training epochs of every candidate (the fixed per-candidate budget).
        fidelity: highest rung: estimate, csim, build or board.
        study: Optuna storage URL (default sqlite:///OUT/study.db).
        top_k: candidates climb to C-sim while among the best K feasible so far.
        subset: training images used (a proxy), None for all.
        csim_n: validation/test images run through the C simulation, at most.
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
    csim_n: int = 1000
    batch_size: int | None = None
    lr: float | None = None
    max_proposals_factor: int = 200
    inventory: Path | None = None

    def resolved(self) -> SearchConfig:
        """A copy with every default filled in, validated (InputError names the bad option)."""
        if self.dataset not in dataset_names():
            raise InputError(f"--dataset must be one of {', '.join(dataset_names())}, got {self.dataset!r}")
        if self.fidelity not in FIDELITIES:
            raise InputError(f"--fidelity must be one of {', '.join(FIDELITIES)}, got {self.fidelity!r}")
        board = load_inventory(self.inventory).board(self.board)
        trials, epochs, batch, lr = _PROFILES[self.dataset]
        luts = board.resources.lut / 4 if self.luts is None else self.luts
        if luts <= 0:
            raise InputError(f"--luts must be > 0, got {luts:g}")
        out = Path(self.out)
        study = self.study or f"sqlite:///{(out / 'study.db').resolve()}"
        if not study.startswith(("sqlite:///", "postgresql", "mysql")):
            raise InputError(f"--study must be an Optuna storage URL such as sqlite:///PATH, got {study!r}")
        if (self.epochs is not None and self.epochs < 1) or self.fps < 0 or self.top_k < 0:
            raise InputError("--epochs must be >= 1, --fps >= 0 and top_k >= 0")
        if self.controller not in CONTROLLERS:
            raise InputError(f"--controller must be one of {', '.join(CONTROLLERS)}, got {self.controller!r}")
        plan_phases(self.strategy, self.trials or trials)
        hardware_adapter(self.fidelity, inventory=self.inventory)  # an unavailable rung fails before any work
        return replace(
            self,
            luts=float(luts),
            trials=self.trials or trials,
            epochs=self.epochs or epochs,
            batch_size=self.batch_size or batch,
            lr=self.lr or lr,
            study=study,
            out=out,
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


@dataclass
class PhaseResult:
    """The trials of one phase, read back from its study."""

    plan: PhasePlan
    study_name: str
    evaluations: dict[int, Evaluation] = field(default_factory=dict)

    @property
    def trained(self) -> list[tuple[int, Evaluation]]:
        return [(n, e) for n, e in sorted(self.evaluations.items()) if e.trained]

    def best(self) -> tuple[int, Evaluation] | None:
        """Most accurate design (feasible, for a hardware phase); fewer LUTs break ties."""
        pool = [
            (n, e)
            for n, e in self.trained
            if e.accuracy is not None and (e.feasible or not self.plan.hardware)
        ]
        if not pool:
            return None
        return max(pool, key=lambda ne: (ne[1].accuracy, -ne[1].value("lut") if self.plan.hardware else 0.0))


@dataclass
class SearchOutcome:
    """What ``run_search`` returns: the resolved config and every phase's results."""

    config: SearchConfig
    target: Target
    phases: list[PhaseResult]
    wall_seconds: float = 0.0

    @property
    def final(self) -> PhaseResult:
        return self.phases[-1]


ProgressHook = Callable[[Progress], None]


def _fingerprint(
    cfg: SearchConfig, plan: PhasePlan, space: dict[str, Any], arch: Architecture | None
) -> dict[str, Any]:
    return {
        "dataset": cfg.dataset,
        "board": cfg.board,
        "luts": cfg.luts,
        "fps": cfg.fps,
        "epochs": cfg.epochs,
        "controller": cfg.controller,
        "strategy": cfg.strategy,
        "phase": plan.name,
        "seed": cfg.seed,
        "subset": cfg.subset,
        "space": space,
        "arch": None if arch is None else asdict(arch),
    }


def _open_study(
    cfg: SearchConfig,
    name: str,
    controller: BaseController,
    hardware: bool,
    fingerprint: dict[str, Any],
    constraints: Any,
) -> optuna.Study:
    directions: list[Any] = ["maximize", "minimize"] if controller.multi_objective else ["maximize"]
    try:
        storage = optuna.storages.RDBStorage(str(cfg.study))
        existing = (
            len(optuna.load_study(study_name=name, storage=storage).trials)
            if name in [s.study_name for s in optuna.get_all_study_summaries(storage)]
            else 0
        )
    except Exception as exc:  # sqlalchemy raises many types for a bad URL or unreadable file
        raise InputError(
            f"--study {cfg.study}: cannot open the Optuna storage ({str(exc).splitlines()[0]})"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            load_if_exists=True,
            directions=directions,
            sampler=controller.sampler(constraints if hardware else None, existing),
        )
    stored = study.user_attrs.get("hil")
    if stored is None:
        study.set_user_attr("hil", fingerprint)
    elif stored != fingerprint:
        diff = sorted(k for k in fingerprint if stored.get(k) != fingerprint[k])
        raise ConfigError(
            f"study {name!r} in {cfg.study} was made with other settings ({', '.join(diff)}); "
            "re-run with the same options or use another --study/--out"
        )
    return study


def _recover(study: optuna.Study) -> None:
    """Fail trials a killed process left RUNNING; re-queue each once (a re-queued one is not re-queued)."""
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        if "requeue_of" in t.user_attrs:
            _log.warning(
                "trial %d (a re-queue of %d) was interrupted again: not re-queued",
                t.number,
                t.user_attrs["requeue_of"],
            )
            continue
        study.enqueue_trial(dict(t.params), user_attrs={"requeue_of": t.number})
        _log.warning("trial %d was left running by a stopped process: re-queued", t.number)


def _checkpoint(cfg: SearchConfig, name: str) -> Path:
    url = str(cfg.study)
    base = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else cfg.out / "study"
    return base.with_name(f"{base.stem}.{name.replace('/', '-')}.controller.pt")


def _save_controller(controller: BaseController, path: Path) -> None:
    state = controller.state_dict()
    if not state:
        return
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _restore_controller(controller: BaseController, path: Path) -> None:
    if path.is_file() and controller.state_dict():
        import torch

        controller.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        _log.info("restored controller state from %s", path)


def _read(study: optuna.Study) -> dict[int, Evaluation]:
    return {
        t.number: Evaluation.from_attrs(t.user_attrs)
        for t in study.get_trials(deepcopy=False, states=(_DONE,))
        if "candidate" in t.user_attrs
    }


def _run_phase(
    cfg: SearchConfig,
    plan: PhasePlan,
    ladder: Ladder,
    arch: Architecture | None,
    init_state: str | None,
    hook: ProgressHook,
) -> PhaseResult:
    space = default_space(cfg.dataset, ladder.target.board.clock_mhz)
    name = f"hil-{cfg.strategy}-{plan.name}"
    controller = make_controller(str(cfg.controller), space, ladder.data.input_shape, cfg.seed)
    study = _open_study(
        cfg,
        name,
        controller,
        plan.hardware,
        _fingerprint(cfg, plan, space.to_dict(), arch),
        lambda t: t.user_attrs.get("constraints") or [0.0] * len(Target.CONSTRAINTS),
    )
    checkpoint = _checkpoint(cfg, name)
    _restore_controller(controller, checkpoint)
    _recover(study)
    for t in study.get_trials(deepcopy=False, states=(_DONE,)):  # replay what the controller missed
        if t.number not in controller.told and "reward" in t.user_attrs:
            controller.tell(
                t.number, t.params, float(t.user_attrs["reward"]), arch=arch, hardware=plan.hardware
            )
    _save_controller(controller, checkpoint)
    result = PhaseResult(plan, name)
    artifacts = cfg.out / "trials" / name
    while True:
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
        trial.set_user_attr("pid", os.getpid())
        snapshot = Progress(
            plan.name, trial.number, trained, plan.trials, len(evs), len(feasible), best, "estimate"
        )

        def on_stage(stage: str, snap: Progress = snapshot, running: optuna.trial.Trial = trial) -> None:
            if stage != "estimate":  # visible in the study (optuna-dashboard) while the trial runs
                running.set_user_attr("stage", stage)
            hook(replace(snap, stage=stage))

        ladder.artifacts = artifacts
        ev = ladder.evaluate(
            candidate,
            trial.number,
            phase=plan.name,
            feasible_accuracies=feasible,
            init_state=init_state if plan.hardware else None,
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
        hook(
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
    return result


def run_search(config: SearchConfig, on_progress: ProgressHook | None = None) -> SearchOutcome:
    """Run (or resume) a search; returns every phase's trials. Reporting is ``search.report``'s job."""
    started = time.perf_counter()
    cfg = config.resolved()
    hardware = hardware_adapter(cfg.fidelity, inventory=cfg.inventory)
    board = load_inventory(cfg.inventory).board(cfg.board)
    target = Target(board, float(cfg.luts or 0), cfg.fps)
    data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, seed=cfg.seed, subset=cfg.subset)
    settings = TrainSettings(
        epochs=int(cfg.epochs or 1),
        batch_size=int(cfg.batch_size or 16),
        lr=float(cfg.lr or 1e-2),
        seed=cfg.seed,
    )
    ladder = Ladder(
        data,
        target,
        settings,
        fidelity=cfg.fidelity,
        top_k=cfg.top_k,
        csim_n=cfg.csim_n,
        artifacts=cfg.out / "trials",
        hardware=hardware,
    )
    cfg.out.mkdir(parents=True, exist_ok=True)
    if str(cfg.study).startswith("sqlite:///"):
        Path(str(cfg.study).removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    outcome = SearchOutcome(cfg, target, [])
    done: dict[str, PhaseResult] = {}
    for plan in plan_phases(cfg.strategy, int(cfg.trials or 1)):
        arch, init_state = None, None
        if plan.arch_from is not None:
            source = done[plan.arch_from].best()
            if source is None:
                raise ConfigError(f"phase {plan.arch_from!r} trained nothing: no architecture to keep")
            arch, init_state = source[1].candidate.arch, source[1].model_path
        result = _run_phase(cfg, plan, ladder, arch, init_state, on_progress or (lambda _p: None))
        done[plan.name] = result
        outcome.phases.append(result)
    outcome.wall_seconds = time.perf_counter() - started
    return outcome
