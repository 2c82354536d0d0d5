"""Data files shipped with hil (the default inventory)."""
