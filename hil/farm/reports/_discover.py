"""Reading one build's reports: from fixed paths (a build) or found in a folder (a user's).

Why two ways: hil's own build Tcl writes every report it needs to a fixed path, and
``read_build_reports`` reads exactly those, so a stray file can never be taken for the design's.
A folder a user hands to ``hil reports DIR`` has no such contract, so ``find_report_files``
searches it. Why a strict pick there: a Vivado/HLS run folder holds per-module csynth reports
next to the top's, post-synthesis next to post-route reports, Vivado's own
``<prj>.runs/impl_1/*_timing_summary_routed.rpt`` beside a flow's own report, and one
out-of-context ``*_utilization_synth.rpt`` per IP. Taking "the first match" could report a
single layer or a DMA as the whole design. So each kind has a preference order (a report outside
Vivado's ``*.runs`` folders first), and a tie at the best rank is an error that lists the
candidates, unless the top module is known (argument; the generic Vitis HLS ``csynth.xml`` or its
"Synthesis Summary Report"; the ``top="..."`` attribute of the HLS project's ``*.app`` file).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hil.errors import ReportParseError
from hil.farm.reports._csynth import (
    csynth_summary_top,
    csynth_xml_top,
    is_top_csynth_rpt,
    parse_csynth_rpt,
    parse_csynth_xml,
)
from hil.farm.reports._model import HierarchicalUtilization, HlsReport, ReportSet, SynthReport, TimingReport
from hil.farm.reports._vivado import parse_timing_summary, parse_utilization, parse_utilization_hierarchical

__all__ = [
    "ReportFiles",
    "find_report_files",
    "read_reports",
    "read_build_reports",
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
    #: A ``report_utilization -hierarchical`` report (found by its content, any name).
    utilization_hier: Path | None = None
    #: Vitis HLS's generic csynth.xml of the same top, when ``csynth_xml`` is the top's own
    #: ``<top>_csynth.xml``: read only to check that both give the same totals.
    csynth_generic_xml: Path | None = None


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
    if name.endswith(".rpt") and (name == "vivado_synth.rpt" or "utilization" in name):
        return "utilization"  # flat or hierarchical: told apart by content (_is_hierarchical)
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


def _is_hierarchical(path: Path) -> bool:
    """Whether a utilization report is ``-hierarchical`` (by its table, never by its Command line:
    2025.x writes ``-hierarchical_min_primitive_count`` into flat reports' Command too)."""
    try:
        text = path.read_bytes()[:65536].decode("utf-8", errors="replace")
    except OSError as exc:
        raise ReportParseError(f"{path}: cannot read report ({exc.strerror or exc})") from exc
    return (
        "Utilization by Hierarchy" in text
        or re.search(r"\|\s*Instance\s*\|.*\|\s*Total LUTs\s*\|", text) is not None
    )


def _in_vivado_runs(path: Path, root: Path) -> bool:
    """Whether ``path`` lies in a Vivado run folder (``<prj>.runs/...``) below ``root``.

    Why: Vivado's runs write their own default reports there (``impl_1/<top>_timing_summary_routed.rpt``,
    one ``<ip>_utilization_synth.rpt`` per out-of-context IP run); a flow that asks for a report
    writes it outside, so a report outside ``*.runs`` is the one the flow meant.
    """
    try:
        parts = path.relative_to(root).parts[:-1]
    except ValueError:
        parts = path.parts[:-1]
    return any(part.lower().endswith(".runs") for part in parts)


def _per_ip_run(path: Path, root: Path) -> bool:
    """Whether ``path`` lies in an out-of-context IP run folder (``<prj>.runs/<ip>_synth_1``).

    Why: such a report is one IP's (a DMA's, an interconnect's, the kernel IP's) synthesized
    alone; it is never the whole design, and the kernel's only when its Design says so.
    """
    try:
        parts = path.relative_to(root).parts[:-1]
    except ValueError:
        parts = path.parts[:-1]
    return any(re.fullmatch(r"(?i).+_synth_\d+", part) is not None for part in parts)


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
) -> tuple[Path | None, Path | None, Path | None]:
    """The top function's csynth.xml and csynth.rpt, and Vitis HLS's generic csynth.xml of it.

    Vitis HLS (2020.2+) writes, in ``solution1/syn/report/``, the top's ``<top>_csynth.xml``/
    ``.rpt``, one ``<function>_csynth.*`` per function, a generic ``csynth.xml`` (TopModelName
    plus every module's numbers; its root-level totals are the top's) and a ``csynth.rpt``
    "Synthesis Summary Report" (a different format, never parsed as a top's report). Without a
    top argument the top is the one those two files, or the project's ``*.app``, name.
    """
    xmls, rpts = _distinct(xmls), _distinct(rpts)
    if not xmls and not rpts:
        return None, None, None
    summary_tops = {p: csynth_summary_top(p) for p in rpts}
    top_rpts = [p for p in rpts if summary_tops[p] is None]
    generic = {p: csynth_xml_top(p) for p in xmls if p.name.lower() == "csynth.xml"}
    own_xmls = [p for p in xmls if p not in generic]
    if top is not None:
        names = {top}
    else:
        names = {t for t in summary_tops.values() if t is not None}
        names |= {t for t in generic.values() if t is not None}
        names |= _app_tops(folder)
    if not names:
        # No file names a top: a lone report (or a lone xml/rpt pair of one stem) is the top's.
        if len(own_xmls) <= 1 and len(top_rpts) <= 1 and not generic:
            xml = own_xmls[0] if own_xmls else None
            rpt = top_rpts[0] if top_rpts else None
            if xml is None or rpt is None or xml.stem == rpt.stem:
                if rpt is not None and not is_top_csynth_rpt(rpt):
                    rpt = None  # foreign content: read_reports would fail on it; keep the xml
                if xml is not None or rpt is not None:
                    return xml, rpt, None
    if len(names) != 1:
        found = ", ".join(str(p) for p in sorted(xmls + rpts)[:6])
        tops = f"tops {', '.join(sorted(names))} are named" if names else "no file names the top"
        raise ReportParseError(
            f"{folder}: cannot tell which csynth report is the top's ({found}); {tops}: "
            "pass the top module name (--top) or one build's folder"
        )
    (name,) = names
    stem = f"{name}_csynth"
    xml_hits = [p for p in own_xmls if p.stem == stem]
    rpt_hits = [p for p in top_rpts if p.stem == stem]
    if not rpt_hits:
        # Early Vitis HLS releases wrote the top's own report as plain csynth.rpt.
        rpt_hits = [p for p in top_rpts if p.stem.lower() == "csynth" and _rpt_top(p) == name]
    generic_hits = [p for p, t in generic.items() if t == name]
    if len(xml_hits) > 1 or len(rpt_hits) > 1 or len(generic_hits) > 1:
        tied = ", ".join(str(p) for p in sorted(xml_hits + rpt_hits + generic_hits)[:6])
        raise ReportParseError(
            f"{folder}: several csynth reports of top '{name}' ({tied}); pass one build's folder"
        )
    xml = xml_hits[0] if xml_hits else None
    generic_xml = generic_hits[0] if generic_hits else None
    if xml is None and generic_xml is not None:
        xml, generic_xml = generic_xml, None
    rpt = rpt_hits[0] if rpt_hits else None
    if xml is None and rpt is None:
        found = ", ".join(str(p) for p in sorted(xmls + rpts)[:6])
        raise ReportParseError(
            f"{folder}: cannot tell which csynth report is the top's ({found}); none is for top '{name}'"
        )
    return xml, rpt, generic_xml


