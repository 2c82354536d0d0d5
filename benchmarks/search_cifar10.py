"""Joint co-search vs its baselines, the paper's comparison: CIFAR-10 on ZCU104, two specs.

Lu, Jiang et al. (ICCAD 2019) report 82.98 % at 1,293 img/s within 30,000 LUT for the joint search,
where searching the network first and the hardware after found no valid design, and 18-68 % less
accuracy elsewhere. This benchmark runs the strategies it is given (``--strategies``; default
joint, separate, hw-nas and random: ``search.strategies``) with the same hardware space and budget
(trained candidates and sample-epochs, checked equal to joint's within 5 %) for several seeds on
two specs (30,000 LUT >= 1,293 img/s, and a tighter 15,000 LUT >= 2,500 img/s), retrains each
search's best design from scratch with the same final recipe, and prints one table: per cell the
valid seeds, the final test accuracy (hil's bit-exact emulator of the fixed-point design on all
10,000 test images, checked against C-sim on a sample; mean +- std), LUT (the cost model's
synthesis-level estimate, ``hil.cost.estimate(level="synth")``, with its 80 % band's upper edge)
and img/s each with its own provenance, the cost model's expected error for such designs (from a
cross-validation result, ``--cost-cv``; "n/a" without one), the feasible-proposal rate (proposals
the estimate did not prune) and the compute spent.

Profiles (all values overridable by the options):
  smoke  plumbing check, ~15-25 min on 2 cores: 1 seed, 3 candidates, 1 epoch on 1,000 images.
  cpu    the 2-core profile: 1 seed, 12 trained candidates of 2 epochs on 10,000 images, the gate
         on all 5,000 validation images (emulator; C-sim of 64 beside it), final retrain 60 epochs
         (45 float + 15 QAT) on all 45,000, test accuracy on all 10,000 test images (emulator; C-sim
         of 64 beside it). Measured (joint, 30,000 LUT >= 1,293 img/s, seed 0, commit 45d988e, 2
         cores beside other niced work): 0.7353 bit-exact test accuracy in 31.3 min wall (search
         5 min, final retrain 26 min); README, "CIFAR-10 on 2 cores".
  gpu    closer to the paper's budget, for a CUDA machine with 16 cores: 3 seeds, 24 candidates of 4
         epochs on the full 45,000 images, final retrain 60 epochs (45 float + 15 QAT) of the best 2,
         emulator on the full validation and test splits, C-sim of 1,000 images beside each.

Feasibility judges the cost model's point estimate by default (``--estimate-edge point``; the
search's own default is the 80 % band's upper edge): at the upper edge almost no design of the
CIFAR-10 space fits 30,000 LUT at 1,293 img/s. Measured with ``benchmarks/bench_controller.py``
(cost model only, 400 RL proposals, 4,000 random, seeds 1-3): random finds 0 of 4,000 at either
edge (1 at the point on seed 2); the RL controller's second-half feasible rate is 0.95 / 0.97 /
0.94 at the point, 0.94 / 0 / 0 at the upper edge. At the upper edge every strategy but joint
would report "no valid design" by construction. The edge is printed with the table.

``--pruner halving|hyperband`` (default none, so earlier figures stay comparable) stops
unpromising candidates between epochs and spends the same sample-epochs on more candidates
(``search.pruning``); each run then reports how many of its trained candidates were halted.

Every search and retrain is cached in ``--out``: a killed run re-run continues where it stopped.

Run: ``python benchmarks/search_cifar10.py --profile cpu [--seeds 3] [--final-epochs N] [--cost-cv cv.json]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from search.final import final_designs
from search.report import finalize
from search.runner import SearchConfig, run_search

_log = logging.getLogger(__name__)
SPECS: tuple[tuple[int, int], ...] = ((30_000, 1_293), (15_000, 2_500))
STRATEGIES = ("joint", "separate", "hw-nas", "random")
#: Compute of every strategy may differ from joint's by at most this share.
EQUAL_WITHIN = 0.05


@dataclass(frozen=True)
class Profile:
    """One benchmark budget (per search unless stated)."""

    seeds: int
    trials: int
    epochs: int
    subset: int | None
    top_k: int
    csim_val: int | None  # images C-simulated beside the emulator, gate and test (None: the default)
    final_epochs: int
    final_top: int
    csim_test: int | None  # test images scored for the final design (None: all 10,000)
    controller: str = "rl"
    device: str = "cpu"
    max_proposals_factor: int = 400


PROFILES: dict[str, Profile] = {
    "smoke": Profile(1, 3, 1, 1_000, 1, 32, 1, 1, None),
    "cpu": Profile(1, 12, 2, 10_000, 1, 64, 60, 1, None),
    "gpu": Profile(3, 24, 4, None, 2, 1_000, 60, 2, None, device="cuda"),
}


def _cost_errors(path: Path | None) -> dict[str, str]:
    """The cost model's expected error per column, from a cross-validation JSON (``hil costmodel cv
    --json`` or the same ``{"metrics": {name: {"mape": x}}}`` shape); "n/a" when absent."""
    out = {"lut": "n/a", "throughput_fps": "n/a"}
    if path is None or not path.is_file():
        if path is not None:
            _log.warning("no cost-model cross-validation result at %s: expected errors are n/a", path)
        return out
    raw = json.loads(path.read_text())
    metrics = raw.get("metrics", raw)
    for column, names in (
        ("lut", ("lut",)),
        ("throughput_fps", ("throughput_fps", "ii_cycles", "latency_max")),
    ):
        for name in names:
            mape = (metrics.get(name) or {}).get("mape")
            if mape is not None:
                out[column] = f"±{100 * float(mape):.0f} % ({name} MAPE, n={metrics[name].get('n', '?')})"
                break
    return out


def _one(
    args: argparse.Namespace, p: Profile, spec: tuple[int, int], strategy: str, seed: int
) -> dict[str, Any]:
    luts, fps = spec
    pruned = ("" if args.pruner == "none" else f"-{args.pruner}") + ("-repair" if args.repair else "")
    config = SearchConfig(
        board="zcu104",
        dataset="cifar10",
        data_dir=args.data_dir,
        luts=luts,
        fps=fps,
        trials=p.trials,
        epochs=p.epochs,
        controller=p.controller,
        strategy=strategy,
        fidelity="csim",
        # a pruned search is another experiment: its own folder, so both can sit in one --out
        out=Path(args.out) / f"lut{luts}-fps{fps}" / f"{strategy}-seed{seed}{pruned}",
        seed=seed,
        subset=p.subset,
        csim_n=p.csim_val,
        top_k=p.top_k,
        device=p.device,
        final_epochs=p.final_epochs,
        final_top=p.final_top,
        max_proposals_factor=p.max_proposals_factor,
        estimate_edge=args.estimate_edge,
        pruner=args.pruner,
        repair=args.repair,
    )
    outcome = run_search(config)
    summary = finalize(outcome, final_designs(outcome, test_n=p.csim_test))
    best = summary["best"] or {}
    prov = best.get("provenance") or {}
    return {
        "luts": luts,
        "fps": fps,
        "strategy": strategy,
        "seed": seed,
        "valid": summary["valid"],
        "search_val_accuracy": best.get("accuracy"),
        "final_val_accuracy": best.get("final_val_accuracy"),
        "test_accuracy": best.get("test_accuracy"),
        "test_accuracy_provenance": prov.get("test_accuracy"),
        "test_accuracy_torch": best.get("test_accuracy_torch"),
        "test_n": best.get("test_n"),
        "lut": best.get("lut"),
        "lut_provenance": prov.get("lut"),
        "throughput_fps": best.get("throughput_fps"),
        "throughput_fps_provenance": prov.get("throughput_fps"),
        "params": best.get("params"),
        "budget": summary["budget"],
        "compute": summary["compute"],
        "compute_by_stage": summary["compute_by_stage"],
        "trained": summary["compute_by_stage"]["search"]["trained"],  # every phase's trainings
        "shared_weights": summary.get("shared_weights", 0),
        "halted": summary["halted"],
        "pruner": summary["pruner"],
        "proposed": summary["proposed"],
        "pruned": summary["pruned"],
        "feasible_proposal_rate": (summary["proposed"] - summary["pruned"]) / summary["proposed"]
        if summary["proposed"]
        else None,
        "lut_upper": best.get("lut_upper"),
    }


def _stat(values: list[float], spec: str = ".4f") -> str:
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{format(statistics.mean(values), spec)} ± {format(spread, spec)}"


def _labels(rows: list[dict[str, Any]], key: str) -> str:
    return "/".join(sorted({str(r[key]) for r in rows if r.get(key)})) or "-"


def table(runs: list[dict[str, Any]], errors: dict[str, str]) -> str:
    """The comparison: one row per spec and strategy."""
    head = (
        "| spec | strategy | valid seeds | final test acc | acc from | search val acc | LUT | "
        "LUT band upper | LUT from | LUT model error | img/s | img/s from | img/s model error | "
        "feasible proposals | sample-epochs | CPU h | wall h |"
    )
    lines = [head, "|" + "---|" * 17]
    for luts, fps in sorted({(r["luts"], r["fps"]) for r in runs}, reverse=True):
        for strategy in STRATEGIES:
            rs = [r for r in runs if (r["luts"], r["fps"], r["strategy"]) == (luts, fps, strategy)]
            if not rs:
                continue
            ok = [r for r in rs if r["valid"]]
            tests = [r["test_accuracy"] for r in ok if r["test_accuracy"] is not None]
            cells = [
                f"{luts:,} LUT, >= {fps:,} img/s",
                strategy,
                f"{len(ok)}/{len(rs)}",
                _stat(tests),
                f"{_labels(ok, 'test_accuracy_provenance')}, n={_labels(ok, 'test_n')}",
                _stat([r["search_val_accuracy"] for r in ok]),
                _stat([r["lut"] for r in ok], ",.0f"),
                _stat([r["lut_upper"] for r in ok if r.get("lut_upper") is not None], ",.0f"),
                _labels(ok, "lut_provenance"),
                errors["lut"],
                _stat([r["throughput_fps"] for r in ok], ",.0f"),
                _labels(ok, "throughput_fps_provenance"),
                errors["throughput_fps"],
                f"{sum(r['proposed'] - r['pruned'] for r in rs):,}/{sum(r['proposed'] for r in rs):,}",
                f"{sum(r['compute']['sample_epochs'] for r in rs):,}",
                f"{sum(r['compute']['cpu_seconds'] for r in rs) / 3600:.2f}",
                f"{sum(r['compute']['wall_seconds'] for r in rs) / 3600:.2f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def budget_check(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per spec, seed and strategy: its search compute (sample-epochs) vs joint's, equal within 5 %?"""
    out = []
    for luts, fps, seed in sorted({(r["luts"], r["fps"], r["seed"]) for r in runs}):
        group = {r["strategy"]: r for r in runs if (r["luts"], r["fps"], r["seed"]) == (luts, fps, seed)}
        if "joint" not in group:
            continue
        j = group["joint"]["compute_by_stage"]["search"]["sample_epochs"]
        for strategy, run in sorted(group.items()):
            if strategy == "joint":
                continue
            s = run["compute_by_stage"]["search"]["sample_epochs"]
            out.append(
                {
                    "luts": luts,
                    "fps": fps,
                    "seed": seed,
                    "strategy": strategy,
                    "joint_sample_epochs": j,
                    "sample_epochs": s,
                    "relative_difference": abs(j - s) / max(j, s, 1),
                    "equal": abs(j - s) <= EQUAL_WITHIN * max(j, s, 1),
                    "budget": group["joint"]["budget"],
                    "trained": {"joint": group["joint"]["trained"], strategy: run["trained"]},
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    for name, kind, what in (
        ("seeds", int, "seeds"),
        ("trials", int, "trained candidates per search"),
        ("epochs", int, "epochs per candidate"),
        ("subset", int, "training images per candidate (0: all 45,000)"),
        ("top-k", int, "designs gated at the end of each search"),
        ("csim-val", int, "images C-simulated beside the emulator, gate and test (0: the default sample)"),
        ("final-epochs", int, "final retrain epochs"),
        ("final-top", int, "designs retrained at the end"),
        ("csim-test", int, "test images scored for the final design (0: all 10,000)"),
        ("controller", str, "controller of joint, separate and hw-nas (rl, tpe, nsga2, random)"),
        ("device", str, "training device (cpu, cuda, auto)"),
    ):
        parser.add_argument(f"--{name}", type=kind, default=None, help=f"{what}; overrides the profile")
    parser.add_argument("--specs", default=",".join(f"{a}:{b}" for a, b in SPECS), help="LUT:FPS,...")
    parser.add_argument(
        "--strategies", default=",".join(STRATEGIES), help=f"comma-separated, of {', '.join(STRATEGIES)}"
    )
    parser.add_argument(
        "--estimate-edge",
        choices=["point", "upper"],
        default="point",
        help="judge the cost model's point estimate or its 80 %% band's upper edge (see above)",
    )
    parser.add_argument(
        "--pruner",
        choices=["none", "halving", "hyperband"],
        default="none",
        help="stop unpromising candidates between epochs and train more of them in the same "
        "sample-epochs (needs --epochs >= 2; default none: the figures stay comparable)",
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="every strategy's proposals that miss the spec get their network's least-missing "
        "implementation by the cost model (search.repair); results in their own folders",
    )
    parser.add_argument("--cost-cv", type=Path, default=None, help="cost-model cross-validation JSON")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("bench-search-cifar10"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    overrides = {
        k: (None if v == 0 and k in ("subset", "csim_val", "csim_test") else v)
        for k, v in vars(args).items()
        if k in Profile.__dataclass_fields__ and v is not None
    }
    profile = replace(PROFILES[args.profile], **overrides)
    specs = [tuple(int(v) for v in s.split(":")) for s in args.specs.split(",")]
    errors = _cost_errors(args.cost_cv)
    print(f"profile {args.profile}: {asdict(profile)}", flush=True)
    started, runs = time.perf_counter(), []
    for spec in specs:
        for seed in range(profile.seeds):
            for strategy in args.strategies.split(","):
                run = _one(args, profile, (spec[0], spec[1]), strategy, seed)
                runs.append(run)
                print(
                    f"{spec[0]:,} LUT >= {spec[1]:,} img/s {strategy} seed {seed}: valid={run['valid']} "
                    f"test={run['test_accuracy']} ({run['test_accuracy_provenance']}, n={run['test_n']}) "
                    f"lut={run['lut']} ({run['lut_provenance']}) fps={run['throughput_fps']} "
                    f"({run['throughput_fps_provenance']}) compute={run['compute']} trained={run['trained']} "
                    f"(halted {run['halted']})",
                    flush=True,
                )
    checks = budget_check(runs)
    images = profile.subset or 45_000
    print(
        f"\nCIFAR-10 on ZCU104, profile {args.profile}; budget per search: {profile.trials} candidates x "
        f"{profile.epochs} epochs x {images:,} images; final retrain {profile.final_epochs} epochs of the "
        f"best {profile.final_top}; --pruner {args.pruner}; --repair {args.repair}\n"
    )
    print(table(runs, errors))
    print("\nsearch compute vs joint's (sample-epochs, equal within 5 %):")
    for c in checks:
        verdict = "equal" if c["equal"] else "NOT equal"
        print(
            f"  {c['luts']:,} LUT seed {c['seed']} {c['strategy']}: {c['sample_epochs']:,} vs joint "
            f"{c['joint_sample_epochs']:,} ({100 * c['relative_difference']:.1f} %): {verdict}"
        )
    print(
        "LUT: the cost model's synthesis-level estimate (hil.cost.estimate(level='synth')) unless labelled; "
        f"feasibility judged at the estimate's {args.estimate_edge} edge"
    )
    minutes = (time.perf_counter() - started) / 60
    print(f"\ntotal wall time {minutes:.1f} min (this run; cached searches and retrains are not redone)")
    result = {
        "profile": args.profile,
        "budget": asdict(profile),
        "specs": specs,
        "estimate_edge": args.estimate_edge,
        "pruner": args.pruner,
        "repair": args.repair,
        "cost_model_error": errors,
        "runs": runs,
        "budget_check": checks,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "search_cifar10.json").write_text(json.dumps(result, indent=2, default=str))
    return 0 if all(c["equal"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
