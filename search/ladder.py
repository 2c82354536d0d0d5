"""The evaluation ladder: estimate -> prune -> QAT train -> best K to the C-sim gate -> (build, board).

At ``--fidelity csim`` the gate runs once the search is over, on the final best K
(``Ladder.gate``); before a build (``--fidelity build|board``) it runs in the trial, and at most
``builds_per_network`` hardware variants of one network climb past it (``search.buildcap``).

Why a ladder: each rung costs ~100x the one below (microseconds, seconds, a minute, hours), so a
candidate climbs only while it is still promising. A candidate the cost model says cannot fit the
budget or meet the throughput is never trained and earns reward 0, as in the paper's controller.
Why one ranking metric: every trained candidate is ranked on its torch accuracy on the full
validation split; the C simulation of the best K (on the same split) is a gate, not a new score.
Why metrics carry provenance: a measured number (HLS report, synthesis, board) replaces the
estimate in the feasibility test and the reward, and an emulated figure ranks just below the
source its timing came from, so it can never outrank it.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from pathlib import Path
from typing import Any

from hil.cost import estimate, target_for
from hil.errors import HilError, InputError
from hil.records import Provenance
from search.buildcap import CAPPED_STAGE, held_back_by
from search.datasets import Dataset
from search.evaluation import Evaluation, Measured, Rung, Target, best_metric, cpu_seconds
from search.space import Candidate
from search.training import TrainRecipe

__all__ = [
    "FIDELITIES",
    "HARDWARE_RUNGS",
    "Evaluation",
    "Ladder",
    "Measured",
    "Rung",
    "Target",
    "WarmStart",
    "best_metric",
    "should_climb",
]

_log = logging.getLogger(__name__)

#: Rungs a search may climb to, lowest first.
FIDELITIES: tuple[str, ...] = ("estimate", "csim", "build", "board")
#: The rungs a hardware adapter climbs, in order (``--fidelity board`` climbs both).
HARDWARE_RUNGS: tuple[str, ...] = ("build", "board")
#: Hardware metrics that enter feasibility.
_HW_KEYS = (
    "lut",
    "ff",
    "dsp",
    "bram_18k",
    "uram",
    "ii_cycles",
    "latency_cycles",
    "clock_mhz",
    "throughput_fps",
)


@dataclass(frozen=True)
class WarmStart:
    """Trained weights a candidate starts from, and what training them cost (sample-epochs)."""

    path: str
    sample_epochs: int


def should_climb(accuracy: float, others: Sequence[float], top_k: int) -> bool:
    """True when ``accuracy`` is among the best ``top_k`` feasible accuracies seen so far."""
    return top_k > 0 and sum(1 for a in others if a > accuracy) < top_k


#: A stage callback: ``on_stage(name)`` before each rung starts.
StageHook = Callable[[str], None]
#: A pruner's callback: ``judge(epochs_done, validation_accuracy)`` after each epoch but the last;
#: True stops the candidate there (``search.pruning.EpochJudge``).
AccuracyHook = Callable[[int, float], bool]


@dataclass(frozen=True, eq=False)  # eq=False: a ladder is itself, not its dataset's arrays
class Ladder:
    """Evaluates candidates rung by rung for one dataset and spec.

    Why frozen: the ladder's configuration is the search's, fixed when it starts; a phase that
    keeps its trials in its own folder asks for a ladder of its own (``for_phase``) instead of
    changing a shared one under the feet of whoever else holds it.

    Attributes:
        data: the dataset every candidate trains and is gated on.
        target: the board and the spec (LUT budget, throughput).
        recipe: how every candidate trains.
        fidelity: the highest rung a candidate may climb (``FIDELITIES``).
        top_k: how many of the best feasible candidates climb past training.
        csim_n: validation images in the C-sim check (None: the full split).
        min_agreement: the gate: the share of those images on which the fixed-point design's class
            must equal the torch model's.
        device: where training runs (``cpu`` or ``cuda``).
        artifacts: the trials' folder.
        hardware: the adapter of the build/board rungs (``search.adapters``).
        farm_root: the build farm's artifact store (default ``<artifacts>/farm``, under the search's
            own folder; a phase's ladder keeps its parent's store).
        builds_per_network: how many hardware variants of one network climb to the build (and
            board) per phase, 0 for no cap (``search.buildcap``: which variant, and why).
    """

    data: Dataset
    target: Target
    recipe: TrainRecipe
    _: KW_ONLY
    artifacts: Path
    fidelity: str = "csim"
    top_k: int = 3
    csim_n: int | None = None
    min_agreement: float = 0.98
    device: str = "cpu"
    hardware: Any = None
    farm_root: Path | None = None
    builds_per_network: int = 1

    def __post_init__(self) -> None:
        if self.fidelity not in FIDELITIES:
            raise InputError(f"--fidelity must be one of {', '.join(FIDELITIES)}, got {self.fidelity!r}")
        if not 0.0 <= self.min_agreement <= 1.0:
            raise InputError(f"the C-sim gate's min_agreement must be in [0, 1], got {self.min_agreement:g}")
        if self.csim_n is not None and self.csim_n < 1:
            raise InputError(f"csim_n must be >= 1 (or None: the full validation split), got {self.csim_n}")
        if self.builds_per_network < 0:
            raise InputError(f"--builds-per-network must be >= 0 (0: no cap), got {self.builds_per_network}")
        object.__setattr__(self, "artifacts", Path(self.artifacts))
        root = Path(self.artifacts) / "farm" if self.farm_root is None else Path(self.farm_root)
        object.__setattr__(self, "farm_root", root)
        if self.hardware is not None and self.fidelity in HARDWARE_RUNGS:  # e.g. no bitstream: exit 2 now
            self.hardware.check(self.target.board, self.fidelity)

    def for_phase(self, artifacts: Path) -> Ladder:
        """This ladder with its trials kept under ``artifacts`` (the farm's store stays where it was)."""
        return replace(self, artifacts=Path(artifacts))

    def estimate(self, candidate: Candidate, phase: str = "joint") -> Evaluation:
        """The cost-model rung alone (microseconds): metrics with provenance ``estimate``, feasibility.

        Resources are predicted at synthesis level (csynth's estimate x the measured synthesis /
        csynth ratios, ``hil.cost.estimate(level="synth")``; one network per trial, so the batch
        API ``estimate_many`` would only wrap this call): a LUT budget is a budget of real LUTs,
        as the build rung's Vivado figures are, while csynth counts about twice as many. Each
        carries its 80 % band's upper edge, which feasibility judges (``Target.estimate_edge``).
        """
        ev = Evaluation(candidate, phase=phase)
        if not candidate.quantized:
            return ev
        started = time.perf_counter()
        specs = candidate.layer_specs(self.data.input_shape, self.data.n_classes)
        target = target_for(part=self.target.board.part, backend="Vitis", clock_mhz=candidate.clock_mhz)
        est = estimate(specs, clock_mhz=candidate.clock_mhz, target=target, level="synth")
        totals, bands = est.totals, est.bands
        ev.merge(
            {
                k: Measured(
                    float(totals[k]),
                    Provenance.ESTIMATE.value,
                    upper=float(bands[k][1]) if k in bands else None,
                )
                for k in _HW_KEYS
                if k in totals
            },
            self.target,
        )
        ev.stage = "estimated" if ev.feasible else "pruned"
        ev.seconds["estimate"] = time.perf_counter() - started
        return ev

    def evaluate(
        self,
        candidate: Candidate,
        trial_number: int,
        *,
        phase: str = "joint",
        feasible_accuracies: Sequence[float] = (),
        warm_start: WarmStart | None = None,
        on_stage: StageHook | None = None,
        twin: tuple[int, Evaluation] | None = None,
        judge: AccuracyHook | None = None,
        built: Sequence[tuple[int, Evaluation]] = (),
    ) -> Evaluation:
        """Climb as far as the candidate deserves; never raises for a bad candidate (failures are results).

        ``twin``: an earlier trial (number, evaluation) that trained the same network (same
        ``Candidate.network_key``, same warm start) with this ladder's recipe to its last epoch; a
        feasible candidate then shares its weights and validation accuracy instead of training
        again (training is seeded, so it would reach the same weights), and spends no sample-epochs.
        ``judge`` sees the validation accuracy after each training epoch but the last and may stop
        the candidate there (``halted_at_epoch``): a halted candidate climbs no further.
        ``built``: the variants of the candidate's network that climbed to the build earlier in the
        phase (``search.buildcap.built_variants``); with them the build cap may hold it back.
        """
        return self._climb(
            candidate, trial_number, phase, feasible_accuracies, warm_start, on_stage, twin, judge, built
        )

    def _climb(
        self,
        candidate: Candidate,
        trial_number: int,
        phase: str,
        feasible_accuracies: Sequence[float],
        warm_start: WarmStart | None,
        on_stage: StageHook | None,
        twin: tuple[int, Evaluation] | None = None,
        judge: AccuracyHook | None = None,
        built: Sequence[tuple[int, Evaluation]] = (),
    ) -> Evaluation:
        hook = on_stage or (lambda _name: None)
        cpu = cpu_seconds()
        hook("estimate")
        ev = self.estimate(candidate, phase)
        if candidate.quantized and not ev.feasible:
            _log.info("trial %d pruned by the estimate (%s over budget)", trial_number, ev.binding)
            ev.cpu_seconds = cpu_seconds() - cpu
            return ev
        folder = self.artifacts / f"trial_{trial_number:05d}"
        shared = twin is not None and self._share(ev, folder, twin)
        model = None
        if not shared:
            hook("train")
            model = self._train(ev, folder, warm_start, judge)
        if (
            ev.halted_at_epoch is None
            and candidate.quantized
            and self.fidelity in HARDWARE_RUNGS
            and should_climb(ev.accuracy or 0.0, feasible_accuracies, self.top_k)
        ):  # a build needs the gate first; at --fidelity csim the search gates its top K at the end
            if self._capped(ev, built, trial_number):
                ev.cpu_seconds = cpu_seconds() - cpu
                return ev
            hook("csim")
            self._csim(ev, model if model is not None else self._load(ev), folder)
            if self.hardware is not None and ev.csim_gate == "passed":
                self._hardware(ev, folder, trial_number, hook)
        ev.cpu_seconds = cpu_seconds() - cpu
        return ev

    def _capped(self, ev: Evaluation, built: Sequence[tuple[int, Evaluation]], trial_number: int) -> bool:
        """Hold ``ev`` back from the gate and the build when the build cap says so (labelled, its
        estimates kept); True when held back."""
        if self.builds_per_network == 0 or not built:
            return False
        edge = self.target.estimate_edge
        lut = ev.judged(edge).get("lut", float("inf"))
        siblings = [(n, self.estimate(e.candidate).judged(edge).get("lut", float("inf"))) for n, e in built]
        by = held_back_by(lut, siblings, self.builds_per_network)
        if not by:
            return False
        ev.build_capped_by, ev.stage = by, CAPPED_STAGE
        _log.info(
            "trial %d held back by the build cap (%d per network): its network was built by trial(s) %s",
            trial_number,
            self.builds_per_network,
            ", ".join(map(str, by)),
        )
        return True

    @property
    def store(self) -> Path:
        """The build farm's artifact store (``farm_root``, resolved at construction)."""
        assert self.farm_root is not None
        return self.farm_root

    @property
    def gates_at_end(self) -> bool:
        """True when the C-sim gate runs after the search, on the final top K (``--fidelity csim``).

        Why: the gate changes no score (torch accuracy ranks), so gating each candidate that is
        among the best K *so far* compiles 2-3x the C simulations the final top K needs, and each
        compile is ~15-25 s of g++: most of a digits search's time.
        """
        return self.fidelity == "csim"

    def gate(self, ev: Evaluation) -> Evaluation:
        """The C-sim gate for a trained candidate, from its saved weights (``ev`` is updated)."""
        cpu = cpu_seconds()
        if not Path(str(ev.model_path)).is_file():  # deleted since it trained: not a valid design now
            ev.error = f"csim: the trained weights {ev.model_path} are gone"
            ev.csim_gate, ev.stage, ev.feasible, ev.binding = "failed", "csim failed", False, "csim"
            return ev
        self._csim(ev, self._load(ev), Path(str(ev.model_path)).parent)
        ev.cpu_seconds += cpu_seconds() - cpu
        return ev

    def _hardware(self, ev: Evaluation, folder: Path, trial_number: int, hook: StageHook) -> None:
        """Climb the build (and board) rung while the candidate stays feasible; failures are results."""
        previous: Rung | None = None
        for name in HARDWARE_RUNGS[: HARDWARE_RUNGS.index(self.fidelity) + 1]:
            if not ev.feasible or (previous is not None and not previous.ok):
                break
            hook(name)
            started = time.perf_counter()
            try:
                if name == "build":
                    rung = self.hardware.build(
                        folder / "model.onnx",
                        ev.candidate,
                        self.target.board,
                        self.data.input_shape,
                        self.data.n_classes,
                        root=self.store,
                    )
                else:
                    assert previous is not None
                    rung = self.hardware.board(previous, ev.candidate, self.target.board)
            except HilError as exc:  # an adapter's own failure is this rung's failure, not the search's
                rung = Rung(name, ok=False, error_code=getattr(exc, "code", "ERROR"), message=str(exc))
                rung.error_code = getattr(rung.error_code, "value", str(rung.error_code))
            ev.seconds[name] = time.perf_counter() - started
            rung.seconds = rung.seconds or ev.seconds[name]
            ev.rungs[name] = rung.to_dict()
            if rung.ok:
                ev.merge(rung.metrics, self.target)
                ev.stage = name
            else:
                ev.error = f"{name} failed ({rung.error_code}): {rung.message}"
                ev.stage = f"{name} failed"
                _log.warning("trial %d: %s", trial_number, ev.error)
                if rung.verdict:  # the design itself is wrong or does not fit: reward 0
                    ev.feasible, ev.binding = False, rung.error_code.lower()
            previous = rung

    def _share(self, ev: Evaluation, folder: Path, twin: tuple[int, Evaluation]) -> bool:
        """Take the twin's trained weights (copied into this trial's folder, so gating or exporting
        one design never touches the other's files) and its verdict (a halted twin's design is
        halted too); False when they are gone (then it trains)."""
        number, other = twin
        if other.model_path is None or not Path(other.model_path).is_file() or other.accuracy is None:
            return False
        folder.mkdir(parents=True, exist_ok=True)
        ev.model_path = str(folder / "model.pt")
        shutil.copyfile(other.model_path, ev.model_path)
        ev.accuracy, ev.accuracy_provenance = other.accuracy, other.accuracy_provenance
        # the training is shared, not what was done with the twin after it (gate, build, build cap)
        ev.epochs, ev.sample_epochs = other.epochs, 0
        ev.stage = "trained" if other.halted_at_epoch is None else "halted"
        ev.inherited_sample_epochs = other.sample_epochs + other.inherited_sample_epochs
        ev.halted_at_epoch, ev.halted_by = other.halted_at_epoch, other.halted_by
        ev.reused_from = number
        _log.info("trial shares the network trained by trial %d (no training)", number)
        return True

    def _load(self, ev: Evaluation) -> Any:
        """The quantized model of ``ev`` from its saved weights (BatchNorms folded), on the CPU."""
        from search.models import QatCnnSpec, load_qat_cnn

        spec = QatCnnSpec(
            input_shape=self.data.input_shape, n_classes=self.data.n_classes, **ev.candidate.qat_kwargs()
        )
        model = load_qat_cnn(spec, str(ev.model_path))
        model.eval()
        return model

    def _train(
        self, ev: Evaluation, folder: Path, warm_start: WarmStart | None, judge: AccuracyHook | None = None
    ) -> Any:
        import torch

        from search.models import QatCnnSpec, build_float_cnn, build_qat_cnn, fold_batchnorm
        from search.training import evaluate, train_classifier

        cand, data, recipe = ev.candidate, self.data, self.recipe
        spec = QatCnnSpec(input_shape=data.input_shape, n_classes=data.n_classes, **cand.qat_kwargs())
        torch.manual_seed(recipe.seed)  # same initial weights for the same architecture: a fair comparison
        model = build_qat_cnn(spec) if cand.quantized else build_float_cnn(spec)
        if warm_start is not None:
            state = torch.load(warm_start.path, map_location="cpu", weights_only=True)
            missing = model.load_state_dict(state, strict=False)
            ev.inherited_sample_epochs = warm_start.sample_epochs
            _log.info(
                "warm start from %s (%d quantizer tensors not in it)",
                warm_start.path,
                len(missing.missing_keys),
            )
        on_epoch = None if judge is None else self._scorer(judge, cand.quantized)
        stats = train_classifier(
            model, data.x_train, data.y_train, recipe, device=self.device, on_epoch=on_epoch
        )
        if stats.epochs < recipe.epochs:
            ev.halted_at_epoch = stats.epochs
        started = time.perf_counter()
        if cand.quantized:  # ranked, saved and gated as it is exported: BatchNorms folded
            model = fold_batchnorm(model)
        ev.accuracy = evaluate(model, data.x_val, data.y_val, device=self.device)
        ev.accuracy_provenance = "torch"
        ev.epochs, ev.sample_epochs = stats.epochs, stats.sample_epochs
        ev.stage = "trained" if ev.halted_at_epoch is None else "halted"
        folder.mkdir(parents=True, exist_ok=True)
        ev.model_path = str(folder / "model.pt")
        torch.save(model.state_dict(), ev.model_path)
        ev.seconds["train"] = stats.seconds + time.perf_counter() - started
        return model

    def _scorer(self, judge: AccuracyHook, quantized: bool) -> Callable[[int, Any], bool]:
        """``train_classifier``'s epoch hook: the model scored as it would be ranked (BatchNorms
        folded, on a copy; the full validation split), then judged."""
        from search.models import fold_batchnorm
        from search.training import evaluate

        def on_epoch(epochs_done: int, model: Any) -> bool:
            scored = fold_batchnorm(model) if quantized else model
            return judge(epochs_done, evaluate(scored, self.data.x_val, self.data.y_val, device=self.device))

        return on_epoch

    def _csim(self, ev: Evaluation, model: Any, folder: Path) -> None:
        """The gate: the fixed-point design must agree with the torch model on the validation split
        (``search.bitexact``: the emulator on the whole split, C-sim on ``csim_n`` images beside it)."""
        from search.bitexact import score_design
        from search.hls import convert_candidate
        from search.qat import export_qonnx
        from search.training import predict_logits

        started = time.perf_counter()
        try:
            path = export_qonnx(model, self.data.input_shape, folder / "model.onnx")
            design = convert_candidate(
                path,
                ev.candidate,
                self.target.board,
                folder / "hls4ml_prj",
                self.data.input_shape,
                self.data.n_classes,
            )
            result = score_design(  # the emulator on the full split, C-sim on csim_n beside it
                design,
                self.data.x_val,
                self.data.y_val,
                lambda x: predict_logits(model, x),
                csim_n=self.csim_n,
            )
        except HilError as exc:  # a design hls4ml cannot build or simulate is not a valid design
            ev.error, ev.csim_gate, ev.stage = f"csim: {exc}", "failed", "csim failed"
            ev.feasible, ev.binding = False, "csim"
            _log.warning("trial C-sim failed: %s", exc)
            return
        finally:
            ev.seconds["csim"] = time.perf_counter() - started
        ev.csim = {**result.as_dict(), "split": "validation", "reference": "torch"}
        if result.argmax_agreement >= self.min_agreement:
            ev.csim_gate, ev.stage = "passed", "csim"
            return
        ev.csim_gate, ev.stage, ev.feasible, ev.binding = "failed", "csim failed", False, "csim"
        ev.error = (
            f"csim: the fixed-point design agrees with the torch model on {result.argmax_agreement:.4f} of "
            f"{result.n_inputs} validation images ({result.provenance}; gate {self.min_agreement:g})"
        )
        _log.warning("trial %s", ev.error)
