"""Flow test fixtures: a small float ONNX model (Dense 8 -> 5 + ReLU, trained weights need not matter
for planning; the C-simulation tests use trained digits models)."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def dense_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 5), torch.nn.ReLU())
    path = tmp_path_factory.mktemp("flow-models") / "dense8x5.onnx"
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 8),), str(path), input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
    return path
