"""Boards and the build farm, as described by inventory.yaml."""

from hil.inventory._load import SHIPPED_INVENTORY, default_inventory_path, load_inventory
from hil.inventory._schema import Board, Farm, FarmTls, Inventory, Resources

__all__ = [
    "Board",
    "Farm",
    "FarmTls",
    "Inventory",
    "Resources",
    "load_inventory",
    "default_inventory_path",
    "SHIPPED_INVENTORY",
]
