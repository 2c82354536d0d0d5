"""Training of candidates: one recipe type for the search's short proxy runs and for the final retrain.

Why one recipe type: the search trains every candidate the same way (the ranking metric is only
comparable when it is), and the final retrain of the chosen design is the same code with a longer,
stronger recipe (random crop + flip, cosine schedule, label smoothing, optionally a float warm-up
phase before QAT), so what a report calls "trained with recipe R" is one frozen, hashable value.

Why the thread policy lives here: a search runs beside farm workers, compilers and other searches
on shared build hosts. torch's OpenMP workers spin while they wait at each barrier, so two spinning
threads beside one busy process lose far more than their share of the CPU. ``configure_threads``
uses one thread for tiny inputs (8x8 digits: a second thread buys nothing there) and asks OpenMP
to sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``, set before torch loads), so a search
slows down in proportion to the load beside it. ``HIL_TORCH_THREADS`` overrides the count.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hil.errors import InputError

__all__ = [
    "DEVICES",
    "EpochHook",
    "TrainRecipe",
    "TrainStats",
    "configure_threads",
    "evaluate",
    "predict_logits",
    "resolve_device",
    "train_classifier",
    "train_from_scratch",
]

_log = logging.getLogger(__name__)

#: ``--device`` choices: ``auto`` is CUDA when torch sees a GPU, else the CPU.
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
_OPTIMIZERS = ("adam", "sgd")
_SCHEDULES = ("constant", "cosine")
#: Inputs with at most this many pixels train on one thread (see the module docstring).
_SMALL_INPUT_PIXELS = 256
#: Share of a quantized model's steps trained with its BatchNorms; the rest train them folded.
#: Why: the exported conv quantizes the folded weights (``search.models.fold_batchnorm``), whose
#: per-channel scales a per-tensor low-bit grid was never trained for. Measured (CIFAR-10, 4,000
#: training images, 2 epochs, 3,000 test images, one seed; conv 32-32-64 with BatchNorm, first layer
#: 8-bit): trained unfolded 0.496 / 0.471 (4-bit / 2-bit weights); folded only at the end 0.475 /
#: 0.368; the last quarter of the steps trained folded 0.493 / 0.432.
FOLD_AT = 0.75

# Before torch (and its libgomp) loads: sleeping waiters, so a loaded machine is shared fairly.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass(frozen=True)
class TrainRecipe:
    """How one candidate is trained.

    Attributes:
        epochs: passes over the training images (float warm-up epochs included).
        batch_size: images per step.
        lr: peak learning rate.
        optimizer: ``adam`` (AdamW when ``weight_decay`` > 0) or ``sgd`` (Nesterov, momentum 0.9).
        schedule: ``constant``, or ``cosine`` (linear warm-up over 3 % of the steps, then cosine to 0).
        weight_decay: decoupled weight decay (AdamW) or L2 (SGD).
        label_smoothing: cross-entropy label smoothing.
        crop_pad: random-crop augmentation: zero-pad by this many pixels, crop back (0: none).
        flip: random horizontal flips (images whose classes are mirror-invariant only).
        float_epochs: of ``epochs``, how many train the float twin first; the quantized model then
            starts from its weights (a quantized model only: a float candidate ignores it).
        qat_lr_scale: learning-rate factor of the QAT phase after a float warm-up.
        seed: seeds initial weights, shuffling and augmentation.
    """

    epochs: int = 3
    batch_size: int = 16
    lr: float = 1e-2
    optimizer: str = "adam"
    schedule: str = "constant"
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    crop_pad: int = 0
    flip: bool = False
    float_epochs: int = 0
    qat_lr_scale: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise InputError(
                f"training needs epochs >= 1, batch size >= 1 and lr > 0 (got {self.epochs}, "
                f"{self.batch_size}, {self.lr:g})"
            )
        if self.optimizer not in _OPTIMIZERS:
            raise InputError(f"optimizer must be one of {', '.join(_OPTIMIZERS)}, got {self.optimizer!r}")
        if self.schedule not in _SCHEDULES:
            raise InputError(f"schedule must be one of {', '.join(_SCHEDULES)}, got {self.schedule!r}")
        if not 0 <= self.float_epochs < self.epochs:
            raise InputError(f"float_epochs must be in 0..epochs-1, got {self.float_epochs}")
        if not 0.0 <= self.label_smoothing < 1.0 or self.crop_pad < 0 or self.weight_decay < 0:
            raise InputError("label_smoothing must be in [0, 1), crop_pad and weight_decay >= 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in study fingerprints and final-training records)."""
        return asdict(self)

    def key(self) -> str:
        """A short hash of the recipe (names cached final trainings)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class TrainStats:
    """What one training cost.

    Attributes:
        samples: training images per epoch.
        epochs: epochs trained (float warm-up included).
        sample_epochs: samples x epochs: the budget unit both search strategies are held to.
        seconds: wall time.
        cpu_seconds: CPU time of this process over the training (all its threads).
        final_loss: mean training loss of the last epoch.
        device: where it ran (``cpu`` or ``cuda``).
    """

    samples: int
    epochs: int
    sample_epochs: int
    seconds: float
    cpu_seconds: float
    final_loss: float
    device: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_device(name: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without one is an InputError."""
    if name not in DEVICES:
        raise InputError(f"--device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if name == "cuda":
        raise InputError(
            "--device cuda: torch sees no CUDA GPU here (this torch build or machine); use --device cpu"
        )
    return "cpu"


def configure_threads(input_shape: tuple[int, ...]) -> int:
    """Set torch's intra-op threads for inputs of ``input_shape`` (C, H, W); returns the count."""
    import torch

    requested = os.environ.get("HIL_TORCH_THREADS")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if requested:
        threads = int(requested)
    elif math.prod(input_shape[1:]) <= _SMALL_INPUT_PIXELS:
        threads = 1
    else:
        threads = cores
    threads = max(1, min(threads, 8))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


#: ``on_epoch(epochs_done, model)`` after each epoch but the last; True stops training there.
EpochHook = Callable[[int, Any], bool]


def _batches(n: int, batch_size: int, generator: Any) -> list[Any]:
    import torch

    order = torch.randperm(n, generator=generator)
    return [order[s : s + batch_size] for s in range(0, n, batch_size)]


def _augment(x: Any, recipe: TrainRecipe, generator: Any) -> Any:
    """Random crop (zero padding) and horizontal flip of a batch, per image, on the batch's device."""
    import torch

    b, _c, h, w = x.shape
    if recipe.crop_pad:
        p = recipe.crop_pad
        padded = torch.nn.functional.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (b,), generator=generator).to(x.device)
        dx = torch.randint(0, 2 * p + 1, (b,), generator=generator).to(x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, :]
        x = padded[torch.arange(b, device=x.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    if recipe.flip:
        mask = (torch.rand(b, generator=generator) < 0.5).to(x.device)
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    return x


def _layout(x: Any, device: str) -> Any:
    """channels-last on the CPU (oneDNN's fast convolution layout), contiguous elsewhere."""
    import torch

    return x.contiguous(memory_format=torch.channels_last) if device == "cpu" and x.dim() == 4 else x


def train_classifier(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    recipe: TrainRecipe,
    *,
    device: str = "cpu",
    epochs: int | None = None,
    lr: float | None = None,
    on_epoch: EpochHook | None = None,
) -> TrainStats:
    """Train ``model`` in place with ``recipe`` (``epochs``/``lr`` override the recipe's for one phase).

    ``on_epoch`` (the search's pruner) sees the model in eval mode after each epoch but the last and
    may stop training there; the learning-rate schedule stays the full recipe's, so a candidate that
    is not stopped trains exactly as it would without the hook. ``TrainStats`` counts the epochs
    actually trained. The model is left in eval mode on the CPU (export and C simulation run there).
    """
    import torch

    configure_threads(tuple(x.shape[1:]))
    n_epochs = recipe.epochs if epochs is None else epochs
    peak = recipe.lr if lr is None else lr
    started, cpu = time.perf_counter(), time.process_time()
    inputs = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
    targets = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(device)
    model.to(device)
    if device == "cpu" and inputs.dim() == 4:
        model.to(memory_format=torch.channels_last)
    if recipe.optimizer == "sgd":
        optimizer: Any = torch.optim.SGD(
            model.parameters(), lr=peak, momentum=0.9, nesterov=True, weight_decay=recipe.weight_decay
        )
    elif recipe.weight_decay > 0:
        optimizer = torch.optim.AdamW(model.parameters(), lr=peak, weight_decay=recipe.weight_decay)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=peak)
    steps = n_epochs * math.ceil(len(inputs) / recipe.batch_size)
    warmup = max(1, round(0.03 * steps))

    def factor(step: int) -> float:
        if recipe.schedule == "constant":
            return 1.0
        return min(1.0, (step + 1) / warmup) * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    generator = torch.Generator().manual_seed(recipe.seed)
    augmenting = recipe.crop_pad > 0 or recipe.flip
    mean_loss = float("nan")
    fold_step = _fold_step(model, steps)
    model.train()
    step = 0
    trained = 0
    for epoch in range(n_epochs):
        total, count = torch.zeros((), device=device), 0
        for batch in _batches(len(inputs), recipe.batch_size, generator):
            index = batch.to(device)
            xb = inputs[index]
            if augmenting:
                xb = _augment(xb, recipe, generator)
            if step == fold_step:
                _fold_in_place(model)
            step += 1
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(_layout(xb, device)), targets[index])
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.detach()
            count += 1
        mean_loss = float(total) / max(count, 1)
        trained = epoch + 1
        _log.info("epoch %d/%d: loss %.4f", trained, n_epochs, mean_loss)
        last = trained == n_epochs
        if on_epoch is not None and not last and _judge(model, on_epoch, trained, device, inputs.dim()):
            break
    model.eval()
    model.to("cpu")
    if inputs.dim() == 4:
        model.to(memory_format=torch.contiguous_format)
    return TrainStats(
        samples=len(inputs),
        epochs=trained,
        sample_epochs=len(inputs) * trained,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
        final_loss=mean_loss,
        device=device,
    )


