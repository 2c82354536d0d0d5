"""Per-layer cost terms: what each piece of an hls4ml layer costs, as coefficient x feature.

Why terms and not a formula per metric: every metric of a layer is a short sum of named pieces of
hardware (``coefficient * feature``: a feature counts something hls4ml's templates instantiate, such
as multiplier lanes, input bits or reuse steps), so one function serves the estimate (multiply by
the fitted coefficients), the calibration (features are the columns of a least-squares problem) and
``explain`` (each term says what it prices). A term whose coefficient is None is structural: a count
read off the templates and the HLS tool's documented binding rules (DSPs per multiply, BRAM blocks
of a ROM), not fitted.

The kernels themselves are priced in ``_mac`` (Dense/Conv: ``nnet_dense_resource.h``,
``nnet_dense_latency.h``, ``nnet_conv2d_stream.h``) and ``_elementwise`` (activations, casts, pooling,
batch norm, softmax, padding); FIFOs and the dataflow composition are in ``_estimate``.
"""

from __future__ import annotations

import logging

from hil.cost._elementwise import elementwise_terms
from hil.cost._mac import mac_terms
from hil.cost._spec import MAC_KINDS, LayerSpec
from hil.cost._target import Target
from hil.cost._term import METRICS, LayerTerms, Term

__all__ = ["METRICS", "LayerTerms", "Term", "layer_terms"]

_log = logging.getLogger(__name__)


def layer_terms(
    spec: LayerSpec, p: dict[str, float], target: Target, in_beats: int = 0, *, record: bool = False
) -> LayerTerms:
    """Cost terms of one layer; ``p`` maps coefficient names to values (read by data-dependent features).

    Args:
        spec: the layer.
        p: coefficients (some features depend on already-fitted ones, e.g. how many constant
            multiplies end up in DSPs decides how many are priced as fabric).
        target: tool, device family and clock.
        in_beats: stream beats the layer reads per image when known from the network (a Dense after
            a flattened conv reads one beat per pixel); 0 means one beat.
        record: keep the terms themselves (calibration, explain), not only their sums.
    """
    if spec.kind in MAC_KINDS:
        return mac_terms(spec, p, target, in_beats, record)
    return elementwise_terms(spec, p, target, record)