def _rpt_top(path: Path) -> str | None:
    """The function a per-function csynth.rpt is for."""
    try:
        head = path.read_bytes()[:4096].decode("utf-8", errors="replace")
    except OSError as exc:
        raise ReportParseError(f"{path}: cannot read report ({exc.strerror or exc})") from exc
    match = re.search(r"^==\s+(?:Vivado|Vitis)\s+HLS\s+Report\s+for\s+'([^']+)'", head, re.MULTILINE)
    return match.group(1) if match else None


def _best(kind: str, candidates: list[Path], path: Path) -> Path | None:
    """The one best-ranked candidate; a tie raises, listing the tied files (never a silent pick)."""
    if not candidates:
        return None

    def key(candidate: Path) -> tuple[bool, bool, int]:
        return _in_vivado_runs(candidate, path), _per_ip_run(candidate, path), _rank(kind, candidate)

    best = min(key(p) for p in candidates)
    top_rank = [p for p in candidates if key(p) == best]
    if len(top_rank) > 1:
        names = ", ".join(str(p) for p in top_rank[:6])
        more = f" and {len(top_rank) - 6} more" if len(top_rank) > 6 else ""
        raise ReportParseError(
            f"{path}: several {kind} reports and no rule to choose between them: {names}{more}; "
            "pass one report file, or read the build's fixed report paths"
        )
    return top_rank[0]


