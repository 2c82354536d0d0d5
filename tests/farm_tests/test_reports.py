"""Report parsers against the real Vivado / Vivado HLS reports in ../shared/reports.

The expected numbers below were read by eye from each report file. Modified copies (extra
columns, truncation, foreign content) are written to tmp_path; the shared files are never copied
into the repository.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from hil.cli import main
from hil.errors import ReportParseError
from hil.farm.reports import (
    HlsReport,
    check_report_matches,
    find_report_files,
    parse_csynth_rpt,
    parse_csynth_xml,
    parse_reports,
    parse_timing_summary,
    parse_utilization,
    parts_match,
    read_reports,
)

SHARED = Path(os.environ.get("HIL_SHARED") or Path(__file__).resolve().parents[3] / "shared")
REPORTS = SHARED / "reports"

HLS4ML = "vivado2020.1_hls4ml_test"
ZU9EG = "vivado2020.1_xczu9eg"
NOCLOCK = "vivado2022.2_noclock"


def shared(rel: str) -> Path:
    """A file or folder of ../shared/reports; fail in CI, skip elsewhere, when it is missing."""
    path = REPORTS / rel
    if not path.exists():
        message = f"shared report fixture missing: {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


# --- expected values, read from the files -------------------------------------------------------

HLS_EXPECTED = {
    f"{HLS4ML}/myproject_csynth.xml": dict(
        top="myproject", part="xc7z020-clg400-1", tool_version="2020.1",
        lut=2532, ff=7969, dsp=73, bram_18k=0, uram=0,
        latency_best_cycles=10, latency_worst_cycles=10, ii_min_cycles=8, ii_max_cycles=8,
        clock_target_ns=5.0, clock_estimated_ns=4.049,
    ),
    f"{HLS4ML}/myproject_csynth.rpt": dict(
        top="myproject", part="xc7z020-clg400-1", tool_version="2020.1",
        lut=2532, ff=7969, dsp=73, bram_18k=0, uram=0,
        latency_best_cycles=10, latency_worst_cycles=10, ii_min_cycles=8, ii_max_cycles=8,
        clock_target_ns=5.0, clock_estimated_ns=4.049,
    ),
    f"{ZU9EG}/myproject_csynth.rpt": dict(
        top="myproject", part="xczu9eg-ffvb1156-2-e", tool_version="2020.1",
        lut=59561, ff=4561, dsp=0, bram_18k=1, uram=0,
        latency_best_cycles=5, latency_worst_cycles=5, ii_min_cycles=1, ii_max_cycles=1,
        clock_target_ns=5.0, clock_estimated_ns=4.218,
    ),
}  # fmt: skip

# (instance, module, lut, ff, dsp, bram_18k, uram, latency best, worst, ii min, max)
MODULES_EXPECTED = {
    HLS4ML: [
        ("dense_array_array_ap_fixed_16_6_5_3_0_5u_config2_U0",
         "dense_array_array_ap_fixed_16_6_5_3_0_5u_config2_s", 2134, 7860, 73, 0, 0, 7, 7, 7, 7),
        ("relu_array_array_ap_fixed_5u_relu_config3_U0",
         "relu_array_array_ap_fixed_5u_relu_config3_s", 256, 84, 0, 0, 0, 2, 2, 1, 1),
    ],
    ZU9EG: [
        ("grp_dense_latency_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_fu_77",
         "dense_latency_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0_0", 58323, 2815, 0, 0, 0, 1, 1, 1, 1),
        ("grp_dense_latency_ap_ufixed_ap_fixed_config5_0_0_fu_83",
         "dense_latency_ap_ufixed_ap_fixed_config5_0_0", 682, 43, 0, 0, 0, 1, 1, 1, 1),
        ("call_ret1_relu_ap_fixed_ap_ufixed_6_0_5_3_0_relu_config4_s_fu_106",
         "relu_ap_fixed_ap_ufixed_6_0_5_3_0_relu_config4_s", 361, 0, 0, 0, 0, 0, 0, 1, 1),
        ("grp_sigmoid_ap_fixed_ap_fixed_16_6_5_3_0_sigmoid_config7_s_fu_129",
         "sigmoid_ap_fixed_ap_fixed_16_6_5_3_0_sigmoid_config7_s", 153, 13, 0, 1, 0, 2, 2, 1, 1),
    ],
}  # fmt: skip

SYNTH_EXPECTED = {
    f"{HLS4ML}/vivado_synth.rpt": dict(
        top="myproject", part="7z020clg400-1", tool_version="2020.1", design_state="Synthesized",
        lut=1526, ff=2428, dsp=66, bram_tile=0.0, uram=None,
    ),
    f"{ZU9EG}/vivado_synth.rpt": dict(
        top="myproject", part="xczu9egffvb1156-2", tool_version="2020.1", design_state="Synthesized",
        lut=31277, ff=4555, dsp=0, bram_tile=0.5, uram=None,
    ),
    f"{NOCLOCK}/alu_8bit_utilization_synth.rpt": dict(
        top="alu_8bit", part="xc7a100tcsg324-1", tool_version="2022.2", design_state="Synthesized",
        lut=34, ff=1, dsp=0, bram_tile=0.0, uram=None,
    ),
}  # fmt: skip

TIMING_EXPECTED = {
    f"{NOCLOCK}/timing_summary.rpt": dict(
        top="alu_8bit", part="7a100t-csg324", tool_version="2022.2",
        wns_ns=None, tns_ns=None, whs_ns=None, ths_ns=None, wpws_ns=None, met=None,
    ),
}  # fmt: skip

#: Files in the fixture folders that are not reports (the HLS project file names the top).
NOT_REPORTS = {f"{HLS4ML}/vivado_hls.app"}


def _fields(report: object, expected: Mapping[str, object]) -> dict[str, object]:
    return {key: getattr(report, key) for key in expected}


def _modules(report: HlsReport) -> list[tuple[object, ...]]:
    return [
        (m.instance, m.module, m.lut, m.ff, m.dsp, m.bram_18k, m.uram,
         m.latency_best_cycles, m.latency_worst_cycles, m.ii_min_cycles, m.ii_max_cycles)
        for m in report.modules
    ]  # fmt: skip


# --- every shared file parses to its numbers -------------------------------------------------------


def test_every_shared_file_has_expected_values() -> None:
    """A new fixture without expected numbers fails here instead of going untested."""
    folder = shared("")
    files = {str(p.relative_to(folder)) for p in folder.glob("*/*") if p.is_file()}
    known = set(HLS_EXPECTED) | set(SYNTH_EXPECTED) | set(TIMING_EXPECTED) | NOT_REPORTS
    assert files == known


@pytest.mark.parametrize("rel", sorted(HLS_EXPECTED))
def test_csynth_totals(rel: str) -> None:
    path = shared(rel)
    report = parse_csynth_xml(path) if rel.endswith(".xml") else parse_csynth_rpt(path)
    assert _fields(report, HLS_EXPECTED[rel]) == HLS_EXPECTED[rel]
    assert report.path == path
    # The XML's own modules come from its sibling .rpt: the same rows either way.
    assert _modules(report) == MODULES_EXPECTED[rel.split("/")[0]]


@pytest.mark.parametrize("rel", sorted(SYNTH_EXPECTED))
def test_utilization(rel: str) -> None:
    report = parse_utilization(shared(rel))
    assert _fields(report, SYNTH_EXPECTED[rel]) == SYNTH_EXPECTED[rel]
    assert isinstance(report.lut, int) and isinstance(report.bram_tile, float)


def test_timing_all_na_gives_none() -> None:
    rel = f"{NOCLOCK}/timing_summary.rpt"
    report = parse_timing_summary(shared(rel))
    assert _fields(report, TIMING_EXPECTED[rel]) == TIMING_EXPECTED[rel]


def test_folder_json_sections() -> None:
    hls4ml = parse_reports(shared(HLS4ML))
    assert set(hls4ml) == {"hls", "synth"}
    assert hls4ml["hls"] == {
        "lut": 2532, "ff": 7969, "dsp": 73, "bram_18k": 0, "uram": 0,
        "latency_best": 10, "latency_worst": 10, "ii_min": 8, "ii_max": 8,
        "clock_target_ns": 5.0, "clock_estimated_ns": 4.049,
        "part": "xc7z020-clg400-1", "tool_version": "2020.1",
        "modules": [
            {"instance": i, "module": m, "lut": lut, "ff": ff, "dsp": dsp, "bram_18k": bram, "uram": uram,
             "latency_best": lb, "latency_worst": lw, "ii_min": iimin, "ii_max": iimax}
            for (i, m, lut, ff, dsp, bram, uram, lb, lw, iimin, iimax) in MODULES_EXPECTED[HLS4ML]
        ],
    }  # fmt: skip
    assert hls4ml["synth"] == {"lut": 1526, "ff": 2428, "dsp": 66, "bram_tile": 0.0, "uram": None}

    zu9eg = parse_reports(shared(ZU9EG))  # no XML there: the .rpt parser gives the HLS section
    assert set(zu9eg) == {"hls", "synth"}
    assert (zu9eg["hls"]["lut"], zu9eg["hls"]["part"]) == (59561, "xczu9eg-ffvb1156-2-e")
    assert len(zu9eg["hls"]["modules"]) == 4
    assert zu9eg["synth"] == {"lut": 31277, "ff": 4555, "dsp": 0, "bram_tile": 0.5, "uram": None}

    noclock = parse_reports(shared(NOCLOCK))
    assert noclock == {
        "synth": {"lut": 34, "ff": 1, "dsp": 0, "bram_tile": 0.0, "uram": None},
        "timing": {"wns_ns": None, "tns_ns": None, "whs_ns": None, "met": None},
    }
    single = parse_reports(shared(f"{NOCLOCK}/timing_summary.rpt"))
    assert set(single) == {"timing"}
    lone_xml = parse_reports(shared(f"{HLS4ML}/myproject_csynth.xml"))
    assert lone_xml == {"hls": hls4ml["hls"]}  # modules from the sibling .rpt


def test_xml_is_preferred_over_rpt(tmp_path: Path) -> None:
    src = shared(HLS4ML)
    build = tmp_path / "prj" / "solution1" / "syn" / "report"
    build.mkdir(parents=True)
    shutil.copy(src / "myproject_csynth.xml", build)
    rpt = (src / "myproject_csynth.rpt").read_text()
    # Make the .rpt's total disagree: the XML's figure must win.
    (build / "myproject_csynth.rpt").write_text(
        rpt.replace(
            "|Total            |        0|     73|    7969|   2532|",
            "|Total            |        0|     73|    7969|   9999|",
        )
    )
    report = read_reports(tmp_path).hls
    assert report is not None
    assert report.path.name == "myproject_csynth.xml" and report.lut == 2532
    assert _modules(report) == MODULES_EXPECTED[HLS4ML]


def test_check_report_matches() -> None:
    for folder, part in ((HLS4ML, "xc7z020clg400-1"), (ZU9EG, "xczu9eg-ffvb1156-2-e")):
        reports = read_reports(shared(folder))
        check_report_matches(reports, part=part, top="myproject")
        with pytest.raises(ReportParseError, match="part"):
            check_report_matches(reports, part="xczu7ev-ffvc1156-2-e")
        with pytest.raises(ReportParseError, match="top 'myproject'"):
            check_report_matches(reports, top="otherproject")
    noclock = read_reports(shared(NOCLOCK))
    check_report_matches(noclock, part="xc7a100tcsg324-1", top="alu_8bit")
    check_report_matches(noclock.timing, part="xc7a100tcsg324-2")  # type: ignore[arg-type]
    with pytest.raises(ReportParseError, match="7a100t-csg324"):
        check_report_matches(noclock.timing, part="xc7a35tcsg324-1")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("xc7z020-clg400-1", "7z020clg400-1", True),
        ("xczu9eg-ffvb1156-2-e", "xczu9egffvb1156-2", True),
        ("xc7a100tcsg324-1", "7a100t-csg324", True),
        ("xck26-sfvc784-2LV-c", "XCK26-SFVC784-2LV-C", True),
        ("xczu9eg-ffvb1156-2-e", "xczu9eg-ffvb1156-1-e", False),
        ("xczu7ev-ffvc1156-2-e", "xczu9eg-ffvb1156-2-e", False),
        ("xczu9eg", "xczu9eg-ffvb1156-2-e", False),
        ("xc7z020clg40", "xc7z020clg400-1", False),
    ],
)
def test_parts_match(a: str, b: str, same: bool) -> None:
    assert parts_match(a, b) is same


# --- column-by-header robustness --------------------------------------------------------------


def _reshape_tables(text: str) -> str:
    """Rewrite every one-header-row ``+---+`` table: columns reversed, an extra column inserted.

    Stands in for a future Vivado release that adds and moves columns (as 2022 added
    "Prohibited"); multi-row headers (csynth latency tables) are left as they are.
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    is_border = lambda s: s.strip().startswith("+-") and set(s.strip()) <= {"+", "-"}  # noqa: E731
    while i < len(lines):
        if not is_border(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        if not (i + 2 < len(lines) and is_border(lines[i + 2])):  # multi-row header: keep as is
            while i < len(lines) and lines[i].strip()[:1] in {"|", "+"}:
                out.append(lines[i])
                i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        block = [lines[i]]
        i += 1
        while i < len(lines) and lines[i].strip()[:1] in {"|", "+"}:
            block.append(lines[i])
            i += 1
        rows: list[list[str] | None] = []
        for line in block:
            if is_border(line):
                rows.append(None)
            else:
                cells = [c.strip() for c in line.strip()[1:-1].split("|")]
                cells.reverse()
                cells.insert(1, "Extra Column" if len(rows) == 1 else "7")
                rows.append(cells)
        widths = [
            max(len(r[k]) for r in rows if r is not None) + 2 for k in range(len(next(r for r in rows if r)))
        ]
        for r in rows:
            if r is None:
                out.append(indent + "+" + "+".join("-" * w for w in widths) + "+")
            else:
                out.append(
                    indent
                    + "|"
                    + "|".join(c.rjust(w - 1) + " " for c, w in zip(r, widths, strict=True))
                    + "|"
                )
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("rel", sorted(SYNTH_EXPECTED))
def test_utilization_columns_found_by_header(rel: str, tmp_path: Path) -> None:
    reshaped = _reshape_tables(shared(rel).read_text())
    header = next(line for line in reshaped.splitlines() if "Site Type" in line)
    assert "Extra Column" in header and header.index("Used") < header.index("Site Type")
    copy = tmp_path / Path(rel).name
    copy.write_text(reshaped)
    report = parse_utilization(copy)
    assert _fields(report, SYNTH_EXPECTED[rel]) == SYNTH_EXPECTED[rel]


@pytest.mark.parametrize("rel", [f"{HLS4ML}/myproject_csynth.rpt", f"{ZU9EG}/myproject_csynth.rpt"])
def test_csynth_rpt_columns_found_by_header(rel: str, tmp_path: Path) -> None:
    copy = tmp_path / "myproject_csynth.rpt"
    copy.write_text(_reshape_tables(shared(rel).read_text()))
    report = parse_csynth_rpt(copy)
    assert _fields(report, HLS_EXPECTED[rel]) == HLS_EXPECTED[rel]
    assert _modules(report) == MODULES_EXPECTED[rel.split("/")[0]]


def test_xml_dsp_tag_and_undef_latency(tmp_path: Path) -> None:
    """Vitis writes <DSP> instead of <DSP48E>, and "undef" for latencies it cannot bound."""
    text = shared(f"{HLS4ML}/myproject_csynth.xml").read_text()
    text = text.replace("<DSP48E>73</DSP48E>", "<DSP>73</DSP>")
    text = text.replace(
        "<Worst-caseLatency>10</Worst-caseLatency>", "<Worst-caseLatency>undef</Worst-caseLatency>"
    )
    copy = tmp_path / "myproject_csynth.xml"
    copy.write_text(text)
    report = parse_csynth_xml(copy)
    assert (report.dsp, report.latency_best_cycles, report.latency_worst_cycles) == (73, 10, None)
    assert report.modules == ()  # no sibling .rpt in tmp_path


# --- timing verdict ----------------------------------------------------------------------------

_NA_VALUES = "NA           NA                     NA                   NA           NA           NA"


@pytest.mark.parametrize(
    ("values", "sentence", "met"),
    [
        (
            "0.166        0.000                      0                45362        0.022        0.000",
            "All user specified timing constraints are met.",
            True,
        ),
        (
            "-0.250       -3.100                     17                45362        0.022        0.000",
            "Timing constraints are not met.",
            False,
        ),
        (
            "0.166        0.000                      0                45362       -0.010       -0.050",
            "",
            False,
        ),
        (
            "0.166        0.000                      0                45362        0.010        0.000",
            "",
            True,
        ),
    ],
)
def test_timing_met_rule(values: str, sentence: str, met: bool, tmp_path: Path) -> None:
    text = shared(f"{NOCLOCK}/timing_summary.rpt").read_text()
    assert _NA_VALUES in text
    text = text.replace(_NA_VALUES, values, 1).replace(
        "There are no user specified timing constraints.", sentence
    )
    copy = tmp_path / "top_timing_summary_routed.rpt"
    copy.write_text(text)
    report = parse_timing_summary(copy)
    numbers = [float(v) for v in values.split()]
    assert (report.wns_ns, report.tns_ns, report.whs_ns, report.ths_ns) == (
        numbers[0], numbers[1], numbers[4], numbers[5])  # fmt: skip
    assert report.wpws_ns is None
    assert report.met is met


# --- broken and foreign files --------------------------------------------------------------------


def _broken_files(tmp_path: Path) -> dict[str, Path]:
    """Named broken copies: each must raise ReportParseError."""
    xml = shared(f"{HLS4ML}/myproject_csynth.xml").read_text()
    rpt = shared(f"{ZU9EG}/myproject_csynth.rpt").read_text()
    util = shared(f"{HLS4ML}/vivado_synth.rpt").read_text()
    timing = shared(f"{NOCLOCK}/timing_summary.rpt").read_text()
    lut_line = next(line for line in util.splitlines() if "Slice LUTs*" in line)
    cases = {
        "empty_csynth.xml": "",
        "blank_vivado_synth.rpt": "\n  \n",
        "half_csynth.xml": xml[: len(xml) // 2],
        "foreign_csynth.xml": "<?xml version='1.0'?><project><name>x</name></project>\n",
        "notxml_csynth.xml": "this is not xml\n",
        "early_csynth.rpt": rpt[: rpt.index("== Utilization Estimates")],
        "midtable_csynth.rpt": rpt[: rpt.index("|Register         |")],
        "foreign_csynth.rpt": (SHARED / "DESIGN.md").read_text()
        if (SHARED / "DESIGN.md").exists()
        else "# notes\n",
        "half_utilization.rpt": util[: util.index("3. DSP\n------")],
        "midrow_utilization.rpt": util[: util.index(lut_line) + 20],
        "nolut_utilization.rpt": util.replace(lut_line + "\n", ""),
        "foreign_utilization.rpt": "Copyright 1986-2020 Xilinx, Inc.\nsome log output\n",
        "cut_timing_summary.rpt": timing[: timing.index("| Design Timing Summary")],
        "novalues_timing_summary.rpt": timing[: timing.index(_NA_VALUES)],
        "notes.txt": "Just some notes, not a Vivado report.\n",
    }
    files = {}
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        files[name] = path
    return files


def test_broken_files_raise_one_clear_line(tmp_path: Path) -> None:
    for name, path in _broken_files(tmp_path).items():
        with pytest.raises(ReportParseError) as info:
            read_reports(path)
        message = str(info.value)
        assert "\n" not in message, name
        assert str(path) in message, name


def test_broken_files_name_what_is_missing(tmp_path: Path) -> None:
    files = _broken_files(tmp_path)
    expect = {
        "empty_csynth.xml": "empty",
        "half_csynth.xml": "not well-formed",
        "foreign_csynth.xml": "not a csynth.xml",
        "early_csynth.rpt": "utilization estimates",
        "midtable_csynth.rpt": "ends inside the table",
        "half_utilization.rpt": "'DSPs' row",
        "midrow_utilization.rpt": "cut-off table row",
        "nolut_utilization.rpt": "'Slice LUTs' row",
        "foreign_utilization.rpt": "not a Vivado utilization report",
        "cut_timing_summary.rpt": "Design Timing Summary",
        "notes.txt": "not a Vivado",
    }
    for name, fragment in expect.items():
        with pytest.raises(ReportParseError, match=fragment.replace("(", r"\(")):
            read_reports(files[name])


@pytest.mark.parametrize(
    "name", ["half_csynth.xml", "nolut_utilization.rpt", "notes.txt", "empty_csynth.xml"]
)
def test_cli_error_is_one_line_exit_2(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _broken_files(tmp_path)[name]
    code = main(["reports", str(path), "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hil: error: ") and str(path) in lines[0]


def test_cli_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reports", str(shared(NOCLOCK)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == parse_reports(shared(NOCLOCK))
    assert main(["reports", str(shared(HLS4ML))]) == 0
    out = capsys.readouterr().out
    assert "2,532" in out and "1,526" in out and "relu_array" in out


# --- folder search ------------------------------------------------------------------------------


def _hls_build(tmp_path: Path, *, with_app: bool) -> Path:
    """An hls4ml-like build folder with the top's reports and a per-module report beside them."""
    src = shared(HLS4ML)
    report_dir = tmp_path / "build" / "myproject_prj" / "solution1" / "syn" / "report"
    report_dir.mkdir(parents=True)
    shutil.copy(src / "myproject_csynth.xml", report_dir)
    shutil.copy(src / "myproject_csynth.rpt", report_dir)
    shutil.copy(shared(f"{ZU9EG}/myproject_csynth.rpt"), report_dir / "dense_latency_csynth.rpt")
    shutil.copy(src / "vivado_synth.rpt", tmp_path / "build")
    if with_app:
        shutil.copy(src / "vivado_hls.app", tmp_path / "build" / "myproject_prj")
    (tmp_path / "build" / "README.txt").write_text("not a report, and not named like one\n")
    return tmp_path / "build"


def test_folder_search_picks_the_top_report(tmp_path: Path) -> None:
    build = _hls_build(tmp_path, with_app=True)
    files = find_report_files(build)
    assert files.csynth_xml is not None and files.csynth_xml.name == "myproject_csynth.xml"
    assert files.csynth_rpt is not None and files.csynth_rpt.name == "myproject_csynth.rpt"
    assert files.utilization == build / "vivado_synth.rpt" and files.timing is None
    reports = read_reports(build)
    assert reports.hls is not None and reports.hls.lut == 2532
    assert set(reports.to_dict()) == {"hls", "synth"}


def test_folder_search_ambiguous_without_top(tmp_path: Path) -> None:
    build = _hls_build(tmp_path, with_app=False)
    with pytest.raises(ReportParseError, match="--top"):
        find_report_files(build)
    assert read_reports(build, top="myproject").hls.lut == 2532  # type: ignore[union-attr]
    with pytest.raises(ReportParseError, match="none is for top 'other'"):
        find_report_files(build, top="other")


def test_folder_search_prefers_synth_utilization_and_routed_timing(tmp_path: Path) -> None:
    shutil.copy(
        shared(f"{NOCLOCK}/alu_8bit_utilization_synth.rpt"), tmp_path / "alu_8bit_utilization_synth.rpt"
    )
    impl = tmp_path / "impl_1"
    impl.mkdir()
    shutil.copy(shared(f"{NOCLOCK}/alu_8bit_utilization_synth.rpt"), impl / "alu_8bit_utilization_placed.rpt")
    timing = shared(f"{NOCLOCK}/timing_summary.rpt").read_text()
    (impl / "alu_8bit_timing_summary_routed.rpt").write_text(timing)
    (impl / "alu_8bit_timing_summary_synth.rpt").write_text(timing + "\n")
    files = find_report_files(tmp_path)
    assert files.utilization == tmp_path / "alu_8bit_utilization_synth.rpt"
    assert files.timing == impl / "alu_8bit_timing_summary_routed.rpt"
    assert files.csynth_xml is None and files.csynth_rpt is None
    (impl / "other_timing_summary_routed.rpt").write_text(timing + "\n\n")
    with pytest.raises(ReportParseError, match="several timing reports"):
        find_report_files(tmp_path)


def test_folder_without_reports(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here\n")
    with pytest.raises(ReportParseError, match="no report files found"):
        read_reports(tmp_path)
    with pytest.raises(ReportParseError, match="no such file"):
        read_reports(tmp_path / "missing")
