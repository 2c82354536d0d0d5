"""Board test fixtures: a loopback sshd, small bundles, the numpy<2 + stand-in pynq venv, boards."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hil.board import BoardPool, MeasureConfig
from hil.bundle import BoardBundle
from hil.inventory import Board
from tests._shared import REPO
from tests.board_tests._bundles import build_library, make_bundle
from tests.board_tests._sshd import LoopbackSshd

RESOURCES = {"lut": 230400, "ff": 460800, "dsp": 1728, "bram36": 312, "uram": 96}


def board_venv_python() -> Path:
    """The agent's second environment (numpy<2 + stand-in pynq), made by .ci/setup.d/board_env.sh."""
    venv = Path(os.environ.get("HIL_BOARD_VENV") or REPO / ".venv" / "board")
    return (venv if venv.is_absolute() else REPO / venv) / "bin" / "python"


@pytest.fixture(scope="session")
def venv_python() -> str:
    python = board_venv_python()
    if not python.exists():
        message = f"board venv missing: {python} (run bash .ci/setup.d/board_env.sh or set HIL_BOARD_VENV)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return str(python)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSshd]:
    server = LoopbackSshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_library(tmp_path_factory.mktemp("dense-lib"))


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory, library: Path) -> BoardBundle:
    return make_bundle(tmp_path_factory.mktemp("bundles") / "emulated", library)


@pytest.fixture(scope="session")
def standin_bundle(tmp_path_factory: pytest.TempPathFactory, library: Path) -> BoardBundle:
    return make_bundle(
        tmp_path_factory.mktemp("bundles") / "standin", library, standin_seconds_per_transfer=0.01
    )


@pytest.fixture
def make_board(tmp_path: Path) -> Callable[..., Board]:
    """Board(name, **fields): a board entry; workdir defaults to a fresh tmp folder."""

    def _make(name: str = "loop", **fields: object) -> Board:
        entry: dict[str, object] = {
            "name": name,
            "part": "xczu7ev-ffvc1156-2-e",
            "resources": RESOURCES,
            "clock_mhz": 200.0,
            "python": sys.executable,
            "workdir": str(tmp_path / "boardwork"),
        }
        entry.update(fields)
        return Board.model_validate(entry)

    return _make


@pytest.fixture
def pool(tmp_path: Path) -> BoardPool:
    return BoardPool(tmp_path / "leases", quarantine_after=3)


@pytest.fixture
def config(pool: BoardPool) -> Callable[..., MeasureConfig]:
    def _config(**overrides: object) -> MeasureConfig:
        fields: dict[str, object] = {
            "batch": 8,
            "min_seconds": 0.3,
            "warmup": 1,
            "repeats": 10,
            "connect_timeout_s": 5.0,
            "run_timeout_s": 30.0,
            "lease_timeout_s": 10.0,
            "pool": pool,
        }
        fields.update(overrides)
        return MeasureConfig(**fields)  # type: ignore[arg-type]

    return _config
