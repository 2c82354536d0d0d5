"""spec_from_hls_model on a tiny float ONNX CNN converted in-test (no compile)."""

from __future__ import annotations

import numpy as np
import pytest

from hil.cost import LayerKind, Strategy, estimate, spec_from_hls_model

pytest.importorskip("hls4ml")
pytest.importorskip("qonnx")


def _tiny_cnn_onnx():  # type: ignore[no-untyped-def]
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.normal(size=(4, 2, 3, 3)).astype(np.float32), "W"),
        numpy_helper.from_array(np.zeros(4, np.float32), "B"),
        numpy_helper.from_array(rng.normal(size=(4 * 6 * 6, 5)).astype(np.float32), "D"),
        numpy_helper.from_array(np.zeros(5, np.float32), "DB"),
    ]
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "W", "B"],
            ["c"],
            kernel_shape=[3, 3],
            pads=[0, 0, 0, 0],
            strides=[1, 1],
            dilations=[1, 1],
            group=1,
        ),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"], axis=1),
        helper.make_node("MatMul", ["f", "D"], ["m"]),
        helper.make_node("Add", ["m", "DB"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def test_spec_from_converted_model(tmp_path) -> None:
    import hls4ml
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(_tiny_cnn_onnx()))
    model = cleanup_model(model.transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul()))
    config = hls4ml.utils.config_from_onnx_model(
        model, granularity="name", default_precision="fixed<16,6>", backend="Vitis"
    )
    config["Model"]["Strategy"] = "Resource"
    for layer in config["LayerName"].values():
        layer["ReuseFactor"] = 7  # invalid for both layers: hls4ml picks 6
    hls_model = hls4ml.converters.convert_from_onnx_model(
        model, hls_config=config, io_type="io_stream", backend="Vitis", output_dir=str(tmp_path / "prj")
    )
    specs = spec_from_hls_model(hls_model)
    by_kind = {s.kind: s for s in specs}
    conv, dense = by_kind[LayerKind.CONV2D], by_kind[LayerKind.DENSE]
    assert conv.in_shape == (8, 8, 2) and conv.out_shape == (6, 6, 4) and conv.kernel == (3, 3)
    assert conv.reuse_factor == 6 and conv.strategy is Strategy.RESOURCE
    assert conv.weight_bits == 16 and conv.acc_bits > 16
    assert dense.in_shape == (144,) and dense.out_shape == (5,) and dense.reuse_factor == 6
    assert by_kind[LayerKind.ACTIVATION].activation == "relu"
    est = estimate(specs, clock_mhz=200.0)
    assert est.totals["dsp"] > 0 and est.totals["throughput_fps"] > 0
    assert not est.calibrated  # Conv2D and a 38-bit accumulator have no ground truth
