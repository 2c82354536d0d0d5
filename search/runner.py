"""The search loop: one Optuna SQLite study per phase, ask -> ladder -> tell, resumable.

Why the study is the source of truth: a completed trial holds its params, its ladder results, its
reward and its compute, so re-running the same command counts what is done and never trains it
again. The settings that change results are fingerprinted with the study (``search.study``); a
RUNNING trial is failed and re-queued once only when its heartbeat has expired, so a second search
on the same study never breaks a live one. The RL controller's state is checkpointed beside the
study after a training, at most every 10 s otherwise, and at the phase's end
(``search.resume.ControllerCheckpoint``); any completed trial it has not learned from (the updates
a kill lost since the last checkpoint) is replayed into it on resume.

Why a budget has two numbers: trained candidates (``trials``) and training compute (sample-epochs:
images x epochs, summed over every training the strategy runs, the float architecture phase of
``separate`` included). Every strategy gets the same of each (``search.strategies``), and
``SearchOutcome.compute`` states what was spent, with CPU and wall time over all resumes. With
``--pruner`` a phase stops on sample-epochs alone, counted from its study's finished trials (halted
ones included), so a resumed search continues the same count (``search.pruning``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import optuna

from hil.errors import ConfigError
from hil.inventory import Board, load_inventory
from search.adapters import hardware_adapter
from search.buildcap import built_variants
from search.config import SearchConfig
from search.controllers import make_controller
from search.datasets import load_dataset
from search.evaluation import Evaluation, cpu_seconds
from search.ladder import Ladder, Target, WarmStart
from search.pruning import EpochJudge, make_pruner
from search.reach import probe_reach
from search.repair import Repair
from search.results import Compute, PhaseResult, Progress, ProgressHook, SearchOutcome
from search.resume import (
    _GATED_PREFIX,
    FINISHED,
    ControllerCheckpoint,
    EvaluationReader,
    _checkpoint,
    _cost_model_fingerprint,
    _fingerprint,
    _restore_controller,
    _save_controller,
    _study_name,
    check_resume,
    phase_space,
)
from search.space import Architecture, Candidate
from search.strategies import PhasePlan, plan_phases
from search.study import RunClock, heartbeat, open_study, recover_stale, total_elapsed
from search.walk import ArchitectureWalk, Step

# Compute, PhaseResult, Progress, SearchConfig and SearchOutcome live in search.config and
# search.results; they are re-exported here, where callers have always imported them from.
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


def _trial_arch(plan: PhasePlan, attrs: dict[str, Any]) -> Architecture | None:
    """The fixed architecture a walking phase's trial was proposed for (None in other phases)."""
    return Candidate.from_dict(attrs["candidate"]).arch if plan.arch_from and "candidate" in attrs else None


def _twin(
    evaluations: dict[int, Evaluation], candidate: Candidate, warm_start: WarmStart | None
) -> tuple[int, Evaluation] | None:
    """The earlier trial of this phase whose training ``candidate`` would repeat (None: it must train).

    Every trial of a phase trains the same recipe and seed, so the same network (``network_key``)
    from the same warm start trains to the same weights. The first such trial that trained to the
    recipe's last epoch is shared; failing that, one a pruner halted (``--pruner``): the same
    training would reach the same accuracy at the same epoch, so the network shares that verdict
    (halted, never ranked) instead of spending the epochs again. A twin the budget's end halted is
    never shared, nor one whose weights were deleted (a network retrained for that reason is then
    shared by the designs after it instead of being trained again for each of them)."""
    key = candidate.network_key()
    halted: tuple[int, Evaluation] | None = None
    for number, ev in sorted(evaluations.items()):
        # a warm start is the phase-1 weights of the candidate's architecture (one per architecture)
        warm = ev.inherited_sample_epochs > 0
        same_start = warm == (warm_start is not None)
        if not (ev.trains and same_start and ev.candidate.network_key() == key):
            continue
        if ev.model_path is None or not Path(ev.model_path).is_file():
            continue
        if ev.complete:
            return number, ev
        if halted is None and ev.halted_by == "pruner":
            halted = (number, ev)
    return halted


