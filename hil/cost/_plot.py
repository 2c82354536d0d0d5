"""Predicted-vs-measured plot: engineers look at this before they trust a model."""

from __future__ import annotations

import logging
import os

from hil.cost._check import CheckReport

__all__ = ["plot_check"]

_log = logging.getLogger(__name__)


def plot_check(report: CheckReport, path: str | os.PathLike[str], title: str = "hil cost model") -> None:
    """One log-log panel per metric, with the y = x line and the worst rows labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in (*report.metrics, *report.beside) if report.pairs.get(m)]
    fig, axes = plt.subplots(2, 3, figsize=(13, 8))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        pts = [(t, p) for _, t, p in report.pairs[metric] if t > 0 and p > 0]
        if not pts:
            continue
        ax.scatter([t for t, _ in pts], [p for _, p in pts], s=14, alpha=0.7)
        lo, hi = min(min(pts)), max(max(pts))
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        mr = report.metrics.get(metric) or report.beside[metric]
        mape = f"{100 * mr.mape:.1f}%" if mr.mape is not None else "n/a"
        ax.set_title(f"{metric}: MAPE {mape}")
        ax.set_xlabel("measured")
        ax.set_ylabel("predicted")
        for worst in mr.worst:
            ax.annotate(worst["row"], (worst["true"], max(worst["pred"], lo)), fontsize=6)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
