"""The bitstream flows of hil, one per AMD release family, and the toolchain they need.

* ``detect_toolchain()``: the release and tools on PATH, the flow, what is missing (``hil toolchain``).
* ``board_build()``: the block-design data of a board (``hil/data/board_builds.yaml`` + inventory).
* ``make_plan()``: write a flow's scripts into an hls4ml project and describe every tool call.
* ``flow_backend()`` / ``check_backend()``: which hls4ml backend a flow builds from.
"""

from __future__ import annotations

from hil.errors import InputError
from hil.flow._axis_top import AXIS_CONVENTION, AxisTop, axis_top_for, write_axis_top
from hil.flow._boards import PS_FAMILIES, BoardBuild, PsFamily, board_build, shipped_board_builds
from hil.flow._plan import DISK_NEEDED, STOP_AFTER, Plan, ToolCall, make_plan
from hil.flow._rehearse import planned_flow, rehearse
from hil.flow._toolchain import (
    FLOW_ACCELERATOR,
    FLOW_VITIS,
    Toolchain,
    ToolFound,
    detect_toolchain,
    flow_for_release,
    parse_release,
    release_of_path,
    standin_declared,
)

__all__ = [
    "AXIS_CONVENTION",
    "AxisTop",
    "BoardBuild",
    "DISK_NEEDED",
    "FLOW_ACCELERATOR",
    "FLOW_VITIS",
    "PS_FAMILIES",
    "Plan",
    "PsFamily",
    "STOP_AFTER",
    "ToolCall",
    "ToolFound",
    "Toolchain",
    "apply_inventory_declarations",
    "axis_top_for",
    "board_build",
    "check_backend",
    "detect_toolchain",
    "flow_backend",
    "flow_for_release",
    "make_plan",
    "parse_release",
    "planned_flow",
    "rehearse",
    "release_of_path",
    "shipped_board_builds",
    "standin_declared",
    "write_axis_top",
]

_BACKEND = {FLOW_VITIS: "Vitis", FLOW_ACCELERATOR: "VivadoAccelerator"}


def flow_backend(flow: str) -> str:
    """The hls4ml backend a flow builds from: Vitis (>= 2020.2) or VivadoAccelerator (<= 2020.1)."""
    return _BACKEND[flow]


def check_backend(flow: str, release: str, backend: str) -> None:
    """Refuse, with one line, a backend the release's bitstream flow cannot build.

    Raises:
        InputError: e.g. VivadoAccelerator (needs ``vivado_hls``) with a 2024.2 install.
    """
    wanted = flow_backend(flow)
    if backend == wanted:
        return
    if flow == FLOW_VITIS:
        raise InputError(
            f"AMD {release} has no vivado_hls (removed after 2020.1): its bitstream flow builds hls4ml's "
            f"Vitis project; use --backend Vitis (or auto), not {backend}"
        )
    raise InputError(
        f"AMD {release} has no Vitis HLS (from 2020.2): its bitstream flow is hls4ml's VivadoAccelerator "
        f"project; use --backend VivadoAccelerator (or auto), not {backend}"
    )


def apply_inventory_declarations(inventory: object) -> None:
    """Export the inventory's ``farm.standin_tools`` as ``HIL_STANDIN_TOOLS=1`` (this process, its children).

    Why the environment: a build's tool versions are read where the build runs (a local worker
    inherits this process's environment; a remote worker declares its own).
    """
    import os

    from hil.flow._toolchain import STANDIN_ENV

    farm = getattr(inventory, "farm", None)
    if farm is not None and getattr(farm, "standin_tools", False):
        os.environ[STANDIN_ENV] = "1"
