"""The final design: retrain the best candidate(s) from scratch, export, convert, gate, score the test split.

Why retrain: search-time accuracies come from short proxy trainings (and, for the separate
baseline, from warm starts); comparing strategies on them compares training luck. The final
retrain gives each chosen design the same full recipe (``search.profiles.final_recipe``) on the
full training split, so two strategies' results differ only by the designs they chose. With
``final_top`` > 1 the most accurate retrain *on validation* is chosen; the test split is read once,
by hil's bit-exact emulator of the exported fixed-point design on the whole split (provenance
``bitexact``, with its C-sim agreement on a sample beside it: ``search.bitexact``), and that is
the reported test accuracy. Without a retrain the search-time model of the best design is exported
and scored the same way.

Why the retrain is gated again: a retrained model has new weights, so the fixed-point design the
search gated is not the one exported. The retrained design must pass the same gate (emulator vs
torch on the whole validation split, ``min_agreement``); one that fails is recorded and the
next-best design of the search is retrained in its place, at most ``max_tries`` designs in all.

Why cached by (candidate, recipe, data): a re-run of a finished search (or a benchmark resumed
after a kill) reuses a finished retrain instead of spending another hour on it; its seconds are
the original run's, so reported compute counts it once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hil.bundle import sha256_file
from hil.errors import HilError
from search.datasets import Dataset, load_dataset
from search.evaluation import Evaluation, cpu_seconds
from search.profiles import final_recipe
from search.results import Compute, SearchOutcome, first_of_each
from search.training import TrainRecipe

__all__ = ["FinalDesign", "FinalResult", "final_designs"]

_log = logging.getLogger(__name__)
_RECORD = "final.json"


@dataclass
class FinalDesign:
    """One exported design and its accuracies.

    Attributes:
        trial: the search trial it came from; phase: that trial's phase.
        search_accuracy: its search-time validation accuracy (torch): the one it was ranked on.
        retrained: whether it was retrained from scratch (else the search-time model).
        val_accuracy: validation accuracy (torch) of the exported model.
        test_accuracy: accuracy of the exported fixed-point design on ``test_n`` test images
            (None when it could not be simulated; see ``error``).
        test_accuracy_provenance: ``bitexact`` (the emulator, whole split) or ``csim`` (a fallback
            to the C-simulated sample; ``csim["fallback"]`` says why).
        test_accuracy_torch: the torch model on the same test images (their agreement is ``csim``).
        test_n: test images scored (the full split unless the caller capped it).
        csim: ``search.bitexact.Score`` fields of the test split (its ``csim_sample`` and
            ``emulator`` agreement beside it).
        gate: the retrained design's gate on validation (``passed``/``failed``), the same test
            as the search's (``gate_check`` holds its ``Score``).
        recipe: the training recipe (None without a retrain).
        compute: the retrain's sample-epochs, CPU and wall seconds (export and C-sim included).
        files: QONNX, hls4ml config and project paths.
    """

    trial: int
    phase: str
    candidate: dict[str, Any]
    search_accuracy: float | None
    retrained: bool
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    test_accuracy_provenance: str | None = None
    test_accuracy_torch: float | None = None
    test_n: int = 0
    csim: dict[str, Any] | None = None
    gate: str | None = None
    gate_check: dict[str, Any] | None = None
    recipe: dict[str, Any] | None = None
    compute: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FinalResult:
    """The final designs (best first by validation accuracy) and the one reported.

    ``designs`` holds every retrain, those that failed the gate included (``gate`` says so);
    ``chosen`` is the most accurate on validation of those that passed (None when none did).
    """

    designs: list[FinalDesign]
    chosen: FinalDesign | None

    def compute(self) -> Compute:
        """The retrains' compute (a design that was not retrained costs only its export/C-sim)."""
        total = Compute()
        for d in self.designs:
            c = d.compute
            total = total + Compute(
                int(d.retrained),
                int(c.get("sample_epochs", 0)),
                float(c.get("cpu_seconds", 0.0)),
                float(c.get("wall_seconds", 0.0)),
            )
        return total


def _file_sha256(path: Any) -> str | None:
    if path is None:
        return None
    try:
        return sha256_file(path)
    except OSError:
        return str(path)  # gone: no record can match weights that are not there


