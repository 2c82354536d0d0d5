"""Options and output helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

__all__ = ["ARTIFACTS_OPTION", "INVENTORY_OPTION", "JSON_OPTION", "print_json", "console"]

INVENTORY_OPTION = typer.Option(
    None,
    "--inventory",
    help="inventory.yaml to use (default: ./inventory.yaml, else the copy shipped with hil).",
    dir_okay=False,
)
ARTIFACTS_OPTION = typer.Option(
    None,
    "--artifacts",
    help="Artifact store (default: the inventory's farm.artifacts; ./bitstreams with the shipped inventory).",
    file_okay=False,
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object for scripts instead of tables.")


def print_json(payload: Any) -> None:
    """Write a JSON document to stdout (sorted keys, paths as strings)."""
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=_default) + "\n")


def _default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON-serializable: {type(value).__name__}")


def console() -> Any:
    """A rich console on stdout (imported lazily: rich costs start-up time)."""
    from rich.console import Console

    # Piped output (CI logs, files) gets a wide table instead of rich's 80-column default.
    return Console() if sys.stdout.isatty() else Console(width=160)
