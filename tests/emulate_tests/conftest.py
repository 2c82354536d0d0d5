"""Session fixtures of the emulator's tests: trained digits models."""

from __future__ import annotations

import pytest

from tests._models import TrainedModel, digits_float_models


@pytest.fixture(scope="session")
def digits_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TrainedModel]:
    return digits_float_models(tmp_path_factory.mktemp("digits-models"))
