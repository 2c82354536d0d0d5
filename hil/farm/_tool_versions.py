"""Which tool versions a build expects, which a host has, and the refusal when they differ.

Why the worker checks: the versions that shape a build are those of the host that runs it, and
on a farm that is a worker, not the coordinator (which usually has no Vivado at all). The job
carries the versions it expects (the inventory's ``farm.tools`` where declared, else those of
the host that made the job); its key hashes them; the worker compares its own versions before
it starts and refuses a job it would build with other tools. A refusal is not a failed design:
the runner offers the job to another worker first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hil.records import ErrorCode

__all__ = ["ToolMismatch", "host_tools", "expected_tools", "tool_mismatch"]

_log = logging.getLogger(__name__)

#: The stage a tool belongs to: the error code a refusal over that tool is recorded with.
_TOOL_STAGE = {
    "hls4ml": ErrorCode.CONVERT,
    "hil": ErrorCode.CONVERT,
    "g++": ErrorCode.CSIM,
    "vivado": ErrorCode.HLS,
}


@dataclass(frozen=True)
class ToolMismatch:
    """A worker's tools differ from the job's: which, and the error code of the refusal."""

    code: ErrorCode
    message: str
    #: tool -> (expected version, actual version)
    differences: dict[str, tuple[str, str]]

    def describe(self) -> str:
        """``vivado 2020.1, the job expects 2023.2; ...``"""
        return "; ".join(
            f"{name} {have}, the job expects {want}" for name, (want, have) in self.differences.items()
        )


def host_tools(builder_name: str, options: Mapping[str, Any] | None = None) -> dict[str, str]:
    """This host's versions of every tool a ``builder_name`` build with ``options`` would use."""
    from hil.farm.builders import get_builder
    from hil.records import tool_versions

    builder = get_builder(builder_name)
    design = tool_versions() if builder.design_tools else {}
    return {**design, **builder.tool_versions(options)}


def expected_tools(
    builder_name: str, options: Mapping[str, Any] | None, declared: Mapping[str, str] | None
) -> dict[str, str]:
    """The versions a job must be built with: declared ones win, the rest are this host's.

    A declared tool the builder does not use is left out (``vivado`` does not shape an
    ``estimate`` build), so declaring it changes no key of other builders.
    """
    tools = host_tools(builder_name, options)
    for name, version in (declared or {}).items():
        if name in tools:
            tools[name] = str(version)
    return tools


def tool_mismatch(expected: Mapping[str, str], actual: Mapping[str, str], where: str) -> ToolMismatch | None:
    """None when ``actual`` has every expected version; else the refusal, naming each difference."""
    wrong = {name: (version, actual.get(name, "absent")) for name, version in expected.items()
             if actual.get(name, "absent") != version}  # fmt: skip
    if not wrong:
        return None
    detail = "; ".join(f"{name} {have} here, the job expects {want}" for name, (want, have) in wrong.items())
    first = next(iter(wrong))
    return ToolMismatch(
        differences=wrong,
        code=_TOOL_STAGE.get(first, ErrorCode.HLS),
        message=(
            f"{where} refuses the job: {detail}. Install the expected tools on this worker, or "
            'declare the farm\'s versions in the inventory (farm.tools, e.g. {vivado: "2023.2"})'
        ),
    )
