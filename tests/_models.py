"""Small models trained on real data for the conversion tests (digits; CIFAR-10 for QAT).

Why trained, not random: random weights hide quantization bugs (every class looks alike), and
the checks here ("argmax agreement >= 95 %, at least 5 distinct classes") only mean something
for a network that really separates the classes.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TrainedModel:
    path: Path
    x_test: np.ndarray
    y_test: np.ndarray
    accuracy: float


def _train(
    model,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float = 1e-2,
    batch: int = 32,
    on_probabilities: bool = False,
) -> None:
    import torch

    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    for epoch in range(epochs):
        order = torch.randperm(len(xt), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            opt.zero_grad()
            out = model(xt[idx])
            # a model ending in Softmax outputs probabilities: train on their logarithm
            if on_probabilities:
                loss = torch.nn.functional.nll_loss(torch.log(out + 1e-9), yt[idx])
            else:
                loss = torch.nn.functional.cross_entropy(out, yt[idx])
            loss.backward()
            opt.step()
    model.eval()


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def digits_float_models(folder: Path) -> dict[str, TrainedModel]:
    """A dense net ending in Softmax (ONNX) and a conv net (TorchScript, torch.export), trained on digits."""
    import torch
    import torch.nn as nn

    from search.datasets import load_dataset

    data = load_dataset("digits", seed=0)
    x_train, y_train = data.x_train, data.y_train
    x_test, y_test = data.x_test, data.y_test

    dense = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.Softmax(dim=1))
    _train(dense, x_train, y_train, epochs=20, on_probabilities=True)
    conv = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 10),
    )  # fmt: skip
    _train(conv, x_train, y_train, epochs=8)

    example = torch.zeros(1, 1, 8, 8)
    folder.mkdir(parents=True, exist_ok=True)
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            dense, (example,), str(folder / "digits_dense.onnx"), input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
        torch.jit.save(torch.jit.trace(conv, example), str(folder / "digits_conv.pt"))
        torch.export.save(torch.export.export(conv, (example,)), str(folder / "digits_conv.pt2"))
    np.save(folder / "digits_x_test.npy", x_test)
    np.save(folder / "digits_y_test.npy", y_test)
    return {
        "dense": TrainedModel(folder / "digits_dense.onnx", x_test, y_test, _accuracy(dense, x_test, y_test)),
        "conv_ts": TrainedModel(folder / "digits_conv.pt", x_test, y_test, _accuracy(conv, x_test, y_test)),
        "conv_ep": TrainedModel(folder / "digits_conv.pt2", x_test, y_test, _accuracy(conv, x_test, y_test)),
    }


def cifar_qat_cnn(folder: Path, data_dir: Path) -> TrainedModel:
    """A 4-bit brevitas CNN for 32x32x3, trained a few epochs on a CIFAR-10 subset, exported to QONNX."""
    from search.datasets import load_dataset
    from search.qat import QatCnnSpec, build_qat_cnn, export_qonnx
    from search.training import TrainRecipe, evaluate, train_classifier

    data = load_dataset("cifar10", data_dir=data_dir, seed=0, subset=8000)
    spec = QatCnnSpec(
        input_shape=(3, 32, 32), n_classes=10, conv_channels=(8, 16), kernel_sizes=(3, 3), pool=(True, True)
    )
    model = build_qat_cnn(spec)
    train_classifier(model, data.x_train, data.y_train, TrainRecipe(epochs=3, batch_size=64, lr=5e-3))
    x_test, y_test = data.x_test[:200], data.y_test[:200]
    path = export_qonnx(model, spec.input_shape, folder / "cifar_cnn_w4a4.onnx")
    return TrainedModel(path, x_test, y_test, evaluate(model, x_test, y_test))
