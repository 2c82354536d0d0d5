"""The QAT CNN's one definition: its spec, the brevitas model, and its float twin.

Why a module of its own: training (``search.training``) builds models and export (``search.qat``)
exports them; with the definitions here, both depend on this module and neither on the other.

Why these quantizers: power-of-two ("fixed point") scales map onto ap_fixed types exactly, and a
16-bit integer bias with the preceding layer returning a QuantTensor keeps the bias on the
accumulator's grid. Together they make hls4ml's C simulation bit-exact against qonnx execution
(DESIGN.md), which is what lets the search trust C-sim accuracy.

Why BatchNorm is folded before export (``fold_batchnorm``): low-bit CNNs deeper than a few layers
train far better with BatchNorm, but hls4ml would build it as a separate float scale-and-shift layer
(its own fixed-point type, its own rounding) that the QONNX types do not describe. Folded into the
conv's weights and bias, the exported design is a plain quantized conv: the weight quantizer sees
the folded weights, so the model that is exported, gated and reported is the folded one.

Why learned weight scales (``learned_scales``): a weight scale taken from the weights' maximum each
step spends the few levels of a 2-3 bit grid on one outlier; a learned power-of-two scale
(initialised from that maximum, then trained through a straight-through ceil of its log2) can
clip it instead. It stays a power of two, so it still maps onto an ap_fixed type exactly.

Why no 1-bit weights: brevitas exports them as a QONNX BipolarQuant, which hls4ml 1.3 converts
(1-bit xnor weights, an ApplyAlpha for the scale) but does not type: the binary layers' results and
the ApplyAlpha's scale and bias get the default ``fixed<16,6,TRN,WRAP>``, and a Flatten after them
stays a Reshape with a dangling shape input. Measured on digits (two conv + two dense layers, all
binary, BatchNorm): torch 0.83 test accuracy, C-sim 0.13, argmax agreement 0.14 (one binary conv
among 4-bit layers agreed on 50 of 50 images). Not supported end to end, so not offered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["QatCnnSpec", "build_float_cnn", "build_qat_cnn", "fold_batchnorm", "load_qat_cnn"]

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
        weight_bits: weight bits per layer (conv blocks, dense layers, classifier), 2..16 (no
            1-bit: see the module docstring).
        act_bits: activation bits per ReLU (conv blocks, then hidden dense layers), 2..16.
        input_bits: bits of the signed input quantizer.
        batch_norm: a BatchNorm after every conv (folded into the conv before export).
        learned_scales: weight scales are learned powers of two (initialised from the weights'
            maximum) instead of recomputed from it at every step.
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
    batch_norm: bool = False
    learned_scales: bool = False

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


def _quantizers(bits: int, kind: str, learned: bool = False) -> Any:
    from brevitas.inject.enum import ScalingImplType
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
    elif learned:
        # A parameter initialised from the weights' max at the first forward, then trained; the
        # power-of-two restriction (log2 domain, ceil with a straight-through gradient) is the base's.
        attrs["scaling_impl_type"] = ScalingImplType.PARAMETER_FROM_STATS
    suffix = "Learned" if learned and kind == "weight" else ""
    return type(f"{kind.title()}{bits}FixedPoint{suffix}", (base,), attrs)


def _norm(spec: QatCnnSpec, channels: int, folded: bool) -> list[Any]:
    """The BatchNorm slot after a conv: BatchNorm2d, an Identity once folded, nothing without BN.

    Why an Identity once folded: the layer indices (the state dict's keys) stay those of the
    trained model, so folded weights load into ``build_qat_cnn(spec, folded=True)`` by name.
    """
    import torch.nn as nn

    if not spec.batch_norm:
        return []
    return [nn.Identity() if folded else nn.BatchNorm2d(channels)]


def build_qat_cnn(spec: QatCnnSpec, *, folded: bool = False) -> Any:
    """A brevitas ``nn.Module`` for ``spec`` (returns logits).

    ``folded``: the layout of a model whose BatchNorms ``fold_batchnorm`` has folded (an Identity
    in each BatchNorm's place), to load weights saved after folding.
    """
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
                weight_quant=_quantizers(spec.weight_bits[index], "weight", spec.learned_scales),
                bias_quant=Int16Bias,
            ),
            *_norm(spec, out_channels, folded),
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
                weight_quant=_quantizers(spec.weight_bits[index], "weight", spec.learned_scales),
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
            weight_quant=_quantizers(spec.weight_bits[index], "weight", spec.learned_scales),
            bias_quant=Int16Bias,
        )
    )
    return nn.Sequential(*layers)


def load_qat_cnn(spec: QatCnnSpec, weights: str | Path) -> Any:
    """The QAT CNN of ``spec`` with the trained weights a search saved (``torch.save`` of its
    ``state_dict``, BatchNorms folded), on the CPU, ready to export or simulate."""
    import torch

    model = build_qat_cnn(spec, folded=True)
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
        conv = nn.Conv2d(channels, out_channels, kernel, padding=kernel // 2)
        layers += [conv, *_norm(spec, out_channels, folded=False), nn.ReLU()]
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


def fold_batchnorm(model: Any, *, inplace: bool = False) -> Any:
    """A copy of ``model`` (an ``nn.Sequential``) with each BatchNorm folded into the conv before it.

    ``inplace``: fold into ``model`` itself (its conv parameters stay the same tensors, so an
    optimizer holding them trains on: ``search.training`` folds this way part-way through QAT).

    In eval mode a BatchNorm is ``y = gamma * (x - mean) / sqrt(var + eps) + beta``, per channel:
    with ``s = gamma / sqrt(var + eps)`` the conv's weights become ``w * s`` and its bias
    ``beta + (b - mean) * s``, and the BatchNorm an Identity. A float model's outputs are unchanged
    (up to rounding); a quantized conv's weight quantizer then quantizes the folded weights (a
    learned scale is re-initialised from them, as at the start of training). A model without a
    BatchNorm comes back as it is. Raises ValueError for a BatchNorm that follows no conv.
    """
    import copy

    import torch
    import torch.nn as nn

    if not any(isinstance(m, nn.BatchNorm2d) for m in model):
        return model
    folded = model if inplace else copy.deepcopy(model)
    for index, norm in enumerate(folded):
        if not isinstance(norm, nn.BatchNorm2d):
            continue
        conv = folded[index - 1] if index else None
        if not isinstance(conv, nn.Conv2d):
            raise ValueError(f"layer {index} is a BatchNorm that follows no conv: nothing to fold it into")
        if norm.training:
            raise ValueError("fold_batchnorm folds running statistics: call model.eval() first")
        assert norm.running_var is not None and norm.running_mean is not None
        with torch.no_grad():
            scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
            bias = conv.bias if conv.bias is not None else torch.zeros_like(norm.running_mean)
            conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
            new_bias = norm.bias + (bias - norm.running_mean) * scale
            if conv.bias is None:
                conv.bias = nn.Parameter(new_bias)
            else:
                conv.bias.copy_(new_bias)
        _reinit_learned_scale(conv)
        folded[index] = nn.Identity()
    _log.debug("folded the BatchNorms of a %d-layer model", len(folded))
    return folded


def _reinit_learned_scale(conv: Any) -> None:
    """A learned weight scale starts again from the (folded) weights' maximum, now."""
    quant = getattr(conv, "weight_quant", None)
    impl = getattr(getattr(quant, "tensor_quant", None), "scaling_impl", None)
    if impl is None or not hasattr(impl, "init_done"):
        return  # a float conv, or a scale recomputed from the weights at every step
    import torch

    with torch.no_grad():
        impl.init_done = False
        impl.value.fill_(1.0)
        conv.quant_weight()  # the first forward initialises the scale from the current weights
