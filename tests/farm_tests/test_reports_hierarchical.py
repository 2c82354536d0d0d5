"""``report_utilization -hierarchical``: the parser, the row lookup, and flat/hierarchical mix-ups.

../shared has no real hierarchical report. The fixtures here are (a) a complete real report
quoted from a public repository, (b) real tables quoted from public notes, given the banner of
a real flat report from ../shared, and (c) block-design-shaped reports rendered in the layout
those real tables show (instance left-aligned and indented two spaces per level, module and
numbers right-aligned), with the banner of a real flat report from ../shared.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hil.errors import ReportParseError
from hil.farm.reports import (
    HierarchicalUtilization,
    check_report_matches,
    parse_utilization,
    parse_utilization_hierarchical,
)

SHARED = Path(os.environ.get("HIL_SHARED") or Path(__file__).resolve().parents[3] / "shared")
REPORTS = SHARED / "reports"


def shared(rel: str) -> Path:
    """A file of ../shared/reports; fail in CI, skip elsewhere, when it is missing."""
    path = REPORTS / rel
    if not path.exists():
        message = f"shared report fixture missing: {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


# Verbatim from ry-koh/dso-2d-convolution-1, PROMPTS.md ("Prompt 20"): a complete Vivado 2023.1
# `report_utilization -hierarchical` of a 7-series design (no URAM column; "DSP Blocks").
CONV2D_2023_1 = """\
Copyright 1986-2022 Xilinx, Inc. All Rights Reserved. Copyright 2022-2023 Advanced Micro Devices, Inc. All Rights Reserved.
---------------------------------------------------------------------------------------------------------------------------------------------
| Tool Version : Vivado v.2023.1 (win64) Build 3865809 Sun May  7 15:05:29 MDT 2023
| Date         : Mon Jun 29 16:32:51 2026
| Host         : D23007620 running 64-bit major release  (build 9200)
| Command      : report_utilization -hierarchical
| Design       : conv2d
| Device       : xc7z020clg484-1
| Speed File   : -1
| Design State : Synthesized
---------------------------------------------------------------------------------------------------------------------------------------------

Utilization Design Information

Table of Contents
-----------------
1. Utilization by Hierarchy

1. Utilization by Hierarchy
---------------------------

