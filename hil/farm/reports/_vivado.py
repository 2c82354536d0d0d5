"""Vivado reports: ``report_utilization`` flat (vivado_synth.rpt, *utilization*.rpt) and
``-hierarchical``, and ``report_timing_summary``.

Why rows by their "Site Type" label and values by the "Used" header: Vivado renamed rows
between device families (7-series "Slice LUTs", UltraScale "CLB LUTs") and added columns between
releases ("Prohibited" in 2022), so neither the row order nor the column position is stable.
A required row that is missing raises: a synthesis with no LUT row is a broken report, not a
free design.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from hil.errors import ReportParseError
from hil.farm.reports._model import (
    ClockInfo,
    HierarchicalUtilization,
    SynthReport,
    TimingReport,
    UtilizationRow,
)
from hil.farm.reports._text import (
    AsciiTable,
    norm,
    parse_ascii_tables,
    parse_count,
    parse_float,
    read_report_text,
)

__all__ = ["parse_utilization", "parse_utilization_hierarchical", "parse_timing_summary"]

logger = logging.getLogger(__name__)

_LUT_ROWS = ("Slice LUTs", "CLB LUTs")
_REG_ROWS = ("Slice Registers", "CLB Registers")
_DSP_ROWS = ("DSPs",)
_BRAM_ROWS = ("Block RAM Tile",)
_URAM_ROWS = ("URAM",)

_MET = "All user specified timing constraints are met."
_NOT_MET = "Timing constraints are not met."


def _header(text: str, name: str, path: Path, *, required: bool = True) -> str | None:
    """A ``| Name : value`` line of the report banner."""
    match = re.search(rf"^\|\s*{re.escape(name)}\s*:\s*(.*?)\s*$", text, re.MULTILINE)
    if match is None or not match.group(1):
        if required:
            raise ReportParseError(f"{path}: report banner lacks its '{name}' line")
        return None
    return match.group(1)


def _tool_version(text: str, path: Path) -> str:
    banner = _header(text, "Tool Version", path) or ""
    match = re.search(r"v\.?(\d{4}\.\d+(?:\.\d+)?)", banner)
    if match is None:
        raise ReportParseError(f"{path}: cannot read a Vivado release from 'Tool Version : {banner}'")
    return match.group(1)


def parse_utilization(path: str | Path) -> SynthReport:
    """Parse a Vivado ``report_utilization`` text report (post-synthesis or post-route).

    LUT, register, DSP and block-RAM rows are required; the URAM row is optional (parts without
    UltraRAM print none) and gives ``uram=None`` when absent.

    Raises:
        ReportParseError: the file is empty, foreign, cut off, or lacks a required row.
    """
    path = Path(path)
    text = read_report_text(path)
    if "report_utilization" not in text and "Utilization Design Information" not in text:
        raise ReportParseError(
            f"{path}: not a Vivado utilization report (no 'Utilization Design Information')"
        )
    tables = parse_ascii_tables(text, path=path)
    if _hierarchy_table(tables) is not None:
        # Its top row has other names ("Total LUTs"); read as flat it would lack every row.
        raise ReportParseError(
            f"{path}: is a hierarchical utilization report (report_utilization -hierarchical), "
            "not a flat one; read it with parse_utilization_hierarchical"
        )
    used: dict[str, str] = {}
    for table in tables:
        site, value = table.column("Site Type"), table.column("Used")
        if site is None or value is None:
            continue
        for row in table.rows:
            used.setdefault(norm(row[site]), row[value])

    def lookup(rows: tuple[str, ...]) -> str | None:
        for name in rows:
            if norm(name) in used:
                return used[norm(name)]
        return None

    def need(rows: tuple[str, ...]) -> float:
        raw = lookup(rows)
        if raw is None:
            raise ReportParseError(
                f"{path}: utilization report lacks the '{rows[0]}' row (truncated or not a full report?)"
            )
        number = parse_float(raw, path=path, what=f"'{rows[0]}' Used")
        if number is None:
            raise ReportParseError(f"{path}: utilization report gives no value for '{rows[0]}'")
        return number

    def whole(rows: tuple[str, ...]) -> int:
        number = need(rows)
        if number != int(number):
            raise ReportParseError(f"{path}: '{rows[0]}' Used is {number}, not a whole number")
        return int(number)

    uram_raw = lookup(_URAM_ROWS)
    report = SynthReport(
        path=path,
        top=_header(text, "Design", path) or "",
        part=_header(text, "Device", path) or "",
        tool_version=_tool_version(text, path),
        design_state=_header(text, "Design State", path, required=False),
        lut=whole(_LUT_ROWS),
        ff=whole(_REG_ROWS),
        dsp=whole(_DSP_ROWS),
        bram_tile=need(_BRAM_ROWS),
        uram=None if uram_raw is None else parse_count(uram_raw, path=path, what="'URAM' Used"),
    )
    logger.debug("%s: synth %s on %s, %d LUT", path, report.top, report.part, report.lut)
    return report


#: Columns of the "Utilization by Hierarchy" table, by header text (normalized). Required ones
#: raise when missing; UltraScale+ adds "URAM", 7-series in older releases says "DSP48 Blocks".
_H_INSTANCE = ("Instance",)
_H_MODULE = ("Module",)
_H_TOTAL_LUTS = ("Total LUTs",)
_H_LOGIC_LUTS = ("Logic LUTs",)
_H_LUTRAMS = ("LUTRAMs",)
_H_SRLS = ("SRLs",)
_H_FFS = ("FFs",)
_H_RAMB36 = ("RAMB36",)
_H_RAMB18 = ("RAMB18",)
_H_URAM = ("URAM",)
_H_DSP = ("DSP Blocks", "DSP48 Blocks", "DSPs")
#: ``-hierarchical_percentages`` writes "1390(35.12%)" or "1390 (<0.01%)"; the count is kept.
_PERCENT = re.compile(r"\s*\(\s*<?\s*[\d.]+\s*%\s*\)\s*$")


def _hierarchy_table(tables: list[AsciiTable]) -> AsciiTable | None:
    """The "Utilization by Hierarchy" table: the one with Instance, Total LUTs and FFs columns."""
    for table in tables:
        if table.has(*_H_INSTANCE, *_H_TOTAL_LUTS, *_H_FFS):
            return table
    return None


def parse_utilization_hierarchical(path: str | Path) -> HierarchicalUtilization:
    """Parse a Vivado ``report_utilization -hierarchical`` text report ("Utilization by Hierarchy").

    Why: in a block design the flat report counts everything (PS wrapper, DMA, interconnect and
    the network), while the network's own cost is the row of its cell in this table.

    Format, as read here: the banner of every Vivado text report (Tool Version, Date, Host,
    Command, Design, Device, Design State), then one bordered table with columns Instance |
    Module | Total LUTs | Logic LUTs | LUTRAMs | SRLs | FFs | RAMB36 | RAMB18 | [URAM] | DSP
    Blocks. Instance names are indented two spaces per level below the top; the top row's Module
    is "(top)"; a "(name)" row below an instance with children holds that instance's own logic.
    ``-hierarchical_percentages`` appends "(x.xx%)" to each number (dropped here);
    ``-hierarchical_depth N`` leaves out deeper rows; ``-hierarchical_min_primitive_count``
    (which 2025.x passes even for a *flat* report) leaves out small cells. Columns are found by
    header text: unknown extra columns are ignored, Logic LUTs / LUTRAMs / SRLs / URAM / Module
    may be missing (None); Total LUTs, FFs, RAMB36, RAMB18 and the DSP column are required.

    Checked against: there is no real hierarchical report in ``../shared``. The banner parsing is
    the flat parser's, checked on the real flat reports (``../shared/reports/*/vivado_synth.rpt``,
    ``vivado2022.2_noclock/alu_8bit_utilization_synth.rpt``,
    ``../shared/costdata/lowbit/reports/**/vivado_synth.rpt``; all five are refused here as
    flat). The options are from AMD UG906 ("Show Hierarchical Information with Customized
    Options", 2022.1 and the current release). The table was checked against public copies of
    real reports: a complete Vivado 2023.1 report (Design conv2d, xc7z020clg484-1, 7-series with
    "DSP Blocks", a "(conv2d)" own-logic row; ry-koh/dso-2d-convolution-1, PROMPTS.md);
    UltraScale+ tables with a URAM column and nested "(inst)" rows (an Ascon-AEAD128 core's
    README, an LDPC encoder's notes); a 7-series table with "DSP48 Blocks" (an 8b10b/DisplayPort
    project's notes). No real ``-hierarchical_percentages`` sample was found: its "(x.xx%)"
    suffix is handled from UG906's description with a tolerant pattern. Excerpts of these are
    the fixtures of ``tests/farm_tests/test_reports_hierarchical.py``.

    Raises:
        ReportParseError: the file is empty, foreign, cut off, a flat report, or lacks a
            required column; a row's indentation skips a level.
    """
    path = Path(path)
    text = read_report_text(path)
    if "report_utilization" not in text and "Utilization Design Information" not in text:
        raise ReportParseError(
            f"{path}: not a Vivado utilization report (no 'Utilization Design Information')"
        )
    tables = parse_ascii_tables(text, path=path)
    table = _hierarchy_table(tables)
    if table is None:
        if "Utilization by Hierarchy" in text:
            raise ReportParseError(
                f"{path}: 'Utilization by Hierarchy' table is missing or cut off (truncated?)"
            )
        raise ReportParseError(
            f"{path}: is a flat utilization report, not report_utilization -hierarchical "
            "(no 'Utilization by Hierarchy' table); read it with parse_utilization"
        )
    if not table.rows:
        raise ReportParseError(f"{path}: 'Utilization by Hierarchy' table has no rows (truncated?)")

    def index(names: tuple[str, ...], *, required: bool) -> int | None:
        found = table.column(*names)
        if found is None and required:
            raise ReportParseError(f"{path}: 'Utilization by Hierarchy' table lacks the '{names[0]}' column")
        return found

    inst_col = index(_H_INSTANCE, required=True)
    assert inst_col is not None
    mod_col = index(_H_MODULE, required=False)
    required = {key: index(names, required=True) for key, names in (
        ("total_luts", _H_TOTAL_LUTS), ("ffs", _H_FFS), ("ramb36", _H_RAMB36),
        ("ramb18", _H_RAMB18), ("dsp", _H_DSP),
    )}  # fmt: skip
    optional = {key: index(names, required=False) for key, names in (
        ("logic_luts", _H_LOGIC_LUTS), ("lutrams", _H_LUTRAMS), ("srls", _H_SRLS), ("uram", _H_URAM),
    )}  # fmt: skip

    def number(cells: tuple[str, ...], col: int | None, what: str, instance: str) -> int | None:
        if col is None:
            return None
        return parse_count(_PERCENT.sub("", cells[col]), path=path, what=f"{instance} {what}")

    rows: list[UtilizationRow] = []
    stack: list[str] = []
    for cells, raw in zip(table.rows, table.raw_rows, strict=True):
        instance = cells[inst_col]
        if not instance:
            raise ReportParseError(f"{path}: a 'Utilization by Hierarchy' row has no instance name")
        cell = raw[inst_col]
        # One pad space after the '|', then two per level.
        indent = len(cell) - len(cell.lstrip(" ")) - 1
        depth = max(indent, 0) // 2
        if depth > len(stack) or (not rows and depth != 0):
            raise ReportParseError(
                f"{path}: instance '{instance}' is indented {depth} levels below a row of level "
                f"{len(stack) - 1} (malformed hierarchy table)"
            )
        del stack[depth:]
        stack.append(instance)
        need: dict[str, int] = {}
        for key, col in required.items():
            value = number(cells, col, key, instance)
            if value is None:
                raise ReportParseError(f"{path}: '{instance}' gives no value for {key}")
            need[key] = value
        values = {key: number(cells, col, key, instance) for key, col in optional.items()}
        rows.append(
            UtilizationRow(
                path="/".join(stack),
                instance=instance,
                depth=depth,
                module=cells[mod_col] if mod_col is not None else None,
                total_luts=need["total_luts"],
                logic_luts=values["logic_luts"],
                lutrams=values["lutrams"],
                srls=values["srls"],
                ffs=need["ffs"],
                ramb36=need["ramb36"],
                ramb18=need["ramb18"],
                uram=values["uram"],
                dsp=need["dsp"],
            )
        )
    report = HierarchicalUtilization(
        path=path,
        top=_header(text, "Design", path) or "",
        part=_header(text, "Device", path) or "",
        tool_version=_tool_version(text, path),
        design_state=_header(text, "Design State", path, required=False),
        rows=tuple(rows),
    )
    if report.top_row.instance != report.top:
        logger.warning("%s: top row '%s' differs from Design '%s'", path, report.top_row.instance, report.top)
    logger.debug("%s: %d hierarchy rows under %s", path, len(rows), report.top)
    return report


def parse_timing_summary(path: str | Path, *, clock: str | None = None) -> TimingReport:
    """Parse the Design Timing Summary and the Clock Summary of a ``report_timing_summary`` report.

    The summaries are whitespace-aligned tables: column names come from the header line (split
    at runs of two or more spaces, checked against the dashed underline), values are matched to
    names, never to fixed positions. NA becomes None. See ``TimingReport`` for the ``met`` rule.

    The main clock (``TimingReport.clock``, whose period gives the achieved clock
    1000 / (period - WNS)) is: ``clock`` when named (an error when the report lacks it); else the
    only clock; else the only clock that is not generated; else the clock whose Intra Clock
    Table setup WNS is the design's WNS (the clock that limits it); else None.

    Checked against: ``../shared/reports/vivado2022.2_noclock/timing_summary.rpt`` (real, 2022.2,
    no clock: every slack NA, an empty Clock Summary), and public routed reports with a clock:
    Vivado 2017.4 (a Zynq block design clocked by ``clk_fpga_0``;
    martinafogliato/Sha256_Hw_Accelerator) and 2021.2 (xczu3eg, wider banner labels;
    gussmith23/lakeroad-evaluation). No public 2023.x-2025.x timing summary with its tables was
    found (only their banners, which match): those releases are assumed to keep the layout.

    Raises:
        ReportParseError: the file is empty, foreign, cut off before the summary, its summary
            lacks WNS/TNS/WHS, or ``clock`` is not in its Clock Summary.
    """
    path = Path(path)
    text = read_report_text(path)
    if "report_timing_summary" not in text and "Timing Summary Report" not in text:
        raise ReportParseError(f"{path}: not a Vivado timing summary report (no 'Timing Summary Report')")
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.strip("| ").strip() == "Design Timing Summary"), None
    )
    if start is None:
        raise ReportParseError(f"{path}: timing report lacks its 'Design Timing Summary' (truncated?)")
    head = next((i for i in range(start, len(lines)) if "WNS(ns)" in lines[i]), None)
    if head is None or head + 1 >= len(lines):
        raise ReportParseError(
            f"{path}: timing report's Design Timing Summary has no WNS(ns) header (truncated?)"
        )
    names = re.split(r"\s{2,}", lines[head].strip())
    dashes = re.findall(r"-+", lines[head + 1])
    if len(dashes) != len(names):
        raise ReportParseError(f"{path}: Design Timing Summary header at line {head + 1} is malformed")
    values_line = next((line for line in lines[head + 2 :] if line.strip()), None)
    values = values_line.split() if values_line is not None else []
    if len(values) != len(names):
        raise ReportParseError(
            f"{path}: Design Timing Summary has {len(values)} values for {len(names)} columns (truncated?)"
        )
    summary = dict(zip((norm(name) for name in names), values, strict=True))

    def ns(column: str, *, required: bool = True) -> float | None:
        raw = summary.get(norm(column))
        if raw is None:
            if required:
                raise ReportParseError(f"{path}: Design Timing Summary lacks the {column} column")
            return None
        return parse_float(raw, path=path, what=column)

    wns, tns, whs = ns("WNS(ns)"), ns("TNS(ns)"), ns("WHS(ns)")
    clocks = _clocks(text, path)
    met: bool | None
    if wns is None or whs is None:
        met = None
    elif _MET in text:
        met = True
    elif _NOT_MET in text:
        met = False
    else:
        met = wns >= 0 and whs >= 0
    report = TimingReport(
        path=path,
        top=_header(text, "Design", path) or "",
        part=_header(text, "Device", path) or "",
        tool_version=_tool_version(text, path),
        wns_ns=wns,
        tns_ns=tns,
        whs_ns=whs,
        ths_ns=ns("THS(ns)", required=False),
        wpws_ns=ns("WPWS(ns)", required=False),
        met=met,
        clocks=clocks,
        clock=_main_clock(clocks, clock, wns, path),
    )
    logger.debug("%s: timing of %s, WNS %s ns, met %s", path, report.top, wns, met)
    return report


def _section_table(lines: list[str], title: str, first: str) -> tuple[list[str], list[list[str]]] | None:
    """A whitespace-aligned table under a ``| Title`` heading: its column names and value rows.

    Values are tokens, a ``{...}`` waveform being one token. Rows end at the first blank line.
    None when the section is absent (older or trimmed reports).
    """
    start = next((i for i, line in enumerate(lines) if line.strip("| ").strip() == title), None)
    if start is None:
        return None
    # The section ends where the next "| Title" heading starts (an empty section has no table).
    end = next((i for i in range(start + 2, len(lines)) if re.match(r"^\|\s+\S", lines[i])), len(lines))
    head = next((i for i in range(start, end) if lines[i].split()[:1] == [first]), None)
    if head is None or head + 1 >= end or not lines[head + 1].strip().startswith("-"):
        return None
    names = re.split(r"\s{2,}", lines[head].strip())
    rows: list[list[str]] = []
    for line in lines[head + 2 :]:
        if not line.strip():
            break
        rows.append([line[: len(line) - len(line.lstrip())], *re.findall(r"\{[^}]*\}|\S+", line)])
    return names, rows


def _clocks(text: str, path: Path) -> tuple[ClockInfo, ...]:
    """The Clock Summary's rows, with each clock's setup/hold slack from the Intra Clock Table."""
    lines = text.splitlines()
    summary = _section_table(lines, "Clock Summary", "Clock")
    if summary is None:
        return ()
    names, rows = summary
    columns = [norm(name) for name in names]
    for needed in ("Clock", "Waveform(ns)", "Period(ns)"):
        if norm(needed) not in columns:
            raise ReportParseError(f"{path}: Clock Summary lacks its {needed} column")
    intra: dict[str, dict[str, str]] = {}
    intra_table = _section_table(lines, "Intra Clock Table", "Clock")
    if intra_table is not None:
        intra_names = [norm(name) for name in intra_table[0]]
        for row in intra_table[1]:
            if len(row) - 1 == len(intra_names):
                intra[row[1]] = dict(zip(intra_names, row[1:], strict=True))
    clocks = []
    for row in rows:
        indent, values = row[0], row[1:]
        if len(values) != len(columns):
            raise ReportParseError(
                f"{path}: Clock Summary row {' '.join(values)!r} has {len(values)} values for "
                f"{len(columns)} columns (truncated?)"
            )
        cell = dict(zip(columns, values, strict=True))
        name = cell[norm("Clock")]
        period = parse_float(cell[norm("Period(ns)")], path=path, what=f"{name} Period(ns)")
        if period is None:
            raise ReportParseError(f"{path}: clock {name} has no period")
        own = intra.get(name, {})
        clocks.append(
            ClockInfo(
                name=name,
                period_ns=period,
                frequency_mhz=parse_float(
                    cell.get(norm("Frequency(MHz)"), "NA"), path=path, what="Frequency"
                ),
                waveform=cell[norm("Waveform(ns)")],
                generated=bool(indent),
                wns_ns=parse_float(own.get(norm("WNS(ns)"), "NA"), path=path, what=f"{name} WNS(ns)"),
                whs_ns=parse_float(own.get(norm("WHS(ns)"), "NA"), path=path, what=f"{name} WHS(ns)"),
            )
        )
    return tuple(clocks)


def _main_clock(
    clocks: tuple[ClockInfo, ...], wanted: str | None, wns: float | None, path: Path
) -> ClockInfo | None:
    """See ``parse_timing_summary`` for the rule."""
    if wanted is not None:
        hit = next((c for c in clocks if c.name == wanted), None)
        if hit is None:
            names = ", ".join(c.name for c in clocks) or "none"
            raise ReportParseError(f"{path}: no clock '{wanted}' in the Clock Summary (clocks: {names})")
        return hit
    if len(clocks) == 1:
        return clocks[0]
    masters = [c for c in clocks if not c.generated]
    if len(masters) == 1:
        return masters[0]
    limiting = [c for c in clocks if wns is not None and c.wns_ns == wns]
    if len(limiting) == 1:
        return limiting[0]
    if clocks:
        logger.info("%s: %d clocks and no rule picks the main one; name it", path, len(clocks))
    return None
