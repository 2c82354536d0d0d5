"""`python -m hil` runs the CLI."""

from hil.cli import entry_point

entry_point()