def find_report_files(
    path: str | Path, *, top: str | None = None, kernel_tops: frozenset[str] | None = None
) -> ReportFiles:
    """Choose the report files of one build found in a folder (a user's: ``hil reports DIR``).

    A build of hil's own reads fixed paths instead (``read_build_reports``).

    Args:
        path: a report file (kind from its name, else from its content), or a folder searched
            recursively for *_csynth.xml, *csynth.rpt, vivado_synth.rpt / *utilization*.rpt and
            *timing_summary*.rpt.
        top: the HLS top function, to pick its csynth report among per-module ones; without it
            the top is the one the folder's files name (see ``_pick_hls``).
        kernel_tops: the module names a kernel's own utilization report can have (``myproject``,
            ``myproject_axi``); with them, a utilization report of any other design (a block
            design's wrapper) becomes ``design_utilization`` instead of being taken for the
            network's. Without them every flat utilization report is the kernel's, as before.

    Raises:
        ReportParseError: nothing found, a file of unknown kind, or an ambiguous choice (the
            message lists the candidates).
    """
    path = Path(path)
    if path.is_file():
        kind = _kind(path) or _sniff(path)
        if kind is None:
            raise ReportParseError(f"{path}: not a Vivado / Vivado HLS report this parser knows")
        if kind == "utilization" and _is_hierarchical(path):
            kind = "utilization_hier"
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
    xml, rpt, generic = _pick_hls(found["csynth_xml"], found["csynth_rpt"], top, path)
    chosen: dict[str, Path | None] = {"csynth_xml": xml, "csynth_rpt": rpt, "csynth_generic_xml": generic}
    chosen["timing"] = _best("timing", _distinct(found["timing"]), path)
    every = _distinct(found["utilization"])
    hierarchical = [p for p in every if _is_hierarchical(p)]
    utilization = [p for p in every if p not in hierarchical]
    chosen["utilization_hier"] = _best("hierarchical utilization", hierarchical, path)
    if kernel_tops is None:
        chosen["utilization"] = _best("utilization", utilization, path)
    else:
        kernel = [p for p in utilization if _design_top(p) in kernel_tops]
        chosen["utilization"] = _best("utilization", kernel, path)
        design = [p for p in utilization if p not in kernel and not _per_ip_run(p, path)]
        chosen["design_utilization"] = _best("utilization", design, path)
    files = ReportFiles(**chosen)
    logger.info("reports under %s: %s", path, files)
    return files


def _read_hls(xml: Path | None, rpt: Path | None, generic: Path | None = None) -> HlsReport | None:
    """HLS totals from the xml when there is one (read by tag), else the .rpt; per-instance rows
    from the .rpt. A generic Vitis HLS csynth.xml of the same top must agree with the top's own."""
    hls: HlsReport | None = None
    if xml is not None:
        # A lone XML still gets its per-instance rows from a sibling .rpt of the same name.
        hls = parse_csynth_xml(xml, with_modules=rpt is None)
        if rpt is not None:
            hls = replace(hls, modules=parse_csynth_rpt(rpt).modules)
    elif rpt is not None:
        hls = parse_csynth_rpt(rpt)
    if hls is not None and generic is not None:
        other = parse_csynth_xml(generic, with_modules=False)
        keys = ("top", "lut", "ff", "dsp", "bram_18k", "latency_best_cycles", "latency_worst_cycles")
        differ = [k for k in keys if getattr(hls, k) != getattr(other, k)]
        if differ:
            raise ReportParseError(
                f"{hls.path}: disagrees with {generic} on {', '.join(differ)} "
                "(reports of two different runs in one folder?)"
            )
    return hls


