"""`hil boards`: the boards of the inventory, their resources and whether they are emulated.

``--check`` connects to each board (SSH for a board with a host, locally for an emulated one),
uploads the agent and runs ``agent --version``; a board that answers leaves quarantine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import INVENTORY_OPTION, JSON_OPTION, console, print_json
from hil.inventory import load_inventory


@app.command("boards")
def boards_command(
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
    check: bool = typer.Option(
        False, "--check", help="Connect to each board and run the agent's --version; exit 1 if any fails."
    ),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds for connect/SFTP (--check)."),
) -> int:
    """List the inventory's boards (BRAM shown in 18 Kb blocks)."""
    inv = load_inventory(inventory)
    if check:
        return _check(inv, timeout, as_json)
    rows: list[dict[str, Any]] = []
    for name, board in inv.boards.items():
        rows.append(
            {
                "board": name,
                "part": board.part,
                **board.resources.as_dict(),
                "clock_mhz": board.clock_mhz,
                "emulated": board.emulated,
                "host": board.host,
            }
        )
    if as_json:
        print_json({"inventory": str(inv.source), "boards": rows})
        return 0
    from rich.table import Table

    table = Table(title=f"boards in {inv.source}")
    for column in ("board", "part", "LUT", "FF", "DSP", "BRAM18K", "URAM", "MHz", "target"):
        table.add_column(
            column, justify="right" if column in {"LUT", "FF", "DSP", "BRAM18K", "URAM", "MHz"} else "left"
        )
    for row in rows:
        table.add_row(
            row["board"],
            row["part"],
            f"{row['lut']:,}",
            f"{row['ff']:,}",
            f"{row['dsp']:,}",
            f"{row['bram_18k']:,}",
            f"{row['uram']:,}",
            f"{row['clock_mhz']:g}",
            "emulated" if row["emulated"] else f"{row['host']}",
        )
    console().print(table)
    return 0


def _check(inv: Any, timeout: float, as_json: bool) -> int:
    from hil.board import MeasureConfig, check_board

    config = MeasureConfig(connect_timeout_s=timeout, lease_timeout_s=max(timeout, 30.0))
    rows = [check_board(board, config) for board in inv.boards.values()]
    if as_json:
        print_json({"inventory": str(inv.source), "check": rows})
    else:
        from rich.table import Table

        table = Table(title=f"board check ({inv.source})")
        for column in ("board", "target", "result", "agent", "python", "numpy", "pynq", "seconds"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                row["board"],
                row["target"],
                "[green]ok[/]" if row["ok"] else f"[red]{row['message']}[/]",
                str(row.get("agent") or "-"),
                str(row.get("python") or "-"),
                str(row.get("numpy") or "-"),
                str(row.get("pynq") or "-"),
                f"{row['seconds']:.2f}",
            )
        console().print(table)
    return 0 if all(row["ok"] for row in rows) else 1
