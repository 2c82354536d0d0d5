"""design_key(): the content address of a hardware design.

Why hash the inputs and not the written project: hls4ml stamps every written project with a
random id and timestamps, so two identical conversions never produce identical files. The
inputs (model bytes, every conversion option, tool versions, part, clock) do determine the
design, so they are what the C-sim cache and the build farm key on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

__all__ = ["design_key", "tool_versions"]


@functools.lru_cache(maxsize=1)
def _gxx_version() -> str:
    compiler = shutil.which("g++")
    if compiler is None:
        return "absent"
    try:
        out = subprocess.run(
            [compiler, "-dumpfullversion", "-dumpversion"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _hls4ml_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hls4ml")
    except PackageNotFoundError:
        return "absent"


def tool_versions() -> dict[str, str]:
    """Versions of the tools that shape a design on this host (hls4ml, g++)."""
    return {"hls4ml": _hls4ml_version(), "g++": _gxx_version()}


def design_key(
    model_bytes: bytes,
    options: Mapping[str, Any],
    *,
    part: str,
    clock_mhz: float,
    versions: Mapping[str, str] | None = None,
) -> str:
    """A sha256 hex digest naming one design.

    Args:
        model_bytes: the model file's exact bytes.
        options: every conversion option (precision, reuse, strategy, io_type, backend, ...);
            must be JSON-serializable. Key order does not matter.
        part: the FPGA part the design targets.
        clock_mhz: the target clock.
        versions: tool versions; defaults to ``tool_versions()`` of this host.

    Returns:
        64 hex characters.
    """
    payload = {
        "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "options": dict(options),
        "part": part,
        "clock_mhz": float(clock_mhz),
        "versions": dict(versions if versions is not None else tool_versions()),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
