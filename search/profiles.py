"""Per-dataset defaults: the search budget, the search-time training recipe and the final recipe.

Why two recipes: the search trains many candidates briefly (a proxy, the same for every candidate,
so their validation accuracies are comparable); the final retrain trains the chosen design once, for
real (``--final-epochs``), with what reaches good accuracy per CPU-minute on 2 cores for CIFAR-10:
random crop (4 px) + horizontal flip, label smoothing 0.1, a cosine schedule with warm-up, AdamW,
and a float warm-up of the same network for the first part before quantization-aware training
(QAT costs ~2-3x a float epoch on a CPU; starting QAT from a trained float network recovers most
of the float accuracy in a few epochs). Digits are never flipped (a mirrored 2 is not a 2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from hil.errors import InputError
from search.training import TrainRecipe

__all__ = ["DatasetProfile", "final_recipe", "profile"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetProfile:
    """Defaults of one dataset.

    Attributes:
        trials: trained candidates per search.
        recipe: search-time training of every candidate.
        final: the final retrain's recipe at its default length (``final_recipe`` rescales it).
        float_fraction: share of the final epochs that train the float twin first.
    """

    trials: int
    recipe: TrainRecipe
    final: TrainRecipe
    float_fraction: float


_PROFILES: dict[str, DatasetProfile] = {
    "digits": DatasetProfile(
        trials=16,
        recipe=TrainRecipe(epochs=3, batch_size=16, lr=1e-2),
        final=TrainRecipe(
            epochs=20, batch_size=32, lr=5e-3, schedule="cosine", label_smoothing=0.1, crop_pad=1
        ),
        float_fraction=0.0,
    ),
    "cifar10": DatasetProfile(
        trials=12,
        recipe=TrainRecipe(epochs=2, batch_size=64, lr=3e-3, schedule="cosine"),
        final=TrainRecipe(
            epochs=20,
            batch_size=128,
            lr=3e-3,
            schedule="cosine",
            weight_decay=5e-4,
            label_smoothing=0.1,
            crop_pad=4,
            flip=True,
        ),
        float_fraction=0.75,
    ),
}


def profile(dataset: str) -> DatasetProfile:
    """The defaults of ``dataset`` (InputError naming the known ones otherwise)."""
    if dataset not in _PROFILES:
        raise InputError(f"--dataset must be one of {', '.join(_PROFILES)}, got {dataset!r}")
    return _PROFILES[dataset]


def final_recipe(dataset: str, epochs: int, seed: int = 0) -> TrainRecipe:
    """The final retrain of ``dataset`` for ``epochs`` epochs (float warm-up share kept, >= 1 QAT epoch)."""
    if epochs < 1:
        raise InputError(f"--final-epochs must be >= 1 (0 turns the final retrain off), got {epochs}")
    p = profile(dataset)
    float_epochs = min(epochs - 1, round(p.float_fraction * epochs))
    return replace(p.final, epochs=epochs, float_epochs=float_epochs, seed=seed)
