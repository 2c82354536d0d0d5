"""load_model(): any supported model file -> a cleaned QONNX graph ready for hls4ml, plus a reference.

The steps follow what is known to work with hls4ml 1.3 (DESIGN.md): qonnx cleanup always;
channels-last only where the graph has convolutions or pooling (the transform breaks some
dense-only exports); Gemm -> MatMul; cleanup again. Every check that can fail on user input
(dynamic dimensions, unsupported operators) runs here, before hls4ml sees the graph, so the
user gets the operator's and node's names rather than an hls4ml traceback.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import InputError, UnsupportedModelError
from hil.ingest._batch import rebatch
from hil.ingest._formats import ModelFormat, detect_format
from hil.ingest._quantizer import InputQuantizer, find_input_quantizer

__all__ = ["IngestedModel", "load_model"]

_log = logging.getLogger(__name__)

_SPATIAL_OPS = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Resize", "Pad"}
#: Ops that qonnx cleanup or GemmToMatMul remove or rewrite before hls4ml sees the graph.
_REWRITTEN_OPS = {"Gemm", "Constant", "Identity", "Dropout"}


@dataclass
class IngestedModel:
    """A model ready for conversion.

    Attributes:
        path: the file it came from.
        format: what the file was.
        model_bytes: the file's exact bytes (what ``design_key`` hashes).
        graph: the hls4ml-ready qonnx ModelWrapper (cleaned, channels-last where needed).
        input_shape: the model's input shape with batch 1, in the model's own layout (NCHW).
        output_shape: the output shape with batch 1.
        input_quantizer: the QONNX input quantizer, if the model has one.
        reference: runs the original model on a batch (N, ...) in the original layout.
        ops: operator types of the graph as converted.
    """

    path: Path
    format: ModelFormat
    model_bytes: bytes
    graph: Any
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    input_quantizer: InputQuantizer | None
    reference: Callable[[np.ndarray], np.ndarray]
    ops: list[str] = field(default_factory=list)

    @property
    def ends_in_softmax(self) -> bool:
        return bool(self.ops) and self.ops[-1] == "Softmax"


def _quiet() -> contextlib.ExitStack:
    """Silence qonnx/hls4ml prints and warnings (they go to stdout, which --json owns)."""
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    sink = io.StringIO()
    stack.enter_context(contextlib.redirect_stdout(sink))
    return stack


def _fix_input_shape(
    onnx_model: Any, path: Path, input_shape: tuple[int, ...] | None
) -> tuple[tuple[int, ...], Any]:
    """Make the single graph input static: symbolic batch -> 1; other dynamic dims refused.

    Returns:
        (the input shape with batch 1, the model the reference should run when the file fixes a
        batch other than 1: see ``hil.ingest._batch``; None otherwise).
    """
    initializers = {init.name for init in onnx_model.graph.initializer}
    inputs = [i for i in onnx_model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise UnsupportedModelError(f"{path}: hil supports models with one input; this one has {len(inputs)}")
    graph_input = inputs[0]
    dims = graph_input.type.tensor_type.shape.dim
    declared: list[int | str] = [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims
    ]
    reference = None
    if declared and isinstance(declared[0], int) and declared[0] > 1:
        reference = rebatch(onnx_model, path, declared[0])
        declared[0] = 1
    if input_shape is not None:
        if len(input_shape) != len(declared):
            raise InputError(
                f"--input-shape {','.join(map(str, input_shape))} has {len(input_shape)} dimensions; "
                f"input {graph_input.name!r} of {path} has {len(declared)}: {declared}"
            )
        for axis, (want, have) in enumerate(zip(input_shape, declared, strict=True)):
            if isinstance(have, int) and have > 0 and have != want and not (axis == 0 and want == 1):
                raise InputError(
                    f"--input-shape dimension {axis} is {want} but input {graph_input.name!r} "
                    f"of {path} fixes it to {have}"
                )
        shape = list(input_shape)
        shape[0] = 1
    else:
        shape = []
        for axis, dim in enumerate(declared):
            if isinstance(dim, int) and dim > 0:
                shape.append(dim)
            elif axis == 0:
                shape.append(1)  # a symbolic batch dimension: hls4ml designs take one sample at a time
            else:
                raise UnsupportedModelError(
                    f"{path}: input {graph_input.name!r} has a dynamic dimension {axis} ({dim!r}); "
                    "hls4ml needs static shapes: re-export with a fixed shape or pass --input-shape"
                )
    for dim_proto, value in zip(dims, shape, strict=True):
        dim_proto.Clear()
        dim_proto.dim_value = int(value)
    return tuple(shape), reference


def _check_ops(graph: Any, original: Any, path: Path) -> None:
    """Refuse operators hls4ml cannot convert, naming the operator and the node.

    Checked after cleanup (which folds the Shape/Gather/Concat chains exporters emit), but the
    node is named as in the user's file, since cleanup renames nodes.
    """
    from hls4ml.converters import get_supported_onnx_layers

    supported = set(get_supported_onnx_layers()) | _REWRITTEN_OPS
    for node in graph.graph.node:
        if node.op_type not in supported:
            names = [n.name for n in original.graph.node if n.op_type == node.op_type and n.name]
            name = names[0] if names else node.name or "<unnamed>"
            raise UnsupportedModelError(
                f"{path}: operator {node.op_type} (node {name}) is not supported by hls4ml; "
                "replace it in the model or export without it"
            )


def _check_channels_last(graph: Any, path: Path) -> None:
    """Refuse graphs that qonnx could not move entirely to channels-last.

    Why: hls4ml implements spatial layers channels-last only; qonnx's transform leaves a
    Transpose in front of an operator it cannot convert (e.g. AveragePool), and hls4ml then
    fails with an opaque error. Naming the operator tells the user what to change.
    """
    graph_inputs = {i.name for i in graph.graph.input}
    for node in graph.graph.node:
        if node.op_type != "Transpose" or node.input[0] in graph_inputs:
            continue
        for consumer in graph.find_consumers(node.output[0]) or []:
            if consumer.op_type in _SPATIAL_OPS:
                raise UnsupportedModelError(
                    f"{path}: operator {consumer.op_type} (node {consumer.name}) could not be converted to "
                    "channels-last by qonnx, which hls4ml needs; replace it (e.g. MaxPool for AveragePool)"
                )


def _onnx_reference(onnx_bytes: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """onnxruntime on the original model; the session is made on first use (convert/build without
    C-sim never pays for it)."""
    sessions: list[Any] = []

    def reference(x: np.ndarray) -> np.ndarray:
        if not sessions:
            import onnxruntime as ort

            ort.set_default_logger_severity(3)
            sessions.append(ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"]))
        session = sessions[0]
        name = session.get_inputs()[0].name
        x = np.ascontiguousarray(x, dtype=np.float32)
        if session.get_inputs()[0].shape[0] == 1:  # a model exported with a fixed batch of 1
            return np.concatenate([session.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))])
        return np.asarray(session.run(None, {name: x})[0])

    return reference


def _qonnx_reference(graph: Any) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime as ort
    from qonnx.core.onnx_exec import execute_onnx

    ort.set_default_logger_severity(3)
    in_name = graph.graph.input[0].name
    out_name = graph.graph.output[0].name

    def reference(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        with _quiet():
            outs = [execute_onnx(graph, {in_name: x[i : i + 1]})[out_name] for i in range(len(x))]
        return np.concatenate(outs).astype(np.float32)

    return reference


def load_model(path: str | Path, input_shape: tuple[int, ...] | None = None) -> IngestedModel:
    """Load a float ONNX, QONNX, TorchScript or torch.export file for conversion.

    Args:
        path: the model file.
        input_shape: the input shape in the model's own layout (e.g. 1,3,32,32), required for
            TorchScript and for ONNX inputs with dynamic non-batch dimensions.

    Raises:
        InputError: missing file, not a model, pickle, bad --input-shape.
        UnsupportedModelError: dynamic dims, several inputs, unsupported operators.
    """
    import onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    source = Path(path).expanduser()
    fmt = detect_format(source)
    model_bytes = source.read_bytes()
    torch_reference: Callable[[np.ndarray], np.ndarray] | None = None
    if fmt in (ModelFormat.TORCHSCRIPT, ModelFormat.TORCH_EXPORT):
        from hil.ingest._torch import torch_to_onnx

        onnx_bytes, input_shape, torch_reference = torch_to_onnx(source, fmt, input_shape)
    else:
        onnx_bytes = model_bytes

    onnx_model = onnx.load_model_from_string(onnx_bytes)
    shape, rebatched = _fix_input_shape(onnx_model, source, input_shape)
    if rebatched is not None:
        onnx_bytes = rebatched.SerializeToString()  # the reference runs any batch size
    original = onnx.ModelProto()
    original.CopyFrom(onnx_model)
    try:
        with _quiet():
            graph = cleanup_model(ModelWrapper(onnx_model))
    except Exception as exc:  # qonnx surfaces shape-inference failures as many exception types
        raise UnsupportedModelError(
            f"{source}: qonnx could not clean the graph ({str(exc).splitlines()[0]})"
        ) from None
    _check_ops(graph, original, source)

    quantizer = find_input_quantizer(graph) if fmt is ModelFormat.QONNX else None
    if torch_reference is not None:
        reference = torch_reference
    elif fmt is ModelFormat.QONNX:
        reference = _qonnx_reference(graph)
    else:
        reference = _onnx_reference(onnx_bytes)

    ops = [node.op_type for node in graph.graph.node]
    try:
        with _quiet():
            if _SPATIAL_OPS & set(ops):
                graph = graph.transform(ConvertToChannelsLastAndClean())
            graph = graph.transform(GemmToMatMul())
            graph = cleanup_model(graph)
    except Exception as exc:  # same as above: report the first line, not a traceback
        raise UnsupportedModelError(
            f"{source}: qonnx could not prepare the graph for hls4ml ({str(exc).splitlines()[0]})"
        ) from None

    _check_channels_last(graph, source)
    out_name = graph.graph.output[0].name
    output_shape = tuple(int(d) for d in (graph.get_tensor_shape(out_name) or []))
    converted_ops = [node.op_type for node in graph.graph.node]
    _log.info(
        "loaded %s as %s: input %s, output %s, %d nodes", source, fmt.value, shape, output_shape, len(ops)
    )
    return IngestedModel(
        path=source,
        format=fmt,
        model_bytes=model_bytes,
        graph=graph,
        input_shape=shape,
        output_shape=output_shape,
        input_quantizer=quantizer,
        reference=reference,
        ops=converted_ops,
    )
