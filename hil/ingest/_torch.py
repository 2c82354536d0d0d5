"""TorchScript and torch.export files: load without unpickling, export to ONNX for hls4ml.

Why export to ONNX: hls4ml's PyTorch frontend does not take every module (and never brevitas
layers), while its ONNX frontend does; one ONNX path keeps conversion and checks in one place.
The loaded torch module stays the reference for C simulation.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hil.errors import InputError, UnsupportedModelError
from hil.ingest._formats import ModelFormat

__all__ = ["torch_to_onnx"]

_log = logging.getLogger(__name__)


def _exported_input_shape(program: object) -> tuple[int, ...] | None:
    """The example input shape recorded in a torch.export program (its only user input)."""
    signature = program.graph_signature  # type: ignore[attr-defined]
    user_inputs = list(signature.user_inputs)
    if len(user_inputs) != 1:
        raise UnsupportedModelError(f"hil supports models with one input; this one has {len(user_inputs)}")
    for node in program.graph.nodes:  # type: ignore[attr-defined]
        if node.op == "placeholder" and node.name == user_inputs[0]:
            value = node.meta.get("val")
            if value is not None:
                try:
                    return tuple(int(d) for d in value.shape)
                except TypeError:  # symbolic dims
                    return None
    return None


def torch_to_onnx(
    path: Path, fmt: ModelFormat, input_shape: tuple[int, ...] | None
) -> tuple[bytes, tuple[int, ...], Callable[[np.ndarray], np.ndarray]]:
    """Export a TorchScript or torch.export file to ONNX.

    Returns:
        (ONNX bytes, the input shape used, a reference function running the torch model).
    """
    import torch

    # the exporter logs registration chatter (e.g. "torchvision is not installed") on stderr
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    logging.getLogger("torch.export").setLevel(logging.ERROR)
    try:
        if fmt is ModelFormat.TORCHSCRIPT:
            module = torch.jit.load(str(path), map_location="cpu")
            module.eval()
            program = None
        else:
            program = torch.export.load(str(path))
            module = program.module()
    except Exception as exc:  # torch raises RuntimeError/ValueError subclasses on bad archives
        raise InputError(f"{path}: cannot load the torch model ({str(exc).splitlines()[0]})") from None

    if input_shape is None and program is not None:
        input_shape = _exported_input_shape(program)
    if input_shape is None:
        raise InputError(
            f"{path}: a TorchScript model does not record its input shape; pass --input-shape 1,C,H,W"
        )
    example = torch.zeros(input_shape, dtype=torch.float32)

    with tempfile.TemporaryDirectory(prefix="hil-export-") as tmp:
        out = Path(tmp) / "model.onnx"
        sink = io.StringIO()
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            try:
                if program is not None:
                    torch.onnx.export(
                        program,
                        (example,),
                        str(out),
                        input_names=["input"],
                        output_names=["output"],
                        external_data=False,  # one self-contained file: we read its bytes back
                        verbose=False,
                    )
                else:
                    # TorchScript is exported with the TorchScript-based exporter, the only one taking it.
                    torch.onnx.export(
                        module,
                        (example,),
                        str(out),
                        input_names=["input"],
                        output_names=["output"],
                        dynamo=False,
                    )
            except Exception as exc:  # exporter errors are many types; report the first line
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UnsupportedModelError(
                    f"{path}: torch could not export the model to ONNX ({first})"
                ) from None
        onnx_bytes = out.read_bytes()
    _log.info("exported %s (%s) to ONNX, input shape %s", path, fmt.value, input_shape)

    # A torch.export program guards its exported (static) batch size: feed it batches of that size.
    chunk = input_shape[0] if program is not None else None

    def reference(x: np.ndarray) -> np.ndarray:
        data = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        step = chunk or max(len(data), 1)
        with torch.no_grad():
            outs = [module(data[i : i + step]).detach().numpy() for i in range(0, len(data), step)]
        return np.concatenate(outs).astype(np.float32)

    return onnx_bytes, tuple(input_shape), reference
