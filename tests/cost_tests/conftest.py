"""Shared fixtures: where the shared cost data live (HIL_SHARED), skip or fail when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("HIL_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
COSTDATA = [SHARED / "costdata" / "ntorc_dense.csv", SHARED / "costdata" / "ntorc_conv1d.csv"]


@pytest.fixture(scope="session")
def costdata() -> list[Path]:
    """The N-TORC CSVs; missing files fail under CI=true and skip elsewhere."""
    missing = [p for p in COSTDATA if not p.is_file()]
    if missing:
        message = f"shared cost data missing: {missing} (set HIL_SHARED)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return COSTDATA
