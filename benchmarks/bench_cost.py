"""Time whole-network cost estimates (target: >= 20,000 distinct search candidates per second).

Usage: python benchmarks/bench_cost.py [--seconds 2] [--candidates 4000] [--batch 1000] [--out F.json]
Prints a table and writes JSON with ``estimates_per_s`` (the hand-written 11-layer spec below, at 20
precision/reuse settings) and ``search_candidates_per_s``: CIFAR-10 candidates sampled from the
co-search's own space, every one distinct, each estimated exactly once (totals and 80 % bands at
synthesis level, what the search's feasibility reads) by ``estimate_many`` in batches of ``--batch``.
No cache is involved: the batch path keeps none. ``search_candidates_scalar_per_s`` is the same with
``estimate`` one candidate at a time (it keeps a per-layer memo inside the parameter set: a new
network mostly reuses layers priced before); ``search_candidates_cold_per_s`` clears that memo before
every candidate (no reuse at all).
Rates are per CPU second of this process (``time.process_time``), so other work on a shared
machine does not distort them; ``*_wall`` give wall-clock rates too.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hil.cost import LayerKind, LayerSpec, Strategy, default_params, estimate, estimate_many


def cifar10_cnn(bits: int = 8, rf: int = 16) -> list[LayerSpec]:
    """conv(3->16) relu pool conv(16->32) relu pool dense(2048->64) relu dense(64->10) softmax."""
    r = Strategy.RESOURCE
    b = {"weight_bits": bits, "act_bits": bits, "result_bits": bits, "acc_bits": 2 * bits + 4}
    return [
        LayerSpec(LayerKind.CONV2D, (32, 32, 3), (32, 32, 16), (3, 3), reuse_factor=rf, strategy=r, **b),
        LayerSpec(LayerKind.ACTIVATION, (32, 32, 16), (32, 32, 16), activation="relu", **b),
        LayerSpec(LayerKind.POOLING2D, (32, 32, 16), (16, 16, 16), (2, 2), activation="max", **b),
        LayerSpec(LayerKind.CONV2D, (16, 16, 16), (16, 16, 32), (3, 3), reuse_factor=rf, strategy=r, **b),
        LayerSpec(LayerKind.ACTIVATION, (16, 16, 32), (16, 16, 32), activation="relu", **b),
        LayerSpec(LayerKind.POOLING2D, (16, 16, 32), (8, 8, 32), (2, 2), activation="max", **b),
        LayerSpec(LayerKind.FLATTEN, (8, 8, 32), (2048,), **b),
        LayerSpec(LayerKind.DENSE, (2048,), (64,), reuse_factor=4 * rf * rf, strategy=r, **b),
        LayerSpec(LayerKind.ACTIVATION, (64,), (64,), activation="relu", **b),
        LayerSpec(LayerKind.DENSE, (64,), (10,), reuse_factor=rf, strategy=r, **b),
        LayerSpec(LayerKind.SOFTMAX, (10,), (10,), **b),
    ]


def _sample(n: int, seed: int) -> tuple[list[list[LayerSpec]], list[float]]:
    """``n`` CIFAR-10 candidates of the co-search's space: layer specs and clocks."""
    import random

    from search.space import default_space

    space = default_space("cifar10", 200.0)
    rng = random.Random(seed)
    cands = [space.sample(lambda _name, choices: rng.choice(list(choices)), (3, 32, 32)) for _ in range(n)]
    return [c.layer_specs((3, 32, 32), 10) for c in cands], [c.clock_mhz for c in cands]


def _search_batched(params: object, n: int, batch: int) -> tuple[float, float, int]:
    """(per CPU second, per wall second, distinct networks) of ``n`` fresh candidates, ``estimate_many``."""
    specs, clocks = _sample(n, seed=2)
    distinct = len({tuple(s) for s in specs})
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(0, n, batch):
        estimate_many(specs[i : i + batch], clock_mhz=clocks[i : i + batch], params=params, level="synth")  # type: ignore[arg-type]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return n / cpu, n / wall, distinct


