"""`hil toolchain`: the AMD release on PATH, its tools, the flow hil will run, what is missing.

Exit 0 when a bitstream can be built here, 1 when something is missing (each problem one line
naming what to install or source), so scripts and farm set-ups can check a host first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hil.cli._app import app
from hil.cli._common import INVENTORY_OPTION, JSON_OPTION, console, print_json

_FLOW_TEXT = {
    "vitis": "Vitis HLS (hls4ml Vitis project + hil's AXI-stream top) -> IP -> hil's block design "
    "-> bitstream",
    "vivado-accelerator": "Vivado HLS (hls4ml VivadoAccelerator project) -> IP -> hil's block design "
    "-> bitstream",
}


@app.command("toolchain")
def toolchain_command(
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Show the AMD release and tools found on PATH and the bitstream flow hil would run."""
    from hil.flow import apply_inventory_declarations, detect_toolchain
    from hil.inventory import load_inventory

    inv = load_inventory(inventory)
    apply_inventory_declarations(inv)
    found = detect_toolchain(standin=inv.farm.standin_tools)
    payload: dict[str, Any] = found.to_dict()
    payload["flow_description"] = _FLOW_TEXT.get(found.flow or "", None)
    payload["declared"] = dict(inv.farm.tools)
    declared = inv.farm.tools.get("vivado")
    if declared and found.release and declared != found.release:
        payload["missing"].append(
            f"the inventory declares vivado {declared} (farm.tools) but {found.release} is on PATH: "
            "builds here would be refused"
        )
    if as_json:
        print_json(payload)
    else:
        _print(payload)
    return 0 if found.usable and not payload["missing"] else 1


def _print(payload: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    release = payload["release"] or "none"
    label = " [yellow](declared stand-ins: numbers labelled standin)[/]" if payload["standin"] else ""
    out.print(f"AMD release: [bold]{escape(release)}[/]{label}")
    table = Table(title="tools on PATH")
    for column in ("tool", "release", "path"):
        table.add_column(column)
    for name, tool in payload["tools"].items():
        table.add_row(name, tool["release"] or "-", escape(tool["path"] or "not found"))
    out.print(table)
    if payload["flow"]:
        out.print(f"flow: [bold]{payload['flow']}[/], HLS through {payload['hls_tool'] or '(missing)'}")
        out.print(f"  {escape(payload['flow_description'] or '')}")
    for line in payload["notes"]:
        out.print(f"note: {escape(line)}")
    for line in payload["missing"]:
        out.print(f"[red]missing[/]: {escape(line)}")
    if not payload["missing"]:
        out.print("[green]a bitstream can be built here[/] (hil build MODEL --board B --builder vivado)")
