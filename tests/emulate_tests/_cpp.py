"""Compile and run a small C++ program against hls4ml's own ``ap_types`` headers (g++).

Why: the emulator's fixed-point rules must be those of the C simulation, and the C simulation is
g++ running these headers; asking them directly checks every mode value by value in seconds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def ap_types_dir() -> Path:
    import hls4ml

    return Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"


def run_cpp(source: str, folder: Path) -> str:
    """Compile ``source`` with the ap_types include path and return its stdout."""
    if shutil.which("g++") is None:
        pytest.skip("g++ is not installed")
    src, exe = folder / "probe.cpp", folder / "probe"
    src.write_text(source)
    subprocess.run(
        ["g++", "-O1", "-std=c++14", f"-I{ap_types_dir()}", str(src), "-o", str(exe)],
        check=True,
        capture_output=True,
    )
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
