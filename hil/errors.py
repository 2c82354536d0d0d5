"""The one exception hierarchy of hil.

Why one root: the CLI turns every ``HilError`` into a single line on stderr and an exit code,
so a user sees what to fix instead of a traceback, and library callers can catch one type.
Anything that is *not* a ``HilError`` escaping to the CLI is a bug in hil.
"""

from __future__ import annotations

__all__ = [
    "HilError",
    "ConfigError",
    "InputError",
    "UnsupportedModelError",
    "ConversionError",
    "CSimError",
    "RecordError",
    "ReportParseError",
    "BuildError",
    "BoardError",
]


class HilError(Exception):
    """Root of every error hil raises on purpose.

    Attributes:
        exit_code: the process exit status the CLI uses for this error. 2 means "bad input,
            fix the named thing and re-run"; 1 means "the work ran and failed".
    """

    exit_code: int = 1


class ConfigError(HilError):
    """A configuration file (inventory.yaml, jobs file, params file) is invalid."""

    exit_code = 2


class InputError(HilError):
    """A user-given argument or input file is missing or malformed."""

    exit_code = 2


class UnsupportedModelError(InputError):
    """The model uses an operator, shape or layout hil/hls4ml cannot implement."""


class ConversionError(HilError):
    """hls4ml failed on a model that passed hil's own checks."""


class CSimError(HilError):
    """The C simulation could not be compiled or run."""


class RecordError(HilError):
    """A measurement record cannot be read (unknown schema version, malformed line)."""

    exit_code = 2


class ReportParseError(HilError):
    """A tool report is truncated, foreign, or lacks a field we need. Never read as zero."""

    exit_code = 2


class BuildError(HilError):
    """A build job failed; the job's record carries the error code."""


class BoardError(HilError):
    """A board could not be reached, deployed to, or run."""
