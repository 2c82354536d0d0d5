"""Shared test fixtures: shared data location, an isolated cache, trained models, the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests._shared import REPO, require_shared, shared_dir

__all__ = ["REPO", "require_shared", "shared_dir"]


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test session gets its own C-sim cache unless HIL_CACHE_DIR is set (CI keeps one)."""
    if not os.environ.get("HIL_CACHE_DIR"):
        os.environ["HIL_CACHE_DIR"] = str(tmp_path_factory.mktemp("hil-cache"))


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `hil ARGS...` in-process; returns (exit code, stdout, stderr)."""
    from hil.cli import main

    def _run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run
