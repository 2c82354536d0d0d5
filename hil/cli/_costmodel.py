"""`hil costmodel calibrate|check|cv|explain`: fit and check the analytic cost model against real results.

Thin: parsing and printing only; the work is in ``hil.cost``. numpy/scipy/matplotlib are
imported inside the commands (through hil.cost's fitting code) so ``hil --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import ARTIFACTS_OPTION, INVENTORY_OPTION, JSON_OPTION, console, print_json

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
    columns = [
        "metric",
        "n",
        "zeros excl.",
        "MAPE",
        "median APE",
        "Spearman",
        "in 1.5x",
        "band cover",
        "band half-w.",
    ]
    for col in [*columns, *(["worst rows (true -> pred)"] if worst else [])]:
        table.add_column(col)
    for metric, r in reports.items():
        flag = " FAIL" if max_mape is not None and r.mape is not None and r.mape > max_mape else ""
        rho = "n/a" if r.rank_correlation is None else f"{r.rank_correlation:.3f}"
        cells = [
            metric, str(r.n), str(r.excluded_zero), _pct(r.mape) + flag, _pct(r.median_ape), rho,
            _pct(r.within_1_5x), _pct(r.coverage), _pct(r.median_half_width),
        ]  # fmt: skip
        if worst:
            cells.append("; ".join(f"{w['row']} {w['true']:g}->{w['pred']:g}" for w in r.worst))
        table.add_row(*cells)
    return table


def _family_table(report: Any) -> Any:
    from rich.table import Table

    from hil.cost._tables import metric_cell

    metrics = ("lut", "ff", "dsp", "bram_18k", "latency")
    table = Table(title="per family: MAPE / Spearman / within [0.67, 1.5]x / band coverage")
    table.add_column("family")
    for m in metrics:
        table.add_column(m)
    for family, reports in report.by_family.items():
        cells = []
        for m in metrics:
            cells.append(metric_cell(reports.get(m)))
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


def _finish(
    report: Any,
    max_mape: float,
    as_json: bool,
    plot: Path | None,
    baseline: Any = None,
    margin: float = 0.02,
) -> int:
    from hil.cost._compare import compare_reports

    if plot is not None:
        from hil.cost._plot import plot_check

        plot_check(report, plot, title=report.title)
    over = report.over(max_mape)
    comparison = compare_reports(report, baseline, margin) if baseline is not None else None
    if as_json:
        payload = report.to_dict()
        payload["max_mape"] = max_mape
        payload["failed"] = over
        if comparison is not None:
            payload["baseline"] = comparison
        print_json(payload)
    else:
        _print(report, max_mape)
        if over:
            console().print(f"MAPE above {100 * max_mape:.0f}% for: {', '.join(over)}")
        if comparison is not None:
            _print_comparison(comparison)
    worse = bool(comparison and comparison["regressions"])
    return 1 if over or worse else 0


def _print_comparison(comparison: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"new vs baseline (margin {comparison['margin']:g})")
    for col in ("metric", "MAPE new / old", "Spearman new / old", "band cover new / old", "verdict"):
        table.add_column(col)
    for metric, row in comparison["metrics"].items():
        table.add_row(
            metric,
            f"{_pct(row['mape'][0])} / {_pct(row['mape'][1])}",
            f"{_num(row['rank_correlation'][0])} / {_num(row['rank_correlation'][1])}",
            f"{_pct(row['band_coverage'][0])} / {_pct(row['band_coverage'][1])}",
            "WORSE: " + ", ".join(row["worse"]) if row["worse"] else "ok",
        )
    console().print(table)
    if comparison["regressions"]:
        console().print("worse than the baseline beyond the margin: " + "; ".join(comparison["regressions"]))


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


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
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="An older params file: exit 1 when the parameters checked are worse on the same data "
        "beyond --margin on any metric (MAPE up, Spearman down or band coverage down).",
        dir_okay=False,
    ),
    margin: float = typer.Option(
        0.02,
        "--margin",
        help="Allowed worsening against --baseline, in absolute fractions (0.02 = 2 points).",
    ),
) -> int:
    """Predict every design (and every layer with its own figures): MAPE, Spearman rank correlation,
    share within [0.67, 1.5]x, 80 % band coverage, per family, fits() agreement, extrapolated rows."""
    from hil.cost import check, load_params, read_cost_data
    from hil.errors import InputError

    rows = read_cost_data(data, include_estimates=include_estimates)
    old = None
    if baseline is not None:
        base = load_params(baseline)
        if "ignored_params_1" in base.notes:
            raise InputError(
                f"--baseline {baseline}: a params/1 file of the first cost model, which this model "
                "cannot evaluate; compare against a params/2 file (hil costmodel calibrate)"
            )
        old = check(rows, base)
    return _finish(check(rows, _params(params)), max_mape, as_json, plot, old, margin)


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
    data: list[Path] = typer.Option(
        [], "--data", help="Measured data files (as for check); optional with --from-ledger."
    ),
    out: Path = typer.Option(..., "--out", help="Params JSON file to write.", dir_okay=False),
    synth_pairs: list[Path] = typer.Option(
        [],
        "--synth-pairs",
        help="A folder with a csynth report and a Vivado synthesis report of one kernel (repeat): "
        "evidence for the synthesis-level ratios.",
        file_okay=False,
    ),
    from_ledger: bool = typer.Option(
        False,
        "--from-ledger",
        help="Also fit on the farm's finished builds (never stand-in builds); prints before/after.",
    ),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    params: Path | None = _PARAMS,
    with_cv: bool = typer.Option(
        False, "--cv", help="Also run both cross-validations and record their figures in the file's notes."
    ),
    as_json: bool = JSON_OPTION,
) -> int:
    """Fit the model's parameters, rules, synthesis ratios and bands to measurements; write a params file."""
    from hil.cost import calibrate, check, cv_summary, read_cost_data, save_params
    from hil.errors import InputError
    from hil.farm.reports import synth_pair_from_reports

    paths = list(data)
    skipped = 0
    if from_ledger:
        ledger_file, skipped = _ledger_export(artifacts, inventory, out)
        paths.append(ledger_file)
    if not paths:
        raise InputError("calibrate: give --data FILE (repeat) or --from-ledger")
    rows = read_cost_data(paths)
    pairs = [synth_pair_from_reports(folder) for folder in synth_pairs]
    new = calibrate(rows, labels=[p.name for p in paths], synth_pairs=pairs)
    if with_cv:
        new.notes["cross_validation"] = cv_summary(rows, synth_pairs=pairs)
    if skipped:
        new.notes["standin_builds_skipped"] = skipped
    before, after = check(rows, _params(params)), check(rows, new)
    save_params(new, out)
    summary = {
        m: {"before": before.metrics[m].mape, "after": after.metrics[m].mape}
        for m in after.metrics
        if m in before.metrics
    }
    if as_json:
        print_json(
            {"out": str(out), "rows": len(rows), "standin_skipped": skipped, "mape": summary, **new.to_dict()}
        )
    else:
        console().print(
            f"wrote {out} ({len(new.coefficients)} parameters, {len(rows)} rows"
            + (f", {skipped} stand-in build(s) skipped" if skipped else "")
            + ")"
        )
        for metric, row in summary.items():
            console().print(f"  {metric}: MAPE before {_pct(row['before'])}, after {_pct(row['after'])}")
    return 0


