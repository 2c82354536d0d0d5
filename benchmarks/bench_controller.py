"""Does the RL controller learn where feasible CIFAR-10 designs are? Its feasible-proposal rate vs random's.

Usage: python benchmarks/bench_controller.py [--proposals 400] [--seeds 1 2 3] [--luts 30000]
       [--fps 1293] [--out bench_controller.json]

On the CIFAR-10 space (``search.space.default_space``), with no training: feasibility is the cost
model's (``Ladder.estimate``, synthesis-level estimate), judged at the band's point and at its upper
edge. The RL controller proposes ``--proposals`` candidates per seed, learning from each; a
feasible proposal earns a fixed stand-in accuracy of 0.5, a pruned one ``-miss`` (the search's
reward, ``search.evaluation.Evaluation.reward``) or, for comparison, 0 (the paper's reward).
Random draws 10x as many proposals per seed, uniformly, for a steadier rate. Target: the RL rate
over the second half of its proposals >= 2x random's, on every seed. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from hil.inventory import load_inventory
from search.controllers import probe_feasibility
from search.evaluation import Target
from search.space import default_space

_SHAPE = (3, 32, 32)


def run(args: argparse.Namespace) -> dict[str, Any]:
    board = load_inventory().board("zcu104")
    space = default_space("cifar10", board.clock_mhz)
    rows: list[dict[str, Any]] = []
    for edge in args.edges:
        target = Target(board, args.luts, args.fps, edge)
        for seed in args.seeds:
            started = time.perf_counter()
            rand = probe_feasibility("random", space, target, _SHAPE, 10, n=10 * args.proposals, seed=seed)
            row: dict[str, Any] = {"edge": edge, "seed": seed, "random_rate": rand.rate()}
            for name, shaped in (("rl", True), ("rl_unshaped", False)):
                res = probe_feasibility(
                    "rl", space, target, _SHAPE, 10, n=args.proposals, seed=seed, shaped=shaped
                )
                row[f"{name}_second_half_rate"] = res.second_half_rate
                row[f"{name}_first_half_rate"] = res.rate() * 2 - res.second_half_rate
                half = len(res.miss) // 2
                row[f"{name}_second_half_mean_miss"] = sum(res.miss[half:]) / max(1, len(res.miss) - half)
            row["ratio"] = row["rl_second_half_rate"] / row["random_rate"] if row["random_rate"] else None
            row["seconds"] = round(time.perf_counter() - started, 1)
            rows.append(row)
            ratio = "n/a (random found none)" if row["ratio"] is None else f"{row['ratio']:.0f}x"
            print(
                f"{edge:<6} seed {seed}: rl {row['rl_second_half_rate']:.3f} (2nd half; miss "
                f"{row['rl_second_half_mean_miss']:.2f})  "
                f"rl unshaped {row['rl_unshaped_second_half_rate']:.3f} "
                f"(miss {row['rl_unshaped_second_half_mean_miss']:.2f})  random {row['random_rate']:.4f} "
                f"({10 * args.proposals} proposals)  ratio {ratio}  {row['seconds']} s",
                flush=True,
            )
    return {
        "space": "cifar10",
        "board": "zcu104",
        "luts": args.luts,
        "fps": args.fps,
        "proposals": args.proposals,
        "random_proposals": 10 * args.proposals,
        "feasible_reward": 0.5,
        "cost_model_level": "synth",
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=400, help="RL proposals per seed (random: 10x).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--luts", type=float, default=30_000)
    parser.add_argument("--fps", type=float, default=1_293)
    parser.add_argument("--edges", nargs="+", default=["point", "upper"], choices=["point", "upper"])
    parser.add_argument("--out", default="bench_controller.json")
    args = parser.parse_args()
    result = run(args)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
