"""hil's command line: thin wrappers that parse, call the library, and print."""

from hil.cli._app import app, entry_point, main

__all__ = ["app", "main", "entry_point"]