def _judge(model: Any, on_epoch: EpochHook, epochs_done: int, device: str, dims: int) -> bool:
    """Ask ``on_epoch`` whether to stop; the model goes back to training mode, device and layout."""
    import torch

    model.eval()
    stop = bool(on_epoch(epochs_done, model))
    model.to(device)  # an evaluation may leave it on the CPU (``predict_logits``)
    if device == "cpu" and dims == 4:
        model.to(memory_format=torch.channels_last)
    model.train()
    return stop


def _fold_step(model: Any, steps: int) -> int | None:
    """The step at which a quantized model's BatchNorms are folded (None: no BatchNorm, or a float
    model, whose BatchNorms fold exactly at any time)."""
    import torch.nn as nn

    norms = any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    quantized = any(type(m).__name__ == "QuantConv2d" for m in model.modules())
    if not (norms and quantized and isinstance(model, nn.Sequential)):
        return None
    return min(steps - 1, int(FOLD_AT * steps))


def _fold_in_place(model: Any) -> None:
    from search.models import fold_batchnorm

    model.eval()  # the running statistics are what folds
    fold_batchnorm(model, inplace=True)
    model.train()
    _log.info("BatchNorms folded into their convs; the rest of the steps train the folded model")


def train_from_scratch(
    spec: Any, quantized: bool, x: np.ndarray, y: np.ndarray, recipe: TrainRecipe, *, device: str = "cpu"
) -> tuple[Any, TrainStats]:
    """A new model of ``spec`` (``search.models.QatCnnSpec``) trained with ``recipe``: the final retrain.

    With ``recipe.float_epochs``, the float twin trains first and the quantized model starts from
    its weights (QAT fine-tuning at ``qat_lr_scale`` x lr): both phases start from random weights
    of this recipe's seed, so it is a retrain from scratch, not a warm start from the search. A
    quantized model comes back with its BatchNorms folded (``search.models.fold_batchnorm``): the
    model that is exported.
    """
    import torch

    from search.models import build_float_cnn, build_qat_cnn, fold_batchnorm

    torch.manual_seed(recipe.seed)
    if not quantized or recipe.float_epochs == 0:
        model = build_qat_cnn(spec) if quantized else build_float_cnn(spec)
        stats = train_classifier(model, x, y, recipe, device=device)
        return (fold_batchnorm(model) if quantized else model), stats
    twin = build_float_cnn(spec)
    first = train_classifier(twin, x, y, recipe, device=device, epochs=recipe.float_epochs)
    model = build_qat_cnn(spec)
    model.load_state_dict(twin.state_dict(), strict=False)
    second = train_classifier(
        model, x, y, recipe, device=device, epochs=recipe.epochs - recipe.float_epochs,
        lr=recipe.lr * recipe.qat_lr_scale,
    )  # fmt: skip
    return fold_batchnorm(model), TrainStats(
        samples=first.samples,
        epochs=first.epochs + second.epochs,
        sample_epochs=first.sample_epochs + second.sample_epochs,
        seconds=first.seconds + second.seconds,
        cpu_seconds=first.cpu_seconds + second.cpu_seconds,
        final_loss=second.final_loss,
        device=device,
    )


def predict_logits(model: Any, x: np.ndarray, *, device: str = "cpu", batch_size: int = 500) -> np.ndarray:
    """The model's logits for ``x`` (N, ...), computed in batches; the model is left on the CPU."""
    import torch

    configure_threads(tuple(x.shape[1:]))
    model.eval()
    model.to(device)
    channels_last = device == "cpu" and x.ndim == 4
    if channels_last:
        model.to(memory_format=torch.channels_last)
    outs = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size], dtype=np.float32))
            outs.append(model(_layout(xb.to(device), device)).float().cpu().numpy())
    model.to("cpu")
    if channels_last:
        model.to(memory_format=torch.contiguous_format)
    return np.concatenate(outs) if outs else np.zeros((0, 0), dtype=np.float32)


def evaluate(
    model: Any, x: np.ndarray, y: np.ndarray, *, device: str = "cpu", batch_size: int = 500
) -> float:
    """Top-1 accuracy of ``model`` on (x, y): the search's one ranking metric on the validation split."""
    if len(x) == 0:
        return 0.0
    return float((predict_logits(model, x, device=device, batch_size=batch_size).argmax(1) == y).mean())
