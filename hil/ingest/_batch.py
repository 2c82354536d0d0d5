"""A fixed batch dimension that is not 1: take it as the batch when no operator mixes samples.

Why: exporters record the example input's shape, and a model exported with its whole data set as
the example (``torch.onnx.export(model, x_all)``) has an input of ``[789444, 16]``. hls4ml designs
take one sample at a time, and onnxruntime refuses any other batch size for such a file, so the
model looked unusable although every operator in it treats samples independently. When that can
be shown operator by operator (the rules below), the leading dimension is the batch: the graph
for hls4ml gets batch 1, the reference model a symbolic batch, and hil warns once. When it cannot
be shown, the user gets one line naming the operator and the dimension.

Rules (the ops a float classifier is built from; anything else is refused, never guessed):
element-wise and activation ops; Gemm/MatMul with the sample tensor as the left operand;
Conv, pooling, BatchNormalization per sample; Softmax/LogSoftmax/Flatten/Concat/Reduce* not on
axis 0; Transpose keeping axis 0 first; Reshape whose target keeps the batch first (``N``, ``0``
or ``-1`` as its first entry, given as a constant).
"""

from __future__ import annotations

import logging
from typing import Any

from hil.errors import UnsupportedModelError

__all__ = ["BATCH_INDEPENDENT_OPS", "rebatch"]

_log = logging.getLogger(__name__)
_warned: set[tuple[str, int]] = set()

#: Operators that never look across the leading dimension, whatever their attributes.
BATCH_INDEPENDENT_OPS = frozenset(
    {
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "Tanh", "Softplus",
        "Softsign", "Clip", "Abs", "Neg", "Exp", "Log", "Sqrt", "Identity", "Dropout", "Cast",
        "Add", "Sub", "Mul", "Div", "Max", "Min", "BatchNormalization", "Conv", "ConvTranspose",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Constant", "Quant",
    }
)  # fmt: skip
_AXIS_OPS = {"Softmax": -1, "LogSoftmax": -1, "Flatten": 1, "Concat": None}
_REDUCE_OPS = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"}


def _attribute(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _initializer(graph: Any, name: str) -> Any:
    from onnx import numpy_helper

    for init in graph.initializer:
        if init.name == name:
            return init, numpy_helper.to_array(init)
    for node in graph.node:
        if node.op_type == "Constant" and name in node.output:
            return None, numpy_helper.to_array(_attribute(node, "value", None))
    return None, None


def _why_not(node: Any, graph: Any, batch: int, constants: set[str]) -> str | None:
    """None when ``node`` treats the samples independently, else why it may not."""
    op = node.op_type
    if op in BATCH_INDEPENDENT_OPS:
        return None
    if op in _AXIS_OPS:
        axis = _attribute(node, "axis", _AXIS_OPS[op])
        return None if axis is not None and axis != 0 else f"works along axis {axis}"
    if op in _REDUCE_OPS:
        axes = _attribute(node, "axes", None)
        return (
            None
            if axes is not None and 0 not in list(axes) and _attribute(node, "keepdims", 1)
            else "may reduce axis 0"
        )
    if op in ("Gemm", "MatMul"):
        if op == "Gemm" and _attribute(node, "transA", 0):
            return "transposes its sample operand (transA)"
        left, right = node.input[0], node.input[1]
        return None if left not in constants and right in constants else "has no constant right operand"
    if op == "Transpose":
        perm = list(_attribute(node, "perm", []))
        return None if perm and perm[0] == 0 else f"moves axis 0 (perm {perm})"
    if op == "Reshape":
        _, shape = _initializer(graph, node.input[1])
        if shape is None:
            return "has a computed target shape"
        first = int(shape.reshape(-1)[0]) if shape.size else None
        return None if first in (batch, 0, -1) else f"reshapes the batch away (target {list(shape)})"
    if op in ("Squeeze", "Unsqueeze"):
        _, axes = _initializer(graph, node.input[1]) if len(node.input) > 1 else (None, None)
        values = list(axes.reshape(-1)) if axes is not None else list(_attribute(node, "axes", []))
        return None if values and 0 not in values else "may act on axis 0"
    return "is not known to treat samples independently"


def rebatch(onnx_model: Any, path: Any, batch: int) -> Any:
    """Make a model with a fixed leading dimension ``batch`` take any batch; returns the reference copy.

    ``onnx_model`` is changed in place to batch 1 (what hls4ml converts); the returned copy has a
    symbolic batch (what onnxruntime runs as the reference).

    Raises:
        UnsupportedModelError: an operator may mix samples (naming it, its node and the dimension).
    """
    import onnx

    graph = onnx_model.graph
    constants = {init.name for init in graph.initializer}
    constants |= {out for node in graph.node if node.op_type == "Constant" for out in node.output}
    for node in graph.node:
        reason = _why_not(node, graph, batch, constants)
        if reason is not None:
            raise UnsupportedModelError(
                f"{path}: input dimension 0 is fixed to {batch} and operator {node.op_type} (node "
                f"{node.name or '<unnamed>'}) {reason}, so it cannot be taken as the batch; re-export with "
                "a dynamic batch (torch.onnx.export(..., dynamic_axes={'input': {0: 'batch'}})) or batch 1"
            )
    reference = onnx.ModelProto()
    reference.CopyFrom(onnx_model)
    for model, value in ((onnx_model, 1), (reference, None)):
        _set_batch(model.graph, batch, value)
    key = (str(path), batch)
    if key not in _warned:
        _warned.add(key)
        _log.warning(
            "%s: input dimension 0 is fixed to %d; every operator treats samples independently, so it is "
            "taken as the batch (hls4ml converts one sample at a time)", path, batch,
        )  # fmt: skip
    return reference


def _set_batch(graph: Any, batch: int, value: int | None) -> None:
    """Dimension 0 of the graph's inputs/outputs and the batch entry of Reshape targets -> ``value``
    (None: a symbolic ``batch``; Reshape targets then copy the input's batch with 0)."""
    for tensor in (*graph.input, *graph.output):
        dims = tensor.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_value") and dims[0].dim_value == batch:
            dims[0].Clear()
            if value is None:
                dims[0].dim_param = "batch"
            else:
                dims[0].dim_value = value
    del graph.value_info[:]  # shapes inferred for the old batch would contradict the new one
    from onnx import numpy_helper

    for node in graph.node:
        if node.op_type != "Reshape":
            continue
        init, shape = _initializer(graph, node.input[1])
        if shape is None or not shape.size or int(shape.reshape(-1)[0]) != batch:
            continue
        shape = shape.copy()
        shape.reshape(-1)[0] = 0 if value is None else value
        if init is not None:
            init.CopyFrom(numpy_helper.from_array(shape, init.name))
            continue
        for producer in graph.node:  # a Constant node's value
            if producer.op_type == "Constant" and node.input[1] in producer.output:
                for attribute in producer.attribute:
                    if attribute.name == "value":
                        attribute.t.CopyFrom(numpy_helper.from_array(shape, attribute.t.name))
