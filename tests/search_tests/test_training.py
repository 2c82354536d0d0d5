"""Training recipes: augmentation, schedules, devices, threads, the final recipe, the float warm-up."""

from __future__ import annotations

import numpy as np
import pytest

from hil.errors import InputError
from search.datasets import load_dataset
from search.profiles import final_recipe, profile
from search.qat import QatCnnSpec
from search.training import (
    TrainRecipe,
    _augment,
    configure_threads,
    evaluate,
    resolve_device,
    train_classifier,
    train_from_scratch,
)


def test_random_crop_and_flip_move_pixels_and_are_seeded() -> None:
    import torch

    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8) + 1.0
    recipe = TrainRecipe(crop_pad=2, flip=True)
    a = _augment(x, recipe, torch.Generator().manual_seed(1))
    b = _augment(x, recipe, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b)
    moved = [not torch.equal(_augment(x, recipe, torch.Generator().manual_seed(s)), x) for s in range(8)]
    assert sum(moved) >= 6
    # a crop only shifts (zero border), a flip only mirrors: every kept value comes from the image
    kept = a[a != 0]
    assert set(kept.tolist()) <= set(x.flatten().tolist())
    flipped = _augment(x, TrainRecipe(flip=True), torch.Generator().manual_seed(0))
    for i in range(2):
        assert torch.equal(flipped[i], x[i]) or torch.equal(flipped[i], x[i].flip(2))


def test_bad_recipes_and_devices_are_input_errors() -> None:
    for kwargs in (
        {"epochs": 0},
        {"optimizer": "lbfgs"},
        {"schedule": "step"},
        {"float_epochs": 3, "epochs": 3},
        {"label_smoothing": 1.0},
    ):
        with pytest.raises(InputError):
            TrainRecipe(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--device"):
        resolve_device("tpu")
    assert resolve_device("cpu") == "cpu"
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_small_inputs_train_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIL_TORCH_THREADS", raising=False)
    assert configure_threads((1, 8, 8)) == 1
    monkeypatch.setenv("HIL_TORCH_THREADS", "2")
    assert configure_threads((1, 8, 8)) == 2


def test_final_recipe_keeps_the_float_share_and_one_qat_epoch() -> None:
    r = final_recipe("cifar10", 20, seed=3)
    assert (r.epochs, r.float_epochs, r.seed) == (20, 15, 3)
    assert r.crop_pad == 4 and r.flip and r.schedule == "cosine" and r.label_smoothing > 0
    assert final_recipe("cifar10", 2).float_epochs == 1 and final_recipe("cifar10", 1).float_epochs == 0
    assert not final_recipe("digits", 10).flip  # a mirrored digit is another digit
    with pytest.raises(InputError, match="--final-epochs"):
        final_recipe("digits", 0)
    assert r.key() != final_recipe("cifar10", 20, seed=4).key()


def test_cosine_training_learns_digits_and_counts_sample_epochs() -> None:
    from search.qat import build_qat_cnn

    data = load_dataset("digits", subset=400)
    model = build_qat_cnn(
        QatCnnSpec(data.input_shape, data.n_classes, conv_channels=(8,), kernel_sizes=(3,), pool=(True,))
    )
    recipe = TrainRecipe(epochs=3, batch_size=16, lr=1e-2, schedule="cosine", label_smoothing=0.1, crop_pad=1)
    stats = train_classifier(model, data.x_train, data.y_train, recipe)
    assert stats.sample_epochs == 3 * 400 and stats.epochs == 3 and stats.cpu_seconds > 0
    assert evaluate(model, data.x_val, data.y_val) > 0.6  # chance is 0.1


def test_a_float_warm_up_then_qat_is_one_retrain_from_scratch() -> None:
    data = load_dataset("digits", subset=400)
    spec = QatCnnSpec(data.input_shape, data.n_classes, conv_channels=(8,), kernel_sizes=(3,), pool=(True,))
    recipe = TrainRecipe(epochs=4, float_epochs=2, batch_size=16, lr=1e-2, schedule="cosine")
    model, stats = train_from_scratch(spec, True, data.x_train, data.y_train, recipe)
    assert stats.epochs == 4 and stats.sample_epochs == 4 * 400
    assert any("weight_quant" in name for name, _ in model.named_modules())  # the quantized model
    assert evaluate(model, data.x_val, data.y_val) > 0.6
    again, _ = train_from_scratch(spec, True, data.x_train, data.y_train, recipe)
    x = data.x_val[:32]
    from search.training import predict_logits

    np.testing.assert_allclose(predict_logits(model, x), predict_logits(again, x), atol=1e-5)  # seeded


def test_profiles_name_the_dataset() -> None:
    assert profile("digits").trials == 16 and profile("cifar10").recipe.schedule == "cosine"
    with pytest.raises(InputError, match="--dataset"):
        profile("mnist")