+--------------+----------+------------+------------+---------+------+-----+--------+--------+------------+
|   Instance   |  Module  | Total LUTs | Logic LUTs | LUTRAMs | SRLs | FFs | RAMB36 | RAMB18 | DSP Blocks |
+--------------+----------+------------+------------+---------+------+-----+--------+--------+------------+
| conv2d       |    (top) |         40 |         40 |       0 |    0 |  95 |      0 |      2 |          0 |
|   (conv2d)   |    (top) |         22 |         22 |       0 |    0 |  39 |      0 |      0 |          0 |
|   u_line_buf | line_buf |         15 |         15 |       0 |    0 |   0 |      0 |      2 |          0 |
|   u_win_buf  |  win_buf |          3 |          3 |       0 |    0 |  56 |      0 |      0 |          0 |
+--------------+----------+------------+------------+---------+------+-----+--------+--------+------------+
"""  # noqa: E501

# The table of an UltraScale+ report (URAM column, an own-logic row two levels down), from the
# README of a public Ascon-AEAD128 SystemVerilog core (found through the code index; quoted).
ASCON_TABLE = """\
+-------------------------------+--------------------+------------+------------+---------+------+-----+--------+--------+------+------------+
|            Instance           |       Module       | Total LUTs | Logic LUTs | LUTRAMs | SRLs | FFs | RAMB36 | RAMB18 | URAM | DSP Blocks |
+-------------------------------+--------------------+------------+------------+---------+------+-----+--------+--------+------+------------+
| ascon_aead128                 |              (top) |       1390 |       1390 |       0 |    0 | 470 |      0 |      0 |    0 |          0 |
|   ascon_aead128_core_inst     | ascon_aead128_core |       1284 |       1284 |       0 |    0 | 463 |      0 |      0 |    0 |          0 |
|     (ascon_aead128_core_inst) | ascon_aead128_core |          4 |          4 |       0 |    0 | 138 |      0 |      0 |    0 |          0 |
|     ascon_p_inst              |            ascon_p |       1280 |       1280 |       0 |    0 | 325 |      0 |      0 |    0 |          0 |
|   ascon_pad_inst              |          ascon_pad |        106 |        106 |       0 |    0 |   7 |      0 |      0 |    0 |          0 |
+-------------------------------+--------------------+------------+------------+---------+------+-----+--------+--------+------+------------+
"""  # noqa: E501

# Older 7-series reports name the DSP column "DSP48 Blocks"; first rows of a table quoted in a
# public 8b10b/DisplayPort project's notes (found through the code index).
DSP48_TABLE = """\
+------------------------------------------------+--------------------------------------------+------------+------------+---------+------+-----+--------+--------+--------------+
|                    Instance                    |                   Module                   | Total LUTs | Logic LUTs | LUTRAMs | SRLs | FFs | RAMB36 | RAMB18 | DSP48 Blocks |
+------------------------------------------------+--------------------------------------------+------------+------------+---------+------+-----+--------+--------+--------------+
| top_level                                      |                                      (top) |        711 |        639 |      16 |   56 | 697 |      0 |      1 |            0 |
|   (top_level)                                  |                                      (top) |         32 |          0 |       0 |   32 |   0 |      0 |      0 |            0 |
|   Inst_main_stream_processing                  |                     main_stream_processing |        230 |        206 |       0 |   24 | 294 |      0 |      0 |            0 |
+------------------------------------------------+--------------------------------------------+------------+------------+---------+------+-----+--------+--------+--------------+
"""  # noqa: E501


def banner(source: str, *, design: str, command: str) -> str:
    """The banner of a real flat report from ../shared, with its Design and Command replaced."""
    lines = []
    for line in shared(source).read_text().splitlines():
        if line.startswith("Utilization Design Information"):
            break
        if line.startswith("| Design  "):
            line = f"| Design       : {design}"
        elif line.startswith("| Command "):
            line = f"| Command      : {command}"
        lines.append(line)
    return "\n".join(lines) + "\nUtilization Design Information\n\n"


HEADER_7SERIES = ("Instance", "Module", "Total LUTs", "Logic LUTs", "LUTRAMs", "SRLs", "FFs",
                  "RAMB36", "RAMB18", "DSP Blocks")  # fmt: skip
HEADER_ULTRASCALE = (*HEADER_7SERIES[:-1], "URAM", "DSP Blocks")


def render(header: tuple[str, ...], rows: list[tuple[int, str, str, tuple[object, ...]]]) -> str:
    """A "Utilization by Hierarchy" table in Vivado's layout: rows are (depth, instance, module, numbers)."""
    cells = [
        [" " * (2 * depth) + inst, module, *(str(v) for v in values)] for depth, inst, module, values in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in cells)) + 2 for i, h in enumerate(header)]
    border = "+" + "+".join("-" * w for w in widths) + "+"
    head = "|" + "|".join(h.center(w) for h, w in zip(header, widths, strict=True)) + "|"
    body = [
        "|" + "|".join((" " + c).ljust(w) if i == 0 else (c + " ").rjust(w) for i, (c, w) in enumerate(
            zip(row, widths, strict=True))) + "|"
        for row in cells
    ]  # fmt: skip
    return "\n".join(["1. Utilization by Hierarchy", "---------------------------", "", border, head, border,
                      *body, border, ""])  # fmt: skip


#: A Zynq block design with the network's cell inside a hierarchy: (depth, instance, module,
#: Total LUTs, Logic LUTs, LUTRAMs, SRLs, FFs, RAMB36, RAMB18, DSP). Two cells named "U0".
BD_ROWS = [
    (0, "design_1_wrapper", "(top)", (4012, 3620, 240, 152, 5230, 3, 4, 66)),
    (1, "design_1_i", "design_1", (4012, 3620, 240, 152, 5230, 3, 4, 66)),
    (2, "axi_dma_0", "design_1_axi_dma_0_0", (1480, 1300, 120, 60, 2100, 3, 0, 0)),
    (3, "U0", "axi_dma", (1480, 1300, 120, 60, 2100, 3, 0, 0)),
    (2, "hier_0", "hier_0_imp_1ABCDEF", (1526, 1440, 86, 0, 2428, 0, 4, 66)),
    (3, "myproject_axis_0", "design_1_myproject_axis_0_0", (1526, 1440, 86, 0, 2428, 0, 4, 66)),
    (4, "U0", "myproject_axis", (1526, 1440, 86, 0, 2428, 0, 4, 66)),
    (2, "ps7_0_axi_periph", "design_1_ps7_0_axi_periph_0", (1006, 880, 34, 92, 702, 0, 0, 0)),
]
COMMAND = "report_utilization -hierarchical -file reports/utilization_hierarchical_routed.rpt"


