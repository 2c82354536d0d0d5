"""Where tests find shared data: $HIL_SHARED, failing (not skipping) under CI=true when it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """$HIL_SHARED (set by .ci/run), else the ../shared beside the checkout."""
    return Path(os.environ.get("HIL_SHARED") or REPO.parent / "shared").resolve()


def require_shared(relative: str) -> Path:
    """A file under the shared data folder; under CI=true a missing file fails, else it skips."""
    path = shared_dir() / relative
    if not path.exists():
        message = f"shared data missing: {path} (set HIL_SHARED)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
