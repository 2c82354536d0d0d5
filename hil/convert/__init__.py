"""Conversion of ingested models to hls4ml designs, and their bit-accurate C simulation."""

from hil.convert._csim import (
    CSimResult,
    cache_root,
    compare_outputs,
    compile_cached,
    emulator_check,
    run_csim,
)
from hil.convert._hls import accelerator_boards, build_hls_config, convert_model, summarize
from hil.convert._options import (
    BACKENDS,
    IO_TYPES,
    STRATEGIES,
    ConversionOptions,
    parse_precision,
    parse_shape,
)
from hil.convert._pipeline import ConversionResult, convert, csim_inputs
from hil.convert._reuse import ReusePlan, choose_reuse, config_layer_name, overflow_hint, resolve_reuse

__all__ = [
    "BACKENDS",
    "IO_TYPES",
    "STRATEGIES",
    "ConversionOptions",
    "ConversionResult",
    "CSimResult",
    "accelerator_boards",
    "build_hls_config",
    "cache_root",
    "compare_outputs",
    "compile_cached",
    "convert",
    "convert_model",
    "csim_inputs",
    "emulator_check",
    "parse_precision",
    "parse_shape",
    "run_csim",
    "summarize",
    "ReusePlan",
    "choose_reuse",
    "config_layer_name",
    "overflow_hint",
    "resolve_reuse",
]