def bd_report(
    tmp_path: Path,
    *,
    header: tuple[str, ...] = HEADER_7SERIES,
    rows: list[tuple[int, str, str, tuple[object, ...]]] | None = None,
    name: str = "utilization_hierarchical_routed.rpt",
    command: str = COMMAND,
) -> Path:
    """The block design's hierarchical report, with the banner of the real 2020.1 7z020 report."""
    path = tmp_path / name
    text = banner("vivado2020.1_hls4ml_test/vivado_synth.rpt", design="design_1_wrapper", command=command)
    path.write_text(text + render(header, rows if rows is not None else BD_ROWS))
    return path


# --- real reports -------------------------------------------------------------------------------


def test_real_2023_1_report(tmp_path: Path) -> None:
    path = tmp_path / "conv2d_hier.rpt"
    path.write_text(CONV2D_2023_1)
    report = parse_utilization_hierarchical(path)
    assert (report.top, report.part, report.tool_version, report.design_state) == (
        "conv2d", "xc7z020clg484-1", "2023.1", "Synthesized",
    )  # fmt: skip
    assert [(r.path, r.depth, r.module, r.own_logic) for r in report.rows] == [
        ("conv2d", 0, "(top)", False),
        ("conv2d/(conv2d)", 1, "(top)", True),
        ("conv2d/u_line_buf", 1, "line_buf", False),
        ("conv2d/u_win_buf", 1, "win_buf", False),
    ]
    top = report.top_row
    assert (top.total_luts, top.logic_luts, top.lutrams, top.srls, top.ffs) == (40, 40, 0, 0, 95)
    assert (top.ramb36, top.ramb18, top.bram_18k, top.uram, top.dsp) == (0, 2, 2, None, 0)
    assert report.row_for_instance("u_win_buf").ffs == 56
    assert report.row_for_instance("(conv2d)").total_luts == 22
    line_buf = report.synth_report("u_line_buf")
    assert (line_buf.lut, line_buf.ff, line_buf.bram_tile, line_buf.uram, line_buf.dsp) == (
        15,
        0,
        1.0,
        None,
        0,
    )
    assert (line_buf.top, line_buf.instance, line_buf.part) == (
        "conv2d",
        "conv2d/u_line_buf",
        "xc7z020clg484-1",
    )
    whole = report.synth_report()
    assert (whole.lut, whole.ff, whole.instance) == (40, 95, "conv2d")
    assert whole.to_dict() == {"lut": 40, "ff": 95, "dsp": 0, "bram_tile": 1.0, "uram": None}
    with pytest.raises(ReportParseError, match="is a hierarchical utilization report"):
        parse_utilization(path)


def test_real_ultrascale_table_with_uram_and_nested_own_logic(tmp_path: Path) -> None:
    path = tmp_path / "ascon_hier.rpt"
    text = banner(
        "vivado2020.1_xczu9eg/vivado_synth.rpt",
        design="ascon_aead128",
        command="report_utilization -hierarchical",
    )
    path.write_text(text + "1. Utilization by Hierarchy\n---------------------------\n\n" + ASCON_TABLE)
    report = parse_utilization_hierarchical(path)
    assert report.part == "xczu9egffvb1156-2"
    assert [(r.path, r.depth) for r in report.rows] == [
        ("ascon_aead128", 0),
        ("ascon_aead128/ascon_aead128_core_inst", 1),
        ("ascon_aead128/ascon_aead128_core_inst/(ascon_aead128_core_inst)", 2),
        ("ascon_aead128/ascon_aead128_core_inst/ascon_p_inst", 2),
        ("ascon_aead128/ascon_pad_inst", 1),
    ]
    p = report.row_for_instance("ascon_p_inst")
    assert (p.total_luts, p.ffs, p.uram, p.module) == (1280, 325, 0, "ascon_p")
    assert report.row_for_instance("ascon_aead128_core_inst").ffs == 463  # not its own-logic row


