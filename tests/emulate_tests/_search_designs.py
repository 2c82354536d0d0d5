"""Designs of the co-search's space, built as the search builds them: sample, QAT-train, export, convert.

Shared by the emulator's tests and ``benchmarks/bench_emulator.py``. Why the search's own path
(``search.space`` -> ``search.models`` -> ``search.hls.convert_candidate``): the emulator must be exact on
exactly what the gate will hand it, per-layer reuse/strategy and the QONNX types included.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np

from hil.convert import compile_cached, csim_inputs
from hil.inventory import Board
from search.space import Candidate, SearchSpace


def sample_candidate(space: SearchSpace, seed: int, input_shape: tuple[int, int, int]) -> Candidate:
    """The candidate a seeded random controller proposes."""
    rng = random.Random(seed)
    return space.sample(lambda _name, choices: rng.choice(list(choices)), input_shape)


def build_design(
    candidate: Candidate,
    data: Any,
    board: Board,
    folder: Path,
    *,
    epochs: int = 1,
    n_train: int | None = None,
    seed: int = 0,
    lr: float = 1e-2,
) -> Any:
    """Train the candidate (QAT, ``epochs`` over the first ``n_train`` images), export and convert it."""
    import torch

    from search.hls import convert_candidate
    from search.qat import QatCnnSpec, build_qat_cnn, export_qonnx
    from search.training import TrainRecipe, train_classifier

    spec = QatCnnSpec(input_shape=data.input_shape, n_classes=data.n_classes, **candidate.qat_kwargs())
    torch.manual_seed(seed)
    model = build_qat_cnn(spec)
    n = len(data.x_train) if n_train is None else n_train
    recipe = TrainRecipe(epochs=epochs, batch_size=32, lr=lr, seed=seed)
    train_classifier(model, data.x_train[:n], data.y_train[:n], recipe)
    path = export_qonnx(model, spec.input_shape, folder / "model.onnx")
    return convert_candidate(path, candidate, board, folder / "hls4ml_prj", data.input_shape, data.n_classes)


def csim_outputs(design: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs on the quantizer's grid, the C simulation's outputs for them)."""
    inputs = csim_inputs(design.model, len(x), data=x)
    compile_cached(design.hls_model, design.key)
    out = np.asarray(design.hls_model.predict(np.ascontiguousarray(inputs)), dtype=np.float32)
    return inputs, out.reshape(len(inputs), -1)