def read_reports(
    path: str | Path,
    *,
    top: str | None = None,
    kernel_tops: frozenset[str] | None = None,
    kernel_instance: str | None = None,
) -> ReportSet:
    """Parse the reports found in a folder into typed objects (see ``find_report_files``).

    The HLS totals come from csynth.xml when there is one (read by tag), else from the .rpt;
    per-instance rows always come from the .rpt when it exists. A hierarchical utilization
    report gives the whole design (its top row) when no flat report of the design was found,
    and the kernel's figures from the row of ``kernel_instance`` when that is given.
    """
    files = find_report_files(path, top=top, kernel_tops=kernel_tops)
    hls = _read_hls(files.csynth_xml, files.csynth_rpt, files.csynth_generic_xml)
    synth = parse_utilization(files.utilization) if files.utilization is not None else None
    design = parse_utilization(files.design_utilization) if files.design_utilization is not None else None
    if files.utilization_hier is not None:
        hier = parse_utilization_hierarchical(files.utilization_hier)
        if kernel_instance is not None:
            synth = hier.synth_report(kernel_instance)
        if design is None:
            design = hier.synth_report()
    elif kernel_instance is not None:
        raise ReportParseError(
            f"{path}: kernel instance '{kernel_instance}' given, but no hierarchical utilization report found"
        )
    timing = parse_timing_summary(files.timing) if files.timing is not None else None
    return ReportSet(hls=hls, synth=synth, timing=timing, design=design)


def _existing(path: str | Path | None, what: str) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise ReportParseError(f"{path}: {what} report does not exist (the build did not write it)")
    return path


def read_build_reports(
    *,
    csynth_xml: str | Path | None = None,
    csynth_rpt: str | Path | None = None,
    utilization: str | Path | None = None,
    utilization_hier: str | Path | None = None,
    timing: str | Path | None = None,
    kernel_instance: str | None = None,
    kernel_tops: frozenset[str] | None = None,
    clock: str | None = None,
) -> ReportSet:
    """Read ONE build's reports from the fixed paths its own scripts wrote them to.

    Why no search: a Vivado run tree also holds Vivado's default reports
    (``impl_1/*_timing_summary_routed.rpt``) and one out-of-context ``*_utilization_synth.rpt``
    per IP; a build knows where it asked for each report, so it reads exactly those.

    Args:
        csynth_xml, csynth_rpt: the HLS top's ``<top>_csynth.xml`` / ``.rpt`` (xml totals, rpt
            per-instance rows; either alone is enough).
        utilization: a flat ``report_utilization`` report: the kernel's when its Design is a
            kernel top (``kernel_tops``, else the HLS top), otherwise the whole design's.
        utilization_hier: a ``report_utilization -hierarchical`` report: its top row is the whole
            design, the row of ``kernel_instance`` the kernel (preferred over a flat kernel report).
        timing: a ``report_timing_summary`` report (routed); ``clock`` names its main clock.
        kernel_instance: the kernel's cell, by name or path suffix (``myproject_0`` or
            ``design_1_i/myproject_0``).
        kernel_tops: module names a flat kernel report's Design can have.

    Returns:
        hls, synth (the kernel), design (the whole block design) and timing; None where no path
        was given.

    Raises:
        ReportParseError: a given path does not exist or does not parse, ``kernel_instance`` is
            not exactly one cell, or is given without ``utilization_hier``.
    """
    paths = {
        "csynth xml": _existing(csynth_xml, "csynth xml"),
        "csynth rpt": _existing(csynth_rpt, "csynth rpt"),
        "utilization": _existing(utilization, "utilization"),
        "hierarchical utilization": _existing(utilization_hier, "hierarchical utilization"),
        "timing": _existing(timing, "timing summary"),
    }
    hls = _read_hls(paths["csynth xml"], paths["csynth rpt"])
    kernels = set(kernel_tops or ())
    if hls is not None:
        kernels.add(hls.top)
    synth: SynthReport | None = None
    design: SynthReport | None = None
    if paths["utilization"] is not None:
        flat = parse_utilization(paths["utilization"])
        if flat.top in kernels:
            synth = flat
        else:
            design = flat
    hier_path = paths["hierarchical utilization"]
    if hier_path is not None:
        hier: HierarchicalUtilization = parse_utilization_hierarchical(hier_path)
        if kernel_instance is not None:
            synth = hier.synth_report(kernel_instance)
        if design is None:
            design = hier.synth_report()
    elif kernel_instance is not None:
        raise ReportParseError(
            f"kernel instance '{kernel_instance}' given without a hierarchical utilization report"
        )
    timing_report = (
        parse_timing_summary(paths["timing"], clock=clock) if paths["timing"] is not None else None
    )
    logger.debug("build reports: %s", {k: str(v) for k, v in paths.items() if v is not None})
    return ReportSet(hls=hls, synth=synth, timing=timing_report, design=design)


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
    if isinstance(report, SynthReport) and report.instance is not None:
        return  # one cell of a bigger design: its report's top is the wrapper, the cell was named
    if top is not None and report.top != top:
        raise ReportParseError(f"{report.path}: report is for top '{report.top}', the job's top is '{top}'")
