"""Finding a build's reports in a folder, parsing them together, and checking they are the job's.

Why a strict pick: a Vivado/HLS run folder holds per-module csynth reports next to the top's,
and post-synthesis next to post-route reports. Taking "the first match" could report a single
layer as the whole design. So each kind has a preference order, and a tie at the best rank is
an error that lists the candidates, unless the top module is known (argument, or the
``top="..."`` attribute of the HLS project's ``*.app`` file).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hil.errors import ReportParseError
from hil.farm.reports._csynth import parse_csynth_rpt, parse_csynth_xml
from hil.farm.reports._model import HlsReport, ReportSet, SynthReport, TimingReport
from hil.farm.reports._vivado import parse_timing_summary, parse_utilization

__all__ = [
    "ReportFiles",
    "find_report_files",
    "read_reports",
    "parse_reports",
    "parts_match",
    "check_report_matches",
]

logger = logging.getLogger(__name__)

_PATTERNS = "*_csynth.xml, *csynth.rpt, vivado_synth.rpt, *utilization*.rpt, *timing_summary*.rpt"


@dataclass(frozen=True)
class ReportFiles:
    """The report files chosen for one build; None where there is none.

    ``utilization`` is the network kernel's (its "Design" is one of the kernel tops, e.g. hls4ml's
    out-of-context ``vivado_synth.rpt``); ``design_utilization`` a whole block design's (PS
    wrapper, DMA, interconnect and the kernel), found only when the caller names the kernel tops.
    """

    csynth_xml: Path | None = None
    csynth_rpt: Path | None = None
    utilization: Path | None = None
    timing: Path | None = None
    design_utilization: Path | None = None


def _design_top(path: Path) -> str | None:
    """The ``| Design : name`` banner line of a Vivado text report (None when absent)."""
    try:
        head = path.read_bytes()[:8192].decode("utf-8", errors="replace")
    except OSError as exc:
        raise ReportParseError(f"{path}: cannot read report ({exc.strerror or exc})") from exc
    match = re.search(r"^\|\s*Design\s*:\s*(\S+)", head, re.MULTILINE)
    return match.group(1) if match else None


def _kind(path: Path) -> str | None:
    """Report kind from the file name, or None."""
    name = path.name.lower()
    if name == "csynth.xml" or name.endswith("_csynth.xml"):
        return "csynth_xml"
    if name.endswith("csynth.rpt"):
        return "csynth_rpt"
    if (
        name.endswith(".rpt")
        and "hierarchical" not in name
        and (name == "vivado_synth.rpt" or "utilization" in name)
    ):
        return "utilization"
    if name.endswith(".rpt") and "timing_summary" in name:
        return "timing"
    return None


def _sniff(path: Path) -> str | None:
    """Report kind from the first few KB of a file whose name says nothing."""
    try:
        head = path.read_bytes()[:8192].decode("utf-8", errors="replace")
    except OSError as exc:
        raise ReportParseError(f"{path}: cannot read report ({exc.strerror or exc})") from exc
    if "<profile>" in head and "<UserAssignments>" in head:
        return "csynth_xml"
    if re.search(r"==\s+(?:Vivado|Vitis)\s+HLS\s+Report\s+for", head):
        return "csynth_rpt"
    if "report_utilization" in head or "Utilization Design Information" in head:
        return "utilization"
    if "report_timing_summary" in head or "Timing Summary Report" in head:
        return "timing"
    return None


def _rank(kind: str, path: Path) -> int:
    """Lower is preferred: post-synthesis utilization (the "synth" section), post-route timing."""
    name = path.name.lower()
    if kind == "utilization":
        return 0 if name == "vivado_synth.rpt" else 1 if "utilization_synth" in name else 2
    if kind == "timing":
        return 0 if "routed" in name else 1
    return 0


def _distinct(paths: list[Path]) -> list[Path]:
    """Drop byte-identical copies (hls4ml copies reports between folders)."""
    seen: dict[bytes, Path] = {}
    for path in paths:
        seen.setdefault(path.read_bytes(), path)
    return sorted(seen.values())


def _app_tops(folder: Path) -> set[str]:
    tops = set()
    for app in folder.rglob("*.app"):
        match = re.search(r'\btop="([^"]+)"', app.read_text(errors="replace"))
        if match:
            tops.add(match.group(1))
    return tops


def _pick_hls(
    xmls: list[Path], rpts: list[Path], top: str | None, folder: Path
) -> tuple[Path | None, Path | None]:
    """The top function's csynth.xml and csynth.rpt (either may be None)."""
    xmls, rpts = _distinct(xmls), _distinct(rpts)
    if not xmls and not rpts:
        return None, None
    if top is None and len(xmls) <= 1 and len(rpts) <= 1:
        xml = xmls[0] if xmls else None
        rpt = rpts[0] if rpts else None
        if xml is None or rpt is None or xml.stem == rpt.stem:
            return xml, rpt
    names = [top] if top is not None else sorted(_app_tops(folder))
    # Vitis HLS names the top's report plain csynth.xml/.rpt, next to <module>_csynth.* files.
    stems = {f"{names[0]}_csynth"} if len(names) == 1 else {"csynth"}
    xml_hits = [p for p in xmls if p.stem in stems]
    rpt_hits = [p for p in rpts if p.stem in stems]
    if len(xml_hits) > 1 or len(rpt_hits) > 1 or not (xml_hits or rpt_hits):
        found = ", ".join(str(p) for p in sorted(xmls + rpts)[:6])
        hint = (
            f"none is for top '{top}'"
            if top is not None
            else "pass the top module name (--top) or one build's folder"
        )
        raise ReportParseError(f"{folder}: cannot tell which csynth report is the top's ({found}); {hint}")
    return (xml_hits[0] if xml_hits else None), (rpt_hits[0] if rpt_hits else None)


