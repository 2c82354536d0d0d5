"""Outputs of a search: top-designs table, Pareto plot, the best design exported, a JSON/markdown report.

Why test accuracy only here: the search ranks on validation accuracy; the test split is touched once,
for the final design, so the reported number is not selected on. The best design's test accuracy is
its bit-accurate C-sim accuracy when the run reached C-sim (provenance ``csim``), else the QAT
model's (``torch``).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from hil.errors import HilError
from search.ladder import Evaluation
from search.runner import PhaseResult, SearchOutcome

__all__ = ["finalize", "top_designs"]

_log = logging.getLogger(__name__)


def _num(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _row(number: int, ev: Evaluation) -> dict[str, Any]:
    return {
        "trial": number,
        "accuracy": ev.accuracy,
        "accuracy_provenance": ev.accuracy_provenance,
        "lut": _num(ev.value("lut")),
        "throughput_fps": _num(ev.value("throughput_fps")),
        "dsp": _num(ev.value("dsp")),
        "bram_18k": _num(ev.value("bram_18k")),
        "feasible": ev.feasible,
        "binding": ev.binding,
        "stage": ev.stage,
        "provenance": ev.provenance(),
        "error": ev.error,
        "candidate": ev.candidate.to_dict(),
    }


def top_designs(result: PhaseResult, n: int = 5) -> list[dict[str, Any]]:
    """The ``n`` most accurate trained designs, feasible first."""
    rows = sorted(result.trained, key=lambda ne: (not ne[1].feasible, -(ne[1].accuracy or 0.0)))
    return [_row(number, ev) for number, ev in rows[:n]]


def plot_pareto(result: PhaseResult, lut_budget: float, path: Path) -> Path:
    """Validation accuracy vs LUTs: feasible, infeasible and the feasible Pareto front; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trained = [ev for _, ev in result.trained if not math.isnan(ev.value("lut"))]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for feasible, style in (
        (True, {"color": "tab:green", "label": "feasible"}),
        (False, {"facecolors": "none", "edgecolors": "tab:red", "label": "over spec"}),
    ):
        pts = [(ev.value("lut"), ev.accuracy) for ev in trained if ev.feasible == feasible]
        if pts:
            ax.scatter(*zip(*pts, strict=True), s=28, **style)  # type: ignore[arg-type,misc]
    front, best = [], -1.0
    for ev in sorted((e for e in trained if e.feasible), key=lambda e: e.value("lut")):
        if (ev.accuracy or 0.0) > best:
            best = ev.accuracy or 0.0
            front.append((ev.value("lut"), best))
    if front:
        ax.step(*zip(*front, strict=True), where="post", color="tab:green", alpha=0.6, label="Pareto front")
    pruned = sum(1 for ev in result.evaluations.values() if ev.stage == "pruned")
    ax.axvline(lut_budget, color="grey", linestyle="--", label=f"LUT budget ({lut_budget:,.0f})")
    ax.set_xscale("log")
    ax.set_xlabel("LUTs (best available provenance)")
    ax.set_ylabel("validation accuracy")
    ax.set_title(f"{result.study_name}: {len(trained)} trained, {pruned} pruned by the estimate")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _export_best(outcome: SearchOutcome, ev: Evaluation, folder: Path) -> dict[str, Any]:
    """Test accuracy of the best design, its QONNX and hls4ml config (and project)."""
    import torch

    from search.datasets import load_dataset
    from search.hls import convert_candidate, csim_candidate, write_design
    from search.qat import QatCnnSpec, build_qat_cnn, evaluate, export_qonnx

    cfg = outcome.config
    data = load_dataset(cfg.dataset, data_dir=cfg.data_dir, seed=cfg.seed, subset=cfg.subset)
    spec = QatCnnSpec(input_shape=data.input_shape, n_classes=data.n_classes, **ev.candidate.qat_kwargs())
    model = build_qat_cnn(spec)
    model.load_state_dict(torch.load(str(ev.model_path), map_location="cpu", weights_only=True))
    info: dict[str, Any] = {"test_accuracy_torch": evaluate(model, data.x_test, data.y_test)}
    info["test_accuracy"], info["test_accuracy_provenance"] = info["test_accuracy_torch"], "torch"
    info["qonnx"] = str(export_qonnx(model, data.input_shape, folder / "best.onnx"))
    try:
        design = convert_candidate(
            Path(info["qonnx"]),
            ev.candidate,
            outcome.target.board,
            folder / "hls4ml_prj",
            data.input_shape,
            data.n_classes,
        )
        info.update({k: str(v) for k, v in write_design(design, folder).items()})
        if cfg.fidelity != "estimate":
            n = min(cfg.csim_n, len(data.x_test))
            csim = csim_candidate(design, data.x_test[:n], data.y_test[:n])
            info["csim_test"] = csim.as_dict()
            info["test_accuracy"], info["test_accuracy_provenance"] = csim.hls_accuracy, "csim"
    except HilError as exc:
        info["error"] = str(exc)
        _log.warning("exporting the best design failed: %s", exc)
    return info