def _run_phase(ctx: _PhaseContext, plan: PhasePlan, walk: ArchitectureWalk | None) -> PhaseResult:
    """Ask -> ladder -> tell until the phase's trained candidates are spent; ``walk`` chooses each
    proposal's fixed architecture (the separate baseline's second phase)."""
    cfg, ladder, hb = ctx.cfg, ctx.ladder, _heartbeat_interval(ctx.cfg)
    pruning, epochs, images = cfg.pruner != "none", int(cfg.epochs or 1), len(ladder.data.x_train)
    # with a pruner, the sample-epochs that ``trials`` full trainings cost bind (``search.pruning``)
    budget = plan.trials * epochs * images
    space = phase_space(cfg, plan, ladder.target.board.clock_mhz)
    name = _study_name(cfg, plan)
    controller = make_controller(
        plan.controller or str(cfg.controller), space, ladder.data.input_shape, cfg.seed
    )

    def constraints(t: optuna.trial.FrozenTrial) -> list[float]:
        return list(t.user_attrs.get("constraints") or [0.0] * len(Target.CONSTRAINTS))

    study = open_study(
        str(cfg.study),
        name,
        directions=["maximize", "minimize"] if controller.multi_objective else ["maximize"],
        sampler=lambda n: controller.sampler(constraints if plan.hardware else None, n),
        fingerprint=_fingerprint(cfg, ctx.board, plan, space.to_dict(), None, ctx.cost_model),
        heartbeat_seconds=hb,
        pruner=make_pruner(cfg.pruner, int(cfg.epochs or 1)) if pruning else None,
    )
    clock = RunClock.start(study, setup_wall=ctx.setup[0], setup_cpu=ctx.setup[1])
    checkpoint = _checkpoint(cfg, name)
    _restore_controller(controller, checkpoint)
    recover_stale(study, hb)
    for t in study.get_trials(deepcopy=False, states=FINISHED):  # replay what the controller missed
        if t.number not in controller.told and "reward" in t.user_attrs:
            controller.tell(
                t.number,
                t.params,
                float(t.user_attrs["reward"]),
                arch=_trial_arch(plan, t.user_attrs),
                hardware=plan.hardware,
            )
    _save_controller(controller, checkpoint)
    saver = ControllerCheckpoint(controller, checkpoint)
    if plan.hardware and walk is None and not study.trials:  # a fresh phase: say it early if nothing fits
        reach = probe_reach(space, ladder.data.input_shape, lambda c: ladder.estimate(c, plan.name))
        if not reach.fits:
            _log.warning("%s: %s", name, reach.message(ladder.target))
    repair = (
        Repair(
            lambda c: ladder.estimate(c, plan.name), space.reuse_factors, space.strategies, space.clocks_mhz
        )
        if cfg.repair and plan.hardware
        else None
    )
    reader = EvaluationReader()
    result = PhaseResult(plan, name)
    ladder = ladder.for_phase(cfg.out / "trials" / name)  # this phase's trials in a folder of their own
    while True:
        recover_stale(study, hb)  # a search beside us may have died since the last trial
        result.evaluations = reader.read(study)
        evs = list(result.evaluations.values())
        trained = sum(e.trains for e in evs)
        feasible = [
            e.accuracy
            for e in evs
            if e.complete and e.accuracy is not None and (e.feasible or not plan.hardware)
        ]
        best = max(feasible, default=None)
        left = budget - sum(e.sample_epochs for e in evs if e.trained)
        spent = left < images if pruning else trained >= plan.trials
        if spent or len(evs) >= (plan.proposal_trials or plan.trials) * cfg.max_proposals_factor:
            break
        step: Step | None = None
        if walk is not None:
            step = walk.next(result.evaluations)
            if step is None:
                _log.warning("%s: no architecture left that can fit the spec; %d trained", name, trained)
                break
            if step.forced is not None:  # the controller missed this round: a setting known to fit
                study.enqueue_trial(step.forced)
        arch = None if step is None else step.entry.arch
        warm_start = None
        if step is not None and step.entry.model_path is not None:
            warm_start = WarmStart(step.entry.model_path, step.entry.sample_epochs)
        trial, proposed = controller.ask(study, arch=arch, hardware=plan.hardware)
        candidate = repair(proposed)[0] if repair is not None else proposed
        twin = _twin(result.evaluations, candidate, warm_start)
        duplicate = next(
            (n for n, e in sorted(result.evaluations.items()) if e.trained and e.candidate == candidate), None
        )
        snapshot = Progress(
            plan.name, trial.number, trained, plan.trials, len(evs), len(feasible), best, "estimate"
        )

        def on_stage(stage: str, snap: Progress = snapshot, running: optuna.trial.Trial = trial) -> None:
            if stage != "estimate":  # visible in the study (optuna-dashboard) while the trial runs
                running.set_user_attr("stage", stage)
            ctx.hook(replace(snap, stage=stage))

        judge = EpochJudge(trial, epochs, cap=min(epochs, left // images)) if pruning else None
        with heartbeat(study, trial, hb):
            ev = ladder.evaluate(
                candidate,
                trial.number,
                phase=plan.name,
                feasible_accuracies=feasible,
                warm_start=warm_start,
                on_stage=on_stage,
                twin=twin,
                judge=judge,
                built=built_variants(result.evaluations, candidate),
            )
            if duplicate is not None and not ev.trains:
                ev.duplicate_of = duplicate
            if candidate != proposed:
                ev.repaired_from = proposed.to_dict()
            if ev.halted and ev.trains and judge is not None:
                ev.halted_by = judge.halted_by
            for key, value in ev.to_attrs().items():
                trial.set_user_attr(key, value)
        values = [ev.reward, ev.value("lut") if plan.hardware else 0.0][
            : 2 if controller.multi_objective else 1
        ]
        if ev.halted:  # Optuna's value for it: the accuracy it reported last (see search.pruning)
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, values)
        controller.tell(trial.number, trial.params, ev.reward, arch=arch, hardware=plan.hardware)
        saver.updated(trained=ev.trains)
        clock.record()
        ctx.hook(
            replace(
                snapshot,
                stage=ev.stage,
                trained=trained + ev.trains,
                proposed=len(evs) + 1,
                feasible=len(feasible) + int(ev.complete and (ev.feasible or not plan.hardware)),
                best_accuracy=max(
                    [a for a in (best, ev.reward if ev.complete else None) if a is not None], default=None
                ),
            )
        )
    saver.save()  # the updates since the last save (``ControllerCheckpoint`` throttles them)
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


def _run_separate(ctx: _PhaseContext, first: PhasePlan, second: PhasePlan) -> list[PhaseResult]:
    """Phase 1 (float architectures), then phase 2 walking them; while phase 2 runs out of
    architectures that can fit before its budget is spent, one training moves to phase 1 (one more
    float architecture) and the walk resumes. Both studies resume, so each round trains only what is
    new, and the two phases together spend the strategy's budget exactly, as every strategy does."""
    cfg, ladder = ctx.cfg, ctx.ladder
    pruning, images = cfg.pruner != "none", len(ladder.data.x_train)
    training = int(cfg.epochs or 1) * images  # one candidate's sample-epochs
    moved = 0
    while True:
        arch_plan = replace(first, trials=first.trials + moved)
        hw_plan = replace(second, trials=second.trials - moved, proposal_trials=second.trials)
        arch = _run_phase(ctx, arch_plan, None)
        ctx = replace(ctx, setup=(0.0, 0.0))
        if not arch.walk_order():
            raise ConfigError(f"phase {first.name!r} trained nothing: no architecture to keep")
        space = phase_space(cfg, hw_plan, ctx.board.clock_mhz)
        walk = ArchitectureWalk.build(arch.walk_order(), space, ladder.estimate, seed=cfg.seed)
        hw = _run_phase(ctx, hw_plan, walk)
        if pruning:
            left = hw_plan.trials * training - sum(e.sample_epochs for _, e in hw.trainings)
            short = left >= training
        else:
            short = len(hw.trainings) < hw_plan.trials
        fits = walk.next(hw.evaluations) is not None
        if not short or fits or hw_plan.trials <= len(hw.trainings) or hw_plan.trials <= 0:
            return [arch, hw]  # spent, or stopped for another reason (the proposal cap)
        if len(arch.trainings) < arch_plan.trials:
            return [arch, hw]  # phase 1 could not train what it was given: no more to move
        moved += 1
        _log.info("separate: no architecture left that can fit; one more float one (%d moved)", moved)


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
        builds_per_network=cfg.builds_per_network,
    )
    cfg.out.mkdir(parents=True, exist_ok=True)
    if str(cfg.study).startswith("sqlite:///"):
        Path(str(cfg.study).removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    outcome = SearchOutcome(cfg, target, [], train_samples=len(data.x_train))
    cost_model = _cost_model_fingerprint(data.input_shape, data.n_classes)
    done: dict[str, PhaseResult] = {}
    setup = (time.perf_counter() - started, cpu_seconds() - cpu)
    plans = plan_phases(cfg.strategy, int(cfg.trials or 1))
    if cfg.strategy == "separate":
        ctx = _PhaseContext(cfg, board, ladder, cost_model, on_progress or (lambda _p: None), setup)
        outcome.phases.extend(_run_separate(ctx, plans[0], plans[1]))
        return outcome
    for plan in plans:
        walk = None
        if plan.arch_from is not None:
            source = done[plan.arch_from]
            if not source.walk_order():
                raise ConfigError(f"phase {plan.arch_from!r} trained nothing: no architecture to keep")
            space = phase_space(cfg, plan, board.clock_mhz)
            walk = ArchitectureWalk.build(source.walk_order(), space, ladder.estimate, seed=cfg.seed)
        ctx = _PhaseContext(cfg, board, ladder, cost_model, on_progress or (lambda _p: None), setup)
        result = _run_phase(ctx, plan, walk)
        setup = (0.0, 0.0)
        done[plan.name] = result
        outcome.phases.append(result)
    return outcome
