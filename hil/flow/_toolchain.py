"""Which AMD release is installed, which of its tools are on PATH, and which flow hil will run.

Why from PATH and install folders, not by starting the tools: starting Vivado to ask its version
takes ~20 s and a license check, and AMD installs always live under a folder named by the
release, in one of two layouts: ``<root>/Vivado/2024.2/bin/vivado`` (up to 2024.2) and
``<root>/2025.1/Vivado/bin/vivado`` (from 2025.1). The release decides the flow, because AMD
removed tools between releases:

* up to 2020.1: Vivado HLS (``vivado_hls``) and hls4ml's VivadoAccelerator backend;
* from 2020.2: Vitis HLS (``vitis_hls``; ``vitis-run --mode hls --tcl`` from 2023.2, the only
  HLS entry point once ``vitis_hls`` is gone), hls4ml's Vitis backend and hil's own AXI-stream
  top and block design.

Stand-ins (tests, or a user's dry rehearsal) look exactly like the real tools, so they cannot be
detected: they are *declared* (``HIL_STANDIN_TOOLS=1`` or the inventory's
``farm.standin_tools: true``), and every number a build makes with them is labelled ``standin``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FLOW_ACCELERATOR",
    "FLOW_VITIS",
    "Toolchain",
    "ToolFound",
    "detect_toolchain",
    "flow_for_release",
    "parse_release",
    "release_of_path",
    "standin_declared",
]

_log = logging.getLogger(__name__)

#: The flow up to 2020.1: Vivado HLS + hls4ml's VivadoAccelerator project + hil's block design.
FLOW_ACCELERATOR = "vivado-accelerator"
#: The flow from 2020.2: Vitis HLS + hls4ml's Vitis project + hil's AXI-stream top and block design.
FLOW_VITIS = "vitis"

#: Every tool a flow may call, in the order ``hil toolchain`` lists them.
TOOL_NAMES = ("vivado", "vitis-run", "vitis_hls", "vivado_hls")

_RELEASE = re.compile(r"^(20\d\d)\.(\d)$")
_RELEASE_IN_PATH = re.compile(r"(?:^|/)(20\d\d\.\d)(?:/|$)")

#: Environment variable that declares the tools on PATH to be stand-ins.
STANDIN_ENV = "HIL_STANDIN_TOOLS"


def parse_release(text: str) -> tuple[int, int] | None:
    """``"2024.2"`` -> ``(2024, 2)``; anything else (``absent``, ``mixed (...)``) -> None."""
    match = _RELEASE.match(text.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def release_of_path(path: str | os.PathLike[str]) -> str | None:
    """The release named by an install path, in either layout; None when no folder names one.

    The path as found on PATH is read first (a symlinked ``/opt/bin/vivado`` says nothing), then
    its resolved target; the *last* release-named folder wins (``.../2025.1/Vivado/bin``).
    """
    for candidate in (os.path.abspath(path), os.path.realpath(path)):
        found = _RELEASE_IN_PATH.findall(candidate.replace(os.sep, "/"))
        if found:
            return str(found[-1])
    return None


def flow_for_release(release: str) -> str | None:
    """The flow a release runs (FLOW_ACCELERATOR up to 2020.1, FLOW_VITIS after), None if unknown."""
    parsed = parse_release(release)
    if parsed is None:
        return None
    return FLOW_ACCELERATOR if parsed <= (2020, 1) else FLOW_VITIS


def standin_declared(inventory_flag: bool = False) -> bool:
    """True when the tools on PATH are declared stand-ins (environment or inventory)."""
    value = os.environ.get(STANDIN_ENV, "").strip().lower()
    return inventory_flag or value in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ToolFound:
    """One tool as found on PATH: where, and which release its install folder names."""

    name: str
    path: str | None
    release: str | None

    @property
    def present(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class Toolchain:
    """What this host has: the tools on PATH, the release, the flow hil would run, what is missing.

    Attributes:
        tools: every tool of ``TOOL_NAMES``, found or not.
        release: the release of ``vivado`` (every bitstream needs it), else of any HLS tool found.
        flow: FLOW_VITIS or FLOW_ACCELERATOR for that release, None when nothing usable is found.
        hls_tool: the HLS entry point the flow calls (``vitis-run``, ``vitis_hls`` or ``vivado_hls``).
        missing: one line per problem, each naming what to install or source.
        standin: the tools are declared stand-ins (their numbers are labelled ``standin``).
    """

    tools: tuple[ToolFound, ...]
    release: str | None
    flow: str | None
    hls_tool: str | None
    missing: tuple[str, ...] = ()
    standin: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def usable(self) -> bool:
        """A bitstream can be built: a release, its flow, vivado and the flow's HLS tool, all one release."""
        return self.flow is not None and not self.missing

    def tool(self, name: str) -> ToolFound:
        for found in self.tools:
            if found.name == name:
                return found
        return ToolFound(name, None, None)

    def version_label(self) -> str:
        """The tool version recorded in build keys and manifests: ``2024.2`` or ``2024.2-standin``.

        A stand-in build gets its own key, so the ledger never serves it as a real build.
        """
        if self.release is None:
            return "absent"
        return f"{self.release}-standin" if self.standin else self.release

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "flow": self.flow,
            "hls_tool": self.hls_tool,
            "usable": self.usable,
            "standin": self.standin,
            "tools": {t.name: {"path": t.path, "release": t.release} for t in self.tools},
            "missing": list(self.missing),
            "notes": list(self.notes),
        }