def test_real_dsp48_blocks_header(tmp_path: Path) -> None:
    path = tmp_path / "old_hier.rpt"
    text = banner(
        "vivado2020.1_hls4ml_test/vivado_synth.rpt",
        design="top_level",
        command="report_utilization -hierarchical",
    )
    path.write_text(text + "1. Utilization by Hierarchy\n---------------------------\n\n" + DSP48_TABLE)
    report = parse_utilization_hierarchical(path)
    main = report.row_for_instance("Inst_main_stream_processing")
    assert (main.total_luts, main.srls, main.ffs, main.dsp, main.uram) == (230, 24, 294, 0, None)
    assert (report.top_row.ramb18, report.top_row.bram_18k) == (1, 1)


# --- block-design-shaped reports ----------------------------------------------------------------


def test_block_design_kernel_and_whole_design(tmp_path: Path) -> None:
    report = parse_utilization_hierarchical(bd_report(tmp_path))
    assert (report.top, report.tool_version, report.part) == ("design_1_wrapper", "2020.1", "7z020clg400-1")
    kernel_row = report.row_for_instance("myproject_axis_0")
    assert kernel_row.path == "design_1_wrapper/design_1_i/hier_0/myproject_axis_0"
    assert (kernel_row.depth, kernel_row.module) == (3, "design_1_myproject_axis_0_0")
    assert report.row_for_instance("hier_0/myproject_axis_0") == kernel_row
    assert report.row_for_instance("design_1_wrapper/design_1_i/hier_0/myproject_axis_0") == kernel_row
    kernel = report.synth_report(kernel_row)
    assert (kernel.lut, kernel.ff, kernel.dsp, kernel.bram_tile) == (1526, 2428, 66, 2.0)
    assert kernel.instance == "design_1_wrapper/design_1_i/hier_0/myproject_axis_0"
    dma = report.row_for_instance("axi_dma_0")
    assert (dma.ramb36, dma.ramb18, dma.bram_18k, dma.bram_tile) == (3, 0, 6, 3.0)
    whole = report.synth_report()
    assert (whole.lut, whole.ff, whole.dsp, whole.bram_tile, whole.top) == (
        4012,
        5230,
        66,
        5.0,
        "design_1_wrapper",
    )
    assert report.top_row.bram_18k == 2 * 3 + 4
    # a kernel cell's report belongs to the wrapper's netlist: the job's top check does not apply
    check_report_matches(kernel, part="xc7z020clg400-1", top="myproject")


def test_lookup_is_exactly_one_cell(tmp_path: Path) -> None:
    report = parse_utilization_hierarchical(bd_report(tmp_path))
    with pytest.raises(ReportParseError, match=r"matches 2 cells .*axi_dma_0/U0.*myproject_axis_0/U0"):
        report.row_for_instance("U0")
    assert report.row_for_instance("myproject_axis_0/U0").module == "myproject_axis"
    with pytest.raises(ReportParseError, match=r"no cell 'myproject_0'.*similar: .*myproject_axis_0"):
        report.row_for_instance("myproject_0")
    with pytest.raises(ReportParseError, match="no cell 'xis_0'"):
        report.row_for_instance("xis_0")  # a suffix must be whole path components


def test_depth_limited_report_names_the_depth(tmp_path: Path) -> None:
    shallow = [row for row in BD_ROWS if row[0] <= 2]
    report = parse_utilization_hierarchical(
        bd_report(tmp_path, rows=shallow, command=COMMAND + " -hierarchical_depth 2")
    )
    assert report.row_for_instance("hier_0").total_luts == 1526
    with pytest.raises(ReportParseError, match="-hierarchical_depth too small"):
        report.row_for_instance("myproject_axis_0")


def test_ultrascale_columns_and_percentages(tmp_path: Path) -> None:
    rows = [(d, i, m, (*v[:7], 1 if i == "myproject_axis_0" else 0, v[7])) for d, i, m, v in BD_ROWS]
    plain = parse_utilization_hierarchical(bd_report(tmp_path, header=HEADER_ULTRASCALE, rows=rows))
    assert plain.row_for_instance("myproject_axis_0").uram == 1
    assert plain.synth_report("myproject_axis_0").uram == 1

    def pct(k: int, value: object) -> str:
        return f"{value} (<0.01%)" if k == 7 else f"{value}({int(str(value)) / 70560 * 100:.2f}%)"

    percent = [(d, i, m, tuple(pct(k, value) for k, value in enumerate(v))) for d, i, m, v in rows]
    report = parse_utilization_hierarchical(
        bd_report(tmp_path, header=HEADER_ULTRASCALE, rows=percent, name="pct.rpt",
                  command=COMMAND + " -hierarchical_percentages")
    )  # fmt: skip
    assert [(r.path, r.total_luts, r.ffs, r.uram, r.dsp) for r in report.rows] == [
        (r.path, r.total_luts, r.ffs, r.uram, r.dsp) for r in plain.rows
    ]


