"""Time whole-network cost estimates of a CIFAR-10-sized CNN spec (target: >= 10,000 per second).

Usage: python benchmarks/bench_cost.py [--seconds 2] [--out bench_cost.json]
Prints a table and writes JSON with ``estimates_per_s`` (the hand-written 11-layer spec below) and
``search_candidates_per_s`` (specs the co-search builds for CIFAR-10 candidates, every one new), and
the time of one estimate with the per-layer ``explain`` breakdown. Wall-clock figures: run it on an
idle machine, or compare against another run made at the same time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hil.cost import LayerKind, LayerSpec, Strategy, default_params, estimate


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


def _search_candidates(params: object, seconds: float) -> float:
    """Estimates/s of distinct CIFAR-10 candidates as the co-search builds them (its own LayerSpecs)."""
    import random

    from search.space import default_space

    space = default_space("cifar10", 200.0)
    rng = random.Random(0)
    cands = [space.sample(lambda _name, choices: rng.choice(list(choices)), (3, 32, 32)) for _ in range(400)]
    specs = [c.layer_specs((3, 32, 32), 10) for c in cands]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for spec, cand in zip(specs, cands, strict=True):
            estimate(spec, clock_mhz=cand.clock_mhz, params=params)  # type: ignore[arg-type]
        count += len(specs)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=Path("bench_cost.json"))
    args = parser.parse_args()
    params = default_params()
    # Vary precision and reuse as a search would, so caches of one spec do not flatter the figure.
    specs = [cifar10_cnn(bits, rf) for bits in (4, 6, 8, 12, 16) for rf in (4, 8, 16, 32)]
    estimate(specs[0], clock_mhz=200.0, params=params)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        for spec in specs:
            estimate(spec, clock_mhz=200.0, params=params)
        count += len(specs)
    elapsed = time.perf_counter() - start
    rate = count / elapsed
    search_rate = _search_candidates(params, args.seconds)
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
        "search_candidates_per_s": search_rate,
        "explain_us": explain_us,
        "explain_terms": sum(len(le.explain) for le in explained.layers),
        "sample_totals_8bit_rf16": sample,
        "sample_ii_layer": f"{explained.ii_layer}: {explained.ii_reason}",
    }
    print(f"{'network':<12}{'layers':>8}{'estimates':>12}{'seconds':>10}{'estimates/s':>14}{'us/est':>10}")
    print(
        f"{'cifar10-cnn':<12}{len(specs[0]):>8}{count:>12}{elapsed:>10.2f}{rate:>14,.0f}{1e6 / rate:>10.1f}"
    )
    print(f"{'search cands':<12}{'':>8}{'':>12}{'':>10}{search_rate:>14,.0f}{1e6 / search_rate:>10.1f}")
    pieces = result["explain_terms"]
    print(f"explain: {explain_us:.0f} us for {pieces} priced pieces;", result["sample_ii_layer"])
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"estimates_per_s": rate}))


if __name__ == "__main__":
    main()
