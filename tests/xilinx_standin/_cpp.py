"""Just enough C++ reading for HLS: find function definitions, their arguments, INTERFACE pragmas, widths.

The top function's RTL ports follow UG1399 "Defining Interfaces" / UG902 "Interface Synthesis":
``hls::stream`` arguments and arrays with ``#pragma HLS INTERFACE axis`` become AXI4-Stream ports
(``<arg>_TDATA``/``_TVALID``/``_TREADY``, ``_TLAST`` for a struct with a ``last`` member), an argument
named like a Verilog/VHDL keyword gets an ``_r`` suffix (``in`` -> ``in_r``), ``ap_ctrl_none`` on
``return`` drops ``ap_start``/``ap_done``/``ap_idle``/``ap_ready``; ``ap_clk`` and ``ap_rst_n`` are
always there (Vivado IP flow resets are active-low).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: Names HLS renames with ``_r`` (reserved in Verilog/VHDL/SystemC).
RESERVED = {
    "in",
    "out",
    "inout",
    "input",
    "output",
    "reg",
    "wire",
    "begin",
    "end",
    "module",
    "signal",
    "process",
    "type",
    "buffer",
    "range",
    "not",
    "and",
    "or",
    "xor",
    "case",
    "when",
    "is",
    "of",
    "port",
    "entity",
    "component",
    "function",
    "task",
    "assign",
    "always",
    "initial",
    "generate",
    "default",
}

_FUNC = re.compile(
    r"(?:^|[;}\s])(?:static\s+|inline\s+)*([\w:<>,\s\*&]+?)\s+(\w+)\s*\(([^;{}]*)\)\s*\{", re.S
)
_TYPEDEF = re.compile(r"typedef\s+([^;{}]+?)\s+(\w+)\s*;")
_STRUCT_TYPEDEF = re.compile(r"typedef\s+struct\s*\w*\s*\{(.*?)\}\s*(\w+)\s*;", re.S)
_STRUCT = re.compile(r"struct\s+(\w+)\s*\{(.*?)\}\s*;", re.S)
_CONST = re.compile(
    r"(?:static\s+)?const\s+(?:unsigned|int|long|size_t|unsigned\s+int)\s+(\w+)\s*=\s*([^;]+);"
)
_PRAGMA = re.compile(r"#pragma\s+HLS\s+INTERFACE\s+(.*)", re.I)
_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "else"}


@dataclass
class Arg:
    ctype: str
    name: str
    array: str | None = None

    @property
    def rtl_name(self) -> str:
        return self.name + "_r" if self.name in RESERVED else self.name


@dataclass
class Function:
    name: str
    args: list[Arg]
    body: str
    file: Path


@dataclass
class Port:
    """One RTL port of the top: name, direction, width, protocol, the C object it implements."""

    name: str
    dir: str
    bits: int
    protocol: str
    obj: str
    ctype: str = "pointer"


@dataclass
class Interface:
    """A bus interface of the top (for component.xml): AXIS master/slave, clock, reset, ap_ctrl."""

    name: str
    kind: str  # axis, clock, reset, ap_ctrl, s_axilite
    mode: str = ""  # master / slave
    tdata_bits: int = 0
    has_tlast: bool = False
    ports: dict[str, str] = field(default_factory=dict)  # logical -> physical


@dataclass
class TopPorts:
    ports: list[Port]
    interfaces: list[Interface]
    ctrl: str  # ap_ctrl_hs / ap_ctrl_none / ap_ctrl_chain / s_axilite


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    # what HLS does not see: ``#ifndef __SYNTHESIS__`` blocks (hls4ml loads weights from files there)
    return re.sub(r"#ifndef\s+__SYNTHESIS__.*?#endif", "", text, flags=re.S)


def _split_top(text: str, sep: str = ",") -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out if x.strip()]


def _body(text: str, start: int) -> str:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]


def parse_arg(text: str) -> Arg:
    text = re.sub(r"\s*=\s*[^,]+$", "", text.strip())
    m = re.match(r"^(.*?)([A-Za-z_]\w*)\s*((?:\[[^\]]*\])*)$", text, re.S)
    if not m:
        return Arg(text, text)
    return Arg(m.group(1).strip(), m.group(2), m.group(3) or None)


def functions(files: list[Path]) -> dict[str, Function]:
    """Function definitions (name -> Function) in ``files``."""
    found: dict[str, Function] = {}
    for path in files:
        if not path.is_file():
            continue
        text = _strip_comments(path.read_text(errors="replace"))
        for m in _FUNC.finditer(text):
            name = m.group(2)
            if name in _KEYWORDS or m.group(1).strip() in _KEYWORDS or "operator" in name:
                continue
            args = (
                [parse_arg(a) for a in _split_top(m.group(3))]
                if m.group(3).strip() not in ("", "void")
                else []
            )
            found.setdefault(name, Function(name, args, _body(text, m.end() - 1), path))
    return found


class Types:
    """Typedefs, structs and constants in the sources and the headers beside them."""

    def __init__(self, files: list[Path]) -> None:
        self.typedefs: dict[str, str] = {}
        self.structs: dict[str, str] = {}
        self.consts: dict[str, str] = {}
        seen: set[Path] = set()
        for path in files:
            folder = path.parent
            for cand in [path, *sorted(folder.glob("*.h")), *sorted(folder.glob("*.hpp"))]:
                if cand in seen or not cand.is_file():
                    continue
                seen.add(cand)
                text = _strip_comments(cand.read_text(errors="replace"))
                for m in _STRUCT_TYPEDEF.finditer(text):
                    self.structs[m.group(2)] = m.group(1)
                for m in _STRUCT.finditer(text):
                    self.structs.setdefault(m.group(1), m.group(2))
                for m in _TYPEDEF.finditer(text):
                    if not m.group(1).lstrip().startswith("struct"):
                        self.typedefs.setdefault(m.group(2), m.group(1).strip())
                for m in _CONST.finditer(text):
                    self.consts.setdefault(m.group(1), m.group(2).strip())

    def number(self, expr: str) -> int:
        expr = expr.strip()
        for _ in range(5):
            expr = re.sub(r"[A-Za-z_]\w*", lambda m: self.consts.get(m.group(0), "1"), expr)
        expr = re.sub(r"[uUlL]+\b", "", expr)
        if not re.fullmatch(r"[\d\s\+\-\*/\(\)]+", expr):
            return 1
        try:
            return max(1, int(eval(expr, {"__builtins__": {}})))
        except (SyntaxError, ZeroDivisionError):
            return 1

    def member(self, ctype: str, member: str) -> str | None:
        body = self.structs.get(self.resolve(ctype))
        if body is None:
            return None
        m = re.search(r"^\s*([\w:<>,\s]+?)\s+" + member + r"\s*;", body, re.M)
        return m.group(1).strip() if m else None

    def resolve(self, ctype: str) -> str:
        ctype = re.sub(r"\b(const|volatile|struct)\b|[&*]", "", ctype).strip()
        for _ in range(10):
            if ctype in self.typedefs:
                ctype = self.typedefs[ctype]
            else:
                break
        return ctype

    def bits(self, ctype: str) -> int:
        """Bit width of a C type (ap_[u]fixed/ap_[u]int<W>, nnet::array<T, N>, structs with ``data``)."""
        t = self.resolve(ctype)
        m = re.match(r"(?:hls::)?stream\s*<\s*(.*)>$", t)
        if m:
            return self.bits(m.group(1))
        m = re.match(r"(?:ap_u?fixed|ap_u?int)\s*<\s*([^,>]+)", t)
        if m:
            return self.number(m.group(1))
        m = re.match(r"(?:hls::)?axis\s*<\s*([^,>]+(?:<[^>]*>)?)", t)
        if m:
            return self.bits(m.group(1))
        m = re.match(r"(?:hls::)?ap_axi[us]\s*<\s*([^,>]+)", t)
        if m:
            return self.number(m.group(1))
        m = re.match(r"(?:nnet::)?array\s*<(.*)>$", t)
        if m:
            parts = _split_top(m.group(1))
            if len(parts) == 2:
                return self.bits(parts[0]) * self.number(parts[1])
        scalars = {
            "float": 32,
            "double": 64,
            "int": 32,
            "unsigned": 32,
            "unsigned int": 32,
            "short": 16,
            "char": 8,
            "bool": 1,
            "long": 64,
            "half": 16,
        }
        if t in scalars:
            return scalars[t]
        data = self.member(t, "data")
        if data is not None:
            return self.bits(data)
        return 32


def _pragmas(body: str) -> dict[str, str]:
    """port name -> interface mode from ``#pragma HLS INTERFACE`` lines (both spellings)."""
    modes: dict[str, str] = {}
    for m in _PRAGMA.finditer(body):
        words = m.group(1).split()
        mode, ports = "", []
        for w in words:
            if w.startswith("mode="):
                mode = w.split("=", 1)[1]
            elif w.startswith("port="):
                ports = [p for p in w.split("=", 1)[1].split(",") if p]
            elif "=" not in w and not mode:
                mode = w
        for p in ports:
            modes[p] = mode.lower()
    return modes


