"""Float ONNX models as third parties export them, trained briefly on real data (scikit-learn digits).

Why these: a user brings a network hil did not make. The kinds here are what the held-out check
covers: Softmax and Sigmoid heads, Conv1d and Conv2d, and an export made with the whole data set
as the example input, so its batch dimension is fixed to that size (``[N, 16]``). Each is trained
a few epochs (seconds) so its classes really separate and an argmax comparison means something.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ThirdPartyModel:
    path: Path
    x_test: np.ndarray
    accuracy: float


def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from search.datasets import load_dataset

    data = load_dataset("digits", seed=0)
    return data.x_train, data.y_train, data.x_test, data.y_test


def _train(model, x: np.ndarray, y: np.ndarray, epochs: int, loss: str) -> None:  # type: ignore[no-untyped-def]
    import torch

    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    for epoch in range(epochs):
        order = torch.randperm(len(xt), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            opt.zero_grad()
            out = model(xt[idx])
            if loss == "softmax":  # the model outputs probabilities
                value = torch.nn.functional.nll_loss(torch.log(out + 1e-9), yt[idx])
            else:  # one sigmoid per class, trained one-vs-rest
                target = torch.nn.functional.one_hot(yt[idx], out.shape[1]).float()
                value = torch.nn.functional.binary_cross_entropy(out, target)
            value.backward()
            opt.step()
    model.eval()


def _export(model, example, path: Path, *, dynamic_batch: bool = True) -> Path:  # type: ignore[no-untyped-def]
    import torch

    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
        torch.onnx.export(
            model, (example,), str(path), input_names=["input"], output_names=["output"],
            dynamic_axes=axes, dynamo=False,
        )  # fmt: skip
    return path


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def third_party_models(folder: Path) -> dict[str, ThirdPartyModel]:
    """``softmax_mlp_fixed_batch``, ``sigmoid_mlp``, ``conv1d_softmax``, ``conv2d_softmax`` (ONNX files)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these nets are tiny: one thread trains them ~3x faster than two
    try:
        return _build(folder)
    finally:
        torch.set_num_threads(threads)


def _build(folder: Path) -> dict[str, ThirdPartyModel]:
    import torch
    import torch.nn as nn

    x_train, y_train, x_test, y_test = _digits()
    folder.mkdir(parents=True, exist_ok=True)
    models: dict[str, ThirdPartyModel] = {}

    # 16 features (the 8x8 digits pooled to 4x4), exported with the whole training set as the example
    pool = nn.AvgPool2d(2)
    f_train = pool(torch.from_numpy(x_train)).reshape(len(x_train), 16).numpy()
    f_test = pool(torch.from_numpy(x_test)).reshape(len(x_test), 16).numpy()
    mlp = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10), nn.Softmax(dim=1))
    _train(mlp, f_train, y_train, 15, "softmax")
    whole_set = torch.from_numpy(f_train)  # the example input is the data set: batch fixed to its size
    path = _export(mlp, whole_set, folder / "softmax_mlp_fixed_batch.onnx", dynamic_batch=False)
    models["softmax_mlp_fixed_batch"] = ThirdPartyModel(path, f_test, _accuracy(mlp, f_test, y_test))

    flat_train, flat_test = x_train.reshape(len(x_train), 64), x_test.reshape(len(x_test), 64)
    sig = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.Sigmoid())
    _train(sig, flat_train, y_train, 10, "sigmoid")
    path = _export(sig, torch.zeros(1, 64), folder / "sigmoid_mlp.onnx")
    models["sigmoid_mlp"] = ThirdPartyModel(path, flat_test, _accuracy(sig, flat_test, y_test))

    rows_train, rows_test = x_train.reshape(len(x_train), 8, 8), x_test.reshape(len(x_test), 8, 8)
    conv1d = nn.Sequential(
        nn.Conv1d(8, 16, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(128, 10), nn.Softmax(dim=1)
    )
    _train(conv1d, rows_train, y_train, 8, "softmax")
    path = _export(conv1d, torch.zeros(1, 8, 8), folder / "conv1d_softmax.onnx")
    models["conv1d_softmax"] = ThirdPartyModel(path, rows_test, _accuracy(conv1d, rows_test, y_test))

    conv2d = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, 10),
        nn.Softmax(dim=1),
    )  # fmt: skip
    _train(conv2d, x_train, y_train, 6, "softmax")
    path = _export(conv2d, torch.zeros(1, 1, 8, 8), folder / "conv2d_softmax.onnx")
    models["conv2d_softmax"] = ThirdPartyModel(path, x_test, _accuracy(conv2d, x_test, y_test))
    for name, model in models.items():
        np.save(folder / f"{name}_x_test.npy", model.x_test)
    return models
