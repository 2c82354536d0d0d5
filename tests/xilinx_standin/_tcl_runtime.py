"""The Tcl interpreter the stand-ins run scripts in, and the option parser every vendor command uses.

Scripts run in a real Tcl 8.6 (Python's ``tkinter.Tcl()``): ``set``, ``proc``, ``source``, ``exec``,
``info script``, ``file``, ``clock`` ... are Tcl's own. Each vendor command is a Python function
reached through a thin Tcl ``proc`` so that its error message survives (a Python exception raised in
a ``createcommand`` callback reaches Tcl with an empty message) and ``catch`` sees a normal Tcl error.

``puts`` to stdout goes through Python so that it also lands in the tool's log, as in the real tools
(their ``puts`` writes to the journal/log too). ``exit``/``quit`` flush the log and the call record,
then call Tcl's own ``exit``.

Option grammar (UG835 "Vivado Design Suite Tcl Command Reference", chapter 1; UG1399 "Vitis HLS
Command Reference"): options start with ``-``; Vivado accepts any unambiguous prefix of an option
name and ``-quiet``/``-verbose`` on every command; the HLS tools take full option names and also the
``-option=value`` spelling (hls4ml's ``config_schedule -enable_dsp_full_reg=false``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import tkinter
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAG = "flag"
VALUE = "value"
OPTIONAL = "optional"  # UG1399's ``-opt[=true|false]``: a flag that may carry a boolean
_BOOLS = {"true", "false", "0", "1", "yes", "no", "on", "off"}

_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


class StandinError(Exception):
    """A vendor command failed; ``str(self)`` is the message without the leading ``ERROR: ``."""


@dataclass(frozen=True)
class Spec:
    """One command's option table.

    Args:
        name: the command.
        options: option name (with its dash) -> FLAG or VALUE.
        positional: (min, max) count of positional arguments; max None = unbounded.
        required: options that must be given.
        doc: the document (and release) the table comes from.
    """

    name: str
    options: dict[str, str] = field(default_factory=dict)
    positional: tuple[int, int | None] = (0, 0)
    required: tuple[str, ...] = ()
    doc: str = ""


def spec(
    name: str,
    options: str = "",
    positional: tuple[int, int | None] = (0, 0),
    required: Sequence[str] = (),
    doc: str = "",
) -> Spec:
    """A Spec from a compact option string: ``"-part= -force -reg?"`` (``=``: takes a value; ``?``: a flag
    with an optional boolean, ``-reg``, ``-reg=false`` or ``-reg false``)."""
    table = {}
    for word in options.split():
        if word.endswith("?"):
            table[word[:-1]] = OPTIONAL
        elif word.endswith("="):
            table[word[:-1]] = VALUE
        else:
            table[word] = FLAG
    return Spec(name, table, positional, tuple(required), doc)


@dataclass
class Parsed:
    """What a command got: options by name (without dash; flags True) and positional arguments."""

    opts: dict[str, Any]
    pos: list[str]

    def get(self, name: str, default: Any = None) -> Any:
        return self.opts.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.opts


class VivadoMessages:
    """Vivado's wording of option errors (UG835 commands; message ids as Vivado prints them)."""

    @staticmethod
    def unknown(cmd: str, opt: str) -> str:
        return f"[Common 17-170] Unknown option '{opt}', please type '{cmd} -help' for usage info."

    @staticmethod
    def missing_value(cmd: str, opt: str) -> str:
        name = opt.lstrip("-")
        return f"[Common 17-163] Missing value for option '{name}', please type '{cmd} -help' for usage info."

    @staticmethod
    def too_many(cmd: str, arg: str) -> str:
        return (
            f"[Common 17-165] Too many positional options when parsing '{arg}', please type "
            f"'{cmd} -help' for usage info."
        )

    @staticmethod
    def ambiguous(cmd: str, opt: str, matches: list[str]) -> str:
        return (
            f"[Common 17-169] Multiple matches found for option '{opt}': {' '.join(matches)}, "
            f"please type '{cmd} -help' for usage info."
        )


class HlsMessages:
    """The HLS tools' wording of option errors (Vivado HLS / Vitis HLS ``[HLS 200-xxx]`` ids)."""

    @staticmethod
    def unknown(cmd: str, opt: str) -> str:
        return f"[HLS 200-101] '{cmd}': Unknown option '{opt}'. Please type '{cmd} -help' for usage."

    @staticmethod
    def missing_value(cmd: str, opt: str) -> str:
        return f"[HLS 200-101] '{cmd}': Missing value for option '{opt}'."

    @staticmethod
    def too_many(cmd: str, arg: str) -> str:
        return f"[HLS 200-101] '{cmd}': Too many positional arguments ('{arg}')."

    @staticmethod
    def ambiguous(cmd: str, opt: str, matches: list[str]) -> str:
        return f"[HLS 200-101] '{cmd}': Ambiguous option '{opt}'."


