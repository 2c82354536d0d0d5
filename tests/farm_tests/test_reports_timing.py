"""``report_timing_summary``: routed WNS/TNS/WHS, the verdict sentence, and the main clock's period.

The real report in ../shared has no clock (every slack NA). The reports with a clock are lines
copied from public routed reports (repository and path named at each), the rest of their
report left out; the Design Timing Summary / Clock Summary / Intra Clock Table blocks are kept
as Vivado wrote them (trailing spaces included).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hil.errors import ReportParseError
from hil.farm.reports import ClockInfo, parse_timing_summary, read_build_reports

SHARED = Path(os.environ.get("HIL_SHARED") or Path(__file__).resolve().parents[3] / "shared")
NOCLOCK = SHARED / "reports" / "vivado2022.2_noclock" / "timing_summary.rpt"

# martinafogliato/Sha256_Hw_Accelerator, syn_reports/top_wrapper_timing_summary_routed.rpt
# (commit 6b65a1b2): Vivado 2017.4.1, a Zynq-7010 block design clocked by the PS's clk_fpga_0.
ZYNQ_2017_4 = """\
Copyright 1986-2017 Xilinx, Inc. All Rights Reserved.
---------------------------------------------------------------------------------------------------------------------------------------------------------------
| Tool Version : Vivado v.2017.4.1 (lin64) Build 2117270 Tue Jan 30 15:31:13 MST 2018
| Date         : Sat Jun  9 09:29:48 2018
| Host         : marti-UX330UAK running 64-bit Ubuntu 17.10
| Command      : report_timing_summary -max_paths 10 -file top_wrapper_timing_summary_routed.rpt -rpx top_wrapper_timing_summary_routed.rpx -warn_on_violation
| Design       : top_wrapper
| Device       : 7z010-clg400
| Speed File   : -1  PRODUCTION 1.11 2014-09-11
---------------------------------------------------------------------------------------------------------------------------------------------------------------

Timing Summary Report

------------------------------------------------------------------------------------------------
| Design Timing Summary
| ---------------------
------------------------------------------------------------------------------------------------

    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing Endpoints  TPWS Total Endpoints  
    -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------     --------     --------  ----------------------  --------------------  
      1.141        0.000                      0                 3937        0.053        0.000                      0                 3937        4.020        0.000                       0                  1541  


All user specified timing constraints are met.


------------------------------------------------------------------------------------------------
| Clock Summary
| -------------
------------------------------------------------------------------------------------------------

Clock       Waveform(ns)       Period(ns)      Frequency(MHz)
-----       ------------       ----------      --------------
clk_fpga_0  {0.000 5.000}      10.000          100.000         


------------------------------------------------------------------------------------------------
| Intra Clock Table
| -----------------
------------------------------------------------------------------------------------------------

Clock             WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing Endpoints  TPWS Total Endpoints  
-----             -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------     --------     --------  ----------------------  --------------------  
clk_fpga_0          1.141        0.000                      0                 3937        0.053        0.000                      0                 3937        4.020        0.000                       0                  1541  


------------------------------------------------------------------------------------------------
| Inter Clock Table
| -----------------
------------------------------------------------------------------------------------------------

From Clock    To Clock          WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints  
----------    --------          -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------  

"""  # noqa: E501, W291

# gussmith23/lakeroad-evaluation, runs/2022-07-06-1704-full/vivado-eval/xilinx-ultrascale-plus-
# vivado-eval/vivado-synth-opt-place-route/invoke-with.futil-vanilla-timing-summary-route.v
# (commit 5dcc8459): Vivado 2021.2, xczu3eg, a wider banner ("Tool Version      :").
ZU3EG_2021_2 = """\
Copyright 1986-2021 Xilinx, Inc. All Rights Reserved.
-----------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------
| Tool Version      : Vivado v.2021.2 (lin64) Build 3367213 Tue Oct 19 02:47:39 MDT 2021
| Date              : Thu Jul  7 03:04:54 2022
| Host              : boba running 64-bit Ubuntu 20.04.3 LTS
| Command           : report_timing_summary -file runs/2022-07-06-1704-full/vivado-eval/xilinx-ultrascale-plus-vivado-eval//vivado-synth-opt-place-route//invoke-with.futil-vanilla-timing-summary-route.v
| Design            : main
| Device            : xczu3eg-sbva484
| Speed File        : -1  PRODUCTION 1.29 08-03-2020
| Temperature Grade : E
-----------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------

Timing Summary Report

------------------------------------------------------------------------------------------------
| Design Timing Summary
| ---------------------
------------------------------------------------------------------------------------------------

    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing Endpoints  TPWS Total Endpoints  
    -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------     --------     --------  ----------------------  --------------------  
      2.221        0.000                      0                  153        0.080        0.000                      0                  153        2.225        0.000                       0                    26  


All user specified timing constraints are met.


------------------------------------------------------------------------------------------------
| Clock Summary
| -------------
------------------------------------------------------------------------------------------------

Clock  Waveform(ns)         Period(ns)      Frequency(MHz)
-----  ------------         ----------      --------------
clk    {0.000 2.500}        5.000           200.000         


------------------------------------------------------------------------------------------------
| Intra Clock Table
| -----------------
------------------------------------------------------------------------------------------------

Clock             WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing Endpoints  TPWS Total Endpoints  
-----             -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------     --------     --------  ----------------------  --------------------  
clk                 2.221        0.000                      0                  153        0.080        0.000                      0                  153        2.225        0.000                       0                    26  

