"""Analytic FPGA cost model of hls4ml designs, calibrated on real HLS results.

Estimates (provenance ``estimate``) predict the HLS csynth report: LUT, FF, DSP, BRAM (18 Kb
blocks), II, latency and throughput, per layer and in total, from a light layer spec
(``LayerSpec``) or an hls4ml model (``spec_from_hls_model``), in microseconds per network;
``estimate_many`` prices thousands of networks in one call (the same totals and bands, tens of
microseconds each).
"""

from hil.cost._batch import BatchEstimate, estimate_many
from hil.cost._calibrate import calibrate
from hil.cost._check import (
    CHECK_METRICS,
    CV_MODES,
    CheckReport,
    MetricReport,
    check,
    cross_validate,
    cv_summary,
    predict_row,
)
from hil.cost._data import CostRow, read_cost_data
from hil.cost._estimate import CALIBRATED, EXTRAPOLATED, Estimate, LayerEstimate, estimate, estimate_layer
from hil.cost._fits import FitReport, fits
from hil.cost._hls import spec_from_hls_model
from hil.cost._params import CostParams, default_params, load_params, save_params
from hil.cost._precision import Precision, parse_precision
from hil.cost._reuse import closest_reuse_factor, valid_reuse_factors
from hil.cost._spec import IOType, LayerKind, LayerSpec, Strategy, layer_from_dict, layer_to_dict
from hil.cost._synth import SynthPair
from hil.cost._target import DeviceFamily, HlsTool, Target, target_for

__all__ = [
    "LayerSpec",
    "LayerKind",
    "Strategy",
    "IOType",
    "layer_to_dict",
    "layer_from_dict",
    "estimate",
    "estimate_layer",
    "estimate_many",
    "BatchEstimate",
    "Estimate",
    "LayerEstimate",
    "CALIBRATED",
    "EXTRAPOLATED",
    "fits",
    "FitReport",
    "spec_from_hls_model",
    "CostParams",
    "default_params",
    "load_params",
    "save_params",
    "valid_reuse_factors",
    "closest_reuse_factor",
    "CostRow",
    "read_cost_data",
    "calibrate",
    "check",
    "cross_validate",
    "cv_summary",
    "predict_row",
    "CheckReport",
    "MetricReport",
    "CHECK_METRICS",
    "CV_MODES",
    "Precision",
    "parse_precision",
    "Target",
    "HlsTool",
    "DeviceFamily",
    "target_for",
    "SynthPair",
]
