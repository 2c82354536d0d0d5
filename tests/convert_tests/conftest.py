"""Session fixtures: models trained once per test session."""

from __future__ import annotations

import pytest

from tests._models import TrainedModel, cifar_qat_cnn, digits_float_models
from tests._shared import require_shared


@pytest.fixture(scope="session")
def digits_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TrainedModel]:
    return digits_float_models(tmp_path_factory.mktemp("digits-models"))


@pytest.fixture(scope="session")
def cifar_cnn(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    data_dir = require_shared("datasets/cifar10")
    require_shared("datasets/cifar10/cifar10_train_jpeg.npz")
    return cifar_qat_cnn(tmp_path_factory.mktemp("cifar-model"), data_dir)
