"""Outputs of a search: top-designs table, Pareto plot, the final design, a JSON/markdown report.

Why test accuracy only here: the search ranks on validation accuracy; the test split is touched once,
for the final design, so the reported number is not selected on. The final design's test accuracy
is its bit-accurate C-sim accuracy on the test split (provenance ``csim``); the torch model's
accuracy on the same images is reported beside it. Why provenance per column: every hardware
figure says where it came from (``estimate``, ``hls``, ``board``, ...), each its own; img/s is never
shown with the LUT's label. Why compute in the report: the joint-vs-separate comparison means
something only at equal budgets, so every report states the budget and what was spent.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path
from typing import Any

from search.evaluation import Evaluation
from search.final import FinalResult, final_designs
from search.runner import PhaseResult, SearchOutcome

__all__ = ["finalize", "pareto_title", "top_designs"]

_log = logging.getLogger(__name__)
#: Hardware columns of the tables, each shown with its own provenance.
_HW_COLUMNS = ("lut", "throughput_fps", "dsp", "bram_18k")


def _num(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _row(number: int, ev: Evaluation) -> dict[str, Any]:
    return {
        "trial": number,
        "accuracy": ev.accuracy,
        "accuracy_provenance": ev.accuracy_provenance,
        **{key: _num(ev.value(key)) for key in _HW_COLUMNS},
        "lut_upper": _upper(ev),
        "feasible": ev.feasible,
        "binding": ev.binding,
        "stage": ev.stage,
        "csim_gate": ev.csim_gate,
        "csim_agreement": None if ev.csim is None else ev.csim.get("argmax_agreement"),
        "provenance": ev.provenance(),
        "sample_epochs": ev.sample_epochs,
        "inherited_sample_epochs": ev.inherited_sample_epochs,
        "reused_from": ev.reused_from,
        "halted_at_epoch": ev.halted_at_epoch,
        "halted_by": ev.halted_by,
        "build_capped_by": ev.build_capped_by,
        "error": ev.error,
        "candidate": ev.candidate.to_dict(),
    }


def _upper(ev: Evaluation) -> float | None:
    """The LUT estimate's 80 % band upper edge (what feasibility judged), None for a measured LUT."""
    lut = ev.hardware.get("lut")
    return None if lut is None or lut.provenance != "estimate" else lut.upper


def _lut_cell(value: Any, upper: Any) -> str:
    return _fmt(value) + (f" (80 % band to {_fmt(upper)})" if upper is not None else "")


def build_counts(result: PhaseResult, per_network: int) -> dict[str, Any]:
    """The build cap's account (``--fidelity build|board``): variants that climbed to the build (any
    outcome) and those the cap held back (never built; their figures are estimates)."""
    evs = sorted(result.evaluations.items())
    return {
        "per_network": per_network,
        "built": sum("build" in ev.rungs for _, ev in evs),
        "held_back": [n for n, ev in evs if ev.build_capped_by is not None],
    }


def top_designs(result: PhaseResult, n: int = 5) -> list[dict[str, Any]]:
    """The ``n`` most accurate trained designs (validation accuracy), feasible first, fully trained
    before halted ones (``--pruner``: a halted candidate's accuracy is after fewer epochs)."""
    rows = sorted(
        result.trained,
        key=lambda ne: (not ne[1].feasible, ne[1].halted, -(ne[1].accuracy or 0.0), ne[0]),
    )
    return [_row(number, ev) for number, ev in rows[:n]]


def pareto_title(strategy: str, phase: str, dataset: str, board: str) -> str:
    """The Pareto plot's title, in a reader's words.

    Why not the study's name: that is an identity for resuming (``hil-joint-joint``), and it says
    the strategy twice when the strategy has one phase of the same name.
    """
    search = f"{strategy} search" if phase == strategy else f"{strategy} search, {phase} phase"
    return f"{search}: {dataset} on {board}"


