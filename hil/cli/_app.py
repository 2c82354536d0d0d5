"""The typer application and the one place where errors become exit codes.

Why a custom ``main``: every ``HilError`` must reach the user as one line on stderr naming what
to fix, with the error's exit code (2 for bad input), never as a traceback. Command modules
import heavy libraries (torch, hls4ml) inside the command functions so ``hil --help`` and cache
hits start fast.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence

import typer

try:  # typer >= 0.2x vendors its own click; its exceptions are not click's
    from typer._click import exceptions as _click_exceptions
except ImportError:  # pragma: no cover - older typer on the real click
    from click import exceptions as _click_exceptions  # type: ignore[no-redef]

from hil.errors import HilError

__all__ = ["app", "main"]

app = typer.Typer(
    name="hil",
    help="Hardware-in-the-loop co-search of quantized networks and their FPGA implementation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress of every stage to stderr."),
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    for chatty in _CHATTY_LIBRARIES:  # their INFO is per-pass detail of the ONNX export, not progress
        logging.getLogger(chatty).setLevel(logging.WARNING)


#: Third-party loggers whose INFO lines would bury hil's own under -v.
_CHATTY_LIBRARIES = ("onnx_ir", "onnxscript")


def _register_commands() -> None:
    # Imported here, not at module top, so each command module can import ``app`` from here.
    from hil.cli import (  # noqa: F401
        _boards,
        _build,
        _convert,
        _costmodel,
        _farm,
        _measure,
        _reports,
        _search,
        _toolchain,
    )


#: Options that take several values after one flag (``--data a.csv b.csv``), as the docs write
#: them; click wants the flag repeated, so ``main`` rewrites the first form into the second.
_MULTI_VALUE_OPTIONS = {"--data"}


def expand_multi_value_options(args: list[str]) -> list[str]:
    """``--data a b --json`` -> ``--data a --data b --json`` (values run until the next ``-`` token)."""
    out: list[str] = []
    current: str | None = None
    for token in args:
        if token in _MULTI_VALUE_OPTIONS:
            current = token
            out.append(token)
            continue
        if current is not None and not token.startswith("-") and out and out[-1] != current:
            out.append(current)
        elif token.startswith("-"):
            current = None
        out.append(token)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the process exit code."""
    _register_commands()
    args = expand_multi_value_options(list(argv) if argv is not None else sys.argv[1:])
    try:
        result = app(args=args, standalone_mode=False)
    except _click_exceptions.ClickException as exc:  # usage errors: message + usage line, exit 2
        exc.show()
        return int(exc.exit_code)
    except typer.Abort:
        print("hil: aborted", file=sys.stderr)
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code)
    except HilError as exc:
        print(f"hil: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hil: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in hil: one line by default, the traceback with -v
        if logging.getLogger().isEnabledFor(logging.INFO):
            traceback.print_exc()
        print(
            f"hil: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)",
            file=sys.stderr,
        )
        return 3
    return int(result) if isinstance(result, int) else 0


def entry_point() -> None:
    """Console-script entry: exit with ``main()``'s code."""
    sys.exit(main())
