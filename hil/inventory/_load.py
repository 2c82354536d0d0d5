"""Finding and loading inventory.yaml with errors that name the file, the board and the field."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hil.errors import ConfigError
from hil.inventory._schema import Inventory

__all__ = ["load_inventory", "default_inventory_path", "SHIPPED_INVENTORY"]

_log = logging.getLogger(__name__)

#: The inventory shipped inside the package (all boards emulated).
SHIPPED_INVENTORY = Path(str(resources.files("hil.data").joinpath("inventory.yaml")))


def default_inventory_path() -> Path:
    """./inventory.yaml when present, else the copy shipped with hil."""
    local = Path.cwd() / "inventory.yaml"
    return local if local.is_file() else SHIPPED_INVENTORY


def _describe(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "boards":
        board, rest = parts[1], parts[2:]
        return f"board {board!r}, field {'.'.join(rest) or '(entry)'}"
    return f"field {'.'.join(parts) or '(top level)'}"


def load_inventory(path: str | Path | None = None) -> Inventory:
    """Load and validate an inventory file.

    Args:
        path: the YAML file; None uses ``default_inventory_path()``.

    Raises:
        ConfigError: missing file, invalid YAML, or a field that fails validation. The message
            names the file, the board and the field.
    """
    source = Path(path).expanduser() if path is not None else default_inventory_path()
    if not source.is_file():
        raise ConfigError(f"{source}: inventory file not found (pass --inventory PATH)")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("boards"), dict) or not raw["boards"]:
        raise ConfigError(f"{source}: expected a mapping with a non-empty 'boards' section")
    try:
        inventory = Inventory.model_validate({**raw, "source": source.resolve()})
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{source}: {_describe(tuple(first['loc']))}: {message}") from None
    _log.debug("loaded %d board(s) from %s", len(inventory.boards), source)
    return inventory
