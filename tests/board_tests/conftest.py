"""Board test fixtures: a loopback sshd, small bundles, the real-pynq venvs with a stand-in device, boards."""

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
from tests.board_tests._bundles import OverlaySpec, build_library, make_bundle
from tests.board_tests._sshd import LoopbackSshd

RESOURCES = {"lut": 230400, "ff": 460800, "dsp": 1728, "bram36": 312, "uram": 96}


PYNQ_DEVICE = Path(__file__).with_name("pynq_device")
#: The agent's environments made by .ci/setup.d/board_env.sh: the real pynq, one per release line.
VENVS = {"4": ("HIL_BOARD_VENV", ".venv/board"), "3": ("HIL_BOARD_VENV_PYNQ3", ".venv/board-pynq3")}


def board_venv_python(major: str = "4") -> Path:
    """The python of the real-pynq venv of that major release (``HIL_BOARD_VENV...`` overrides)."""
    variable, default = VENVS[major]
    venv = Path(os.environ.get(variable) or default)
    return (venv if venv.is_absolute() else REPO / venv) / "bin" / "python"


def _require(python: Path) -> None:
    if not python.exists():
        message = f"board venv missing: {python} (run bash .ci/setup.d/board_env.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def pynq_board_python(folder: Path, major: str) -> str:
    """A board's interpreter: the real pynq's venv with the stand-in *device* registered in it.

    A wrapper script, as a board's ``python`` in inventory.yaml would be, that puts
    ``pynq_device/`` (its ``sitecustomize`` registers the device) on the path and execs the
    venv's python; the agent itself runs unchanged.
    """
    python = board_venv_python(major)
    _require(python)
    wrapper = folder / f"python-pynq{major}-standin-device"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{PYNQ_DEVICE}" exec "{python}" -W ignore "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


@pytest.fixture(scope="session")
def pynq4_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Real pynq 4.0 on the stand-in device (runs the flat ZCU104 design; refuses Zynq-7000)."""
    return pynq_board_python(tmp_path_factory.mktemp("pynq4"), "4")


@pytest.fixture(scope="session")
def pynq3_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Real pynq 3.1 on the stand-in device (runs both real overlays, PYNQ-Z2's included)."""
    return pynq_board_python(tmp_path_factory.mktemp("pynq3"), "3")


@pytest.fixture(scope="session")
def pynq4_plain(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real pynq 4.0 venv's python without any device (for --probe and parser checks)."""
    python = board_venv_python("4")
    _require(python)
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
def overlay_bundle(tmp_path_factory: pytest.TempPathFactory, library: Path) -> BoardBundle:
    """A bundle with the real ZCU104 .hwh and a stand-in-device bitstream: 40 ms per transfer."""
    folder = tmp_path_factory.mktemp("bundles") / "overlay"
    return make_bundle(folder, library, overlay=OverlaySpec(seconds_per_transfer=0.04))


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
