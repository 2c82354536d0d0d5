"""One build's reports: the fixed-path reader, and folder search among Vivado's decoy reports.

A run tree of a block-design build holds hil's own reports (written to fixed paths by its Tcl)
and, beside them, Vivado's defaults: ``<prj>.runs/impl_1/<top>_timing_summary_routed.rpt`` and
``_utilization_placed.rpt``, and one out-of-context ``<ip>_utilization_synth.rpt`` per IP run.
The decoys here are real reports from ../shared with other numbers than hil's own (their Design
line renamed to what Vivado would write), so a wrong pick shows in the numbers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hil.errors import ReportParseError
from hil.farm.reports import find_report_files, read_build_reports, read_reports
from tests.farm_tests.test_reports_hierarchical import HEADER_7SERIES, bd_report
from tests.farm_tests.test_reports_timing import ZYNQ_2017_4

SHARED = Path(os.environ.get("HIL_SHARED") or Path(__file__).resolve().parents[3] / "shared")
REPORTS = SHARED / "reports"
KERNEL = "myproject_axis_0"

#: The block design of this build: whole design 1526 LUT (= the flat wrapper report), kernel 1100.
ROWS = [
    (0, "design_1_wrapper", "(top)", (1526, 1400, 80, 46, 2428, 0, 0, 66)),
    (1, "design_1_i", "design_1", (1526, 1400, 80, 46, 2428, 0, 0, 66)),
    (2, "axi_dma_0", "design_1_axi_dma_0_0", (300, 280, 20, 0, 400, 0, 0, 0)),
    (3, "U0", "axi_dma", (300, 280, 20, 0, 400, 0, 0, 0)),
    (2, KERNEL, "design_1_myproject_axis_0_0", (1100, 1050, 50, 0, 1900, 0, 0, 60)),
    (3, "U0", "myproject_axis", (1100, 1050, 50, 0, 1900, 0, 0, 60)),
    (2, "ps7_0_axi_periph", "design_1_ps7_0_axi_periph_0", (126, 70, 10, 46, 128, 0, 0, 6)),
]


def shared(rel: str) -> Path:
    path = REPORTS / rel
    if not path.exists():
        message = f"shared report fixture missing: {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def renamed(source: str, target: Path, *, design: str) -> Path:
    """A real flat report from ../shared with its Design line set to ``design``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = shared(source).read_text().splitlines(keepends=True)
    target.write_text(
        "".join(f"| Design       : {design}\n" if ln.startswith("| Design ") else ln for ln in lines)
    )
    return target


def run_tree(tmp_path: Path, *, with_own_reports: bool = True) -> Path:
    """A build folder: HLS project, hil's own fixed-path reports, and Vivado's run folders."""
    build = tmp_path / "build"
    report = build / "myproject_prj" / "solution1" / "syn" / "report"
    report.mkdir(parents=True)
    shutil.copy(shared("vivado2020.1_hls4ml_test/myproject_csynth.xml"), report)
    shutil.copy(shared("vivado2020.1_hls4ml_test/myproject_csynth.rpt"), report)
    shutil.copy(shared("vivado2020.1_hls4ml_test/vivado_hls.app"), build / "myproject_prj")
    if with_own_reports:
        own = build / "reports"
        own.mkdir()
        renamed(
            "vivado2020.1_hls4ml_test/vivado_synth.rpt",
            own / "utilization_routed.rpt",
            design="design_1_wrapper",
        )
        bd_report(own, header=HEADER_7SERIES, rows=ROWS, name="utilization_hierarchical_routed.rpt")
        (own / "timing_summary_routed.rpt").write_text(ZYNQ_2017_4)
    runs = build / "vivado" / "design_1.runs"
    impl = runs / "impl_1"
    impl.mkdir(parents=True)
    decoy_timing = ZYNQ_2017_4.replace("      1.141        0.000", "     -0.850       -9.999", 1)
    (impl / "design_1_wrapper_timing_summary_routed.rpt").write_text(decoy_timing)
    renamed("vivado2020.1_xczu9eg/vivado_synth.rpt", impl / "design_1_wrapper_utilization_placed.rpt",
            design="design_1_wrapper")  # fmt: skip
    for ip, source in (
        ("design_1_myproject_axis_0_0", "vivado2020.1_xczu9eg/vivado_synth.rpt"),
        ("design_1_axi_dma_0_0", "vivado2022.2_noclock/alu_8bit_utilization_synth.rpt"),
    ):
        renamed(source, runs / f"{ip}_synth_1" / f"{ip}_utilization_synth.rpt", design=ip)
    return build


def test_fixed_paths_give_the_builds_numbers(tmp_path: Path) -> None:
    build = run_tree(tmp_path)
    own = build / "reports"
    hls_dir = build / "myproject_prj" / "solution1" / "syn" / "report"
    reports = read_build_reports(
        csynth_xml=hls_dir / "myproject_csynth.xml",
        csynth_rpt=hls_dir / "myproject_csynth.rpt",
        utilization=own / "utilization_routed.rpt",
        utilization_hier=own / "utilization_hierarchical_routed.rpt",
        timing=own / "timing_summary_routed.rpt",
        kernel_instance=KERNEL,
    )
    assert reports.hls is not None and (reports.hls.lut, len(reports.hls.modules)) == (2532, 2)
    assert reports.synth is not None and reports.design is not None and reports.timing is not None
    assert (reports.synth.lut, reports.synth.ff, reports.synth.dsp) == (1100, 1900, 60)
    assert reports.synth.instance == f"design_1_wrapper/design_1_i/{KERNEL}"
    assert (reports.design.top, reports.design.lut, reports.design.ff, reports.design.instance) == (
        "design_1_wrapper", 1526, 2428, None,
    )  # fmt: skip
    assert (reports.timing.wns_ns, reports.timing.clock_period_ns) == (1.141, 10.0)
    assert reports.to_dict()["design"] == {
        "top": "design_1_wrapper", "lut": 1526, "ff": 2428, "dsp": 66, "bram_tile": 0.0, "uram": None,
    }  # fmt: skip
    # without the flat wrapper report, the whole design is the hierarchical report's top row
    hier_only = read_build_reports(
        utilization_hier=own / "utilization_hierarchical_routed.rpt", kernel_instance=f"{KERNEL}/U0"
    )
    assert hier_only.design is not None and (hier_only.design.lut, hier_only.design.instance) == (
        1526, "design_1_wrapper",
    )  # fmt: skip
    assert hier_only.synth is not None and hier_only.synth.lut == 1100


