"""Building the hls4ml configuration and model for an ingested graph.

Precision policy (why it looks like this):
- QONNX models carry their own precisions in Quant nodes; hls4ml infers the rest ('auto'),
  and ``options.precision`` only fills what no quantizer fixes.
- Float models get ``options.precision`` on every weight, bias and layer result; accumulators
  stay 'auto' (lossless), as hls4ml sizes them.
- A Softmax needs a bounded input type: hls4ml indexes its exp table with the input's top
  bits, so a 38-bit 'auto' result in front of it gave 9 % argmax agreement here. The layers
  feeding a Softmax get ``options.precision``; the Softmax itself uses the 'stable'
  implementation with a 4096-entry table and an unsigned 16-bit output in [0, 1).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

from hil.convert._options import FIXED_PRECISION, ConversionOptions
from hil.errors import HilError, InputError, UnsupportedModelError
from hil.ingest import IngestedModel, ModelFormat

__all__ = ["accelerator_boards", "build_hls_config", "convert_model", "input_precision", "summarize"]

_log = logging.getLogger(__name__)

#: Ops a Softmax's input passes through without being re-quantized.
_LINEAR_OPS = {"MatMul", "Add", "Sub", "Mul", "Conv", "BatchNormalization", "Reshape", "Flatten", "Transpose"}
_SOFTMAX_OUTPUT = "ap_ufixed<16,0,AP_RND,AP_SAT>"
#: Table and result types of squashing activations of float models: their whole range is (0, 1)
#: or (-1, 1), so the bits go to the fraction.
_SQUASH_TYPES = {
    "Sigmoid": ("ap_ufixed<18,0,AP_RND,AP_SAT>", "ap_ufixed<16,0,AP_RND,AP_SAT>"),
    "Tanh": ("ap_fixed<18,1,AP_RND,AP_SAT>", "ap_fixed<16,1,AP_RND,AP_SAT>"),
}
_SOFTMAX_TABLES = "ap_fixed<18,8,AP_RND,AP_SAT>"


def accelerator_boards() -> list[str]:
    """Boards hls4ml's VivadoAccelerator backend has board files for, plus hil's own (zcu104)."""
    from importlib import resources

    from hil.convert.accelerator_boards import register_accelerator_boards

    table = resources.files("hls4ml.backends.vivado_accelerator").joinpath("supported_boards.json")
    return sorted(set(json.loads(table.read_text())) | set(register_accelerator_boards()))


#: Heads whose output saturates for large inputs: a wrapped input flips their answer.
_SQUASHING_OPS = {"Softmax", "Sigmoid", "Tanh", "HardSigmoid"}


def _softmax_feeders(graph: Any) -> set[str]:
    """Layers whose results reach a Softmax/Sigmoid/Tanh through linear ops only (see ``saturating``)."""
    names: set[str] = set()
    for node in graph.graph.node:
        if node.op_type not in _SQUASHING_OPS:
            continue
        frontier = [node.input[0]]
        while frontier:
            producer = graph.find_producer(frontier.pop())
            if producer is None or producer.op_type not in _LINEAR_OPS:
                continue
            names.add(producer.name)
            frontier.extend(i for i in producer.input if graph.get_initializer(i) is None)
    return names


def _softmax_norm_type(precision: str) -> str:
    """The type of ``x_max - x_i`` in hls4ml's stable Softmax, saturating instead of wrapping.

    Why: hls4ml derives it from the input type without its sign bit (ap_fixed<16,6> ->
    ap_ufixed<15,5>, up to 32), so logits spanning more than that (-36 to +20 was seen here on
    random inputs) wrap: a class 56 below the maximum got half the probability. Saturating keeps
    the same table indexing and gives such a class exp(-32) ~ 0, as it should.
    """
    match = FIXED_PRECISION.match(precision.strip())
    if match is None:
        return "ap_ufixed<15,5,AP_RND,AP_SAT>"
    width, integer = int(match["width"]), int(match["int"])
    signed = match["sign"] != "u"
    return f"ap_ufixed<{width - signed},{integer - signed},AP_RND,AP_SAT>"


def saturating(precision: str) -> str:
    """The same fixed-point type with saturation, unless the user chose an overflow mode.

    Why for the logits feeding a Softmax: with hls4ml's default wrap-around, a logit just above
    the type's range wraps to a large negative value and the Softmax picks another class with
    full confidence (seen here: a 99 %-sure digit flipped at ap_fixed<16,6>); saturation keeps
    the order of large logits up to the type's maximum.
    """
    match = FIXED_PRECISION.match(precision.strip())
    if match is None or match["o"]:  # not a fixed type, or the user chose an overflow mode
        return precision
    quantization = match["q"] or "AP_TRN"
    return f"ap_{match['sign']}fixed<{match['width']},{match['int']},{quantization},AP_SAT>"


def input_precision(model: IngestedModel) -> str | None:
    """An input type that rounds raw floats exactly as the model's input quantizer does.

    Why: hls4ml converts the float input to the input layer's type, then the quantizer layer
    rounds again; with a default ap_fixed<16,6> input that double rounding differs from qonnx
    by one step on ~0.1 % of values. When the quantizer has one power-of-two scale and no zero
    point, the input type itself can be the quantizer's grid (round-half-even, saturating), so
    raw inputs are rounded once, as qonnx does. Returns None when that is not possible.
    """
    import math

    quantizer = model.input_quantizer
    if quantizer is None or quantizer.scale.size != 1 or float(quantizer.zero_point.max(initial=0.0)) != 0.0:
        return None
    scale = float(quantizer.scale.reshape(-1)[0])
    exponent = math.log2(scale) if scale > 0 else float("nan")
    width = quantizer.bit_width
    if (
        not exponent.is_integer()
        or not float(width).is_integer()
        or quantizer.rounding_mode.upper() != "ROUND"
    ):
        return None
    width_bits = int(width)
    integer_bits = width_bits + int(exponent)  # frac bits = -exponent
    if quantizer.signed:
        overflow = "AP_SAT_SYM" if quantizer.narrow else "AP_SAT"
        return f"ap_fixed<{width_bits},{integer_bits},AP_RND_CONV,{overflow}>"
    return f"ap_ufixed<{width_bits},{integer_bits},AP_RND_CONV,AP_SAT>"


def build_hls_config(model: IngestedModel, options: ConversionOptions) -> dict[str, Any]:
    """The per-layer hls4ml configuration (granularity 'name') for ``model`` under ``options``."""
    from hls4ml.utils.config import config_from_onnx_model

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = config_from_onnx_model(
            model.graph,
            granularity="name",
            backend=options.backend,
            default_precision=options.precision,
            default_reuse_factor=options.reuse_factor,
        )
    config["Model"]["Strategy"] = options.strategy
    config["Model"]["ReuseFactor"] = options.reuse_factor
    is_float = model.format is not ModelFormat.QONNX
    feeders = _softmax_feeders(model.graph)
    grid = input_precision(model)
    if grid is not None and "global_in" in config["LayerName"]:
        config["LayerName"]["global_in"].setdefault("Precision", {})["result"] = grid
    for name, layer in config["LayerName"].items():
        precision = layer.setdefault("Precision", {})
        if "ReuseFactor" in layer:
            layer["ReuseFactor"] = options.reuse_factor
        if name.startswith("Softmax"):
            layer["Implementation"] = options.softmax_implementation
            layer["TableSize"] = options.softmax_table_size
            precision["result"] = _SOFTMAX_OUTPUT
            for table in ("exp_table", "inv_table"):
                precision[table] = _SOFTMAX_TABLES
            layer["inp_norm_t"] = _softmax_norm_type(options.precision)
            continue
        if is_float and name.split("_")[0] in _SQUASH_TYPES:
            # hls4ml's default 18-bit table with 8 integer bits keeps 10 fraction bits of a value in
            # (0, 1): strong classes of a sigmoid head all round to 0.999 and tie (55 % argmax
            # agreement was seen here before saturating its inputs, 95 % after, 100 % with these).
            table, result = _SQUASH_TYPES[name.split("_")[0]]
            layer["TableSize"] = options.softmax_table_size
            layer["table_t"] = table  # hls4ml's Activation reads its table type only from the layer key
            precision["result"] = result
            continue
        if is_float or name in feeders:
            for key, value in list(precision.items()):
                if key != "accum" and value == "auto":
                    precision[key] = options.precision
            if name in feeders and precision.get("result") == options.precision:
                precision["result"] = saturating(options.precision)
    for name, reuse, strategy in options.layer_overrides:
        if name not in config["LayerName"]:
            known = ", ".join(n for n in config["LayerName"] if n.split("_")[0] in ("Conv", "MatMul", "Gemm"))
            raise InputError(f"layer override {name}: no such layer in {model.path} (weight layers: {known})")
        config["LayerName"][name].update({"ReuseFactor": reuse, "Strategy": strategy})
    return config


def convert_model(
    model: IngestedModel,
    options: ConversionOptions,
    *,
    part: str,
    clock_mhz: float,
    output_dir: Path,
    board: str | None = None,
) -> Any:
    """Convert to an hls4ml ModelGraph (not yet written or compiled).

    Raises:
        InputError: VivadoAccelerator asked for a board without accelerator board files.
        UnsupportedModelError: hls4ml failed on a graph that passed hil's checks (exit 2).
    """
    import hls4ml

    kwargs: dict[str, Any] = {}
    if options.backend == "VivadoAccelerator":
        supported = accelerator_boards()
        if board not in supported:
            raise InputError(
                f"--backend VivadoAccelerator needs accelerator board files; board {board!r} has none. "
                f"Supported boards: {', '.join(supported)} (or use --backend Vitis)"
            )
        kwargs["board"] = board
    else:
        # A portable C-sim library has its weights compiled in; the default reads them from txt
        # files by absolute path at run time (2.5x faster to compile, but the library then only
        # runs beside its project folder). hls4ml's VivadoAccelerator backend has no such knob.
        kwargs["write_weights_txt"] = not options.portable_csim
    sink = io.StringIO()
    try:
        config = build_hls_config(model, options)
        with contextlib.redirect_stdout(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hls_model = hls4ml.converters.convert_from_onnx_model(
                model.graph,
                output_dir=str(output_dir),
                project_name="myproject",
                io_type=options.io_type,
                backend=options.backend,
                hls_config=config,
                part=part,
                clock_period=round(1000.0 / clock_mhz, 3),
                **kwargs,
            )
    except HilError:
        raise
    except Exception as exc:  # hls4ml raises bare Exception for most failures
        # A graph that passed hil's checks and still fails is one hls4ml does not implement: the
        # user's to change (exit 2), with the operators named so they know where to look.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        ops = ", ".join(dict.fromkeys(model.ops))
        raise UnsupportedModelError(
            f"{model.path}: hls4ml could not convert the model ({first}); its operators: {ops}"
        ) from None
    _log.debug("hls4ml conversion output:\n%s", sink.getvalue())
    return hls_model


def _type_name(variable_type: Any) -> str:
    precision = getattr(variable_type, "precision", variable_type)
    definition = getattr(precision, "definition_cpp", None)
    return str(definition() if callable(definition) else precision)


def summarize(hls_model: Any) -> list[dict[str, Any]]:
    """Per-layer summary: name, class, precisions, reuse factor and strategy."""
    layers = []
    for layer in hls_model.get_layers():
        entry: dict[str, Any] = {
            "name": layer.name,
            "class": layer.class_name,
            "precision": {key.removesuffix("_t"): _type_name(t) for key, t in layer.types.items()},
        }
        reuse = layer.get_attr("reuse_factor")
        if reuse is not None:
            entry["reuse_factor"] = int(reuse)
        strategy = layer.get_attr("strategy")
        if strategy is not None:
            entry["strategy"] = str(strategy)
        layers.append(entry)
    return layers
