"""`hil costmodel calibrate|check|cv`: fit and check the analytic cost model against real results.

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

_DATA = typer.Option(..., "--data", help="CSV (N-TORC layout) or JSON-lines record files; repeat for more.")
_MAX_MAPE = typer.Option(
    0.15, "--max-mape", help="Fail (exit 1) when any metric's MAPE exceeds this fraction."
)
_PLOT = typer.Option(
    None, "--plot", help="Also draw predicted vs measured per metric to this PNG.", dir_okay=False
)


def _table(report: Any, title: str, max_mape: float) -> None:
    from rich.table import Table

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    table = Table(title=f"{title}: {report.rows} rows")
    for col in (
        "metric",
        "n",
        "zeros excl.",
        "MAPE",
        "median APE",
        "Kendall tau",
        "worst rows (true -> pred)",
    ):
        table.add_column(col)
    items = list(report.metrics.items()) + [(f"({m})", r) for m, r in report.beside.items()]
    for metric, r in items:
        flag = " FAIL" if metric in report.metrics and r.mape is not None and r.mape > max_mape else ""
        worst = "; ".join(f"{w['row']} {w['true']:g}->{w['pred']:g}" for w in r.worst)
        tau = "n/a" if r.kendall_tau is None else f"{r.kendall_tau:.3f}"
        table.add_row(
            metric, str(r.n), str(r.excluded_zero), pct(r.mape) + flag, pct(r.median_ape), tau, worst
        )
    console().print(table)


def _finish(report: Any, title: str, max_mape: float, as_json: bool, plot: Path | None) -> int:
    if plot is not None:
        from hil.cost._plot import plot_check

        plot_check(report, plot, title=title)
    over = report.over(max_mape)
    if as_json:
        payload = report.to_dict()
        payload["max_mape"] = max_mape
        payload["failed"] = over
        print_json(payload)
    else:
        _table(report, title, max_mape)
        if over:
            console().print(f"MAPE above {100 * max_mape:.0f}% for: {', '.join(over)}")
    return 1 if over else 0


@costmodel_app.command("check")
def check_cmd(
    data: list[Path] = _DATA,
    params: Path | None = typer.Option(
        None, "--params", help="Params file (default: shipped parameters).", dir_okay=False
    ),
    max_mape: float = _MAX_MAPE,
    as_json: bool = JSON_OPTION,
    plot: Path | None = _PLOT,
    include_estimates: bool = typer.Option(
        False,
        "--include-estimates",
        help="Also read records holding cost-model estimates (a plumbing self-check, not accuracy).",
    ),
) -> int:
    """Predict every measured row and report MAPE, median APE and Kendall tau per metric."""
    from hil.cost import check, default_params, load_params, read_cost_data

    rows = read_cost_data(data, include_estimates=include_estimates)
    report = check(rows, load_params(params) if params else default_params())
    return _finish(report, "cost model check", max_mape, as_json, plot)


@costmodel_app.command("cv")
def cv_cmd(
    data: list[Path] = _DATA,
    max_mape: float = _MAX_MAPE,
    as_json: bool = JSON_OPTION,
    plot: Path | None = _PLOT,
) -> int:
    """Leave-one-layer-shape-out cross-validation (refit without each shape, predict it)."""
    from hil.cost import cross_validate, read_cost_data

    report = cross_validate(read_cost_data(data))
    return _finish(report, "leave-one-shape-out cross-validation", max_mape, as_json, plot)


@costmodel_app.command("calibrate")
def calibrate_cmd(
    data: list[Path] = _DATA,
    out: Path = typer.Option(..., "--out", help="Params JSON file to write.", dir_okay=False),
    as_json: bool = JSON_OPTION,
) -> int:
    """Fit the model's coefficients to measurements and write a params file."""
    from hil.cost import calibrate, read_cost_data, save_params

    params = calibrate(read_cost_data(data), labels=[p.name for p in data])
    save_params(params, out)
    if as_json:
        print_json({"out": str(out), **params.to_dict()})
    else:
        console().print(f"wrote {out} ({len(params.coefficients)} coefficients)")
    return 0
