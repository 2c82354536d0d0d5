"""The design-description reader (costdata/lowbit format, version 1): the whole format, real data,
and one-line errors for bad files; old records and params files keep loading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hil.cost import LayerKind, Strategy, load_params, parse_precision, read_cost_data
from hil.cost._design_format import read_designs
from hil.cost._target import DeviceFamily, HlsTool
from hil.errors import InputError
from tests._shared import require_shared

LOWBIT = "costdata/lowbit/hls4ml_lowbit_calib.jsonl"


def _layer(cls: str, shape_in: list[int], shape_out: list[int], **kw: Any) -> dict[str, Any]:
    return {
        "class": cls,
        "name": cls.lower(),
        "in_shape": shape_in,
        "out_shape": shape_out,
        "result_t": "ap_fixed<16,6>",
        "n_params": 0,
        "truth": None,
        **kw,
    }


def _every_class_design() -> dict[str, Any]:
    mac = {
        "use_bias": True,
        "strategy": "Resource",
        "reuse_factor": 10,
        "reuse_factor_effective": 9,
        "input_t": "ap_fixed<16,6>",
        "weight_t": "ap_fixed<4,1>",
        "bias_t": "ap_fixed<4,1>",
        "accum_t": "ap_fixed<24,10>",
        "n_zeros": 5,
    }
    layers = [
        _layer("Input", [8, 8, 1], [8, 8, 1], result_t="ap_uint<8>"),
        _layer(
            "Activation",
            [8, 8, 1],
            [8, 8, 1],
            activation="linear",
            reuse_factor=1,
            input_t="ap_uint<8>",
            result_t="ap_fixed<8,1,AP_RND_CONV,AP_SAT>",
        ),
        _layer("ZeroPadding2D", [8, 8, 1], [10, 10, 1], input_t="ap_fixed<8,1,AP_RND_CONV,AP_SAT>"),
        _layer(
            "Conv2D",
            [10, 10, 1],
            [8, 8, 4],
            kernel=[3, 3],
            stride=[1, 1],
            padding="valid",
            n_filt=4,
            conv_implementation="LineBuffer",
            **{**mac, "input_t": "ap_fixed<8,1>"},
        ),
        _layer(
            "Conv2DBatchnorm",
            [8, 8, 4],
            [8, 8, 4],
            kernel=[1, 1],
            stride=[1, 1],
            padding="same",
            n_filt=4,
            conv_implementation=None,
            **{**mac, "strategy": "Latency"},
        ),
        _layer(
            "BatchNormalization",
            [8, 8, 4],
            [8, 8, 4],
            input_t="ap_fixed<16,6>",
            reuse_factor=1,
            scale_t="ap_fixed<16,6>",
            bias_t="ap_fixed<16,6>",
        ),
        _layer(
            "HardActivation",
            [8, 8, 4],
            [8, 8, 4],
            activation="hard_tanh",
            reuse_factor=1,
            slope=0.2,
            shift=0.5,
            slope_t="ap_fixed<16,6>",
            shift_t="ap_fixed<16,6>",
            input_t="ap_fixed<16,6>",
        ),
        _layer(
            "Pooling2D",
            [8, 8, 4],
            [4, 4, 4],
            pool_op="Average",
            kernel=[2, 2],
            stride=[2, 2],
            padding="valid",
            reuse_factor=1,
            conv_implementation="LineBuffer",
            accum_t="ap_fixed<18,8>",
            input_t="ap_fixed<16,6>",
        ),
        _layer("Reshape", [4, 4, 4], [64], input_t="ap_fixed<16,6>"),
        _layer("Dense", [64], [10], **mac),
        _layer(
            "Activation",
            [10],
            [10],
            activation="relu",
            reuse_factor=1,
            input_t="ap_fixed<16,6>",
            result_t="ap_ufixed<6,0,AP_RND_CONV,AP_SAT>",
        ),
        _layer(
            "Softmax",
            [10],
            [10],
            activation="softmax",
            reuse_factor=1,
            implementation="stable",
            table_size=1024,
            exp_table_t="ap_fixed<18,8>",
            inv_table_t="ap_fixed<18,4>",
            input_t="ap_ufixed<6,0,AP_RND_CONV,AP_SAT>",
        ),
    ]
    layers[3]["truth"] = {
        "level": "hls",
        "lut": 900,
        "ff": 500,
        "dsp": 1,
        "bram_18k": 1,
        "uram": 0,
        "latency_min": 400,
        "latency_max": 1401,
        "ii_min": 400,
        "ii_max": 1401,
    }
    return {
        "format_version": 1,
        "id": "every_class",
        "family": "synthetic",
        "source": {"repo": "o/n", "commit": "0" * 40, "files": []},
        "confidence": "medium",
        "tool": {"hls4ml": "1.3.0", "hls": "Vivado HLS 2020.1", "assumed": []},
        "part": "xc7z020clg400-1",
        "part_resources": None,
        "clock_target_ns": 10.0,
        "clock_estimated_ns": None,
        "clock_uncertainty_ns": None,
        "io_type": "io_stream",
        "backend": "Vivado",
        "layers": layers,
        "truth": {
            "level": "hls",
            "lut": 12000,
            "ff": 9000,
            "dsp": 12,
            "bram_18k": 6,
            "uram": 0,
            "latency_min": 1500,
            "latency_max": 1700,
            "ii_min": 1402,
            "ii_max": 1402,
        },
        "truth_vivado": None,
        "caveats": [],
    }


def test_reads_every_class_of_the_format(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(_every_class_design()) + "\n")
    (design,) = read_designs(path)
    kinds = [s.kind for s in design.layers]
    assert kinds == [
        LayerKind.ACTIVATION,
        LayerKind.ZEROPADDING,
        LayerKind.CONV2D,
        LayerKind.CONV2D,
        LayerKind.BATCHNORM,
        LayerKind.ACTIVATION,
        LayerKind.POOLING2D,
        LayerKind.RESHAPE,
        LayerKind.DENSE,
        LayerKind.ACTIVATION,
        LayerKind.SOFTMAX,
    ]
    quant, _pad, conv, convbn, bn, hard, pool, _flat, dense, relu, softmax = design.layers
    assert quant.act_bits == 8 and not quant.act_signed and quant.result_int_bits == 1
    assert quant.result_rounding and quant.result_saturation
    assert conv.reuse_factor == 9 and conv.strategy is Strategy.RESOURCE and conv.n_zeros == 5
    assert (
        conv.weight_bits == 4
        and conv.weight_int_bits == 1
        and conv.acc_bits == 24
        and conv.acc_int_bits == 10
    )
    assert conv.implementation == "linebuffer" and conv.stride == (1, 1)
    assert convbn.padding == "same" and convbn.strategy is Strategy.LATENCY
    assert bn.weight_bits == 16 and hard.activation == "hard_tanh"
    assert pool.activation == "average" and pool.acc_bits == 18 and pool.strides == (2, 2)
    assert dense.in_shape == (64,) and relu.result_signed is False
    assert softmax.table_size == 1024 and softmax.implementation == "stable"
    assert design.layer_truth[0].index == 2 and design.layer_truth[0].truth["latency"] == 1401
    assert design.target.hls is HlsTool.VIVADO and design.target.family is DeviceFamily.SERIES7
    assert design.part_resources and design.part_resources["lut"] == 53200  # from hil's part table
    assert design.truth["ii"] == 1402 and design.confidence == "medium"
    rows = read_cost_data([path])
    assert rows[0].family == "synthetic" and rows[0].weight < 1.0


def test_reads_the_shared_calibration_file() -> None:
    rows = read_cost_data([require_shared(LOWBIT)])
    assert len(rows) == 71
    assert sum(len(r.layer_truth) for r in rows) == 42
    assert {r.family for r in rows} == {"tsopeter_conv2d", "svhn_cnn", "jet_mlp"}
    best = next(r for r in rows if r.name == "tsopeter_best_c1110_d000_t30")
    assert best.target.family is DeviceFamily.SERIES7 and best.target.hls is HlsTool.VITIS
    assert best.part_resources == {"lut": 20800, "ff": 41600, "dsp": 90, "bram_18k": 100, "uram": 0}
    conv1 = next(s for s in best.layers if s.name == "conv1")
    assert conv1.reuse_factor == 50 and conv1.stride == (2, 2) and conv1.n_zeros == 6


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda d: d.update(format_version=2), "format_version 2"),
        (lambda d: d.pop("layers"), "missing key 'layers'"),
        (lambda d: d["layers"][3].update({"class": "Conv3D"}), "unknown layer class 'Conv3D'"),
        (lambda d: d["layers"][3].update(weight_t="ap_fixed<4>"), "layers[3]"),
        (lambda d: d["layers"][9].update(reuse_factor_effective=None, reuse_factor="x"), "reuse_factor"),
        (lambda d: d["layers"][3].update(in_shape=[10, -1, 1]), "in_shape"),
        (lambda d: d.update(io_type="io_serial"), "io_type"),
        (lambda d: d["truth"].update(lut="many"), "truth"),
        (lambda d: d["layers"][3].update(kernel=[3]), "kernel"),
    ],
)
def test_bad_design_file_is_one_line_exit_2(tmp_path: Path, run_cli, edit, needle: str) -> None:  # type: ignore[no-untyped-def]
    design = _every_class_design()
    edit(design)
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(design) + "\n")
    code, _out, err = run_cli("costmodel", "check", "--data", str(path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and str(path) in err and needle in err, err


def test_precision_strings() -> None:
    p = parse_precision("ap_ufixed<6,0,AP_RND_CONV,AP_SAT>")
    assert (p.width, p.integer, p.signed, p.rounding, p.saturation) == (6, 0, False, True, True)
    assert parse_precision("ap_int<8>").integer == 8 and not parse_precision("ap_uint<3>").signed
    assert parse_precision("fixed<16,6>").fraction == 10
    assert parse_precision("ap_fixed<8,1,AP_TRN,AP_WRAP,0>").rounding is False
    with pytest.raises(InputError):
        parse_precision("ap_fixed<8,1,AP_ROUND>")


def test_old_params_file_and_old_records_keep_loading(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from hil.cli import main
    from hil.cost import LayerSpec, layer_from_dict
    from hil.records import MeasureResult, Metric, Provenance, append_results

    old = {
        "format": "hil.cost.params/1",
        "coefficients": {
            "lut.layer": 308.7,
            "lut.input_bit": 3.0,
            "latency.pixel": 4.65,
            "mult.lut_max_bits": 10,
        },
        "fitted_on": ["ntorc_dense.csv"],
        "calibrated_kinds": ["dense"],
        "calibrated_bits": [16],
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    params = load_params(path)  # the first model's file: loads, its coefficients ignored, and says so
    assert params.coefficients == load_params_default().coefficients
    assert "lut.input_bit" in params.notes["ignored_params_1"]
    # A record written before the new LayerSpec fields existed.
    spec = layer_from_dict(
        {
            "kind": "dense",
            "in_shape": [16],
            "out_shape": [4],
            "kernel": [],
            "weight_bits": 16,
            "act_bits": 16,
            "result_bits": 16,
            "acc_bits": 16,
            "reuse_factor": 4,
            "strategy": "resource",
            "io_type": "io_stream",
            "activation": "linear",
            "name": "d",
        }
    )
    assert isinstance(spec, LayerSpec) and spec.n_zeros == 0 and spec.padding == "valid"
    record = MeasureResult(
        design_key="old",
        metrics={"lut": Metric(value=3000.0, provenance=Provenance.HLS)},
        candidate={
            "layers": [
                {
                    "kind": "dense",
                    "in_shape": [16],
                    "out_shape": [4],
                    "reuse_factor": 4,
                    "strategy": "resource",
                }
            ],
            "clock_mhz": 200.0,
        },
    )
    records = tmp_path / "r.jsonl"
    append_results(records, [record])
    assert main(["costmodel", "check", "--data", str(records), "--params", str(path), "--json"]) in (0, 1)
    assert json.loads(capsys.readouterr().out)["rows"] == 1


def load_params_default():  # type: ignore[no-untyped-def]
    from hil.cost import default_params

    return default_params()