def finalize(outcome: SearchOutcome) -> dict[str, Any]:
    """Export the best design, plot, write report.json/report.md; returns the JSON summary."""
    cfg, final = outcome.config, outcome.final
    out = Path(cfg.out)
    evs = list(final.evaluations.values())
    trained = [e for e in evs if e.trained]
    feasible = [e for e in trained if e.feasible]
    summary: dict[str, Any] = {
        "board": cfg.board,
        "dataset": cfg.dataset,
        "strategy": cfg.strategy,
        "controller": cfg.controller,
        "fidelity": cfg.fidelity,
        "lut_budget": cfg.luts,
        "fps_min": cfg.fps,
        "epochs": cfg.epochs,
        "study": cfg.study,
        "trials": len(trained),
        "proposed": len(evs),
        "pruned": sum(e.stage == "pruned" for e in evs),
        "feasible": len(feasible),
        "phases": [
            {
                "phase": p.plan.name,
                "study_name": p.study_name,
                "trained": len(p.trained),
                "proposed": len(p.evaluations),
                "epochs": sum(e.epochs for _, e in p.trained),
            }
            for p in outcome.phases
        ],
        "wall_seconds": round(outcome.wall_seconds, 1),
        "top": top_designs(final),
        "best": None,
        "valid": False,
        "message": "no valid design: no trained candidate fits the spec",
    }
    summary["pareto_png"] = str(plot_pareto(final, float(cfg.luts or 0), out / "pareto.png"))
    best = final.best()
    if best is not None:
        number, ev = best
        export = _export_best(outcome, ev, out / "best")
        provenance = {
            **ev.provenance(),
            "accuracy": ev.accuracy_provenance,
            "test_accuracy": export["test_accuracy_provenance"],
        }
        summary["best"] = {
            "trial": number,
            "accuracy": ev.accuracy,
            "test_accuracy": export["test_accuracy"],
            "lut": _num(ev.value("lut")),
            "throughput_fps": _num(ev.value("throughput_fps")),
            "provenance": provenance,
            "params": ev.candidate.to_dict(),
            "hardware": ev.values(),
            "export": export,
        }
        summary["valid"], summary["message"] = True, f"best design: trial {number}"
    (out / "report.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "report.md").write_text(_markdown(summary))
    return summary


def _markdown(s: dict[str, Any]) -> str:
    lines = [
        f"# hil search: {s['dataset']} on {s['board']} ({s['strategy']}, {s['controller']})",
        "",
        f"Spec: LUT <= {s['lut_budget']:,.0f}, throughput >= {s['fps_min']:,.0f} img/s, {s['epochs']} epochs "
        f"per candidate, fidelity {s['fidelity']}.",
        "",
        f"{s['trials']} trained, {s['proposed']} proposed, {s['pruned']} pruned by the estimate, "
        f"{s['feasible']} feasible; {s['wall_seconds']} s.",
        "",
        f"**{s['message']}**",
        "",
    ]
    if s["best"]:
        b = s["best"]
        lines += [
            f"Best: validation accuracy {b['accuracy']:.4f} ({b['provenance']['accuracy']}), test accuracy "
            f"{b['test_accuracy']:.4f} ({b['provenance']['test_accuracy']}), {b['lut']:,.0f} LUT, "
            f"{b['throughput_fps']:,.0f} img/s ({b['provenance'].get('lut')}).",
            "",
        ]
    lines += ["| trial | val acc | prov | LUT | img/s | feasible | stage |", "|---|---|---|---|---|---|---|"]
    for r in s["top"]:
        lines.append(
            f"| {r['trial']} | {r['accuracy']:.4f} | {r['accuracy_provenance']} | {r['lut'] or 0:,.0f} | "
            f"{r['throughput_fps'] or 0:,.0f} | {r['feasible']} | {r['stage']} |"
        )
    lines += ["", f"![Pareto front]({Path(s['pareto_png']).name})", ""]
    return "\n".join(lines)
