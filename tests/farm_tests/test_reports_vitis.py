"""A whole Vitis HLS 2024.x report folder, read without a top name (issue 17, "Found" 4).

Vitis HLS writes, in ``<prj>/solution1/syn/report/``: the top's ``<top>_csynth.rpt``/``.xml``, a
generic ``csynth.xml`` (every module's numbers), a ``csynth.rpt`` "Synthesis Summary Report",
and one ``<function>_csynth.*`` per function. The real files are Vitis HLS 2024.2's from
../shared/costdata/lowbit/reports/tsopeter_best_c1110_d000_t30 (csynth.rpt, csynth.xml,
myproject_csynth.rpt). That folder has no ``myproject_csynth.xml``; where a test needs one it
is the real generic csynth.xml cut down to its top-level sections. Per-function reports are
real reports of other designs renamed to a function of this one (different numbers, so a wrong
pick shows).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hil.cli import main
from hil.errors import ReportParseError
from hil.farm.reports import find_report_files, parse_csynth_rpt, parse_csynth_xml, read_reports

SHARED = Path(os.environ.get("HIL_SHARED") or Path(__file__).resolve().parents[3] / "shared")
VITIS = (
    SHARED / "costdata/lowbit/reports/tsopeter_best_c1110_d000_t30/best/best_model_prj/myproject_prj"
    "/solution1/syn/report"
)
VIVADO_HLS = SHARED / "reports" / "vivado2020.1_hls4ml_test"
ZU9EG = SHARED / "reports" / "vivado2020.1_xczu9eg"

#: The top's numbers, read by eye from the real myproject_csynth.rpt and csynth.xml (2024.2).
TOP = {
    "lut": 15817, "ff": 10368, "dsp": 17, "bram_18k": 32, "uram": 0,
    "latency_best": 225244, "latency_worst": 225290, "ii_min": 16386, "ii_max": 225282,
    "clock_target_ns": 30.0, "clock_estimated_ns": 20.557,
    "part": "xc7a35t-cpg236-1", "tool_version": "2024.2",
}  # fmt: skip
FUNCTIONS = (
    "linear_array_ap_uint_1u_array_ap_fixed_8_1_4_0_0_1u_linear_config2_s",
    "relu_array_ap_fixed_2u_array_ap_ufixed_6_0_4_0_0_2u_relu_config5_s",
    "dense_array_ap_ufixed_6u_array_ap_fixed_16_6_5_3_0_1u_config16_s",
)


def need(path: Path) -> Path:
    if not path.exists():
        message = f"shared report fixture missing: {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def top_xml_from_generic(generic: Path) -> str:
    """The real generic csynth.xml without its per-module sections: the top's own document."""
    root = ET.parse(generic).getroot()
    for child in list(root):
        if child.tag in {"RTLDesignHierarchy", "ModuleInformation", "FIFOInformation", "PragmaReport"}:
            root.remove(child)
    return ET.tostring(root, encoding="unicode")


def vitis_folder(tmp_path: Path, *, with_top_xml: bool) -> Path:
    """A Vitis HLS 2024.x project folder built from the real report files."""
    prj = tmp_path / "best_model_prj"
    report = prj / "myproject_prj" / "solution1" / "syn" / "report"
    report.mkdir(parents=True)
    for name in ("csynth.rpt", "csynth.xml", "myproject_csynth.rpt"):
        shutil.copy(need(VITIS / name), report / name)
    if with_top_xml:
        (report / "myproject_csynth.xml").write_text(top_xml_from_generic(report / "csynth.xml"))
    for k, function in enumerate(FUNCTIONS):
        source = (
            need(ZU9EG / "myproject_csynth.rpt") if k % 2 == 0 else need(VIVADO_HLS / "myproject_csynth.rpt")
        )
        (report / f"{function}_csynth.rpt").write_text(
            source.read_text().replace("Report for 'myproject'", f"Report for '{function}'")
        )
        xml = need(VIVADO_HLS / "myproject_csynth.xml").read_text()
        (report / f"{function}_csynth.xml").write_text(
            re.sub(r"<TopModelName>[^<]*</TopModelName>", f"<TopModelName>{function}</TopModelName>", xml)
        )
    return prj


def _hls(section: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in section.items() if key != "modules"}


@pytest.mark.parametrize("with_top_xml", [False, True])
def test_folder_without_top_gives_the_tops_numbers(tmp_path: Path, with_top_xml: bool) -> None:
    prj = vitis_folder(tmp_path, with_top_xml=with_top_xml)
    files = find_report_files(prj)
    assert files.csynth_rpt is not None and files.csynth_rpt.name == "myproject_csynth.rpt"
    assert files.csynth_xml is not None
    if with_top_xml:
        assert files.csynth_xml.name == "myproject_csynth.xml"
        assert files.csynth_generic_xml is not None and files.csynth_generic_xml.name == "csynth.xml"
    else:
        assert files.csynth_xml.name == "csynth.xml"  # the generic one: its root totals are the top's
    reports = read_reports(prj)
    assert reports.hls is not None
    assert _hls(reports.hls.to_dict()) == TOP
    assert reports.hls.top == "myproject"
    assert len(reports.hls.modules) == 10  # the per-layer rows of myproject_csynth.rpt
    assert "linear_array_ap_uint_1u_array_ap_fixed_8_1_4_0_0_1u_linear_config2_U0" in {
        module.instance for module in reports.hls.modules
    }