def parse(sp: Spec, args: Sequence[str], *, vivado: bool) -> Parsed:
    """Parse ``args`` against ``sp`` with Vivado's (prefixes, -quiet/-verbose) or HLS rules (``-o=v``)."""
    msg = VivadoMessages if vivado else HlsMessages
    table = dict(sp.options)
    if vivado:
        table.setdefault("-quiet", FLAG)
        table.setdefault("-verbose", FLAG)
    opts: dict[str, Any] = {}
    pos: list[str] = []
    i = 0
    only_positional = False
    while i < len(args):
        arg = args[i]
        if not only_positional and arg == "--":
            only_positional = True
        elif not only_positional and arg.startswith("-") and len(arg) > 1 and not _NUMBER.match(arg):
            name, inline = arg, None
            if not vivado and "=" in arg:
                name, inline = arg.split("=", 1)
            if name in table:
                key = name
            elif vivado:
                matches = [o for o in table if o.startswith(name)]
                if len(matches) > 1:
                    raise StandinError(msg.ambiguous(sp.name, name, matches))
                if not matches:
                    raise StandinError(msg.unknown(sp.name, name))
                key = matches[0]
            else:
                raise StandinError(msg.unknown(sp.name, name))
            if table[key] == OPTIONAL:
                if inline is None and i + 1 < len(args) and args[i + 1].lower() in _BOOLS:
                    i += 1
                    inline = args[i]
                if inline is not None and inline.lower() not in _BOOLS:
                    raise StandinError(msg.unknown(sp.name, f"{name}={inline}"))
                opts[key[1:]] = True if inline is None else inline
            elif table[key] == VALUE:
                if inline is not None:
                    value = inline
                elif i + 1 < len(args):
                    i += 1
                    value = args[i]
                else:
                    raise StandinError(msg.missing_value(sp.name, key))
                opts[key[1:]] = value
            else:
                opts[key[1:]] = True if inline is None else inline
        else:
            pos.append(arg)
        i += 1
    lo, hi = sp.positional
    if hi is not None and len(pos) > hi:
        raise StandinError(msg.too_many(sp.name, pos[hi]))
    for req in sp.required:
        if req.lstrip("-") not in opts:
            raise StandinError(msg.missing_value(sp.name, req))
    if len(pos) < lo:
        raise StandinError(
            msg.missing_value(sp.name, "<positional argument>")
            if vivado
            else f"[HLS 200-101] '{sp.name}': Missing argument."
        )
    return Parsed(opts, pos)


Handler = Callable[[Parsed], Any]


