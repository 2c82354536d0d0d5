"""`hil costmodel calibrate|check|cv|explain`: fit and check the analytic cost model against real results.

Thin: parsing and printing only; the work is in ``hil.cost``. numpy/scipy/matplotlib are
imported inside the commands (through hil.cost's fitting code) so ``hil --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import JSON_OPTION, console, print_json

costmodel_app = typer.Typer(
    help="Calibrate the analytic cost model and check it against measurements.", no_args_is_help=True
)
app.add_typer(costmodel_app, name="costmodel")

_DATA = typer.Option(
    ...,
    "--data",
    help="N-TORC CSV, design-description JSONL (costdata/lowbit) or hil record JSONL files; repeat for more.",
)
_MAX_MAPE = typer.Option(
    0.15, "--max-mape", help="Fail (exit 1) when any whole-design metric's MAPE exceeds this fraction."
)
_PLOT = typer.Option(
    None, "--plot", help="Also draw predicted vs measured per metric to this PNG.", dir_okay=False
)
_PARAMS = typer.Option(None, "--params", help="Params file (default: shipped parameters).", dir_okay=False)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _metric_table(title: str, reports: dict[str, Any], max_mape: float | None, worst: bool = True) -> Any:
    from rich.table import Table

    table = Table(title=title)
    columns = ["metric", "n", "zeros excl.", "MAPE", "median APE", "Kendall tau"]
    for col in [*columns, *(["worst rows (true -> pred)"] if worst else [])]:
        table.add_column(col)
    for metric, r in reports.items():
        flag = " FAIL" if max_mape is not None and r.mape is not None and r.mape > max_mape else ""
        tau = "n/a" if r.kendall_tau is None else f"{r.kendall_tau:.3f}"
        cells = [metric, str(r.n), str(r.excluded_zero), _pct(r.mape) + flag, _pct(r.median_ape), tau]
        if worst:
            cells.append("; ".join(f"{w['row']} {w['true']:g}->{w['pred']:g}" for w in r.worst))
        table.add_row(*cells)
    return table


def _family_table(report: Any) -> Any:
    from rich.table import Table

    metrics = ("lut", "ff", "dsp", "bram_18k", "latency")
    table = Table(title="per family: MAPE / Kendall tau")
    table.add_column("family")
    for m in metrics:
        table.add_column(m)
    for family, reports in report.by_family.items():
        cells = []
        for m in metrics:
            r = reports.get(m)
            tau = "" if r is None or r.kendall_tau is None else f" / {r.kendall_tau:.2f}"
            cells.append("n/a" if r is None else _pct(r.mape) + tau)
        table.add_row(family, *cells)
    return table


def _print(report: Any, max_mape: float) -> None:
    out = console()
    items = dict(report.metrics)
    items.update({f"({m})": r for m, r in report.beside.items()})
    out.print(_metric_table(f"{report.title}: {report.rows} designs/rows (whole design)", items, max_mape))
    if report.layers:
        out.print(_metric_table("layers with their own figures (per-layer truth)", report.layers, None))
    if len(report.by_family) > 1:
        out.print(_family_table(report))
    if report.fits is not None:
        fits = report.fits
        line = f"fits() on each design's own part agrees with the real report: {fits.agree}/{fits.n}"
        if fits.fraction is not None:
            line += f" ({_pct(fits.fraction)})"
        if fits.unknown_part:
            line += f"; {fits.unknown_part} design(s) on parts hil does not know"
        out.print(line)
        for item in fits.disagree:
            out.print(f"  disagrees: {item}")
    if report.extrapolated:
        shown = ", ".join(report.extrapolated[:8]) + (" ..." if len(report.extrapolated) > 8 else "")
        out.print(
            f"extrapolated (a layer kind/strategy/io_type/precision range the calibration data lack): "
            f"{len(report.extrapolated)} row(s): {shown}"
        )


def _finish(report: Any, max_mape: float, as_json: bool, plot: Path | None) -> int:
    if plot is not None:
        from hil.cost._plot import plot_check

        plot_check(report, plot, title=report.title)
    over = report.over(max_mape)
    if as_json:
        payload = report.to_dict()
        payload["max_mape"] = max_mape
        payload["failed"] = over
        print_json(payload)
    else:
        _print(report, max_mape)
        if over:
            console().print(f"MAPE above {100 * max_mape:.0f}% for: {', '.join(over)}")
    return 1 if over else 0


def _params(path: Path | None) -> Any:
    from hil.cost import default_params, load_params

    return load_params(path) if path else default_params()


@costmodel_app.command("check")
def check_cmd(
    data: list[Path] = _DATA,
    params: Path | None = _PARAMS,
    max_mape: float = _MAX_MAPE,
    as_json: bool = JSON_OPTION,
    plot: Path | None = _PLOT,
    include_estimates: bool = typer.Option(
        False,
        "--include-estimates",
        help="Also read records holding cost-model estimates (a plumbing self-check, not accuracy).",
    ),
) -> int:
    """Predict every design (and every layer with its own figures): MAPE, median APE, Kendall tau,
    per family, fits() agreement, and which rows are extrapolated."""
    from hil.cost import check, read_cost_data

    rows = read_cost_data(data, include_estimates=include_estimates)
    return _finish(check(rows, _params(params)), max_mape, as_json, plot)


@costmodel_app.command("cv")
def cv_cmd(
    data: list[Path] = _DATA,
    by: str = typer.Option(
        "shape",
        "--by",
        help="shape: leave one layer stack (N-TORC shape, design stack) out; "
        "family: leave one source family out.",
    ),
    max_mape: float = _MAX_MAPE,
    as_json: bool = JSON_OPTION,
    plot: Path | None = _PLOT,
    markdown: bool = typer.Option(
        False, "--markdown", help="Print the per-family table (MAPE / Spearman / within 1.5x) as markdown."
    ),
) -> int:
    """Cross-validation: refit without each group, predict it, report the errors."""
    from hil.cost import CV_MODES, cross_validate, read_cost_data
    from hil.errors import InputError

    if by not in CV_MODES:
        raise InputError(f"--by must be one of {', '.join(CV_MODES)}, got {by!r}")
    report = cross_validate(read_cost_data(data), by=by)
    if markdown:
        from hil.cost._tables import family_table

        print(family_table(report))
        return 1 if report.over(max_mape) else 0
    return _finish(report, max_mape, as_json, plot)


@costmodel_app.command("calibrate")
def calibrate_cmd(
    data: list[Path] = _DATA,
    out: Path = typer.Option(..., "--out", help="Params JSON file to write.", dir_okay=False),
    with_cv: bool = typer.Option(
        False, "--cv", help="Also run both cross-validations and record their figures in the file's notes."
    ),
    as_json: bool = JSON_OPTION,
) -> int:
    """Fit the model's coefficients to measurements and write a params file."""
    from hil.cost import calibrate, cv_summary, read_cost_data, save_params

    rows = read_cost_data(data)
    params = calibrate(rows, labels=[p.name for p in data])
    if with_cv:
        params.notes["cross_validation"] = cv_summary(rows)
    save_params(params, out)
    if as_json:
        print_json({"out": str(out), **params.to_dict()})
    else:
        console().print(
            f"wrote {out} ({len(params.coefficients)} coefficients, "
            f"{len(params.domain)} calibrated layer kinds)"
        )
    return 0