def _find(name: str, path: str | None) -> ToolFound:
    where = shutil.which(name, path=path)
    return ToolFound(name, where, release_of_path(where) if where else None)


def detect_toolchain(*, path: str | None = None, standin: bool = False) -> Toolchain:
    """Find the AMD tools on PATH (or ``path``) and decide the flow.

    Args:
        path: a PATH string to search instead of the environment's.
        standin: the inventory declares stand-ins (``farm.standin_tools``); the environment
            variable ``HIL_STANDIN_TOOLS`` is read as well.
    """
    tools = tuple(_find(name, path) for name in TOOL_NAMES)
    found = {t.name: t for t in tools}
    declared = standin_declared(standin)
    missing: list[str] = []
    notes: list[str] = []
    vivado = found["vivado"]
    hls_found = [t for t in tools if t.name != "vivado" and t.present]
    if vivado.present and vivado.release is None:
        missing.append(
            f"vivado at {vivado.path} is not under a release folder (Vivado/2024.2/bin or "
            "2025.1/Vivado/bin): put the install's bin folder on PATH (source its settings64.sh)"
        )
    release = vivado.release or next((t.release for t in hls_found if t.release), None)
    flow = flow_for_release(release) if release else None
    hls_tool: str | None = None
    if release is None:
        missing.append(
            "no AMD tools on PATH: source <install>/Vivado/<release>/settings64.sh "
            "(or <install>/<release>/Vivado/settings64.sh from 2025.1)"
        )
    else:
        if not vivado.present:
            missing.append(
                f"vivado {release} not on PATH: every bitstream needs Vivado (source its settings64.sh)"
            )
        same = {t.name: t for t in hls_found if t.release == release}
        if flow == FLOW_ACCELERATOR:
            hls_tool = "vivado_hls" if "vivado_hls" in same else None
            if hls_tool is None:
                missing.append(
                    f"vivado_hls {release} not on PATH (Vivado HLS ships inside Vivado up to 2020.1)"
                )
        else:
            hls_tool = next((name for name in ("vitis-run", "vitis_hls") if name in same), None)
            if hls_tool is None:
                missing.append(
                    f"no Vitis HLS {release} on PATH (vitis-run or vitis_hls): source the Vitis "
                    f"{release} settings64.sh too"
                )
        for other in hls_found:
            if other.release is not None and other.release != release:
                notes.append(f"{other.name} {other.release} at {other.path} is ignored: vivado is {release}")
    return Toolchain(tools, release, flow, hls_tool, tuple(missing), declared, tuple(notes))
