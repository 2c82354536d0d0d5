"""C simulation of trained models: bit-exact QAT, float argmax agreement, the narrow-precision
control, and the compiled-library cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests._models import TrainedModel

pytestmark = pytest.mark.slow


def _convert_json(run_cli, model: Path, out: Path, *extra: object) -> tuple[int, dict]:
    code, stdout, stderr = run_cli("convert", model, "--board", "zcu104", "--out", out, "--json", *extra)
    assert code in (0, 1), stderr
    return code, json.loads(stdout)


def test_qat_cnn_cifar_is_bit_exact_against_qonnx(run_cli, cifar_cnn: TrainedModel, tmp_path: Path) -> None:
    """4-bit brevitas CNN trained on CIFAR-10 images: every output equals qonnx execution bit for bit."""
    assert cifar_cnn.accuracy > 0.25, f"the QAT CNN did not learn (test accuracy {cifar_cnn.accuracy:.3f})"
    inputs, labels = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(inputs, cifar_cnn.x_test)
    np.save(labels, cifar_cnn.y_test)
    code, summary = _convert_json(
        run_cli,
        cifar_cnn.path,
        tmp_path / "prj",
        "--csim",
        len(cifar_cnn.x_test),
        "--inputs",
        inputs,
        "--labels",
        labels,
    )
    assert code == 0
    assert summary["format"] == "qonnx" and summary["input_shape"] == [1, 3, 32, 32]
    assert summary["input_quantizer"]["bit_width"] == 8.0
    csim = summary["csim"]
    assert csim["n_inputs"] == len(cifar_cnn.x_test)
    assert csim["bit_identical_fraction"] == 1.0 and csim["max_abs_error"] == 0.0
    assert csim["argmax_agreement"] == 1.0
    assert csim["hls_accuracy"] == csim["reference_accuracy"] > 0.25
    emulator = summary["emulator"]  # hil's bit-exact emulator on the same inputs
    assert emulator["n"] == len(cifar_cnn.x_test) and emulator["bit_identical"] == 1.0, emulator
    weights = [layer["precision"]["weight"] for layer in summary["layers"] if "weight" in layer["precision"]]
    assert weights and all(w.startswith("ap_fixed<4,") for w in weights), weights
    assert (tmp_path / "prj" / "firmware" / "myproject.cpp").is_file()


@pytest.mark.parametrize("name", ["dense", "conv_ts", "conv_ep"])
def test_float_models_agree_at_16_bits_and_cache_the_build(
    run_cli,
    digits_models: dict[str, TrainedModel],
    tmp_path: Path,
    name: str,
) -> None:
    model = digits_models[name]
    assert model.accuracy > 0.85, f"{name} did not learn (test accuracy {model.accuracy:.3f})"
    inputs, labels = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(inputs, model.x_test)
    np.save(labels, model.y_test)
    args: tuple[object, ...] = (
        "--precision",
        "ap_fixed<16,6>",
        "--csim",
        len(model.x_test),
        "--inputs",
        inputs,
        "--labels",
        labels,
    )
    if name == "conv_ts":  # TorchScript records no input shape
        args += ("--input-shape", "1,1,8,8")
    code, first = _convert_json(run_cli, model.path, tmp_path / "prj", *args, "--min-agreement", "0.95")
    assert code == 0 and first["passed"]
    csim = first["csim"]
    assert csim["argmax_agreement"] >= 0.95, csim
    assert csim["distinct_classes"] >= 5
    assert csim["hls_accuracy"] > 0.85
    assert not csim["cache_hit"] and csim["compile_seconds"] > 0.5
    assert first["emulator"]["bit_identical"] == 1.0 and first["emulator"]["max_abs_diff"] == 0.0
    if name == "dense":
        assert first["layers"][-1]["class"] == "Softmax"

    code, second = _convert_json(run_cli, model.path, tmp_path / "prj2", *args)
    assert code == 0 and second["design_key"] == first["design_key"]
    assert second["csim"]["cache_hit"] and second["csim"]["compile_seconds"] == 0.0
    assert second["csim"]["argmax_agreement"] == csim["argmax_agreement"]


def test_too_narrow_precision_reports_mismatch_and_fails(
    run_cli, digits_models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model = digits_models["dense"]
    inputs = tmp_path / "x.npy"
    np.save(inputs, model.x_test)
    code, summary = _convert_json(
        run_cli, model.path, tmp_path / "prj", "--precision", "ap_fixed<4,1>", "--csim", 200,
        "--inputs", inputs, "--min-agreement", "0.95",
    )  # fmt: skip
    assert code == 1 and summary["passed"] is False
    assert summary["csim"]["argmax_agreement"] < 0.95
    assert summary["csim"]["max_abs_error"] > 0.1
    assert summary["emulator"]["bit_identical"] == 1.0  # a wrong design is emulated as wrong, exactly


def test_random_inputs_when_no_data_given(
    run_cli, digits_models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    code, summary = _convert_json(
        run_cli, digits_models["conv_ts"].path, tmp_path / "prj", "--csim", 16, "--input-shape", "1,1,8,8"
    )
    assert code == 0 and summary["csim"]["n_inputs"] == 16 and summary["format"] == "torchscript"
    assert summary["csim"]["mean_abs_error"] < 0.05 and summary["csim"]["argmax_agreement"] >= 0.9
    assert summary["emulator"] == {**summary["emulator"], "n": 16, "bit_identical": 1.0}


def test_torchscript_without_shape_asks_for_it(
    run_cli, digits_models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    code, _out, err = run_cli(
        "convert", digits_models["conv_ts"].path, "--board", "zcu104", "--out", tmp_path / "p"
    )
    assert code == 2 and "--input-shape" in err and err.count("\n") == 1


def test_qat_cnn_raw_float_inputs_are_rounded_once(cifar_cnn: TrainedModel, tmp_path: Path) -> None:
    """Raw (off-grid) images: the input type is the quantizer's grid, so hls4ml rounds once, like qonnx."""
    from hil.convert import ConversionOptions, convert, run_csim
    from hil.inventory import load_inventory

    result = convert(
        cifar_cnn.path, load_inventory().board("zcu104"), ConversionOptions(), output_dir=tmp_path / "p"
    )
    q = result.model.input_quantizer
    assert q is not None
    integer_bits = 8 + int(np.log2(float(q.scale)))
    expected = f"ap_fixed<8,{integer_bits},AP_RND_CONV,AP_SAT"
    assert result.summary()["layers"][0]["precision"]["result"].startswith(expected)
    raw = cifar_cnn.x_test[:100]
    assert not np.array_equal(q.snap(raw), raw), "test images should be off the grid"
    csim = run_csim(result.hls_model, result.key, raw, result.model.reference)
    assert csim.bit_identical_fraction == 1.0 and csim.max_abs_error == 0.0
    assert csim.emulator is not None and csim.emulator["bit_identical"] == 1.0  # raw inputs too


def test_layer_overrides_set_reuse_and_strategy_per_layer(
    digits_models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    from hil.convert import ConversionOptions, convert
    from hil.errors import InputError
    from hil.inventory import load_inventory

    board = load_inventory().board("zcu104")
    model = digits_models["conv_ep"].path
    options = ConversionOptions(layer_overrides=(("Conv_1", 8, "Resource"),))
    result = convert(model, board, options, output_dir=tmp_path / "p")
    layers = {layer["name"]: layer for layer in result.summary()["layers"]}
    conv0, conv1 = layers["Conv2D_Conv_0"], layers["Conv2D_Conv_1"]
    assert conv1["reuse_factor"] == 8 and conv1["strategy"].lower() == "resource"
    assert conv0["reuse_factor"] == 1
    plain = convert(model, board, ConversionOptions(), output_dir=tmp_path / "q")
    assert plain.key != result.key
    with pytest.raises(InputError, match="layer override Conv_9: no such layer"):
        convert(
            model,
            board,
            ConversionOptions(layer_overrides=(("Conv_9", 2, "Resource"),)),
            output_dir=tmp_path / "r",
        )
