"""Flow test fixtures: the farm tests' small float ONNX model (Dense 8 -> 5 + ReLU) serves the plans too;
the C-simulation tests use trained digits models (tests/_models.py)."""

from __future__ import annotations

from tests.farm_tests.conftest import dense_onnx

__all__ = ["dense_onnx"]