def test_flat_kernel_report_is_the_kernels(tmp_path: Path) -> None:
    """hls4ml's out-of-context vivado_synth.rpt (Design = the HLS top) is the kernel's, not the design's."""
    src = REPORTS / "vivado2020.1_hls4ml_test"
    reports = read_build_reports(
        csynth_xml=shared("vivado2020.1_hls4ml_test/myproject_csynth.xml"),
        utilization=src / "vivado_synth.rpt",
    )
    assert reports.synth is not None and (reports.synth.lut, reports.synth.top) == (1526, "myproject")
    assert reports.design is None
    alone = read_build_reports(utilization=src / "vivado_synth.rpt")  # no HLS top known: the wrapper rule
    assert alone.synth is None and alone.design is not None
    tops = read_build_reports(utilization=src / "vivado_synth.rpt", kernel_tops=frozenset({"myproject"}))
    assert tops.synth is not None and tops.design is None


def test_fixed_path_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "reports" / "utilization_hierarchical_routed.rpt"
    with pytest.raises(
        ReportParseError,
        match=r"utilization_hierarchical_routed\.rpt: hierarchical utilization report does not exist",
    ):
        read_build_reports(utilization_hier=missing, kernel_instance=KERNEL)
    with pytest.raises(ReportParseError, match="without a hierarchical utilization report"):
        read_build_reports(
            timing=run_tree(tmp_path) / "reports" / "timing_summary_routed.rpt", kernel_instance=KERNEL
        )
    own = tmp_path / "build" / "reports"
    with pytest.raises(ReportParseError, match=r"no cell 'myproject_0'"):
        read_build_reports(
            utilization_hier=own / "utilization_hierarchical_routed.rpt", kernel_instance="myproject_0"
        )
    with pytest.raises(ReportParseError, match="is a hierarchical utilization report"):
        read_build_reports(utilization=own / "utilization_hierarchical_routed.rpt")


def test_folder_search_prefers_own_reports_over_vivados(tmp_path: Path) -> None:
    build = run_tree(tmp_path)
    own = build / "reports"
    files = find_report_files(build)
    assert files.timing == own / "timing_summary_routed.rpt"
    assert files.utilization == own / "utilization_routed.rpt"
    assert files.utilization_hier == own / "utilization_hierarchical_routed.rpt"
    assert files.csynth_xml is not None and files.csynth_xml.name == "myproject_csynth.xml"
    reports = read_reports(build, kernel_instance=KERNEL)
    assert reports.timing is not None and reports.timing.wns_ns == 1.141
    assert reports.synth is not None and (reports.synth.lut, reports.synth.instance) == (
        1100, f"design_1_wrapper/design_1_i/{KERNEL}",
    )  # fmt: skip
    # with kernel tops: the flat wrapper report is the design's, never an IP's OOC report
    tops = frozenset({"myproject", "myproject_axis"})
    files = find_report_files(build, kernel_tops=tops)
    assert (files.utilization, files.design_utilization) == (None, own / "utilization_routed.rpt")
    reports = read_reports(build, kernel_tops=tops)
    assert reports.design is not None and reports.design.lut == 1526 and reports.synth is None


def test_folder_search_without_own_reports_refuses_or_picks_right(tmp_path: Path) -> None:
    build = run_tree(tmp_path, with_own_reports=False)
    impl = build / "vivado" / "design_1.runs" / "impl_1"
    tops = frozenset({"myproject", "myproject_axis"})
    files = find_report_files(build, kernel_tops=tops)
    # the only routed timing report is Vivado's own; the whole design is impl_1's, not an IP's
    assert files.timing == impl / "design_1_wrapper_timing_summary_routed.rpt"
    assert files.design_utilization == impl / "design_1_wrapper_utilization_placed.rpt"
    assert files.utilization is None
    # without kernel tops every report is a candidate: the design's own outranks the per-IP ones
    assert find_report_files(build).utilization == impl / "design_1_wrapper_utilization_placed.rpt"
    # with only out-of-context IP reports left, two tie: refused, naming both
    (impl / "design_1_wrapper_utilization_placed.rpt").unlink()
    with pytest.raises(
        ReportParseError,
        match=r"several utilization reports.*design_1_axi_dma_0_0_utilization_synth\.rpt.*"
        r"design_1_myproject_axis_0_0_utilization_synth\.rpt",
    ):
        find_report_files(build)
    assert find_report_files(build, kernel_tops=tops).design_utilization is None  # an IP is never the design


def test_two_own_timing_reports_are_refused(tmp_path: Path) -> None:
    build = run_tree(tmp_path)
    (build / "reports" / "other_timing_summary_routed.rpt").write_text(ZYNQ_2017_4 + "\n")
    with pytest.raises(ReportParseError, match=r"several timing reports.*other_timing_summary_routed\.rpt"):
        find_report_files(build)