def top_ports(func: Function, types: Types, vitis: bool) -> TopPorts:
    """The RTL ports and bus interfaces of ``func`` as the top (see the module docstring)."""
    modes = _pragmas(func.body)
    ctrl = modes.get("return", "ap_ctrl_hs")
    ports: list[Port] = []
    intfs: list[Interface] = []
    axis_names: list[str] = []
    for arg in func.args:
        is_stream = "stream" in arg.ctype
        mode = modes.get(arg.name) or (
            "axis"
            if is_stream and vitis
            else "ap_fifo"
            if is_stream
            else "ap_memory"
            if arg.array
            else "ap_none"
        )
        rtl = arg.rtl_name
        if mode == "axis":
            width = types.bits(arg.ctype)
            tdata = ((width + 7) // 8) * 8
            base = re.sub(r"(?:hls::)?stream\s*<\s*(.*)>$", r"\1", types.resolve(arg.ctype))
            has_last = types.member(base, "last") is not None or bool(
                re.match(r"(?:hls::)?(?:ap_axi[us]|axis)\s*<", types.resolve(base))
            )
            is_out = _written(func.body, arg.name)
            direction = "out" if is_out else "in"
            intf = Interface(rtl, "axis", "master" if is_out else "slave", tdata, has_last)
            for sig, sdir, bits in (
                ("TDATA", direction, tdata),
                ("TVALID", direction, 1),
                ("TREADY", "in" if is_out else "out", 1),
            ):
                ports.append(Port(f"{rtl}_{sig}", sdir, bits, "axis", rtl))
                intf.ports[sig] = f"{rtl}_{sig}"
            if has_last:
                ports.append(Port(f"{rtl}_TLAST", direction, 1, "axis", rtl))
                intf.ports["TLAST"] = f"{rtl}_TLAST"
            intfs.append(intf)
            axis_names.append(rtl)
        else:
            width = types.bits(arg.ctype)
            ports.append(Port(rtl, "in", width, mode, rtl, "scalar"))
    head = [
        Port("ap_clk", "in", 1, ctrl, func.name, "return value"),
        Port("ap_rst_n", "in", 1, ctrl, func.name, "return value"),
    ]
    if ctrl not in ("ap_ctrl_none", "s_axilite"):
        head += [
            Port(n, d, 1, ctrl, func.name, "return value")
            for n, d in (("ap_start", "in"), ("ap_done", "out"), ("ap_ready", "out"), ("ap_idle", "out"))
        ]
        intfs.append(
            Interface(
                "ap_ctrl",
                "ap_ctrl",
                "slave",
                ports={"start": "ap_start", "done": "ap_done", "ready": "ap_ready", "idle": "ap_idle"},
            )
        )
    intfs.append(Interface("ap_clk", "clock", "slave", ports={"CLK": "ap_clk"}))
    intfs.append(Interface("ap_rst_n", "reset", "slave", ports={"RST": "ap_rst_n"}))
    return TopPorts(ports + head, intfs, ctrl)


def _written(body: str, name: str) -> bool:
    """Whether the function writes argument ``name`` (``name.write(``, ``name[i] =``, ``name = ``)."""
    if re.search(rf"\b{name}\s*\.\s*write\s*\(", body) or re.search(rf"\b{name}\s*<<", body):
        return True
    if re.search(rf"\b{name}\s*\.\s*read\s*\(", body) or re.search(rf">>\s*{name}\b", body):
        return False
    if re.search(rf"\b{name}\s*(\[[^\]]*\])+\s*=[^=]", body):
        return True
    return name.startswith(("out", "layer", "res")) or "out" in name


def sub_functions(func: Function, all_funcs: dict[str, Function]) -> list[str]:
    """Functions the top calls directly (by name; templates included by their base name)."""
    called = []
    for m in re.finditer(r"\b([A-Za-z_][\w:]*)\s*(?:<[^;(){}]*>)?\s*\(", func.body):
        name = m.group(1).split("::")[-1]
        if (
            name != func.name
            and name not in _KEYWORDS
            and name not in called
            and (name in all_funcs or m.group(1).startswith("nnet::"))
        ):
            called.append(name)
    return called