def _best(kind: str, candidates: list[Path], path: Path) -> Path | None:
    if not candidates:
        return None
    best = min(_rank(kind, p) for p in candidates)
    top_rank = [p for p in candidates if _rank(kind, p) == best]
    if len(top_rank) > 1:
        names = ", ".join(str(p) for p in top_rank[:6])
        raise ReportParseError(f"{path}: several {kind} reports and no rule to choose between them: {names}")
    return top_rank[0]


def find_report_files(
    path: str | Path, *, top: str | None = None, kernel_tops: frozenset[str] | None = None
) -> ReportFiles:
    """Choose the report files of one build.

    Args:
        path: a report file (kind from its name, else from its content), or a folder searched
            recursively for *_csynth.xml, *csynth.rpt, vivado_synth.rpt / *utilization*.rpt and
            *timing_summary*.rpt.
        top: the HLS top function, to pick its csynth report among per-module ones.
        kernel_tops: the module names a kernel's own utilization report can have (``myproject``,
            ``myproject_axi``); with them, a utilization report of any other design (a block
            design's wrapper) becomes ``design_utilization`` instead of being taken for the
            network's. Without them every utilization report is the kernel's, as before.

    Raises:
        ReportParseError: nothing found, a file of unknown kind, or an ambiguous choice.
    """
    path = Path(path)
    if path.is_file():
        kind = _kind(path) or _sniff(path)
        if kind is None:
            raise ReportParseError(f"{path}: not a Vivado / Vivado HLS report this parser knows")
        return ReportFiles(**{kind: path})
    if not path.is_dir():
        raise ReportParseError(f"{path}: no such file or folder")
    found: dict[str, list[Path]] = {"csynth_xml": [], "csynth_rpt": [], "utilization": [], "timing": []}
    for candidate in sorted(path.rglob("*")):
        kind = _kind(candidate)
        if kind is not None and candidate.is_file():
            found[kind].append(candidate)
    if not any(found.values()):
        raise ReportParseError(f"{path}: no report files found (looked for {_PATTERNS})")
    xml, rpt = _pick_hls(found["csynth_xml"], found["csynth_rpt"], top, path)
    chosen: dict[str, Path | None] = {"csynth_xml": xml, "csynth_rpt": rpt}
    chosen["timing"] = _best("timing", _distinct(found["timing"]), path)
    utilization = _distinct(found["utilization"])
    if kernel_tops is None:
        chosen["utilization"] = _best("utilization", utilization, path)
    else:
        kernel = [p for p in utilization if _design_top(p) in kernel_tops]
        chosen["utilization"] = _best("utilization", kernel, path)
        chosen["design_utilization"] = _best("utilization", [p for p in utilization if p not in kernel], path)
    files = ReportFiles(**chosen)
    logger.info("reports under %s: %s", path, files)
    return files


