"""`hil search --board B ...`: the co-search of architecture x quantization x hardware.

``search`` is imported inside the command: nothing else in hil depends on the search package.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import INVENTORY_OPTION, JSON_OPTION, console, print_json


@app.command("search")
def search_command(
    board: str = typer.Option(..., "--board", "-b", help="Target board (see `hil boards`)."),
    dataset: str = typer.Option("digits", help="digits (bundled, the default) or cifar10."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Folder with cifar-10-batches-py or the JPEG pack."
    ),
    luts: float | None = typer.Option(
        None, "--luts", help="LUT budget of the network (default: 1/4 of the board's)."
    ),
    fps: float = typer.Option(0.0, "--fps", help="Minimum throughput, images/s (0: none)."),
    trials: int | None = typer.Option(
        None, "--trials", help="Candidates to train (pruned proposals are free)."
    ),
    epochs: int | None = typer.Option(None, "--epochs", help="Training epochs of every candidate."),
    controller: str = typer.Option("rl", help="rl (LSTM + REINFORCE), tpe, nsga2 or random."),
    strategy: str = typer.Option(
        "joint",
        help="joint (co-search); baselines at equal compute: separate (architecture, then hardware), "
        "hw-nas (quantization fixed at 8 bits) or random (the joint space, sampled uniformly).",
    ),
    fidelity: str = typer.Option("csim", help="Highest rung: estimate, csim, build or board."),
    study: str | None = typer.Option(
        None, "--study", help="Optuna storage URL (default sqlite:///OUT/study.db)."
    ),
    out: Path = typer.Option(
        Path("hil-search"), "--out", help="Output folder (report, Pareto PNG, best design)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the data split, training and controller."),
    top_k: int = typer.Option(
        3, "--top-k", help="Designs the C-sim gate must pass: the best K (before builds: best K so far)."
    ),
    subset: int | None = typer.Option(
        None, "--subset", help="Training images the search uses (a proxy; default all)."
    ),
    device: str = typer.Option("cpu", "--device", help="Where candidates train: auto, cpu or cuda."),
    final_epochs: int = typer.Option(
        0, "--final-epochs", help="Retrain the best design(s) from scratch for N epochs (0: no retrain)."
    ),
    final_top: int = typer.Option(1, "--final-top", help="How many of the best designs to retrain."),
    estimate_edge: str = typer.Option(
        "upper",
        "--estimate-edge",
        help="How a cost-model estimate is judged against the budget: upper (its 80 % band's upper "
        "edge) or point. Measured figures are judged as measured.",
    ),
    pruner: str = typer.Option(
        "none",
        "--pruner",
        help="Stop unpromising candidates between epochs: none (every candidate trains --epochs), "
        "halving (Optuna's successive halving) or hyperband; the search then trains candidates until "
        "the sample-epochs of --trials full trainings are spent, so it tries more of them.",
    ),
    repair: bool = typer.Option(
        False,
        "--repair/--no-repair",
        help="Give a proposal that misses the spec the implementation of its network (reuse factors, "
        "strategies, clock) that misses it least, by the cost model, before pricing it; the "
        "proposal is kept beside it (repaired_from).",
    ),
    builds_per_network: int = typer.Option(
        1,
        "--builds-per-network",
        help="At --fidelity build|board: hardware variants of one network built per phase (0: no cap); "
        "the first to climb, then only leaner ones (fewer estimated LUTs). Held-back variants keep "
        "their estimates, stage 'build cap'.",
    ),
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Search network, per-layer quantization and hardware together; resume by re-running the same command.

    Exit code 0 with a design, 1 when no trained design fits the spec ("no valid design"), 2 on bad input.
    """
    from search.report import finalize
    from search.runner import SearchConfig, check_resume, run_search

    config = SearchConfig(
        board=board,
        dataset=dataset,
        data_dir=data_dir,
        luts=luts,
        fps=fps,
        trials=trials,
        epochs=epochs,
        controller=controller,
        strategy=strategy,
        fidelity=fidelity,
        study=study,
        out=out,
        seed=seed,
        top_k=top_k,
        subset=subset,
        device=device,
        final_epochs=final_epochs,
        final_top=final_top,
        estimate_edge=estimate_edge,
        pruner=pruner,
        repair=repair,
        builds_per_network=builds_per_network,
        inventory=inventory,
    )
    check_resume(config)  # bad input or a resume with other settings fails here, before the display
    with _LiveProgress(stderr=as_json) as live:
        outcome = run_search(config, live.update)
        live.update_stage("report")
        summary = finalize(outcome)
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    return 0 if summary["valid"] else 1


