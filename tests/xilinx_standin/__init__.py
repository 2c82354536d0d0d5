"""Tcl-executing stand-ins for AMD's tools (``vivado``, ``vitis-run``, ``vitis_hls``, ``vivado_hls``).

CI has no Vivado. These stand-ins run a tool's Tcl script in a real Tcl 8.6 interpreter with every
vendor command that hil's and hls4ml's scripts use defined from AMD's documentation (UG835, UG1399,
UG902, UG1702): options are checked, state is kept (projects, solutions, block designs, runs), and the
files the real tools write appear where the real tools put them. A script with a misspelt command or
option, a hard-coded IP version from another release, or a connection to a missing pin fails here as it
would on the real tool.

Public API:
    install(root, release) -> [bin folders]: lay the executables out like a real install.
    RELEASES: the releases known to the stand-ins.

Environment (read by the tools at run time):
    HIL_STANDIN_BOARD_PARTS: comma-separated third-party board parts installed on top of AMD's own board
        files of the release (zcu102, zcu104, zcu106, zc702, zc706, kv260_som revisions), e.g.
        ``tul.com.tw:pynq-z2:part0:1.0`` (not installed by default, as on a fresh Vivado install);
        the token ``-amd`` removes AMD's own.
    HIL_STANDIN_WNS: the worst negative slack (ns) report_timing_summary gives (default: positive,
        12.3 % of the fastest clock period); a negative value gives "Timing constraints are not met."
    HIL_STANDIN_RECORD: the call record file (default ``standin_calls.jsonl`` in the tool's cwd).

Call record: one JSON object per line, appended by every tool process (nested ``exec vivado`` runs
included): ``{"tool", "release", "command", "args", "cwd", "time"}`` for each vendor command called
(before its options are checked), plus ``{"tool", "release", "command", "error", ...}`` for each one
that failed, and ``{"command": "exit", ...}``.

Every tool prints ``INFO: [hil-standin] this is a stand-in for <tool> <release>`` first, and its log
(``vivado.log``, ``vitis_hls.log``, ``vivado_hls.log``) starts with the same line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.xilinx_standin._catalog import RELEASES, release_key

__all__ = ["RELEASES", "install", "tool_paths"]

_REPO = Path(__file__).resolve().parents[2]

_SCRIPT = """#!{python}
# hil test stand-in for AMD's {tool} {release}: NOT the real tool (see tests/xilinx_standin).
import sys
sys.path.insert(0, {repo!r})
from tests.xilinx_standin._cli import main
sys.exit(main({tool!r}, {release!r}, sys.argv[1:]))
"""


def tool_paths(root: Path, release: str) -> dict[str, Path]:
    """Where each executable of ``release`` lives under ``root``, as AMD's installers lay them out.

    Up to 2020.1 Vivado HLS ships inside the Vivado install (``Vivado/2020.1/bin/vivado_hls``);
    2020.2-2024.2 have ``Vitis_HLS/<rel>/bin/vitis_hls`` and, from 2023.2 (UG1399 2023.2 "vitis, v++,
    and vitis-run Commands"), ``Vitis/<rel>/bin/vitis-run``; from 2025.1 every product sits under
    ``<rel>/`` (``2025.1/Vivado/bin``, ``2025.1/Vitis/bin``), and UG1399 2025.1 still documents
    ``vitis_hls -f``, so ``vitis_hls`` is kept next to ``vitis-run``.
    """
    key = release_key(release)
    if key <= (2020, 1):
        vivado_bin = root / "Vivado" / release / "bin"
        return {"vivado": vivado_bin / "vivado", "vivado_hls": vivado_bin / "vivado_hls"}
    if key < (2025, 1):
        paths = {
            "vivado": root / "Vivado" / release / "bin" / "vivado",
            "vitis_hls": root / "Vitis_HLS" / release / "bin" / "vitis_hls",
        }
        if key >= (2023, 2):
            paths["vitis-run"] = root / "Vitis" / release / "bin" / "vitis-run"
        return paths
    return {
        "vivado": root / release / "Vivado" / "bin" / "vivado",
        "vitis-run": root / release / "Vitis" / "bin" / "vitis-run",
        "vitis_hls": root / release / "Vitis" / "bin" / "vitis_hls",
    }


def install(root: Path, release: str) -> list[Path]:
    """Write the stand-in executables of ``release`` under ``root``.

    Args:
        root: the install root (what ``/tools/Xilinx`` is on a real machine).
        release: e.g. ``2020.1``, ``2024.2``, ``2025.1``.

    Returns:
        The bin folders to put first on PATH, in order (Vivado's first).
    """
    if release not in RELEASES:
        raise ValueError(f"unknown release {release!r}; known: {', '.join(RELEASES)}")
    bins: list[Path] = []
    for tool, path in tool_paths(Path(root), release).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_SCRIPT.format(python=sys.executable, tool=tool, release=release, repo=str(_REPO)))
        os.chmod(path, 0o755)
        if path.parent not in bins:
            bins.append(path.parent)
    return bins
