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

__all__ = ["DESIGN_POLICY_VERSION", "design_key", "tool_versions"]


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


#: Bumped whenever hil changes how it turns a model into an hls4ml design (precision policy,
#: Softmax implementation, input types, ...): cached C-sim libraries and builds made by an
#: older policy must not be reused, and the package version alone does not move in development.
DESIGN_POLICY_VERSION = 8


def tool_versions() -> dict[str, str]:
    """Versions of what shapes a design on this host: hls4ml, g++ and hil's conversion policy."""
    from hil import __version__

    return {
        "hls4ml": _hls4ml_version(),
        "g++": _gxx_version(),
        "hil": f"{__version__}+policy{DESIGN_POLICY_VERSION}",
    }


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