class _LiveProgress:
    """A rich progress bar: trial, trained/budget, best so far, feasible count, stage."""

    def __init__(self, stderr: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]{task.fields[phase]}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "trial {task.fields[trial]} | best {task.fields[best]} | feasible {task.fields[feasible]} "
                "| proposed {task.fields[proposed]} | {task.fields[stage]}"
            ),
            TimeElapsedColumn(),
            console=Console(stderr=True) if stderr else console(),
            transient=False,
        )
        self._task: Any = None

    def __enter__(self) -> _LiveProgress:
        self._progress.start()
        self._task = self._progress.add_task(
            "search", total=None, phase="search", trial="-", best="-", feasible=0, proposed=0, stage="start"
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, p: Any) -> None:
        best = "-" if p.best_accuracy is None else f"{p.best_accuracy:.4f}"
        self._progress.update(
            self._task,
            total=p.trials,
            completed=p.trained,
            phase=p.phase,
            trial=p.trial,
            best=best,
            feasible=p.feasible,
            proposed=p.proposed,
            stage=p.stage,
        )

    def update_stage(self, stage: str) -> None:
        self._progress.update(self._task, stage=stage)


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _print_summary(s: dict[str, Any]) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"top designs ({s['dataset']} on {s['board']}, {s['strategy']}, {s['controller']})")
    columns = ("trial", "val acc (torch)", "C-sim gate", "LUT", "LUT from", "img/s", "img/s from", "feasible")
    for column in (*columns, "binding", "stage"):
        table.add_column(column)
    for r in s["top"]:
        prov = r["provenance"]
        table.add_row(
            str(r["trial"]),
            _fmt(r["accuracy"], ".4f"),
            str(r["csim_gate"] or "-"),
            _fmt(r["lut"]),
            str(prov.get("lut", "-")),
            _fmt(r["throughput_fps"]),
            str(prov.get("throughput_fps", "-")),
            "yes" if r["feasible"] else "no",
            r["binding"],
            r["stage"],
        )
    out.print(table)
    c, b = s["compute"], s["budget"]
    halted = f" ({s['halted']} halted early by --pruner {s['pruner']})" if s.get("halted") else ""
    out.print(
        f"{s['trials']} trained{halted} ({s.get('shared_weights', 0)} more sharing a trained network), "
        f"{s['proposed']} proposed, {s['pruned']} pruned by the estimate, "
        f"{s['feasible']} feasible; budget {b['trained_candidates']} candidates / {b['sample_epochs']:,} "
        f"sample-epochs; spent {c['sample_epochs']:,} sample-epochs, {c['cpu_seconds']:,.0f} CPU s, "
        f"{c['wall_seconds']:,.0f} s wall"
    )
    builds = s.get("builds")
    if builds:
        held = f"; held back by the cap (never built): trials {', '.join(map(str, builds['held_back']))}"
        cap = builds["per_network"] or "no cap"
        out.print(f"builds: {builds['built']} (per network: {cap}){held if builds['held_back'] else ''}")
    best = s["best"]
    if best is None:
        out.print(f"[red]{s['message']}[/] (LUT <= {s['lut_budget']:,.0f}, >= {s['fps_min']:,.0f} img/s)")
    else:
        p = best["provenance"]
        how = "retrained" if best["retrained"] else "search-time model"
        out.print(
            f"[green]best design[/]: trial {best['trial']}, validation {_fmt(best['accuracy'], '.4f')} "
            f"({p['accuracy']}, search), test accuracy {_fmt(best['test_accuracy'], '.4f')} "
            f"({p['test_accuracy']}, {best['test_n']:,} images, {how}), "
            f"{_fmt(best['lut'])} LUT ({p.get('lut', '-')}), "
            f"{_fmt(best['throughput_fps'])} img/s ({p.get('throughput_fps', '-')})"
        )
        export = best["export"]
        out.print(f"QONNX: {export.get('qonnx')}  hls4ml config: {export.get('config')}")
    out.print(f"Pareto plot: {s['pareto_png']}  report: {Path(s['pareto_png']).with_name('report.md')}")
    sys.stdout.flush()