def read_reports(
    path: str | Path, *, top: str | None = None, kernel_tops: frozenset[str] | None = None
) -> ReportSet:
    """Parse a build's reports into typed objects (see ``find_report_files`` for the arguments).

    The HLS totals come from csynth.xml when there is one (read by tag), else from the .rpt;
    per-instance rows always come from the .rpt when it exists.
    """
    files = find_report_files(path, top=top, kernel_tops=kernel_tops)
    hls: HlsReport | None = None
    if files.csynth_xml is not None:
        # A lone XML still gets its per-instance rows from a sibling .rpt of the same name.
        hls = parse_csynth_xml(files.csynth_xml, with_modules=files.csynth_rpt is None)
        if files.csynth_rpt is not None:
            modules = parse_csynth_rpt(files.csynth_rpt).modules
            hls = replace(hls, modules=modules)
    elif files.csynth_rpt is not None:
        hls = parse_csynth_rpt(files.csynth_rpt)
    synth = parse_utilization(files.utilization) if files.utilization is not None else None
    design = parse_utilization(files.design_utilization) if files.design_utilization is not None else None
    timing = parse_timing_summary(files.timing) if files.timing is not None else None
    return ReportSet(hls=hls, synth=synth, timing=timing, design=design)


def parse_reports(path: str | Path, *, top: str | None = None) -> dict[str, Any]:
    """The JSON document of ``hil reports PATH --json``: a section per report found."""
    return read_reports(path, top=top).to_dict()


#: A part name: device, package (letters then 3-4 digits, followed by "-" or the end), grade.
_PART = re.compile(r"^(?:xc)?(?P<device>.*?)-?(?P<package>[a-z]{2,4}\d{3,4})(?=-|$)(?P<grade>.*)$")


def _split_part(part: str) -> tuple[str, str]:
    """(device+package, speed/temperature grade), lower case, without hyphens."""
    text = part.strip().lower()
    match = _PART.match(text)
    if match is None:
        return (text[2:] if text.startswith("xc") else text).replace("-", ""), ""
    return (match["device"] + match["package"]).replace("-", ""), match["grade"].replace("-", "")


def parts_match(a: str, b: str) -> bool:
    """Whether two spellings of a part name the same device.

    Vivado writes a part three ways (``xc7z020clg400-1``; ``7z020clg400-1`` and
    ``xczu9egffvb1156-2`` in utilization banners; ``7a100t-csg324`` without grade in timing
    banners), so the "xc" prefix, case and hyphens are ignored, and a grade that one spelling
    omits or shortens (``-2`` for ``-2-e``) matches. Different devices, packages or speed grades
    never match.
    """
    (stem_a, grade_a), (stem_b, grade_b) = _split_part(a), _split_part(b)
    if stem_a != stem_b:
        return False
    return grade_a.startswith(grade_b) or grade_b.startswith(grade_a)


def check_report_matches(
    report: HlsReport | SynthReport | TimingReport | ReportSet,
    *,
    part: str | None = None,
    top: str | None = None,
) -> None:
    """Reject reports that belong to another build: a different part or top module.

    Why: a farm worker that picks up a stale report from a reused folder would otherwise record
    another design's numbers under this job's key. For a block-design build the synthesized top
    is the wrapper, not the HLS function: check such reports per section with the right ``top``.

    Raises:
        ReportParseError: naming the report file and the mismatch.
    """
    if isinstance(report, ReportSet):
        for section in (report.hls, report.synth, report.timing):
            if section is not None:
                check_report_matches(section, part=part, top=top)
        if report.design is not None:  # a block design's top is its wrapper, never the kernel's
            check_report_matches(report.design, part=part)
        return
    if part is not None and not parts_match(report.part, part):
        raise ReportParseError(f"{report.path}: report is for part {report.part}, the job's part is {part}")
    if top is not None and report.top != top:
        raise ReportParseError(f"{report.path}: report is for top '{report.top}', the job's top is '{top}'")
