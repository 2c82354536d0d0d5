"""Joint co-search vs the separate baseline on the paper's spec: CIFAR-10, ZCU104, 30,000 LUT, >= 1,293 img/s.

Lu, Jiang et al. (ICCAD 2019) report 82.98 % at 1,293 img/s for the joint search, where the separate
search found no valid design. This benchmark runs both strategies with the same controller, the same
hardware space and the same budget (trained candidates x epochs, stated below and in the JSON), for
several seeds, and prints accuracy mean/spread, LUT, throughput, provenance and CPU hours.

It is not run in CI. Its time budget is what the arguments say: e.g. the defaults (2,000-image proxy
subset, 4 trained candidates, 1 epoch, 3 seeds) take ~10-20 minutes on 2 cores; the paper-scale budget
is hours (``--subset 0 --trials 30 --epochs 10``).

Run: ``python benchmarks/search_cifar10.py [--seeds 3] [--trials 4] [--epochs 1] [--subset 2000]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from search.report import finalize
from search.runner import SearchConfig, run_search

_log = logging.getLogger(__name__)
LUTS, FPS = 30_000, 1_293


def _one(args: argparse.Namespace, strategy: str, seed: int) -> dict[str, Any]:
    out = Path(args.out) / f"{strategy}-seed{seed}"
    config = SearchConfig(
        board="zcu104",
        dataset="cifar10",
        data_dir=args.data_dir,
        luts=LUTS,
        fps=FPS,
        trials=args.trials,
        epochs=args.epochs,
        controller=args.controller,
        strategy=strategy,
        fidelity=args.fidelity,
        out=out,
        seed=seed,
        subset=args.subset or None,
        csim_n=args.csim_n,
        top_k=args.top_k,
    )
    cpu, wall = time.process_time(), time.perf_counter()
    summary = finalize(run_search(config))
    best = summary["best"] or {}
    return {
        "strategy": strategy,
        "seed": seed,
        "valid": summary["valid"],
        "val_accuracy": best.get("accuracy"),
        "test_accuracy": best.get("test_accuracy"),
        "lut": best.get("lut"),
        "throughput_fps": best.get("throughput_fps"),
        "provenance": best.get("provenance"),
        "trained": summary["trials"],
        "proposed": summary["proposed"],
        "phases": summary["phases"],
        "cpu_hours": (time.process_time() - cpu) / 3600,
        "wall_seconds": time.perf_counter() - wall,
    }


def _stat(values: list[float]) -> str:
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {spread:.4f}"


def _table(runs: list[dict[str, Any]]) -> str:
    head = (
        "| strategy | seeds | valid | val acc | test acc | LUT (mean) | img/s (mean) | provenance | CPU h |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for strategy in ("joint", "separate"):
        rs = [r for r in runs if r["strategy"] == strategy]
        ok = [r for r in rs if r["valid"]]
        lut = f"{statistics.mean(r['lut'] for r in ok):,.0f}" if ok else "-"
        fps = f"{statistics.mean(r['throughput_fps'] for r in ok):,.0f}" if ok else "-"
        prov = sorted(
            {f"acc {r['provenance']['test_accuracy']}, hw {r['provenance']['lut']}" for r in ok}
        ) or ["-"]
        lines.append(
            f"| {strategy} | {len(rs)} | {len(ok)} | {_stat([r['val_accuracy'] for r in ok])} | "
            f"{_stat([r['test_accuracy'] for r in ok])} | {lut} | {fps} | {'; '.join(prov)} | "
            f"{sum(r['cpu_hours'] for r in rs):.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--trials", type=int, default=4, help="trained candidates per search (both strategies)"
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--subset", type=int, default=2000, help="training images (0: all 45,000)")
    parser.add_argument("--controller", default="rl")
    parser.add_argument("--fidelity", default="csim")
    parser.add_argument("--csim-n", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("bench-search-cifar10"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    runs = []
    for seed in range(args.seeds):
        for strategy in ("joint", "separate"):
            runs.append(_one(args, strategy, seed))
            print(
                f"{strategy} seed {seed}: valid={runs[-1]['valid']} test={runs[-1]['test_accuracy']} "
                f"lut={runs[-1]['lut']} fps={runs[-1]['throughput_fps']} "
                f"({runs[-1]['wall_seconds']:.0f} s)",
                flush=True,
            )
    budget = {k: getattr(args, k) for k in ("seeds", "trials", "epochs", "subset", "controller", "fidelity")}
    print(f"\nspec: ZCU104, LUT <= {LUTS:,}, >= {FPS:,} img/s; budget per search: {budget}\n")
    print(_table(runs))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search_cifar10.json").write_text(
        json.dumps(
            {"spec": {"luts": LUTS, "fps": FPS}, "budget": budget, "runs": runs}, indent=2, default=str
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