def _ledger_export(artifacts: Path | None, inventory: Path | None, out: Path) -> tuple[Path, int]:
    """The farm's finished, real (not stand-in) builds as a records file next to ``out``."""
    from hil.errors import InputError
    from hil.farm import artifacts_root, export_measured, open_farm
    from hil.inventory import load_inventory

    ledger, store = open_farm(artifacts_root(load_inventory(inventory), artifacts))
    target = out.with_name(out.stem + ".ledger.jsonl")
    with ledger:
        counts = export_measured(ledger, store, target)
    if not counts["records"]:
        raise InputError(
            f"calibrate --from-ledger: no finished real builds in the ledger "
            f"({counts['standin']} stand-in build(s) skipped)"
        )
    return target, counts["standin"]


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
    from hil.cost._estimate import layer_kind
    if as_json:
        print_json({"design": row.name, "truth": row.truth, **est.to_dict()})
        return 0
    table = Table(
        title=f"{row.name}: estimate by layer ({row.target.hls.value} HLS, {row.target.family.value})"
    )
    est_params = _params(params)
    for col in (
        "layer", "LUT (80 % band)", "FF", "DSP (80 % band)", "BRAM18", "latency", "II", "calibrated",
        "largest LUT terms",
    ):  # fmt: skip
        table.add_column(col)
    for le in (*est.layers, est.io):
        luts = sorted(((v, label) for metric, label, v in le.explain if metric == "lut"), reverse=True)[:3]
        flag = "yes" if set(le.terms.values()) == {"calibrated"} else "no"
        band = est_params.class_bands[layer_kind(le.spec) if le.spec is not None else "other"]
        table.add_row(
            le.name or le.kind,
            f"{le.lut:g} ({le.lut * band['lut'][0]:.0f}-{le.lut * band['lut'][1]:.0f})",
            f"{le.ff:g}",
            f"{le.dsp:g} ({le.dsp * band['dsp'][0]:.0f}-{le.dsp * band['dsp'][1]:.0f})",
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
    console().print(
        "80 % band: "
        + ", ".join(f"{k} {lo:.0f}-{hi:.0f}" for k, (lo, hi) in est.bands.items())
        + " (leave-one-family-out residuals of each layer's class)"
    )
    if row.truth:
        console().print("real: " + ", ".join(f"{k} {v:g}" for k, v in row.truth.items()))
    return 0
