"""``hil build --dry-run``: convert the model, write every script of the flow and ``plan.json``, run nothing.

Why: a user without the tools here (or about to spend hours of a farm) sees exactly what would
run: each tool call's argv, folder and the files it must produce, and can hand the folder to a
machine that has the tools. The release is the installed one, else the one asked for.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hil.errors import InputError
from hil.flow._boards import board_build
from hil.flow._plan import Plan, make_plan
from hil.flow._toolchain import FLOW_ACCELERATOR, detect_toolchain, flow_for_release, parse_release

__all__ = ["DEFAULT_RELEASE", "planned_flow", "rehearse"]

_log = logging.getLogger(__name__)

#: The release a dry run plans for when none is installed or asked for: the newest supported.
DEFAULT_RELEASE = "2025.1"


def planned_flow(release: str | None = None) -> tuple[str, str, str]:
    """(release, flow, HLS tool) of the installed tools, or of ``release`` when given (else the newest)."""
    toolchain = detect_toolchain()
    if release is None and toolchain.usable:
        return str(toolchain.release), str(toolchain.flow), str(toolchain.hls_tool)
    chosen = release or DEFAULT_RELEASE
    flow = flow_for_release(chosen)
    parsed = parse_release(chosen)
    if flow is None or parsed is None:
        raise InputError(f"--release must look like 2024.2, got {chosen!r}")
    if flow == FLOW_ACCELERATOR:
        return chosen, flow, "vivado_hls"
    return chosen, flow, "vitis-run" if parsed >= (2023, 2) else "vitis_hls"


def rehearse(
    model: str | Path,
    board: Any,
    options: Any,
    *,
    out: Path,
    release: str | None = None,
    stop_after: str = "bitstream",
) -> tuple[Plan, Any]:
    """Convert into ``out`` and write the flow's scripts and plan there; return (plan, hls4ml model).

    Raises:
        InputError: a backend the release's flow cannot build, a bad release or stop stage.
    """
    from hil.convert import convert
    from hil.flow import check_backend

    chosen, flow, hls_tool = planned_flow(release)
    check_backend(flow, chosen, options.backend)
    build = board_build(board.name, board.part, dict(getattr(board, "build", None) or {}))
    if flow == FLOW_ACCELERATOR:
        from hil.convert.accelerator_boards import ensure_registered

        ensure_registered()
    conversion = convert(model, board, options, output_dir=out)
    plan = make_plan(
        conversion.output_dir,
        conversion.hls_model,
        flow=flow,
        release=chosen,
        hls_tool=hls_tool,
        board=board.name,
        build=build,
        clock_mhz=board.clock_mhz,
        stop_after=stop_after,
    )
    return plan, conversion.hls_model