class Runtime:
    """One tool process: a Tcl interpreter, its log, its call record.

    Args:
        tool: ``vivado``, ``vitis_hls``, ``vitis-run`` or ``vivado_hls``.
        release: e.g. ``2024.2``.
        log: the log file path, or None for no log.
        vivado_style: option errors worded as Vivado (True) or as the HLS tools (False).
    """

    def __init__(self, tool: str, release: str, log: Path | None, vivado_style: bool) -> None:
        self.tool, self.release, self.vivado_style = tool, release, vivado_style
        self.tcl = tkinter.Tcl()
        self.cwd = Path.cwd()
        self._log = open(log, "w", encoding="utf-8") if log is not None else None
        record = os.environ.get("HIL_STANDIN_RECORD") or str(self.cwd / "standin_calls.jsonl")
        self.record_path = Path(record)
        self._last_error: str | None = None
        self.tcl.createcommand("::standin::call", self._dispatch)
        self._handlers: dict[str, Callable[[tuple[str, ...]], Any]] = {}
        self.specs: dict[str, Spec] = {}
        self.tcl.eval("rename ::puts ::standin::tcl_puts")
        self._register_raw("puts", self._puts)
        # tkinter deletes Tcl's own ``exit`` (it would end Python mid-call): ``exit``/``quit`` end the
        # process here, after the log and the call record are closed, and no ``catch`` stops them.
        if vivado_style:  # UG835 ``source [-encoding <arg>] [-notrace] [-quiet] [-verbose] <file>``
            self.tcl.eval(
                "rename ::source ::standin::tcl_source\n"
                "proc ::source args {\n"
                "  set keep {}\n"
                "  foreach a $args { if {$a ni {-notrace -quiet -verbose}} { lappend keep $a } }\n"
                "  uplevel 1 [list ::standin::tcl_source {*}$keep]\n"
                "}"
            )
        self._register_raw("exit", self._exit_cmd)
        self._register_raw("quit", self._exit_cmd)

    # -- output -----------------------------------------------------------------------------
    def say(self, text: str, newline: bool = True) -> None:
        """Write to stdout and the log (as every line the real tools print goes to their log)."""
        out = text + ("\n" if newline else "")
        sys.stdout.write(out)
        sys.stdout.flush()
        if self._log is not None and not self._log.closed:
            self._log.write(out)
            self._log.flush()

    def info(self, ident: str, text: str) -> None:
        self.say(f"INFO: [{ident}] {text}")

    def warning(self, ident: str, text: str) -> None:
        self.say(f"WARNING: [{ident}] {text}")

    def _puts(self, args: tuple[str, ...]) -> str:
        argv = list(args)
        newline = True
        if argv and argv[0] == "-nonewline":
            newline = False
            argv = argv[1:]
        if len(argv) == 1 or (len(argv) == 2 and argv[0] == "stdout"):
            self.say(argv[-1], newline)
            return ""
        return str(self.tcl.call("::standin::tcl_puts", *args))

    # -- commands ---------------------------------------------------------------------------
    def _register_raw(self, name: str, func: Callable[[tuple[str, ...]], Any]) -> None:
        self._handlers[name] = func
        self.tcl.eval(
            f"proc {name} args {{\n"
            f"  set r [::standin::call {{{name}}} {{*}}$args]\n"
            f"  if {{[lindex $r 0]}} {{ return -code error -errorcode {{STANDIN}} [lindex $r 1] }}\n"
            f"  return [lindex $r 1]\n"
            f"}}"
        )

    def register(self, sp: Spec, handler: Handler) -> None:
        """Define ``sp.name`` as a Tcl command that parses its options by ``sp`` and calls ``handler``."""

        def call(args: tuple[str, ...]) -> Any:
            return self._run(sp, handler, args)

        self._register_raw(sp.name, call)
        self.specs[sp.name] = sp

    def _run(self, sp: Spec, handler: Handler, args: tuple[str, ...]) -> Any:
        self.record(sp.name, list(args))
        parsed = parse(sp, args, vivado=self.vivado_style)
        return handler(parsed)

    def _dispatch(self, name: str, *args: str) -> tuple[int, Any]:
        func = self._handlers[name]
        try:
            result = func(args)
        except StandinError as exc:
            text = str(exc)
            self._last_error = text
            self.say(f"ERROR: {text}")
            self.record_error(name, text)
            return (1, text)
        except tkinter.TclError as exc:
            return (1, str(exc))
        except Exception as exc:  # a bug in the stand-in: say so loudly, never as a vendor message
            traceback.print_exc()
            text = f"[hil-standin internal error] {name}: {type(exc).__name__}: {exc}"
            self.say(f"ERROR: {text}")
            self._last_error = text
            return (1, text)
        if result is None:
            result = ""
        if isinstance(result, list):
            result = tuple(result)
        return (0, result)

    def record(self, command: str, args: list[str]) -> None:
        """Append one line to the call record (JSON: tool, release, command, args, cwd, time)."""
        line = {
            "tool": self.tool,
            "release": self.release,
            "command": command,
            "args": args,
            "cwd": str(Path.cwd()),
            "time": round(time.time(), 3),
        }
        with open(self.record_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    def record_error(self, command: str, message: str) -> None:
        line = {
            "tool": self.tool,
            "release": self.release,
            "command": command,
            "error": message,
            "cwd": str(Path.cwd()),
            "time": round(time.time(), 3),
        }
        with open(self.record_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    # -- running ----------------------------------------------------------------------------
    def set_argv(self, argv0: str, args: Sequence[str]) -> None:
        self.tcl.call("set", "::argv0", argv0)
        self.tcl.call("set", "::argv", tuple(args))
        self.tcl.call("set", "::argc", len(args))

    def source(self, script: Path) -> int:
        """Source ``script`` at global level; returns the exit status the real batch mode gives."""
        try:
            self.tcl.call("::source", str(script))
        except tkinter.TclError as exc:
            message = str(exc)
            trace = str(self.tcl.eval("set ::errorInfo"))
            if message != self._last_error:
                self.say(f"ERROR: {message}")
            rest = trace.split("\n", 1)[1] if "\n" in trace else ""
            if rest:
                self.say(rest)
            return 1
        return 0

    def _exit_cmd(self, args: tuple[str, ...]) -> str:
        code_text = args[0] if args else "0"
        if not code_text.lstrip("-").isdigit():
            raise StandinError(f'expected integer but got "{code_text}"')
        code = int(code_text)
        self.record("exit", list(args))
        self.finish(code)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def finish(self, code: int) -> None:
        """Print the closing message and close the log (before the process exits)."""
        when = time.strftime("%a %b %d %H:%M:%S %Y")
        if self.tool == "vivado":
            self.info("Common 17-206", f"Exiting Vivado at {when}...")
        else:
            self.info("HLS 200-112", f"Total CPU user time: 0 seconds. Exiting {self.tool} at {when}.")
        sys.stdout.flush()
        if self._log is not None and not self._log.closed:
            self._log.close()
