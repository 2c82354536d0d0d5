"""The emulator against hls4ml's C simulation: every output element identical (``bit_identical`` 1.0)
on designs of the co-search's space, on every rounding and overflow mode inside real layers, and a
one-line refusal for a layer kind it does not model (also in ``hil convert --csim``'s report)."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from hil.emulate import Emulator, agreement
from hil.errors import UnsupportedModelError
from tests._models import TrainedModel
from tests.emulate_tests._designs import convert_with_types
from tests.emulate_tests._search_designs import build_design, csim_outputs, sample_candidate


def _leaky_model(path: Path) -> Path:
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 8), nn.LeakyReLU(0.1), nn.Linear(8, 4)).eval()
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 16),), str(path), input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
    return path


def test_an_unmodelled_layer_kind_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    from hil.convert import ConversionOptions, convert_model
    from hil.ingest import load_model

    model = load_model(_leaky_model(tmp_path / "leaky.onnx"))
    hls_model = convert_model(
        model, ConversionOptions(), part="xczu7ev-ffvc1156-2-e", clock_mhz=200.0, output_dir=tmp_path / "p"
    )
    with pytest.raises(UnsupportedModelError) as refused:
        Emulator(hls_model)
    message = str(refused.value)
    assert "\n" not in message and "LeakyReLU" in message and "not modelled" in message, message


@pytest.mark.slow
def test_hil_convert_reports_a_refusal_beside_the_csim(run_cli, tmp_path: Path) -> None:
    path = _leaky_model(tmp_path / "leaky.onnx")
    code, out, err = run_cli(
        "convert", path, "--board", "zcu104", "--csim", "8", "--out", tmp_path / "prj", "--json"
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["csim"]["n_inputs"] == 8
    emulator = summary["emulator"]
    assert emulator["bit_identical"] is None and "LeakyReLU" in emulator["refused"], emulator


#: Every ap_fixed quantization mode (7) and overflow mode (4) in result and accumulator types of real
#: layers: products rounded into a narrow accumulator (per product), saturating accumulators, a
#: symmetric-saturating result, wrapping logits into a Softmax. Config names of the digits dense model.
MODES = {
    "stream_stable": (
        "io_stream",
        "stable",
        {
            "MatMul_0": {
                "result": "ap_fixed<12,4,AP_RND_ZERO,AP_SAT_SYM>",
                "accum": "ap_fixed<20,8,AP_RND,AP_SAT>",
            },
            "Add_0": {"result": "ap_fixed<12,4,AP_RND_ZERO,AP_SAT_SYM>"},
            "Relu_0": {"result": "ap_ufixed<8,3,AP_RND_INF,AP_SAT_ZERO>"},
            "MatMul_1": {
                "result": "ap_fixed<10,4,AP_RND_MIN_INF,AP_WRAP>",
                "accum": "ap_fixed<24,10,AP_TRN_ZERO,AP_WRAP>",
            },
            "Add_1": {"result": "ap_fixed<10,4,AP_RND_MIN_INF,AP_WRAP>"},
        },
    ),
    "parallel_latency": (
        "io_parallel",
        "latency",
        {
            "MatMul_0": {
                "result": "ap_fixed<12,5,AP_RND_CONV,AP_SAT>",
                "accum": "ap_fixed<22,9,AP_RND_CONV,AP_SAT_SYM>",
            },
            "Add_0": {"result": "ap_fixed<12,5,AP_RND_CONV,AP_SAT>"},
            "Relu_0": {"result": "ap_ufixed<6,2,AP_TRN,AP_WRAP>"},
            "MatMul_1": {"result": "ap_fixed<9,3,AP_TRN_ZERO,AP_SAT_ZERO>"},
            "Add_1": {"result": "ap_fixed<9,3,AP_TRN_ZERO,AP_SAT_ZERO>"},
        },
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(MODES))
def test_every_rounding_and_overflow_mode_in_a_design_is_bit_identical(
    digits_dense: TrainedModel, tmp_path: Path, case: str
) -> None:
    from hil.convert import compile_cached

    io_type, softmax, types = MODES[case]
    model = digits_dense
    assert model.accuracy > 0.85
    hls_model = convert_with_types(model.path, types, tmp_path / "prj", io_type, softmax)
    layers = {layer.name: layer for layer in hls_model.get_layers()}
    assert str(layers["Dense_MatMul_0"].get_attr("accum_t").precision) == (
        "fixed<20,8,RND,SAT,0>" if case == "stream_stable" else "fixed<22,9,RND_CONV,SAT_SYM,0>"
    )
    compile_cached(hls_model, f"emulator-modes-{case}")
    x = np.ascontiguousarray(model.x_test, dtype=np.float32)
    csim = np.asarray(hls_model.predict(x), dtype=np.float32)
    result = agreement(Emulator(hls_model)(x), csim)
    assert result.n == len(x) and result.bit_identical == 1.0 and result.max_abs_diff == 0.0, result
    assert len(np.unique(csim.argmax(axis=1))) >= 5  # a working classifier, not a constant


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 11, 20])
def test_designs_of_the_search_space_are_bit_identical(tmp_path: Path, seed: int) -> None:
    """Seeded random digits candidates, trained, exported and converted exactly as the search does."""
    from hil.inventory import load_inventory
    from search.datasets import load_dataset
    from search.space import default_space

    data = load_dataset("digits", seed=0)
    candidate = sample_candidate(default_space("digits", 200.0), seed, data.input_shape)
    design = build_design(candidate, data, load_inventory().board("zcu104"), tmp_path, epochs=1)
    inputs, csim = csim_outputs(design, data.x_test)
    emulator = Emulator(design.hls_model)
    result = agreement(emulator(inputs), csim)
    assert result.bit_identical == 1.0 and result.max_abs_diff == 0.0, (candidate, result)
    kinds = {layer.class_name for layer in design.hls_model.get_layers()}
    assert {"Conv2D", "Dense", "Activation", "ZeroPadding2D"} <= kinds, kinds


def _residual_model(path: Path) -> Path:
    """A digits MLP with a skip connection (Add), a Max of two branches and a Concat, trained briefly."""
    import torch
    import torch.nn as nn

    from search.datasets import load_dataset
    from tests._models import _train

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.c = nn.Linear(64, 32), nn.Linear(32, 32), nn.Linear(64, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.a(x.flatten(1)))
            r = h + self.b(h)
            return self.c(torch.cat([r, torch.maximum(h, self.b(r))], 1))

    data = load_dataset("digits", seed=0)
    model = Residual()
    _train(model, data.x_train, data.y_train, epochs=10)
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 1, 8, 8),), str(path), input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
    return path


@pytest.mark.slow
def test_merge_concatenate_and_stream_fan_out_are_bit_identical(run_cli, tmp_path: Path) -> None:
    from search.datasets import load_dataset

    path = _residual_model(tmp_path / "residual.onnx")
    inputs = tmp_path / "x.npy"
    np.save(inputs, load_dataset("digits", seed=0).x_test)
    code, out, err = run_cli(
        "convert", path, "--board", "zcu104", "--csim", "359", "--inputs", inputs, "--out", tmp_path / "prj",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    kinds = {layer["class"] for layer in summary["layers"]}
    assert {"Merge", "Concatenate", "Clone"} <= kinds, kinds
    assert summary["csim"]["argmax_agreement"] >= 0.95
    assert summary["emulator"]["n"] == 359 and summary["emulator"]["bit_identical"] == 1.0, summary[
        "emulator"
    ]