def plot_pareto(result: PhaseResult, lut_budget: float, path: Path, *, title: str | None = None) -> Path:
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
    lut_sources = sorted({ev.hardware["lut"].provenance for ev in trained if "lut" in ev.hardware})
    ax.axvline(lut_budget, color="grey", linestyle="--", label=f"LUT budget ({lut_budget:,.0f})")
    ax.set_xscale("log")
    ax.set_xlabel(f"LUTs ({', '.join(lut_sources) or 'no data'})")
    ax.set_ylabel("validation accuracy (torch)")
    heading = title or result.plan.name
    ax.set_title(f"{heading}\n{len(trained)} trained, {pruned} pruned by the estimate", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _best(outcome: SearchOutcome, final: FinalResult) -> dict[str, Any] | None:
    """The reported design: search-time figures of its trial and the final design's accuracies."""
    chosen = final.chosen
    if chosen is None:
        return None
    ev = outcome.final.evaluations[chosen.trial]
    provenance = {
        **ev.provenance(),
        "accuracy": ev.accuracy_provenance,
        "final_val_accuracy": "torch",
        "test_accuracy": (chosen.test_accuracy_provenance or "csim")
        if chosen.test_accuracy is not None
        else "torch",
    }
    export = {**chosen.files, "csim_test": chosen.csim, "error": chosen.error}
    return {
        "trial": chosen.trial,
        "accuracy": ev.accuracy,
        "csim_check": ev.csim,
        "csim_gate": ev.csim_gate,
        "stage": ev.stage,
        "build_capped_by": ev.build_capped_by,
        "retrained": chosen.retrained,
        "final_val_accuracy": chosen.val_accuracy,
        "test_accuracy": chosen.test_accuracy
        if chosen.test_accuracy is not None
        else chosen.test_accuracy_torch,
        "test_accuracy_torch": chosen.test_accuracy_torch,
        "test_n": chosen.test_n,
        **{key: _num(ev.value(key)) for key in _HW_COLUMNS},
        "lut_upper": _upper(ev),
        "provenance": provenance,
        "params": ev.candidate.to_dict(),
        "hardware": ev.values(),
        "recipe": chosen.recipe,
        "export": export,
    }


def _copy_best(design: Any, folder: Path) -> None:
    """The reported design's QONNX, hls4ml config and weights at a stable path, ``OUT/best/``."""
    folder.mkdir(parents=True, exist_ok=True)
    for key in ("qonnx", "config"):
        source = design.files.get(key)
        if source and Path(source).is_file():
            shutil.copy2(source, folder / Path(source).name)
    weights = Path(design.files.get("qonnx", "")).with_name("model.pt")
    if weights.is_file():
        shutil.copy2(weights, folder / "model.pt")


def finalize(outcome: SearchOutcome, final: FinalResult | None = None) -> dict[str, Any]:
    """Export the final design (retrained with ``--final-epochs``), plot, write report.json/report.md.

    Returns the JSON summary (what ``hil search --json`` prints).
    """
    cfg, last = outcome.config, outcome.final
    out = Path(cfg.out)
    evs = list(last.evaluations.values())
    trained = [e for e in evs if e.trained]
    feasible = [e for e in trained if e.complete and e.feasible]  # a halted one is never a design
    final = final if final is not None else final_designs(outcome)
    search, retrain = outcome.compute(), final.compute()
    total = search + retrain
    summary: dict[str, Any] = {
        "board": cfg.board,
        "dataset": cfg.dataset,
        "strategy": cfg.strategy,
        "controller": cfg.controller,
        "fidelity": cfg.fidelity,
        "lut_budget": cfg.luts,
        "fps_min": cfg.fps,
        "epochs": cfg.epochs,
        "final_epochs": cfg.final_epochs,
        "device": cfg.device,
        "recipe": cfg.recipe().to_dict(),
        "study": cfg.study,
        "trials": sum(e.trains for e in trained),
        "shared_weights": sum(not e.trains for e in trained),
        "halted": sum(e.halted and e.trains for e in trained),
        "pruner": cfg.pruner,
        "proposed": len(evs),
        "pruned": sum(e.stage == "pruned" for e in evs),
        "feasible": len(feasible),
        "budget": outcome.budget(),
        "compute": {k: v for k, v in total.to_dict().items() if k not in ("trained", "halted")},
        "compute_by_stage": {"search": search.to_dict(), "final": retrain.to_dict()},
        "phases": [
            {
                "phase": p.plan.name,
                "study_name": p.study_name,
                "trained": len(p.trainings),
                "shared_weights": len(p.trained) - len(p.trainings),
                "halted": sum(e.halted for _, e in p.trainings),
                "proposed": len(p.evaluations),
                "epochs": sum(e.epochs for _, e in p.trainings),
                "compute": p.compute().to_dict(),
                "runs": int(p.elapsed.get("runs", 0)),
            }
            for p in outcome.phases
        ],
        "wall_seconds": round(total.wall_seconds, 1),
        "top": top_designs(last),
        "builds": build_counts(last, cfg.builds_per_network) if cfg.fidelity in ("build", "board") else None,
        "final": [d.to_dict() for d in final.designs],
        "best": _best(outcome, final),
        "valid": False,
        "message": "no valid design: no trained candidate fits the spec",
    }
    if final.chosen is not None:
        _copy_best(final.chosen, out / "best")
    title = pareto_title(str(cfg.strategy), last.plan.name, str(cfg.dataset), str(cfg.board))
    summary["pareto_png"] = str(plot_pareto(last, float(cfg.luts or 0), out / "pareto.png", title=title))
    if summary["best"] is not None:
        summary["valid"], summary["message"] = True, f"best design: trial {summary['best']['trial']}"
    (out / "report.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "report.md").write_text(_markdown(summary))
    return summary


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _halted(s: dict[str, Any]) -> str:
    """`` (H halted early by --pruner P, never ranked)`` when a pruner stopped some candidates."""
    if not s.get("halted"):
        return ""
    return f" ({s['halted']} halted early by --pruner {s['pruner']}, never ranked)"


def _builds_line(b: dict[str, Any]) -> str:
    """One sentence: designs built, the cap, and the variants it held back."""
    cap = f"at most {b['per_network']} per network" if b["per_network"] else "no cap per network"
    held = b["held_back"]
    if not held:
        return f"Builds: {b['built']} designs climbed to the build ({cap})."
    return (
        f"Builds: {b['built']} designs climbed to the build ({cap}); {len(held)} hardware variants of "
        f"built networks were held back by the cap (stage `build cap`, never built, estimates only): "
        f"trials {', '.join(map(str, held))}."
    )


def _markdown(s: dict[str, Any]) -> str:
    c = s["compute"]
    lines = [
        f"# hil search: {s['dataset']} on {s['board']} ({s['strategy']}, {s['controller']})",
        "",
        f"Spec: LUT <= {s['lut_budget']:,.0f}, throughput >= {s['fps_min']:,.0f} img/s, {s['epochs']} epochs "
        f"per candidate, fidelity {s['fidelity']}, device {s['device']}.",
        "",
        f"{s['trials']} trained{_halted(s)} ({s.get('shared_weights', 0)} more sharing a trained network), "
        f"{s['proposed']} proposed, {s['pruned']} pruned by the estimate, "
        f"{s['feasible']} feasible. Budget: {s['budget']['trained_candidates']} candidates, "
        f"{s['budget']['sample_epochs']:,} sample-epochs. Compute: {c['sample_epochs']:,} sample-epochs, "
        f"{c['cpu_seconds']:,.0f} CPU s, {c['wall_seconds']:,.0f} s wall (all runs and resumes).",
        "",
        f"**{s['message']}**",
        "",
    ]
    if s.get("builds"):
        lines += [_builds_line(s["builds"]), ""]
    if s["best"]:
        b, p = s["best"], s["best"]["provenance"]
        trained = "retrained from scratch" if b["retrained"] else "search-time model"
        lines += [
            f"Best: search validation accuracy {_fmt(b['accuracy'], '.4f')} ({p['accuracy']}); final design "
            f"({trained}): validation {_fmt(b['final_val_accuracy'], '.4f')} (torch), test "
            f"{_fmt(b['test_accuracy'], '.4f')} ({p['test_accuracy']}, {b['test_n']:,} images; torch "
            f"{_fmt(b['test_accuracy_torch'], '.4f')}); {_lut_cell(b['lut'], b.get('lut_upper'))} LUT "
            f"({p.get('lut', '-')}), "
            f"{_fmt(b['throughput_fps'])} img/s ({p.get('throughput_fps', '-')}).",
            "",
        ]
        if b.get("build_capped_by"):
            lines += [
                f"The best design was not built: the build cap held it back (its network was built as "
                f"trial(s) {', '.join(map(str, b['build_capped_by']))}); its hardware figures are estimates.",
                "",
            ]
    lines += [
        "| trial | val acc (torch) | C-sim gate | LUT | LUT from | img/s | img/s from | feasible | stage |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in s["top"]:
        prov = r["provenance"]
        lines.append(
            f"| {r['trial']} | {_fmt(r['accuracy'], '.4f')} | {r['csim_gate'] or '-'} | "
            f"{_lut_cell(r['lut'], r.get('lut_upper'))} | "
            f"{prov.get('lut', '-')} | {_fmt(r['throughput_fps'])} | {prov.get('throughput_fps', '-')} | "
            f"{r['feasible']} | {r['stage']} |"
        )
    lines += ["", f"![Pareto front]({Path(s['pareto_png']).name})", ""]
    return "\n".join(lines)
