"""The input quantizer of a QONNX model, and snapping inputs onto its grid.

Why: an hls4ml design whose first layer is a quantizer rounds a raw float input twice (to the
input type, then by the quantizer), so it differs from qonnx execution by one step on ~0.1 % of
values. Inputs already on the quantizer's grid pass through both exactly, which is what makes a
bit-exact comparison meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["InputQuantizer", "find_input_quantizer"]

_LAYOUT_OPS = {"Transpose", "Reshape", "Identity", "Flatten"}


@dataclass(frozen=True)
class InputQuantizer:
    """A QONNX ``Quant`` node fed (possibly through layout-only ops) by the graph input."""

    scale: np.ndarray
    zero_point: np.ndarray
    bit_width: float
    signed: bool
    narrow: bool
    rounding_mode: str

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Round ``x`` onto the quantizer's grid, exactly as qonnx's Quant executes it."""
        from qonnx.custom_op.general.quant import quant

        out = quant(
            x.astype(np.float32),
            self.scale,
            self.zero_point,
            np.asarray(self.bit_width, dtype=np.float32),
            signed=self.signed,
            narrow=self.narrow,
            rounding_mode=self.rounding_mode,
        )
        return np.asarray(out, dtype=np.float32)

    def random_inputs(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Uniform random values in [0, 1) snapped onto the grid."""
        return self.snap(rng.random(shape, dtype=np.float32))


def find_input_quantizer(model: Any) -> InputQuantizer | None:
    """The quantizer that the (single) graph input reaches through layout ops only, if any.

    Args:
        model: a qonnx ``ModelWrapper`` (cleaned, before the channels-last transform).
    """
    from qonnx.custom_op.registry import getCustomOp

    tensor = model.graph.input[0].name
    for _ in range(8):
        consumers = model.find_consumers(tensor) or []
        if len(consumers) != 1:
            return None
        node = consumers[0]
        if node.op_type == "Quant":
            op = getCustomOp(node)
            scale = model.get_initializer(node.input[1])
            zero_point = model.get_initializer(node.input[2])
            bit_width = model.get_initializer(node.input[3])
            if scale is None or zero_point is None or bit_width is None:
                return None
            return InputQuantizer(
                scale=np.asarray(scale, dtype=np.float32),
                zero_point=np.asarray(zero_point, dtype=np.float32),
                bit_width=float(np.asarray(bit_width)),
                signed=bool(op.get_nodeattr("signed")),
                narrow=bool(op.get_nodeattr("narrow")),
                rounding_mode=str(op.get_nodeattr("rounding_mode")),
            )
        if node.op_type not in _LAYOUT_OPS:
            return None
        tensor = node.output[0]
    return None
