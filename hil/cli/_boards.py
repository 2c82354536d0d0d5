"""`hil boards`: the boards of the inventory, their resources and whether they are emulated.

``--check`` connects to each board (SSH for a board with a host, locally for an emulated one),
uploads the agent and checks its set-up the way a measurement runs (root through ``sudo -n`` or a
root login, pynq and its version, a device under XRT, the board name PYNQ reports, free disk),
printing one line per problem with its fix; a board that passes leaves quarantine (and a board
stopped for its set-up goes back in service). With
``--bundle DIR`` (a vivado build's ``<artifact>/board``) it also uploads that bundle and runs the
agent's ``--probe`` on its overlay there, so the board's own pynq says which DMA it would drive
(its path, largest transfer, stream widths) before anything is measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import INVENTORY_OPTION, JSON_OPTION, console, print_json
from hil.errors import InputError
from hil.inventory import load_inventory


@app.command("boards")
def boards_command(
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
    check: bool = typer.Option(
        False, "--check", help="Connect to each board and run the agent's --version; exit 1 if any fails."
    ),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds for connect/SFTP (--check)."),
    bundle: Path | None = typer.Option(
        None,
        "--bundle",
        help="--check also probes this bundle's overlay (design.hwh) on each board.",
        file_okay=False,
    ),
    board: str | None = typer.Option(None, "--board", "-b", help="--check only this board."),
) -> int:
    """List the inventory's boards (BRAM shown in 18 Kb blocks)."""
    inv = load_inventory(inventory)
    if (bundle is not None or board is not None) and not check:
        raise InputError("--bundle and --board go with --check")
    if check:
        return _check(inv, timeout, as_json, bundle, board)
    rows: list[dict[str, Any]] = []
    for name, entry in inv.boards.items():
        rows.append(
            {
                "board": name,
                "part": entry.part,
                **entry.resources.as_dict(),
                "clock_mhz": entry.clock_mhz,
                "emulated": entry.emulated,
                "host": entry.host,
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


def _check(inv: Any, timeout: float, as_json: bool, bundle: Path | None, only: str | None) -> int:
    from hil.board import MeasureConfig, check_board

    config = MeasureConfig(connect_timeout_s=timeout, lease_timeout_s=max(timeout, 30.0))
    boards = [inv.board(only)] if only is not None else list(inv.boards.values())
    rows = [check_board(board, config, bundle_dir=bundle) for board in boards]
    if as_json:
        print_json({"inventory": str(inv.source), "check": rows})
    else:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"board check ({inv.source})")
        columns = ["board", "target", "result", "agent", "python", "numpy", "pynq"]
        if bundle is not None:
            columns += ["DMA", "max transfer B", "in/out bits", "parser"]
        for column in (*columns, "seconds"):
            table.add_column(column)
        for row in rows:
            cells = [
                row["board"],
                row["target"],
                "[green]ok[/]" if row["ok"] else f"[red]{escape(row['message'])}[/]",
                str(row.get("agent") or "-"),
                str(row.get("python") or "-"),
                str(row.get("numpy") or "-"),
                str(row.get("pynq") or "-"),
            ]
            if bundle is not None:
                dma = (row.get("probe") or {}).get("dma") or {}
                cells += [
                    str(dma.get("path") or "-"),
                    f"{dma['max_transfer_bytes']:,}" if dma else "-",
                    f"{dma.get('in_width_bits')}/{dma.get('out_width_bits')}" if dma else "-",
                    str((row.get("probe") or {}).get("parser") or "-"),
                ]
            table.add_row(*cells, f"{row['seconds']:.2f}")
        console().print(table)
        for row in rows:  # one line per problem, each naming its fix (plain text: copy-pasteable)
            for problem in row.get("problems") or []:
                print(f"{row['board']}: {problem}")
    return 0 if all(row["ok"] for row in rows) else 1