def test_columns_found_by_header_text(tmp_path: Path) -> None:
    """Reordered columns, an unknown extra one, and missing optional ones give the same numbers."""
    base = parse_utilization_hierarchical(bd_report(tmp_path))
    order = [0, 1, 6, 2, 9, 8, 7]  # Instance, Module, FFs, Total LUTs, DSP, RAMB18, RAMB36
    header = (*(HEADER_7SERIES[k] for k in order), "Future Column")
    rows = [(d, i, m, (*(v[k - 2] for k in order[2:]), 7)) for d, i, m, v in BD_ROWS]
    report = parse_utilization_hierarchical(bd_report(tmp_path, header=header, rows=rows, name="x.rpt"))
    for got, want in zip(report.rows, base.rows, strict=True):
        assert (got.path, got.total_luts, got.ffs, got.ramb36, got.ramb18, got.dsp) == (
            want.path, want.total_luts, want.ffs, want.ramb36, want.ramb18, want.dsp,
        )  # fmt: skip
        assert (got.logic_luts, got.lutrams, got.srls, got.uram) == (None, None, None, None)


# --- broken or mixed-up reports -----------------------------------------------------------------


def test_truncated_or_foreign_hierarchical_reports_raise(tmp_path: Path) -> None:
    text = bd_report(tmp_path).read_text()
    cut = tmp_path / "cut.rpt"
    cut.write_text(text[: text.index("    hier_0") + 20])
    with pytest.raises(ReportParseError, match=r"cut\.rpt: .*(truncated|cut-off)"):
        parse_utilization_hierarchical(cut)
    head_only = tmp_path / "head.rpt"
    head_only.write_text(text[: text.index("+---")])
    with pytest.raises(ReportParseError, match="table is missing or cut off"):
        parse_utilization_hierarchical(head_only)
    foreign = tmp_path / "foreign.rpt"
    foreign.write_text("hello\n")
    with pytest.raises(ReportParseError, match="not a Vivado utilization report"):
        parse_utilization_hierarchical(foreign)
    no_ffs = tmp_path / "noffs.rpt"
    header = tuple(h for h in HEADER_7SERIES if h != "RAMB36")
    rows = [(d, i, m, (*v[:5], *v[6:])) for d, i, m, v in BD_ROWS]
    no_ffs.write_text(bd_report(tmp_path, header=header, rows=rows, name="tmp.rpt").read_text())
    with pytest.raises(ReportParseError, match="lacks the 'RAMB36' column"):
        parse_utilization_hierarchical(no_ffs)
    skipped = [(0, "top", "(top)", BD_ROWS[0][3]), (2, "deep", "deep", BD_ROWS[0][3])]
    with pytest.raises(ReportParseError, match="indented 2 levels"):
        parse_utilization_hierarchical(bd_report(tmp_path, rows=skipped, name="skip.rpt"))


@pytest.mark.parametrize(
    "rel",
    [
        "vivado2020.1_hls4ml_test/vivado_synth.rpt",
        "vivado2020.1_xczu9eg/vivado_synth.rpt",
        "vivado2022.2_noclock/alu_8bit_utilization_synth.rpt",
    ],
)
def test_flat_report_to_hierarchical_parser_is_refused(rel: str) -> None:
    with pytest.raises(ReportParseError, match="is a flat utilization report"):
        parse_utilization_hierarchical(shared(rel))


def test_flat_report_whose_command_says_hierarchical_is_still_flat(tmp_path: Path) -> None:
    """Vivado 2025.2 writes '-hierarchical_min_primitive_count 50' into a flat report's Command
    (a public 2025.2 report shows it); the kind comes from the table, never from that line."""
    text = shared("vivado2022.2_noclock/alu_8bit_utilization_synth.rpt").read_text()
    path = tmp_path / "alu_8bit_utilization_synth.rpt"
    path.write_text(
        text.replace(
            "report_utilization -file", "report_utilization -hierarchical_min_primitive_count 50 -file"
        )
    )
    assert parse_utilization(path).lut == 34
    with pytest.raises(ReportParseError, match="is a flat utilization report"):
        parse_utilization_hierarchical(path)


def test_model_is_exported() -> None:
    assert HierarchicalUtilization.__name__ == "HierarchicalUtilization"
