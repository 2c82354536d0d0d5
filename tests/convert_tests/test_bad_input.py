"""Bad input to `hil convert`: one line on stderr naming what to fix, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from hil.convert import ConversionOptions, parse_precision
from hil.errors import InputError


def _onnx(path: Path, op: str, dims: list, **attrs) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"], name="the_node", **attrs)], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def _assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("hil: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ap_fixed<16,6>", (True, 16, 6)),
        ("ap_ufixed<8,0>", (False, 8, 0)),
        ("fixed<18, 8, AP_RND, AP_SAT>", (True, 18, 8)),
        ("ap_fixed<8,-2,AP_RND_CONV>", (True, 8, -2)),
        ("ap_int<8>", (True, 8, 8)),
        ("ap_uint<4>", (False, 4, 4)),
    ],
)
def test_valid_precisions(text: str, expected: tuple[bool, int, int]) -> None:
    assert parse_precision(text) == expected


@pytest.mark.parametrize(
    "text", ["ap_fixed<16>", "float32", "ap_fixed<0,0>", "ap_fixed<16,6,AP_FOO>", "ap_fixed<65,6>", ""]
)
def test_invalid_precisions(text: str) -> None:
    with pytest.raises(InputError, match="invalid precision"):
        parse_precision(text)
    with pytest.raises(InputError):
        ConversionOptions(precision=text)


def test_missing_file(run_cli, tmp_path: Path) -> None:
    _assert_one_line_error(
        *run_cli("convert", tmp_path / "nope.onnx", "--board", "zcu104"), "nope.onnx", "no such model file"
    )


def test_not_a_model(run_cli, tmp_path: Path) -> None:
    junk = tmp_path / "notes.onnx"
    junk.write_text("this is not a network\n" * 20)
    _assert_one_line_error(*run_cli("convert", junk, "--board", "zcu104"), "notes.onnx", "not an ONNX")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    _assert_one_line_error(*run_cli("convert", empty, "--board", "zcu104"), "empty file")


def test_torch_pickle_is_refused_without_unpickling(run_cli, tmp_path: Path) -> None:
    import torch

    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(4, 2), path)
    _assert_one_line_error(
        *run_cli("convert", path, "--board", "zcu104"), "pickled torch object", "torch.jit.save"
    )


def test_unsupported_operator_names_op_and_node(run_cli, tmp_path: Path) -> None:
    path = _onnx(tmp_path / "erf.onnx", "Erf", ["N", 8])
    _assert_one_line_error(*run_cli("convert", path, "--board", "zcu104"), "operator Erf", "node the_node")


def test_dynamic_non_batch_dimension(run_cli, tmp_path: Path) -> None:
    path = _onnx(tmp_path / "dyn.onnx", "Relu", ["N", "features"])
    _assert_one_line_error(
        *run_cli("convert", path, "--board", "zcu104"), "dynamic dimension 1", "'features'", "--input-shape"
    )


def test_unknown_board_and_invalid_precision(run_cli, tmp_path: Path) -> None:
    path = _onnx(tmp_path / "relu.onnx", "Relu", ["N", 8])
    _assert_one_line_error(*run_cli("convert", path, "--board", "zcu105"), "unknown board 'zcu105'", "zcu104")
    _assert_one_line_error(
        *run_cli("convert", path, "--board", "zcu104", "--precision", "ap_fixed<16>"),
        "invalid precision 'ap_fixed<16>'",
    )
    _assert_one_line_error(*run_cli("convert", path, "--board", "zcu104", "--io-type", "axi"), "--io-type")
    _assert_one_line_error(
        *run_cli("convert", path, "--board", "zcu104", "--input-shape", "1,x"), "--input-shape"
    )


def test_accelerator_backend_needs_board_files(run_cli, tmp_path: Path) -> None:
    path = _onnx(tmp_path / "relu.onnx", "Relu", ["N", 8])
    _assert_one_line_error(
        *run_cli(
            "convert", path, "--board", "kv260", "--backend", "VivadoAccelerator", "--out", tmp_path / "p"
        ),
        "board 'kv260' has none",
        "pynq-z2",
        "zcu102",
        "zcu104",  # hil's own board files, registered as an hls4ml plug-in at run time
    )


@pytest.mark.parametrize("board", ["pynq-z2", "zcu104"])
def test_accelerator_backend_converts(run_cli, tmp_path: Path, board: str) -> None:
    path = _onnx(tmp_path / "relu.onnx", "Relu", ["N", 8])
    out_dir = tmp_path / "p"
    args = ("convert", path, "--board", board, "--backend", "VivadoAccelerator", "--out", out_dir, "--json")
    code, _out, err = run_cli(*args)
    assert code == 0, err
    assert any(out_dir.rglob("myproject_axi.cpp"))


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    """The real process, as a user runs it: exit 2 and one line."""
    proc = subprocess.run(
        [sys.executable, "-m", "hil", "convert", str(tmp_path / "missing.onnx"), "--board", "zcu104"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().count("\n") == 0
        and "missing.onnx" in proc.stderr
        and "Traceback" not in proc.stderr
    )


def test_operator_left_channels_first_is_named(run_cli, tmp_path: Path) -> None:
    """qonnx cannot move AveragePool to channels-last; the user is told which node, not hls4ml's error."""
    import numpy as np
    from onnx import numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    weight = numpy_helper.from_array(np.ones((2, 1, 3, 3), dtype=np.float32), "w")
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "w"],
            ["c"],
            name="conv",
            pads=[1, 1, 1, 1],
            kernel_shape=[3, 3],
            strides=[1, 1],
            dilations=[1, 1],
            group=1,
        ),
        helper.make_node("AveragePool", ["c"], ["y"], name="my_pool", kernel_shape=[2, 2], strides=[2, 2]),
    ]
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=[weight])
    path = tmp_path / "avgpool.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    _assert_one_line_error(
        *run_cli("convert", path, "--board", "zcu104"), "operator AveragePool", "channels-last"
    )
