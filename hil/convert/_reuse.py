"""``--reuse auto``: the smallest valid reuse factor per layer that makes a design fit its board.

Why here and with the cost model: a user (``hil convert/build/measure --reuse auto``) and the
search both need "the fastest design of this network that fits", and a RESOURCE_OVERFLOW must
say what would fit. The choice is made on the converted hls4ml model's own layer specs (its real
shapes and precisions) with ``hil.cost``: microseconds per trial, so the greedy below is cheap.

Rule: every multiply-accumulate layer starts at reuse factor 1; while the estimate does not fit,
the layer using most of the *binding* resource moves to its next valid reuse factor (valid as
hls4ml 1.3 validates them, ``hil.cost.valid_reuse_factors``). A layer whose reuse factor is above
1 uses the Resource strategy (the only one the cost model is calibrated for there, and the one
hls4ml needs for large reuse). The result is a set of per-layer overrides
(``ConversionOptions.layer_overrides``), so the design key names the concrete choice.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.convert._options import ConversionOptions
from hil.errors import InputError

__all__ = ["ReusePlan", "choose_reuse", "config_layer_name", "overflow_hint", "resolve_reuse"]

_log = logging.getLogger(__name__)
_MAC_KINDS = ("dense", "conv1d", "conv2d")


@dataclass(frozen=True)
class ReusePlan:
    """The reuse factors chosen per multiply-accumulate layer, and whether they fit.

    Attributes:
        reuse: hls4ml layer name -> reuse factor.
        fits: whether the estimate with these reuse factors fits the board.
        binding: the resource with the highest utilisation at this choice.
        utilisation: used / available per resource at this choice.
        totals: the estimate's totals at this choice (provenance ``estimate``).
    """

    reuse: Mapping[str, int]
    fits: bool
    binding: str
    utilisation: Mapping[str, float]
    totals: Mapping[str, float]

    def describe(self) -> str:
        """``Dense_MatMul_0 16, Dense_MatMul_1 4`` (layers in network order)."""
        return ", ".join(f"{name} {rf}" for name, rf in self.reuse.items())


def _mac(spec: Any) -> bool:
    return str(getattr(spec.kind, "value", spec.kind)) in _MAC_KINDS


def choose_reuse(
    specs: Sequence[Any],
    resources: Any,
    clock_mhz: float,
    *,
    part: str | None = None,
    backend: str | None = None,
    edge: str = "upper",
) -> ReusePlan:
    """The smallest reuse factors per layer that fit ``resources`` by the cost model (see module doc).

    The estimate is made for the board's own device family and HLS tool (a PYNQ-Z2's 7-series
    DSP48E1 and its synthesis ratios, not UltraScale+), and judged at its 80 % band's upper edge.

    Args:
        specs: ``hil.cost.LayerSpec`` of the design, in network order.
        resources: a Board, its Resources or a mapping of available resources.
        clock_mhz: the design clock.
        part: the FPGA part (default: the Board's); sets the device family.
        backend: the hls4ml backend (Vitis, Vivado, VivadoAccelerator); sets the HLS tool.
        edge: ``upper`` (the band's upper edge, default) or ``point``.
    """
    from hil.cost import Strategy, estimate, fits, target_for, valid_reuse_factors

    target = target_for(part=part or getattr(resources, "part", None), backend=backend, clock_mhz=clock_mhz)

    current = list(specs)
    options = {i: valid_reuse_factors(*s.mult_size()) for i, s in enumerate(current) if _mac(s)}
    position = dict.fromkeys(options, 0)

    def with_reuse(i: int) -> Any:
        rf = options[i][position[i]]
        strategy = current[i].strategy if rf == 1 else Strategy.RESOURCE
        return dataclasses.replace(current[i], reuse_factor=rf, strategy=strategy)

    for i in options:
        current[i] = with_reuse(i)
    while True:
        est = estimate(current, clock_mhz=clock_mhz, target=target, level="synth")  # real resources
        fit = fits(resources, est, edge=edge)
        bumpable = [i for i in options if position[i] + 1 < len(options[i])]
        if fit.ok or not bumpable:
            break
        by_name = {le.name: le for le in est.layers}
        i = max(bumpable, key=lambda j: float(getattr(by_name[current[j].name], fit.binding, 0.0) or 0.0))
        position[i] += 1
        current[i] = with_reuse(i)
    reuse = {current[i].name: options[i][position[i]] for i in sorted(options)}
    _log.info("reuse auto: %s (%s)", reuse, "fits" if fit.ok else f"does not fit: {fit.binding}")
    return ReusePlan(reuse, fit.ok, fit.binding, dict(fit.utilisation), dict(est.totals))


def config_layer_name(hls_name: str, config_names: Sequence[str]) -> str:
    """The hls4ml config ("LayerName") key of a converted layer (``Dense_MatMul_0`` -> ``MatMul_0``)."""
    if hls_name in config_names:
        return hls_name
    _, _, rest = hls_name.partition("_")
    if rest in config_names:
        return rest
    raise InputError(f"reuse auto: layer {hls_name} has no entry in the hls4ml configuration")


def _specs_at_reuse_1(model: Any, options: ConversionOptions, board: Any) -> tuple[list[Any], list[str]]:
    from hil.convert._hls import build_hls_config, convert_model
    from hil.cost import spec_from_hls_model

    base = dataclasses.replace(options, reuse_factor=1, layer_overrides=())
    with tempfile.TemporaryDirectory(prefix="hil-reuse-") as scratch:
        hls_model = convert_model(  # one-line errors for a model hls4ml cannot take
            model,
            base,
            part=board.part,
            clock_mhz=board.clock_mhz,
            output_dir=Path(scratch),
            board=board.name,
        )
        specs = spec_from_hls_model(hls_model)
    names = list(build_hls_config(model, base)["LayerName"])  # it converted once: this cannot fail now
    return specs, names


def resolve_reuse(model: Any, board: Any, options: ConversionOptions) -> tuple[ConversionOptions, ReusePlan]:
    """``options`` with per-layer reuse overrides from ``choose_reuse`` (what ``--reuse auto`` means).

    Args:
        model: a model file or an ``hil.ingest.IngestedModel``.
        board: the target ``Board`` (part, clock and resources).
        options: the other conversion options (their reuse factor and overrides are replaced).

    Returns:
        (the options to convert with, the plan). When nothing fits, the options carry the largest
        reuse factors tried and ``plan.fits`` is False: the build then ends RESOURCE_OVERFLOW with
        the plan in its message, rather than the CLI guessing.
    """
    from hil.ingest import IngestedModel, load_model

    ingested = model if isinstance(model, IngestedModel) else load_model(model, options.input_shape)
    specs, names = _specs_at_reuse_1(ingested, options, board)
    plan = choose_reuse(specs, board, board.clock_mhz, part=board.part, backend=options.backend)
    strategy_for = {s.name: s.strategy for s in specs}
    overrides = []
    for name, rf in plan.reuse.items():
        strategy = (
            "Resource" if rf > 1 else str(getattr(strategy_for[name], "value", options.strategy)).title()
        )
        overrides.append((config_layer_name(name, names), rf, strategy))
    return dataclasses.replace(options, layer_overrides=tuple(overrides)), plan


def overflow_hint(
    hls_model: Any, resources: Any, clock_mhz: float, *, part: str | None = None, backend: str | None = None
) -> str:
    """What an overflow message should add: the reuse factors that would fit, or that none does."""
    from hil.cost import spec_from_hls_model

    try:
        plan = choose_reuse(spec_from_hls_model(hls_model), resources, clock_mhz, part=part, backend=backend)
    except Exception as exc:  # a hint must never turn a clear overflow into another failure
        _log.warning("no reuse hint: %s", exc)
        return ""
    if not plan.reuse:
        return ""
    if plan.fits:
        return (
            f"; reuse factors that fit by the cost model: {plan.describe()} "
            f"({plan.binding} at {plan.utilisation[plan.binding]:.0%}): pass --reuse auto"
        )
    return (
        f"; even the largest valid reuse factors ({plan.describe()}) leave {plan.binding} at "
        f"{plan.utilisation[plan.binding]:.0%} by the cost model: use a smaller network, fewer bits "
        "or a larger board"
    )
