"""The QAT CNN's one definition: its spec, the brevitas model, and its float twin.

Why a module of its own: training (``search.training``) builds models and export (``search.qat``)
exports them; with the definitions here, both depend on this module and neither on the other.

Why these quantizers: power-of-two ("fixed point") scales map onto ap_fixed types exactly, and a
16-bit integer bias with the preceding layer returning a QuantTensor keeps the bias on the
accumulator's grid. Together they make hls4ml's C simulation bit-exact against qonnx execution
(DESIGN.md), which is what lets the search trust C-sim accuracy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["QatCnnSpec", "build_float_cnn", "build_qat_cnn", "load_qat_cnn"]

_log = logging.getLogger(__name__)
#: Batches over which an activation quantizer's scale is initialised from statistics.
_STATS_STEPS = 32


@dataclass(frozen=True)
class QatCnnSpec:
    """A small quantized CNN: conv blocks (conv, ReLU, optional max-pool), then dense layers.

    Attributes:
        input_shape: (channels, height, width).
        n_classes: outputs of the last dense layer (logits; no softmax).
        conv_channels: output channels of each conv block.
        kernel_sizes: kernel of each conv block (same padding).
        pool: whether each conv block ends in a 2x2 max-pool.
        dense_units: hidden dense layers before the classifier.
        weight_bits: weight bits per layer (conv blocks, dense layers, classifier), 2..16.
        act_bits: activation bits per ReLU (conv blocks, then hidden dense layers), 2..16.
        input_bits: bits of the signed input quantizer.
    """

    input_shape: tuple[int, int, int]
    n_classes: int
    conv_channels: tuple[int, ...] = (8, 16)
    kernel_sizes: tuple[int, ...] = (3, 3)
    pool: tuple[bool, ...] = (True, True)
    dense_units: tuple[int, ...] = ()
    weight_bits: tuple[int, ...] = field(default=())
    act_bits: tuple[int, ...] = field(default=())
    input_bits: int = 8

    def __post_init__(self) -> None:
        n_conv, n_dense = len(self.conv_channels), len(self.dense_units) + 1
        if not (len(self.kernel_sizes) == len(self.pool) == n_conv):
            raise ValueError("conv_channels, kernel_sizes and pool must have one entry per conv block")
        if not self.weight_bits:
            object.__setattr__(self, "weight_bits", (4,) * (n_conv + n_dense))
        if not self.act_bits:
            object.__setattr__(self, "act_bits", (4,) * (n_conv + n_dense - 1))
        if len(self.weight_bits) != n_conv + n_dense or len(self.act_bits) != n_conv + n_dense - 1:
            raise ValueError("weight_bits needs one entry per conv/dense layer, act_bits one per ReLU")
        for bits in (*self.weight_bits, *self.act_bits, self.input_bits):
            if not 2 <= bits <= 16:
                raise ValueError(f"bit widths must be 2..16, got {bits}")


def _quantizers(bits: int, kind: str) -> Any:
    from brevitas.quant import (
        Int8ActPerTensorFixedPoint,
        Int8WeightPerTensorFixedPoint,
        Uint8ActPerTensorFixedPoint,
    )

    base = {
        "weight": Int8WeightPerTensorFixedPoint,
        "act": Uint8ActPerTensorFixedPoint,
        "input": Int8ActPerTensorFixedPoint,
    }[kind]
    attrs: dict[str, Any] = {"bit_width": bits}
    if kind != "weight":
        # brevitas initialises an activation scale from percentile statistics over the first
        # 300 steps (a kthvalue per batch, the slowest op of a CPU step); 32 batches suffice, and a
        # proxy training of a few hundred steps then spends its steps learning the scale.
        attrs["collect_stats_steps"] = _STATS_STEPS
    return type(f"{kind.title()}{bits}FixedPoint", (base,), attrs)


def build_qat_cnn(spec: QatCnnSpec) -> Any:
    """A brevitas ``nn.Module`` for ``spec`` (returns logits)."""
    import brevitas.nn as qnn
    import torch.nn as nn
    from brevitas.quant import Int16Bias

    layers: list[nn.Module] = [
        qnn.QuantIdentity(act_quant=_quantizers(spec.input_bits, "input"), return_quant_tensor=True)
    ]
    channels, height, width = spec.input_shape
    index = 0
    for out_channels, kernel, pool in zip(spec.conv_channels, spec.kernel_sizes, spec.pool, strict=True):
        layers += [
            qnn.QuantConv2d(
                channels,
                out_channels,
                kernel,
                padding=kernel // 2,
                weight_quant=_quantizers(spec.weight_bits[index], "weight"),
                bias_quant=Int16Bias,
            ),
            qnn.QuantReLU(act_quant=_quantizers(spec.act_bits[index], "act"), return_quant_tensor=True),
        ]
        if pool:
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        channels = out_channels
        index += 1
    layers.append(nn.Flatten())
    features = channels * height * width
    for units in spec.dense_units:
        layers += [
            qnn.QuantLinear(
                features,
                units,
                weight_quant=_quantizers(spec.weight_bits[index], "weight"),
                bias_quant=Int16Bias,
            ),
            qnn.QuantReLU(act_quant=_quantizers(spec.act_bits[index], "act"), return_quant_tensor=True),
        ]
        features = units
        index += 1
    layers.append(
        qnn.QuantLinear(
            features,
            spec.n_classes,
            weight_quant=_quantizers(spec.weight_bits[index], "weight"),
            bias_quant=Int16Bias,
        )
    )
    return nn.Sequential(*layers)


def load_qat_cnn(spec: QatCnnSpec, weights: str | Path) -> Any:
    """The QAT CNN of ``spec`` with the trained weights a search saved (``torch.save`` of its
    ``state_dict``), on the CPU, ready to export or simulate."""
    import torch

    model = build_qat_cnn(spec)
    model.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    return model


def build_float_cnn(spec: QatCnnSpec) -> Any:
    """The float twin of ``build_qat_cnn(spec)`` (bit widths ignored).

    Why the same ``nn.Sequential`` layout (an Identity where the input quantizer sits, ReLU where
    QuantReLU sits): its weights load into the quantized model by name (``strict=False``), so the
    "separate" baseline can quantize the float network its first phase found and trained.
    """
    import torch.nn as nn

    layers: list[nn.Module] = [nn.Identity()]
    channels, height, width = spec.input_shape
    for out_channels, kernel, pool in zip(spec.conv_channels, spec.kernel_sizes, spec.pool, strict=True):
        layers += [nn.Conv2d(channels, out_channels, kernel, padding=kernel // 2), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        channels = out_channels
    layers.append(nn.Flatten())
    features = channels * height * width
    for units in spec.dense_units:
        layers += [nn.Linear(features, units), nn.ReLU()]
        features = units
    layers.append(nn.Linear(features, spec.n_classes))
    return nn.Sequential(*layers)
