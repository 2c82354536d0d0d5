"""Markdown tables of a check or cross-validation, the form the README and params notes record.

Why a table per family x metric: a pooled MAPE hides a family the model gets wrong (a family of 68
designs outvotes one of 2), and a leave-one-family-out table is the figure a reader should expect on
a source the model has never seen.
"""

from __future__ import annotations

import logging
from typing import Any

from hil.cost._check import CHECK_METRICS, CheckReport, MetricReport

__all__ = ["family_table", "metric_cell"]

_log = logging.getLogger(__name__)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def metric_cell(report: MetricReport | None) -> str:
    """``MAPE / rho / within`` (with the band's coverage when the report has one)."""
    if report is None or (report.n == 0 and report.within_1_5x is None):
        return "n/a"
    rho = "n/a" if report.rank_correlation is None else f"{report.rank_correlation:.2f}"
    cell = f"{_pct(report.mape)} / {rho} / {_pct(report.within_1_5x)}"
    coverage = report.coverage
    if coverage is not None:
        cell += f" / {_pct(coverage)}"
    return cell


def family_table(report: CheckReport, metrics: tuple[str, ...] = CHECK_METRICS) -> str:
    """Per family, pooled, and per layer: MAPE / Spearman rho / share within [0.67, 1.5]x."""
    lines = [
        "| family (designs) | " + " | ".join(metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    sizes: dict[str, int] = {}
    for design in report.designs:
        sizes[design["family"]] = sizes.get(design["family"], 0) + 1
    rows: list[tuple[str, dict[str, Any]]] = [
        (f"{fam} ({sizes.get(fam, 0)})", reps) for fam, reps in report.by_family.items()
    ]
    rows.append((f"all designs ({report.rows})", report.metrics))
    if report.layers:
        n_layers = max((r.n + r.excluded_zero for r in report.layers.values()), default=0)
        rows.append((f"layers with own figures ({n_layers})", report.layers))
    for label, reps in rows:
        lines.append(f"| {label} | " + " | ".join(metric_cell(reps.get(m)) for m in metrics) + " |")
    return "\n".join(lines)
