"""`hil reports PATH`: parse Vivado / Vitis HLS tool reports and print their figures.

Thin on purpose: finding, parsing and validating live in ``hil.farm.reports``; a broken report
raises ``ReportParseError``, which ``hil.cli._app.main`` prints as one line with exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import JSON_OPTION, console, print_json

_PATH_ARGUMENT = typer.Argument(
    ...,
    help="A report file, or a build folder searched recursively for *_csynth.xml, *csynth.rpt, "
    "vivado_synth.rpt / *utilization*.rpt and *timing_summary*.rpt.",
)
_TOP_OPTION = typer.Option(
    None, "--top", help="HLS top function, to pick its csynth report among per-module ones."
)


@app.command("reports")
def reports_command(
    path: Path = _PATH_ARGUMENT, top: str | None = _TOP_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Show the HLS, synthesis and timing figures of a build's reports (NA shown as null / '-')."""
    from hil.farm.reports import read_reports

    reports = read_reports(path, top=top)
    if as_json:
        print_json(reports.to_dict())
        return
    from rich.table import Table

    out = console()
    sections: list[tuple[str, Any]] = [("HLS (csynth)", reports.hls), ("synthesis", reports.synth)]
    sections.append(("timing", reports.timing))
    for title, report in sections:
        if report is None:
            continue
        out.print(f"[bold]{title}[/bold]: {report.path}", soft_wrap=True, highlight=False)
        table = Table()
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key, value in report.to_dict().items():
            if key != "modules":
                table.add_row(key, _fmt(value))
        out.print(table)
    if reports.hls is not None and reports.hls.modules:
        rows = [module.to_dict() for module in reports.hls.modules]
        table = Table(title="HLS instances (per layer)")
        for column in rows[0]:
            table.add_column(column, justify="left" if column in {"instance", "module"} else "right")
        for row in rows:
            table.add_row(*(_fmt(value) for value in row.values()))
        out.print(table)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