def test_cli_json_without_top(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prj = vitis_folder(tmp_path, with_top_xml=False)
    assert main(["reports", str(prj), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"hls"}
    assert _hls(out["hls"]) == TOP
    assert main(["reports", str(prj / "myproject_prj" / "solution1" / "syn" / "report"), "--json"]) == 0
    assert _hls(json.loads(capsys.readouterr().out)["hls"]) == TOP


def test_same_folder_with_the_top_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prj = vitis_folder(tmp_path, with_top_xml=True)
    reports = read_reports(prj, top="myproject")
    assert reports.hls is not None and _hls(reports.hls.to_dict()) == TOP
    function = read_reports(prj, top=FUNCTIONS[1])  # a function's own reports, when asked for
    assert function.hls is not None and function.hls.top == FUNCTIONS[1]
    assert function.hls.lut != TOP["lut"]
    assert main(["reports", str(prj), "--top", "myproject", "--json"]) == 0
    assert _hls(json.loads(capsys.readouterr().out)["hls"]) == TOP
    with pytest.raises(ReportParseError, match="none is for top 'other'"):
        find_report_files(prj, top="other")


def test_summary_report_is_never_a_top_report(tmp_path: Path) -> None:
    summary = need(VITIS / "csynth.rpt")
    with pytest.raises(ReportParseError, match=r"Synthesis Summary Report' of 'myproject'.*myproject_csynth"):
        parse_csynth_rpt(summary)
    # the generic xml alone reads as the top's totals, without the summary's tables as modules
    copy = tmp_path / "csynth.xml"
    shutil.copy(need(VITIS / "csynth.xml"), copy)
    shutil.copy(summary, tmp_path / "csynth.rpt")
    report = parse_csynth_xml(copy)
    assert (report.top, report.lut, report.modules) == ("myproject", 15817, ())
    assert _hls(read_reports(tmp_path).to_dict()["hls"]) == TOP  # summary + generic xml, no top report


def test_top_xml_that_disagrees_with_the_generic_one_is_refused(tmp_path: Path) -> None:
    prj = vitis_folder(tmp_path, with_top_xml=True)
    top_xml = next(prj.rglob("myproject_csynth.xml"))
    top_xml.write_text(top_xml.read_text().replace("<LUT>15817</LUT>", "<LUT>15000</LUT>", 1))
    with pytest.raises(ReportParseError, match=r"myproject_csynth\.xml: disagrees with .*csynth\.xml on lut"):
        read_reports(prj)


def test_two_tops_in_one_folder_is_ambiguous(tmp_path: Path) -> None:
    prj = vitis_folder(tmp_path, with_top_xml=False)
    other = tmp_path / "best_model_prj" / "other_prj" / "solution1" / "syn" / "report"
    other.mkdir(parents=True)
    generic = (prj / "myproject_prj" / "solution1" / "syn" / "report" / "csynth.xml").read_text()
    (other / "csynth.xml").write_text(generic.replace("<TopModelName>myproject<", "<TopModelName>other<"))
    with pytest.raises(ReportParseError, match=r"tops myproject, other are named.*--top"):
        find_report_files(prj)
    assert read_reports(prj, top="other").hls.top == "other"  # type: ignore[union-attr]


def test_vivado_hls_2020_1_folders_still_work(tmp_path: Path) -> None:
    """The 2020.1 layout: <top>_csynth.*, per-function reports beside them, vivado_hls.app naming the top."""
    report = tmp_path / "myproject_prj" / "solution1" / "syn" / "report"
    report.mkdir(parents=True)
    for name in ("myproject_csynth.xml", "myproject_csynth.rpt"):
        shutil.copy(need(VIVADO_HLS / name), report / name)
    shutil.copy(need(ZU9EG / "myproject_csynth.rpt"), report / "dense_latency_csynth.rpt")
    shutil.copy(need(VIVADO_HLS / "vivado_hls.app"), tmp_path / "myproject_prj")
    reports = read_reports(tmp_path)
    assert reports.hls is not None and (reports.hls.lut, reports.hls.tool_version) == (2532, "2020.1")
    assert len(reports.hls.modules) == 2
    (tmp_path / "myproject_prj" / "vivado_hls.app").unlink()
    with pytest.raises(ReportParseError, match="--top"):
        read_reports(tmp_path)
    assert read_reports(tmp_path, top="myproject").hls.lut == 2532  # type: ignore[union-attr]
