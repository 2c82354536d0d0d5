"""Reading report text and the ASCII tables Vivado and Vivado/Vitis HLS draw.

Why a table reader that names columns by their header text: Vivado has added columns between
releases (2022 put a "Prohibited" column into every utilization table), so "the third field of a
'|'-split line" silently changes meaning. Here a table is cut into columns at the ``+`` marks of
its border line, each column is named by the header text above it (multi-row headers are joined,
e.g. "Latency (cycles) min"), and callers look columns up by name. A table that the file ends
inside of, or a row with the wrong number of cells, raises instead of yielding a partial number.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hil.errors import ReportParseError

__all__ = ["AsciiTable", "parse_ascii_tables", "read_report_text", "parse_count", "parse_float", "norm"]

logger = logging.getLogger(__name__)

_BORDER = re.compile(r"^\s*\+(?:-+\+)+\s*$")
_SECTION = re.compile(r"^==\s+(\S.*?)\s*$")  # csynth.rpt: "== Utilization Estimates"
_LABEL = re.compile(r"^\s*[*+]\s+(\S.*?):\s*$")  # csynth.rpt: "* Summary:", "+ Detail:"
#: Cell values that mean "no value": Vivado's NA, HLS's "-", "?" and "undef" (unbounded loops).
_NULL_TOKENS = frozenset({"", "na", "n/a", "-", "?", "undef"})
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def norm(text: str) -> str:
    """Normalize a header or row label for lookups: lower case, single spaces, no trailing '*'."""
    return " ".join(text.replace("*", " ").split()).lower()


def read_report_text(path: Path) -> str:
    """Read a report as text; an unreadable or empty file raises ReportParseError.

    Why: an empty report is what a killed tool leaves behind, and must never read as "0 LUTs".
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportParseError(f"{path}: cannot read report ({exc.strerror or exc})") from exc
    if not data.strip():
        raise ReportParseError(f"{path}: report file is empty")
    if b"\x00" in data[:4096]:
        raise ReportParseError(f"{path}: is a binary file, not a text report")
    return data.decode("utf-8", errors="replace")


def parse_float(value: str, *, path: Path, what: str) -> float | None:
    """A number from a report cell; NA-like tokens give None, anything else non-numeric raises.

    A trailing unit ("5.00 ns") is allowed and dropped.
    """
    token = value.strip()
    if token.endswith("ns"):
        token = token[:-2].strip()
    if token.lower() in _NULL_TOKENS:
        return None
    token = token.replace(",", "")
    if not _NUMBER.match(token):
        raise ReportParseError(f"{path}: {what} is {value.strip()!r}, not a number")
    return float(token)


def parse_count(value: str, *, path: Path, what: str) -> int | None:
    """An integer count from a report cell (resources, cycles); NA-like tokens give None."""
    number = parse_float(value, path=path, what=what)
    if number is None:
        return None
    if number != int(number):
        raise ReportParseError(f"{path}: {what} is {value.strip()!r}, not a whole number")
    return int(number)


@dataclass(frozen=True)
class AsciiTable:
    """One ``+---+``-bordered table of a report.

    Attributes:
        headers: normalized column names (see ``norm``), multi-row headers joined by spaces.
        rows: the data rows' cells, stripped, one tuple per row (border lines dropped).
        line: 1-based line of the table's top border, for error messages.
        section: the nearest "== Title" heading above the table (csynth.rpt), normalized.
        label: the nearest "* Label:" line above the table (csynth.rpt), normalized.
        source: the report file, for error messages.
        raw_rows: the same rows with each cell's surrounding spaces kept, for tables where the
            indentation means something (Vivado's hierarchical utilization indents instance names
            two spaces per level).
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    line: int
    section: str
    label: str
    source: Path
    raw_rows: tuple[tuple[str, ...], ...] = ()

    def column(self, *names: str) -> int | None:
        """Index of the first column whose header is one of ``names`` (case-insensitive)."""
        wanted = [norm(name) for name in names]
        for name in wanted:
            if name in self.headers:
                return self.headers.index(name)
        return None

    def has(self, *names: str) -> bool:
        """Whether every name in ``names`` is a column of this table."""
        return all(self.column(name) is not None for name in names)


def _header_names(header_lines: Sequence[str], bounds: Sequence[int]) -> tuple[str, ...]:
    names: list[list[str]] = [[] for _ in range(len(bounds) - 1)]
    for line in header_lines:
        pipes = [k for k, ch in enumerate(line) if ch == "|"]
        for col in range(len(bounds) - 1):
            mid = (bounds[col] + bounds[col + 1]) / 2
            for left, right in itertools.pairwise(pipes):
                if left < mid < right:
                    text = line[left + 1 : right].strip()
                    if text:
                        names[col].append(text)
                    break
    return tuple(norm(" ".join(parts)) for parts in names)


def _raw_cells(line: str, ncols: int, *, path: Path, lineno: int) -> tuple[str, ...]:
    body = line.strip()
    if not (body.startswith("|") and body.endswith("|")) or len(body) < 2:
        raise ReportParseError(f"{path}: line {lineno} is a cut-off table row (file truncated?)")
    cells = body[1:-1].split("|")
    if len(cells) != ncols:
        raise ReportParseError(
            f"{path}: line {lineno} has {len(cells)} cells where its table has {ncols} columns "
            "(file truncated or malformed)"
        )
    return tuple(cells)


def parse_ascii_tables(text: str, *, path: Path) -> list[AsciiTable]:
    """Every bordered table of a report, in file order.

    Raises:
        ReportParseError: the file ends inside a table, or a row is cut off or malformed.
    """
    lines = text.splitlines()
    tables: list[AsciiTable] = []
    section = label = ""
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if match := _SECTION.match(line):
            section, label = norm(match.group(1)), ""
        elif match := _LABEL.match(line):
            label = norm(match.group(1))
        if not _BORDER.match(line):
            i += 1
            continue
        start = i
        bounds = [k for k, ch in enumerate(line) if ch == "+"]
        header_lines: list[str] = []
        i += 1
        while i < n and not _BORDER.match(lines[i]):
            if not lines[i].strip().startswith("|"):
                raise ReportParseError(f"{path}: table at line {start + 1} has a broken header")
            header_lines.append(lines[i])
            i += 1
        if i >= n:
            raise ReportParseError(f"{path}: file ends inside the table at line {start + 1} (truncated?)")
        headers = _header_names(header_lines, bounds)
        i += 1
        rows: list[tuple[str, ...]] = []
        raw_rows: list[tuple[str, ...]] = []
        closed = True
        while i < n:
            if _BORDER.match(lines[i]):
                closed = True
            elif lines[i].strip().startswith("|"):
                raw = _raw_cells(lines[i], len(headers), path=path, lineno=i + 1)
                raw_rows.append(raw)
                rows.append(tuple(cell.strip() for cell in raw))
                closed = False
            else:
                break
            i += 1
        if not closed:
            raise ReportParseError(f"{path}: file ends inside the table at line {start + 1} (truncated?)")
        tables.append(AsciiTable(headers, tuple(rows), start + 1, section, label, path, tuple(raw_rows)))
    logger.debug("%s: %d tables", path, len(tables))
    return tables