@costmodel_app.command("explain")
def explain_cmd(
    data: Path = typer.Option(
        ..., "--data", help="A design-description or record JSONL file (or an N-TORC CSV)."
    ),
    design: str = typer.Option(None, "--design", help="Design id (default: the first design of the file)."),
    params: Path | None = _PARAMS,
    as_json: bool = JSON_OPTION,
) -> int:
    """Per-layer breakdown of one design's estimate: every priced piece, and what sets the II."""
    from rich.table import Table

    from hil.cost import estimate, read_cost_data
    from hil.errors import InputError

    rows = read_cost_data([data])
    chosen = [r for r in rows if design is None or r.name == design]
    if not chosen:
        raise InputError(f"{data}: no design {design!r} (ids: {', '.join(r.name for r in rows[:5])} ...)")
    row = chosen[0]
    est = estimate(row.layers, params=_params(params), target=row.target, explain=True)
    if as_json:
        print_json({"design": row.name, "truth": row.truth, **est.to_dict()})
        return 0
    table = Table(
        title=f"{row.name}: estimate by layer ({row.target.hls.value} HLS, {row.target.family.value})"
    )
    for col in ("layer", "LUT", "FF", "DSP", "BRAM18", "latency", "II", "calibrated", "largest LUT terms"):
        table.add_column(col)
    for le in (*est.layers, est.io):
        luts = sorted(((v, label) for metric, label, v in le.explain if metric == "lut"), reverse=True)[:3]
        flag = "yes" if set(le.terms.values()) == {"calibrated"} else "no"
        table.add_row(
            le.name or le.kind,
            f"{le.lut:g}",
            f"{le.ff:g}",
            f"{le.dsp:g}",
            f"{le.bram_18k:g}",
            f"{le.latency_cycles:g}",
            f"{le.ii_cycles:g}",
            flag,
            "; ".join(f"{label} {v:.0f}" for v, label in luts),
        )
    console().print(table)
    totals = est.totals
    console().print(
        f"total: {totals['lut']:.0f} LUT, {totals['ff']:.0f} FF, {totals['dsp']:.0f} DSP, "
        f"{totals['bram_18k']:.0f} BRAM18, latency {totals['latency_cycles']:.0f}, "
        f"II {totals['ii_cycles']:.0f} "
        f"(set by {est.ii_layer}: {est.ii_reason})"
    )
    if row.truth:
        console().print("real: " + ", ".join(f"{k} {v:g}" for k, v in row.truth.items()))
    return 0
