"""The QAT CNN's definition: BatchNorm folding, learned power-of-two weight scales, the CIFAR-10 space."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np

from search.models import QatCnnSpec, build_float_cnn, build_qat_cnn, fold_batchnorm, load_qat_cnn
from search.space import Candidate, default_space

SPEC = QatCnnSpec(
    (3, 16, 16), 10, conv_channels=(8, 16), kernel_sizes=(3, 3), pool=(True, False), dense_units=(12,),
    weight_bits=(3, 4, 4, 4), act_bits=(4, 4, 4), batch_norm=True, learned_scales=True,
)  # fmt: skip


def _randomise_norms(model: object) -> None:
    """Running statistics and affine parameters far from the identity, so a wrong fold shows."""
    import torch

    generator = torch.Generator().manual_seed(1)
    for module in model:  # type: ignore[attr-defined]
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.rand(n, generator=generator) * 2 - 1)
            module.running_var.copy_(torch.rand(n, generator=generator) * 3 + 0.1)
            module.weight.data.copy_(torch.rand(n, generator=generator) * 2 - 0.5)  # negative gammas too
            module.bias.data.copy_(torch.rand(n, generator=generator) - 0.5)


def test_batchnorm_folding_is_numerically_equivalent_in_float() -> None:
    import torch

    torch.manual_seed(0)
    model = build_float_cnn(SPEC).eval()
    _randomise_norms(model)
    x = torch.randn(16, 3, 16, 16)
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model)  # the original is left alone
    with torch.no_grad():
        reference, out = model(x), folded(x)
    assert torch.allclose(out, reference, rtol=1e-5, atol=1e-5), (out - reference).abs().max()
    assert float(reference.abs().max()) > 0.1  # not trivially equal


def test_a_model_without_batchnorm_is_returned_as_it_is() -> None:
    model = build_qat_cnn(QatCnnSpec((1, 8, 8), 10, conv_channels=(4,), kernel_sizes=(3,), pool=(True,)))
    assert fold_batchnorm(model) is model


def test_folded_qat_model_exports_without_batchnorm_and_reloads(tmp_path: Path) -> None:
    import onnx
    import torch

    from search.qat import export_qonnx

    torch.manual_seed(0)
    model = build_qat_cnn(SPEC)
    model.load_state_dict(build_float_cnn(SPEC).state_dict(), strict=False)  # the float twin's names fit
    model.train()
    model(torch.randn(8, 3, 16, 16))  # initialise the scales
    _randomise_norms(model)
    folded = fold_batchnorm(model.eval())
    path = export_qonnx(folded, SPEC.input_shape, tmp_path / "m.onnx")
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "BatchNormalization" not in ops and {"Conv", "Quant"} <= ops, ops
    # an unfolded model is folded by the export itself: hls4ml never sees a BatchNorm
    ops = {
        node.op_type
        for node in onnx.load(str(export_qonnx(model, SPEC.input_shape, tmp_path / "u.onnx"))).graph.node
    }
    assert "BatchNormalization" not in ops, ops
    torch.save(folded.state_dict(), tmp_path / "w.pt")
    again = load_qat_cnn(SPEC, tmp_path / "w.pt").eval()
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(again(x), folded(x))


def test_learned_weight_scales_are_trained_powers_of_two() -> None:
    import torch

    torch.manual_seed(0)
    model = build_qat_cnn(SPEC)
    conv = model[1]
    impl = conv.weight_quant.tensor_quant.scaling_impl
    assert any(name.endswith("scaling_impl.value") for name, _ in model.named_parameters())
    x, y = torch.randn(32, 3, 16, 16), torch.randint(0, 10, (32,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    model(x)
    before = float(impl.value)
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        assert impl.value.grad is not None and float(impl.value.grad.abs()) > 0
        optimizer.step()
    assert float(impl.value) != before
    scale = float(conv.quant_weight().scale)
    assert math.log2(scale) == round(math.log2(scale))
    # statistics-only weight scales (the digits space's) carry no parameter
    plain = build_qat_cnn(QatCnnSpec((1, 8, 8), 10, conv_channels=(4,), kernel_sizes=(3,), pool=(True,)))
    assert not any(name.endswith("scaling_impl.value") for name, _ in plain[1].named_parameters())


def test_cifar10_space_reaches_8_conv_blocks_with_batchnorm_and_learned_scales() -> None:
    space = default_space("cifar10", 200.0)
    assert max(space.conv_blocks) == 8 and space.batch_norm == (True,) and space.learned_scales
    rng = random.Random(0)
    depths, pooled = set(), []
    for _ in range(200):
        cand = space.sample(lambda _n, c: rng.choice(list(c)), (3, 32, 32))
        assert cand.arch.batch_norm and cand.learned_scales
        side = 32 // 2 ** sum(cand.arch.pool)
        assert side >= 1
        depths.add(len(cand.arch.conv_channels))
        pooled.append(sum(cand.arch.pool))
        again = Candidate.from_dict(cand.to_dict())
        assert again == cand and again.qat_kwargs()["batch_norm"] and again.qat_kwargs()["learned_scales"]
        spec = QatCnnSpec((3, 32, 32), 10, **cand.qat_kwargs())
        assert spec.batch_norm and len(spec.weight_bits) == cand.arch.n_mac_layers
    assert depths == set(range(3, 9)) and max(pooled) == 5


def test_a_stored_candidate_from_before_batchnorm_reads_as_without_it() -> None:
    raw = {"arch": {"conv_channels": [4], "kernel_sizes": [3], "pool": [True], "dense_units": []},
           "hw": [], "io_type": "io_stream", "clock_mhz": 200.0}  # fmt: skip
    cand = Candidate.from_dict(raw)
    assert not cand.arch.batch_norm and not cand.learned_scales
    assert "batch_norm" not in default_space("digits", 200.0).to_dict()  # old fingerprints stay valid
    assert np.isfinite(len(default_space("cifar10", 200.0).all_decisions()))


def test_training_folds_a_quantized_models_batchnorms_for_its_last_quarter() -> None:
    """The exported model is the folded one, so QAT spends its last steps on exactly that model."""
    import torch

    from search.datasets import load_dataset
    from search.training import FOLD_AT, TrainRecipe, evaluate, train_classifier

    data = load_dataset("digits", seed=0, subset=400)
    spec = QatCnnSpec(data.input_shape, data.n_classes, conv_channels=(8,), kernel_sizes=(3,), pool=(True,),
                      batch_norm=True, learned_scales=True)  # fmt: skip
    torch.manual_seed(0)
    model = build_qat_cnn(spec)
    assert 0.0 < FOLD_AT < 1.0
    train_classifier(model, data.x_train, data.y_train, TrainRecipe(epochs=2, batch_size=16))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model)
    assert fold_batchnorm(model) is model  # nothing left to fold
    assert evaluate(model, data.x_test, data.y_test) > 0.5
    twin = build_float_cnn(spec)  # a float model keeps its BatchNorms (they fold exactly at any time)
    train_classifier(twin, data.x_train, data.y_train, TrainRecipe(epochs=1, batch_size=16))
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in twin)
