"""Predicted-vs-measured plot: engineers look at this before they trust a model.

One log-log panel per metric: whole designs as filled dots coloured by source family, layers with
their own figures as hollow circles, the y = x line with a +-20 % band, and the worst rows named.
"""

from __future__ import annotations

import logging
import os

from hil.cost._check import CheckReport

__all__ = ["plot_check"]

_log = logging.getLogger(__name__)


def plot_check(report: CheckReport, path: str | os.PathLike[str], title: str = "hil cost model") -> None:
    """Draw ``report`` (a check or a cross-validation) to a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullFormatter

    family_of = {d["id"]: d["family"] for d in report.designs}
    families = sorted(set(family_of.values()))
    colours = {fam: plt.get_cmap("tab10")(i % 10) for i, fam in enumerate(families)}
    metrics = [m for m in (*report.metrics, *report.beside) if report.pairs.get(m)]
    fig, axes = plt.subplots(2, 4, figsize=(17, 8.5))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        pts = [(name, t, p) for name, t, p in report.pairs[metric] if t > 0 and p > 0]
        layer_pts = [(t, p) for _, t, p in report.layer_pairs.get(metric, []) if t > 0 and p > 0]
        if not pts:
            continue
        for fam in families:
            chosen = [(t, p) for name, t, p in pts if family_of.get(name) == fam]
            if chosen:
                ax.scatter(*zip(*chosen, strict=True), s=16, alpha=0.75, color=colours[fam], label=fam)
        if layer_pts:
            xs, ys = zip(*layer_pts, strict=True)
            ax.scatter(xs, ys, s=22, facecolors="none", edgecolors="grey", label="layers")
        values = [v for _, t, p in pts for v in (t, p)] + [v for pair in layer_pts for v in pair]
        lo, hi = min(values) / 1.3, max(values) * 1.3
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.plot([lo, hi], [lo * 1.2, hi * 1.2], "k:", lw=0.6)
        ax.plot([lo, hi], [lo / 1.2, hi / 1.2], "k:", lw=0.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(LogLocator(base=10))
            axis.set_minor_formatter(NullFormatter())
        mr = report.metrics.get(metric) or report.beside[metric]
        mape = f"{100 * mr.mape:.1f}%" if mr.mape is not None else "n/a"
        tau = f", tau {mr.kendall_tau:.2f}" if mr.kendall_tau is not None else ""
        ax.set_title(f"{metric}: MAPE {mape}{tau} ({mr.n} designs)")
        ax.set_xlabel("measured (csynth)")
        ax.set_ylabel("predicted")
        for worst in mr.worst[:2]:
            ax.annotate(worst["row"], (worst["true"], max(worst["pred"], lo)), fontsize=6)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    if handles:
        list(axes.flat)[-1].legend(handles, labels, loc="center", fontsize=9, title="dots: designs")
    fig.suptitle(f"{title} (dotted: +-20 %)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
