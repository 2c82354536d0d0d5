"""Third-party float ONNX models (Softmax/Sigmoid heads, Conv1d, Conv2d, a fixed-batch export) through
`hil convert --csim 100` at ap_fixed<16,6>: they convert and agree on argmax >= 95 %, or exit 2 with
one line naming what hls4ml cannot take; never an internal error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from tests._shared import REPO
from tests.convert_tests._third_party import ThirdPartyModel, third_party_models

NAMES = ("softmax_mlp_fixed_batch", "sigmoid_mlp", "conv1d_softmax", "conv2d_softmax")
PRECISION = "ap_fixed<16,6>"


@pytest.fixture(scope="session")
def third_party(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ThirdPartyModel]:
    return third_party_models(tmp_path_factory.mktemp("third-party"))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_third_party_model_converts_and_agrees(
    run_cli, third_party: dict[str, ThirdPartyModel], name: str, tmp_path: Path
) -> None:
    model = third_party[name]
    assert model.accuracy > 0.8, f"{name} did not train ({model.accuracy:.3f})"
    # as the held-out check runs it: random inputs in [0, 1)
    code, out, err = run_cli(
        "convert", model.path, "--board", "zcu104", "--csim", "100", "--precision", PRECISION,
        "--out", tmp_path / "prj", "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    csim = summary["csim"]
    assert csim["n_inputs"] == 100 and csim["argmax_agreement"] >= 0.95, csim
    emulator = summary["emulator"]  # hil's bit-exact emulator against the C simulation, same inputs
    assert emulator["n"] == 100 and emulator["bit_identical"] == 1.0, emulator
    # and on the held-out digits: the fixed-point design classifies them as the float model does
    inputs = tmp_path / "x.npy"
    inputs.write_bytes((model.path.parent / f"{name}_x_test.npy").read_bytes())
    code, out, err = run_cli(
        "convert", model.path, "--board", "zcu104", "--csim", "359", "--precision", PRECISION,
        "--inputs", inputs, "--out", tmp_path / "prj", "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    csim = summary["csim"]
    assert csim["argmax_agreement"] >= 0.98 and csim["cache_hit"], csim
    assert summary["emulator"]["bit_identical"] == 1.0, summary["emulator"]
    print(f"{name}: float accuracy {model.accuracy:.3f}; argmax agreement {csim['argmax_agreement']:.4f}")


def _hil(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "hil", *map(str, args)], capture_output=True, text=True, timeout=300, env=env
    )


def test_a_fixed_batch_export_is_taken_as_the_batch_with_one_warning(
    third_party: dict[str, ThirdPartyModel], tmp_path: Path
) -> None:
    path = third_party["softmax_mlp_fixed_batch"].path
    declared = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in declared] == [1294, 16]  # the whole training set as the example
    done = _hil("convert", path, "--board", "zcu104", "--out", tmp_path / "prj", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["input_shape"] == [1, 16] and summary["output_shape"] == [1, 10]
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "input dimension 0 is fixed to 1294" in warnings[0], done.stderr
    assert "taken as the batch" in warnings[0]


def _fixed_batch_model(path: Path, batch: int, node: onnx.NodeProto, out_dims: list[int]) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_dims)
    graph = helper.make_graph([node], "fixed", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


MIXING = [
    (
        helper.make_node("Softmax", ["x"], ["y"], name="over_batch", axis=0),
        [8, 4],
        "Softmax (node over_batch)",
    ),
    (helper.make_node("Transpose", ["x"], ["y"], name="swap", perm=[1, 0]), [4, 8], "Transpose (node swap)"),
    (helper.make_node("ReduceMean", ["x"], ["y"], name="mean", axes=[0]), [1, 4], "ReduceMean (node mean)"),
]
REASONS = ["works along axis 0", "moves axis 0", "may reduce axis 0"]


@pytest.mark.parametrize("case", range(len(MIXING)), ids=["softmax-axis0", "transpose", "reduce-axis0"])
def test_a_fixed_batch_with_an_operator_that_mixes_samples_is_one_line_exit_2(
    run_cli, tmp_path: Path, case: int
) -> None:
    node, out_dims, fragment = MIXING[case]
    path = _fixed_batch_model(tmp_path / "mix.onnx", 8, node, out_dims)
    code, out, err = run_cli("convert", path, "--board", "zcu104", "--csim", "10")
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and err.startswith("hil: error: ") and "internal error" not in err
    assert "input dimension 0 is fixed to 8" in err and fragment in err and REASONS[case] in err
    assert "dynamic_axes" in err


def test_reuse_auto_picks_per_layer_reuse_factors_that_fit(
    run_cli, third_party: dict[str, ThirdPartyModel], tmp_path: Path
) -> None:
    """16->32->10 at 16 bits is 3x a PYNQ-Z2's LUTs at reuse 1 (cost model); --reuse auto makes it fit."""
    from hil.convert import ConversionOptions, resolve_reuse
    from hil.cost import estimate, fits, spec_from_hls_model
    from hil.inventory import load_inventory

    board = load_inventory().board("pynq-z2")
    path = third_party["softmax_mlp_fixed_batch"].path
    options, plan = resolve_reuse(path, board, ConversionOptions())
    assert plan.fits and set(plan.reuse) == {"Dense_MatMul_0", "Dense_MatMul_1"}
    assert {name for name, _, _ in options.layer_overrides} == {"MatMul_0", "MatMul_1"}
    # The big layer has to share multipliers; a layer that fits fully parallel keeps reuse 1.
    overrides = {name: (rf, strategy) for name, rf, strategy in options.layer_overrides}
    assert overrides["MatMul_0"][0] > 1
    assert all(strategy == "Resource" for rf, strategy in overrides.values() if rf > 1)
    code, out, err = run_cli(
        "convert", path, "--board", "pynq-z2", "--reuse", "auto", "--out", tmp_path / "prj", "--json"
    )
    assert code == 0, err
    assert "--reuse auto for pynq-z2: Dense_MatMul_0" in err
    assert "(fits: " in err and "by the cost model" in err
    layers = {layer["name"]: layer for layer in json.loads(out)["layers"]}
    assert layers["Dense_MatMul_0"]["reuse_factor"] == plan.reuse["Dense_MatMul_0"]
    # the converted design (hls4ml's own reuse factors) fits by the cost model; at reuse 1 it did not
    from hil.convert import convert

    design = convert(path, board, options, output_dir=tmp_path / "again")
    synth = {"clock_mhz": 100, "level": "synth"}
    assert fits(board, estimate(spec_from_hls_model(design.hls_model), **synth).totals).ok
    plain = convert(path, board, ConversionOptions(), output_dir=tmp_path / "plain")
    assert not fits(board, estimate(spec_from_hls_model(plain.hls_model), **synth).totals).ok
