"""QONNX export of the search's QAT CNNs (their definition lives in ``search.models``).

The model names are re-exported here because this is where callers have always found them; the
one definition is ``search.models``'s, and training is ``search.training``'s alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from search.models import QatCnnSpec, build_float_cnn, build_qat_cnn, fold_batchnorm, load_qat_cnn

__all__ = [
    "QatCnnSpec",
    "build_float_cnn",
    "build_qat_cnn",
    "export_qonnx",
    "fold_batchnorm",
    "load_qat_cnn",
]

_log = logging.getLogger(__name__)


def export_qonnx(model: Any, input_shape: tuple[int, ...], path: str | Path) -> Path:
    """Export a trained brevitas model to QONNX (batch 1); returns the path.

    BatchNorms are folded into their convs first (a no-op for a model the search already folded):
    hls4ml must see a plain quantized conv, never a float BatchNorm layer.
    """
    import contextlib
    import io
    import warnings

    import torch

    with warnings.catch_warnings():
        # brevitas.export imports brevitas.graph.equalize, which warns at import that the optional
        # CUDA package fast_hadamard_transform is missing. hil never uses Hadamard rotations (they
        # are an LLM-quantization pass), so on every CPU machine the warning is noise in the main
        # job's output; this message, only at this import, is silenced.
        warnings.filterwarnings("ignore", message="fast_hadamard_transform package not found")
        from brevitas.export import export_qonnx as brevitas_export

    # torch's exporter logs through handlers bound to the real stderr (redirect_stderr misses them):
    # "torchvision is not installed. Skipping torchvision::nms" and the like, once per candidate.
    for name in ("torch.onnx", "torch.export", "torch._export"):
        logging.getLogger(name).setLevel(logging.ERROR)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    model = fold_batchnorm(model)
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        brevitas_export(model, torch.zeros(1, *input_shape), export_path=str(target))
    return target