def _search_candidates(params: object, n: int, cold: bool) -> tuple[float, float, int]:
    """(per CPU second, per wall second, distinct networks) of ``n`` fresh candidates, ``estimate``."""
    specs, clocks = _sample(n, seed=0 if not cold else 1)
    distinct = len({tuple(s) for s in specs})
    memo = params._memo  # type: ignore[attr-defined]
    memo.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    for spec, clock in zip(specs, clocks, strict=True):
        if cold:
            memo.clear()
        estimate(spec, clock_mhz=clock, params=params, level="synth")  # type: ignore[arg-type]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return n / cpu, n / wall, distinct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--candidates", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=1000, help="networks per estimate_many call")
    parser.add_argument("--out", type=Path, default=Path("bench_cost.json"))
    args = parser.parse_args()
    params = default_params()
    # Vary precision and reuse as a search would, so caches of one spec do not flatter the figure.
    specs = [cifar10_cnn(bits, rf) for bits in (4, 6, 8, 12, 16) for rf in (4, 8, 16, 32)]
    estimate(specs[0], clock_mhz=200.0, params=params)
    count, start = 0, time.process_time()
    while time.process_time() - start < args.seconds:
        for spec in specs:
            estimate(spec, clock_mhz=200.0, params=params)
        count += len(specs)
    elapsed = time.process_time() - start
    rate = count / elapsed
    batch_rate, batch_wall, batch_distinct = _search_batched(params, args.candidates, args.batch)
    search_rate, search_wall, distinct = _search_candidates(params, args.candidates, cold=False)
    cold_rate, cold_wall, _ = _search_candidates(params, args.candidates, cold=True)
    started = time.perf_counter()
    explained = estimate(cifar10_cnn(), clock_mhz=200.0, params=params, explain=True)
    explain_us = 1e6 * (time.perf_counter() - started)
    sample = explained.totals
    result = {
        "network": "cifar10 cnn (2 conv, 2 pool, 2 dense + activations)",
        "layers": len(specs[0]),
        "estimates": count,
        "seconds": elapsed,
        "estimates_per_s": rate,
        "us_per_estimate": 1e6 / rate,
        "search_candidates_per_s": batch_rate,
        "search_candidates_per_s_wall": batch_wall,
        "search_candidates_batch": args.batch,
        "search_candidates_batch_distinct": batch_distinct,
        "search_candidates_scalar_per_s": search_rate,
        "search_candidates_scalar_per_s_wall": search_wall,
        "search_candidates_cold_per_s": cold_rate,
        "search_candidates_cold_per_s_wall": cold_wall,
        "search_candidates_distinct": distinct,
        "clock": "process_time (CPU seconds of this process); *_wall: wall clock",
        "explain_us": explain_us,
        "explain_terms": sum(len(le.explain) for le in explained.layers),
        "sample_totals_8bit_rf16": sample,
        "sample_ii_layer": f"{explained.ii_layer}: {explained.ii_reason}",
    }
    print(f"{'network':<12}{'layers':>8}{'estimates':>12}{'seconds':>10}{'estimates/s':>14}{'us/est':>10}")
    print(
        f"{'cifar10-cnn':<12}{len(specs[0]):>8}{count:>12}{elapsed:>10.2f}{rate:>14,.0f}{1e6 / rate:>10.1f}"
    )
    print(f"{'search':<12}{'':>8}{batch_distinct:>12}{'':>10}{batch_rate:>14,.0f}{1e6 / batch_rate:>10.1f}")
    print(f"{'  scalar':<12}{'':>8}{distinct:>12}{'':>10}{search_rate:>14,.0f}{1e6 / search_rate:>10.1f}")
    print(f"{'  cold':<12}{'':>8}{distinct:>12}{'':>10}{cold_rate:>14,.0f}{1e6 / cold_rate:>10.1f}")
    pieces = result["explain_terms"]
    print(f"explain: {explain_us:.0f} us for {pieces} priced pieces;", result["sample_ii_layer"])
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"estimates_per_s": rate, "search_candidates_per_s": batch_rate}))


if __name__ == "__main__":
    main()