def _key(ev: Evaluation, recipe: TrainRecipe | None, cfg: Any, test_n: int | None) -> str:
    text = json.dumps(
        {
            "candidate": ev.candidate.to_dict(),
            "recipe": None if recipe is None else recipe.to_dict(),
            # without a retrain the trial's weights are the design: their hash, not their path
            # (every study writing to one --out has the same trial paths)
            "model": None if recipe is not None else _file_sha256(ev.model_path),
            "fidelity": getattr(cfg, "fidelity", None),
            "dataset": cfg.dataset,
            "data_dir": None if cfg.data_dir is None else str(cfg.data_dir),
            "seed": cfg.seed,
            "board": cfg.board,
            "test_n": test_n,
            "device": cfg.device,
            # how it is scored and gated (the emulator on whole splits, C-sim on a sample beside it)
            "score": "bitexact-1",
            "csim_n": cfg.csim_n,
            "min_agreement": cfg.min_agreement,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _spec(ev: Evaluation, data: Dataset) -> Any:
    from search.qat import QatCnnSpec

    return QatCnnSpec(input_shape=data.input_shape, n_classes=data.n_classes, **ev.candidate.qat_kwargs())


def _model(
    ev: Evaluation, data: Dataset, recipe: TrainRecipe | None, device: str
) -> tuple[Any, dict[str, Any]]:
    """The model to export: retrained from scratch with ``recipe``, else the search's trained weights."""
    from search.qat import load_qat_cnn
    from search.training import train_from_scratch

    if recipe is None:
        return load_qat_cnn(_spec(ev, data), str(ev.model_path)), {"sample_epochs": 0}
    model, stats = train_from_scratch(
        _spec(ev, data), True, data.x_train, data.y_train, recipe, device=device
    )
    return model, {"sample_epochs": stats.sample_epochs, "train_seconds": round(stats.seconds, 1)}


def _finish(
    number: int,
    ev: Evaluation,
    outcome: SearchOutcome,
    data: Dataset,
    recipe: TrainRecipe | None,
    folder: Path,
    test_n: int | None,
) -> FinalDesign:
    """Train (or load), export, convert and C-simulate one design; failures are recorded, not raised."""
    import torch

    from search.hls import convert_candidate, write_design
    from search.qat import export_qonnx
    from search.training import evaluate

    cfg = outcome.config
    started, cpu = time.perf_counter(), cpu_seconds()
    design = FinalDesign(
        number,
        ev.phase,
        ev.candidate.to_dict(),
        ev.accuracy,
        retrained=recipe is not None,
        recipe=None if recipe is None else recipe.to_dict(),
    )
    model, compute = _model(ev, data, recipe, cfg.device)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / "model.pt")
    design.val_accuracy = evaluate(model, data.x_val, data.y_val, device=cfg.device)
    n = len(data.x_test) if test_n is None else min(test_n, len(data.x_test))
    x_test, y_test = data.x_test[:n], data.y_test[:n]
    design.test_n = n
    design.test_accuracy_torch = evaluate(model, x_test, y_test, device=cfg.device)
    try:
        qonnx = export_qonnx(model, data.input_shape, folder / "best.onnx")
        hls = convert_candidate(
            qonnx, ev.candidate, outcome.target.board, folder / "hls4ml_prj", data.input_shape, data.n_classes
        )
        design.files = {"qonnx": str(qonnx), **{k: str(v) for k, v in write_design(hls, folder).items()}}
        if cfg.fidelity != "estimate":
            _score(design, hls, model, data, cfg, x_test, y_test)
    except HilError as exc:
        design.error = str(exc)
        design.gate = design.gate or "failed"
        _log.warning("final design of trial %d: %s", number, exc)
    compute.update(
        cpu_seconds=round(cpu_seconds() - cpu, 1), wall_seconds=round(time.perf_counter() - started, 1)
    )
    design.compute = compute
    return design


def _score(
    design: FinalDesign, hls: Any, model: Any, data: Dataset, cfg: Any, x_test: Any, y_test: Any
) -> None:
    """The gate on validation, then the test accuracy (emulator on the whole split, C-sim sample)."""
    from search.bitexact import score_design
    from search.training import predict_logits

    def reference(x: Any) -> Any:
        return predict_logits(model, x)

    check = score_design(hls, data.x_val, data.y_val, reference, csim_n=cfg.csim_n)
    design.gate_check = {**check.as_dict(), "split": "validation", "reference": "torch"}
    design.gate = "passed" if check.argmax_agreement >= cfg.min_agreement else "failed"
    if design.gate == "failed":
        design.error = (
            f"gate: the retrained fixed-point design agrees with its torch model on "
            f"{check.argmax_agreement:.4f} of {check.n_inputs} validation images "
            f"({check.provenance}; gate {cfg.min_agreement:g})"
        )
        _log.warning("final design of trial %d: %s", design.trial, design.error)
    result = score_design(hls, x_test, y_test, reference, csim_n=cfg.csim_n)
    design.csim = {**result.as_dict(), "split": "test", "reference": "torch"}
    design.test_accuracy, design.test_accuracy_provenance = result.hls_accuracy, result.provenance
    design.test_n = result.n_inputs


def final_designs(
    outcome: SearchOutcome,
    *,
    epochs: int | None = None,
    top: int | None = None,
    test_n: int | None = None,
    max_tries: int | None = None,
) -> FinalResult:
    """Export (and with ``epochs`` > 0 retrain) the best ``top`` designs of the search's final phase.

    A design that fails the gate is replaced by the next-best design of the search, until ``top``
    designs have passed or ``max_tries`` designs have been tried (all of them recorded).

    Args:
        epochs: final retrain epochs (default: the config's ``final_epochs``; 0 = no retrain).
        top: how many of the best designs (default: the config's ``final_top``; 1 without retrain).
        test_n: test images to score (None: the full test split).
        max_tries: most designs retrained in all (default: ``top`` + 2).
    """
    cfg = outcome.config
    epochs = cfg.final_epochs if epochs is None else epochs
    top = (cfg.final_top if epochs else 1) if top is None else top
    tries = top + 2 if max_tries is None else max(top, max_tries)
    recipe = final_recipe(cfg.dataset, epochs, seed=cfg.seed) if epochs else None
    ranked = outcome.final.ranked()
    if recipe is not None:  # a seeded retrain of the same network reaches the same weights: once each,
        ranked = _one_per_network(ranked)  # as its best-ranked (fewest-LUT) hardware
    ranked = ranked[:tries]
    if not ranked:
        return FinalResult([], None)
    # the retrain uses the full training split; the search may have trained on a proxy subset
    data = load_dataset(
        cfg.dataset, data_dir=cfg.data_dir, seed=cfg.seed, subset=None if recipe else cfg.subset
    )
    designs: list[FinalDesign] = []
    for number, ev in ranked:
        if sum(_passed(d) for d in designs) >= top:
            break
        folder = Path(cfg.out) / "final" / _key(ev, recipe, cfg, test_n)
        record = folder / _RECORD
        if record.is_file():
            designs.append(FinalDesign(**json.loads(record.read_text())))
            _log.info("final design of trial %d: reusing %s", number, record)
            continue
        design = _finish(number, ev, outcome, data, recipe, folder, test_n)
        record.write_text(json.dumps(design.to_dict(), indent=2, default=str))
        designs.append(design)
        if not _passed(design):
            _log.warning(
                "final design of trial %d failed (%s): the next-best design is tried", number, design.error
            )
    designs.sort(key=lambda d: (not _passed(d), -(d.val_accuracy or 0.0)))
    chosen = next((d for d in designs if _passed(d)), None)
    return FinalResult(designs, chosen)


def _one_per_network(ranked: list[tuple[int, Evaluation]]) -> list[tuple[int, Evaluation]]:
    """The first design of each network (``Candidate.network_key``) in ranking order."""
    return first_of_each(ranked, lambda ev: ev.candidate.network_key())


def _passed(design: FinalDesign) -> bool:
    """A usable final design: scored without error and not failed by the gate (``--fidelity
    estimate`` scores nothing and gates nothing: its design passes on the search's word)."""
    return design.error is None and design.gate != "failed"
