"""Session fixtures of the emulator's tests: a dense digits classifier with a Softmax head (ONNX)."""

from __future__ import annotations

import contextlib
import io
import warnings

import pytest

from tests._models import TrainedModel, _accuracy, _train


@pytest.fixture(scope="session")
def digits_dense(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """64-32-10 MLP ending in Softmax, trained on digits (the same net as tests._models' ``dense``)."""
    import torch
    import torch.nn as nn

    from search.datasets import load_dataset

    data = load_dataset("digits", seed=0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10), nn.Softmax(dim=1))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a net this small trains faster on one thread
    try:
        _train(model, data.x_train, data.y_train, epochs=20, on_probabilities=True)
    finally:
        torch.set_num_threads(threads)
    path = tmp_path_factory.mktemp("digits-dense") / "digits_dense.onnx"
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 1, 8, 8),), str(path), input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
    return TrainedModel(path, data.x_test, data.y_test, _accuracy(model, data.x_test, data.y_test))
