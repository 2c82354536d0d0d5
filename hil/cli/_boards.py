"""`hil boards`: the boards of the inventory, their resources and whether they are emulated."""

from __future__ import annotations

from pathlib import Path

from hil.cli._app import app
from hil.cli._common import INVENTORY_OPTION, JSON_OPTION, console, print_json
from hil.inventory import load_inventory


@app.command("boards")
def boards_command(inventory: Path | None = INVENTORY_OPTION, as_json: bool = JSON_OPTION) -> None:
    """List the inventory's boards (BRAM shown in 18 Kb blocks)."""
    inv = load_inventory(inventory)
    rows = []
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
        return
    from rich.table import Table

    table = Table(title=f"boards in {inv.source}")
    for column in ("board", "part", "LUT", "FF", "DSP", "BRAM18K", "URAM", "MHz", "target"):
        table.add_column(column, justify="right" if column in {"LUT", "FF", "DSP", "BRAM18K", "URAM", "MHz"} else "left")
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