"""  # noqa: E501, W291


def write(tmp_path: Path, text: str, name: str = "timing_summary_routed.rpt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_real_report_without_clock() -> None:
    if not NOCLOCK.exists():
        pytest.skip(f"shared report fixture missing: {NOCLOCK}")
    report = parse_timing_summary(NOCLOCK)
    assert (report.wns_ns, report.whs_ns, report.met) == (None, None, None)
    assert (report.clocks, report.clock, report.clock_period_ns, report.achieved_clock_mhz) == (
        (),
        None,
        None,
        None,
    )


def test_zynq_block_design_2017_4(tmp_path: Path) -> None:
    report = parse_timing_summary(write(tmp_path, ZYNQ_2017_4))
    assert (report.top, report.part, report.tool_version) == ("top_wrapper", "7z010-clg400", "2017.4.1")
    assert (report.wns_ns, report.tns_ns, report.whs_ns, report.ths_ns, report.wpws_ns) == (
        1.141, 0.0, 0.053, 0.0, 4.02,
    )  # fmt: skip
    assert report.met is True
    assert report.clocks == (
        ClockInfo("clk_fpga_0", 10.0, 100.0, "{0.000 5.000}", generated=False, wns_ns=1.141, whs_ns=0.053),
    )
    assert report.clock is not None and report.clock.name == "clk_fpga_0"
    assert report.clock_period_ns == 10.0
    assert report.achieved_clock_mhz == pytest.approx(1000 / (10.0 - 1.141))
    assert report.to_dict() == {"wns_ns": 1.141, "tns_ns": 0.0, "whs_ns": 0.053, "met": True}


def test_ultrascale_2021_2_wide_banner(tmp_path: Path) -> None:
    report = parse_timing_summary(write(tmp_path, ZU3EG_2021_2))
    assert (report.top, report.part, report.tool_version) == ("main", "xczu3eg-sbva484", "2021.2")
    assert (report.wns_ns, report.whs_ns, report.met, report.clock_period_ns) == (2.221, 0.08, True, 5.0)
    assert report.achieved_clock_mhz == pytest.approx(1000 / (5.0 - 2.221))


def test_failing_design_achieves_a_slower_clock(tmp_path: Path) -> None:
    text = ZYNQ_2017_4.replace(
        "1.141        0.000                      0", "-0.850       -12.400                    31"
    )
    text = text.replace("All user specified timing constraints are met.", "Timing constraints are not met.")
    report = parse_timing_summary(write(tmp_path, text))
    assert (report.wns_ns, report.tns_ns, report.met) == (-0.85, -12.4, False)
    assert report.clock is not None and report.clock.wns_ns == -0.85
    assert report.achieved_clock_mhz == pytest.approx(1000 / 10.85)
    assert report.achieved_clock_mhz < 100.0


def _with_generated_clock(text: str) -> str:
    """The 2017.4 report with a clock wizard output below clk_fpga_0, failing by more."""
    clock_row = "clk_fpga_0  {0.000 5.000}      10.000          100.000         \n"
    generated = "  clk_out1_design_1_clk_wiz_0_0  {0.000 2.500}      5.000           200.000         \n"
    intra = "clk_fpga_0          1.141"
    intra_generated = (
        "  clk_out1_design_1_clk_wiz_0_0        -0.200       -1.000"
        "                      3                  900        0.040        0.000"
        "                      0                  900        1.500        0.000"
        "                       0                   300  \n"
    )
    text = text.replace(clock_row, clock_row + generated)
    start = text.index(intra)
    end = text.index("\n", start) + 1
    text = text[:end] + intra_generated + text[end:]
    return text.replace(
        "      1.141        0.000                      0                 3937",
        "     -0.200       -1.000                      3                 4837",
        1,
    )


def test_several_clocks(tmp_path: Path) -> None:
    report = parse_timing_summary(write(tmp_path, _with_generated_clock(ZYNQ_2017_4)))
    assert [(c.name, c.period_ns, c.generated, c.wns_ns) for c in report.clocks] == [
        ("clk_fpga_0", 10.0, False, 1.141),
        ("clk_out1_design_1_clk_wiz_0_0", 5.0, True, -0.2),
    ]
    assert report.clock is not None and report.clock.name == "clk_fpga_0"  # the only master clock
    named = parse_timing_summary(
        write(tmp_path, _with_generated_clock(ZYNQ_2017_4)), clock="clk_out1_design_1_clk_wiz_0_0"
    )
    assert named.clock_period_ns == 5.0
    assert named.achieved_clock_mhz == pytest.approx(1000 / 5.2)
    with pytest.raises(
        ReportParseError, match=r"no clock 'ap_clk' .*clk_fpga_0, clk_out1_design_1_clk_wiz_0_0"
    ):
        parse_timing_summary(write(tmp_path, _with_generated_clock(ZYNQ_2017_4)), clock="ap_clk")


def test_truncated_clock_summary_raises(tmp_path: Path) -> None:
    text = ZYNQ_2017_4.replace("      10.000          100.000         \n", "\n")
    with pytest.raises(ReportParseError, match="Clock Summary row"):
        parse_timing_summary(write(tmp_path, text))


def test_build_reader_passes_the_clock(tmp_path: Path) -> None:
    path = write(tmp_path, _with_generated_clock(ZYNQ_2017_4))
    reports = read_build_reports(timing=path, clock="clk_fpga_0")
    assert reports.timing is not None and reports.timing.clock_period_ns == 10.0
    assert reports.to_dict() == {"timing": {"wns_ns": -0.2, "tns_ns": -1.0, "whs_ns": 0.053, "met": True}}
