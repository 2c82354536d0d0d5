"""The bit-exact emulator (``hil.emulate``) against hls4ml's C simulation, and its speed on CIFAR-10.

Three parts (``--parts designs,cifar-designs,cifar``):

- ``designs``: ``--designs`` (50) seeded random designs of the co-search's digits space, each sampled,
  QAT-trained one epoch, exported and converted exactly as the search does, then C-simulated and
  emulated on the digits test split: ``bit_identical`` per design (target 1.0 on every one), and
  the emulator's refusals (target none).
- ``cifar-designs``: ``--cifar-designs`` (5) seeded random designs of the CIFAR-10 space, the same way,
  checked on ``--cifar-images`` (50) test images each.
- ``cifar``: the largest design of the CIFAR-10 space (4 conv blocks of 128 channels, 3x3, pooled,
  dense 64, 8-bit weights and activations), trained briefly on a subset, its emulator timed on the
  10,000 test images (target < 60 s on 2 cores) and checked against the C simulation on
  ``--csim-images`` of them; the test accuracy it measures carries provenance ``bitexact``.

Run: ``python benchmarks/bench_emulator.py [--parts designs,cifar-designs,cifar] [--designs 50]
[--out F.json]``.
Set ``HIL_CACHE_DIR`` to reuse compiled C simulations between runs. Wall-clock figures: quote them with
the machine's load (printed).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from hil.emulate import Emulator, agreement  # noqa: E402
from hil.inventory import load_inventory  # noqa: E402
from hil.records import Provenance  # noqa: E402
from search.datasets import load_dataset  # noqa: E402
from search.space import Architecture, Candidate, LayerHw, default_space  # noqa: E402
from tests.emulate_tests._search_designs import build_design, csim_outputs, sample_candidate  # noqa: E402

_log = logging.getLogger(__name__)
TARGET_SECONDS = 60.0


def _designs(
    count: int, folder: Path, dataset: str = "digits", n_images: int | None = None
) -> dict[str, Any]:
    """``count`` seeded random designs of ``dataset``'s space against the C simulation.

    digits: trained one epoch on the whole training split, checked on the whole test split (359);
    cifar10: trained one epoch on 1,000 images, checked on the first ``n_images`` test images (the C
    simulation runs ~1 CIFAR-10 image per second).
    """
    data = load_dataset(dataset, seed=0)
    board = load_inventory().board("zcu104")
    space = default_space(dataset, board.clock_mhz)
    n_train = None if dataset == "digits" else 1000
    x_check = data.x_test if n_images is None else data.x_test[:n_images]
    rows = []
    for seed in range(count):
        candidate = sample_candidate(space, 1000 + seed, data.input_shape)
        started = time.perf_counter()
        row: dict[str, Any] = {"seed": 1000 + seed, "candidate": candidate.to_dict()}
        try:
            design = build_design(
                candidate,
                data,
                board,
                folder / f"{dataset}{seed}",
                epochs=1,
                seed=seed,
                n_train=n_train,
                lr=3e-3,
            )
            inputs, csim = csim_outputs(design, x_check)
            emulator = Emulator(design.hls_model)
            t0 = time.perf_counter()
            emulated = emulator(inputs)
            row["emulate_seconds"] = round(time.perf_counter() - t0, 4)
            row.update(agreement(emulated, csim).as_dict())
            row["kinds"] = sorted({layer.class_name for layer in design.hls_model.get_layers()})
        except Exception as exc:  # a refusal or a failure is a result of this benchmark
            row["error"] = f"{type(exc).__name__}: {exc}"
        row["seconds"] = round(time.perf_counter() - started, 2)
        rows.append(row)
        arch = candidate.arch
        print(
            f"{dataset} design {seed:2d}: conv {list(arch.conv_channels)} k {list(arch.kernel_sizes)} "
            f"pool {[int(p) for p in arch.pool]} dense {list(arch.dense_units)} "
            f"w{[h.weight_bits for h in candidate.hw]} a{[h.act_bits for h in candidate.hw[:-1]]} "
            f"{[h.strategy[0] for h in candidate.hw]}: "
            + (f"bit_identical {row['bit_identical']:.4f}" if "error" not in row else row["error"]),
            flush=True,
        )
    ok = [r for r in rows if "error" not in r]
    return {
        "designs": len(rows),
        "bit_identical_min": min((r["bit_identical"] for r in ok), default=None),
        "all_bit_identical": len(ok) == len(rows) and all(r["bit_identical"] == 1.0 for r in ok),
        "errors": [r for r in rows if "error" in r],
        "rows": rows,
    }


def largest_cifar_candidate() -> Candidate:
    """The widest design of ``default_space('cifar10', ...)``: every choice at its maximum."""
    space = default_space("cifar10", 200.0)
    n = max(space.conv_blocks)
    c, k = max(space.channels), max(space.kernels)
    arch = Architecture((c,) * n, (k,) * n, (True,) * n, (max(space.dense_units),))
    bits = max(space.weight_bits)
    hw = tuple(
        LayerHw(bits, max(space.act_bits) if i < arch.n_mac_layers - 1 else 0, 64, "Resource")
        for i in range(arch.n_mac_layers)
    )
    return Candidate(arch, hw, "io_stream", 200.0)


def _cifar(folder: Path, n_train: int, epochs: int, csim_images: int, threads: int) -> dict[str, Any]:
    data = load_dataset("cifar10", seed=0)
    board = load_inventory().board("zcu104")
    candidate = largest_cifar_candidate()
    started = time.perf_counter()
    design = build_design(candidate, data, board, folder / "cifar", epochs=epochs, n_train=n_train, lr=2e-3)
    build_seconds = time.perf_counter() - started
    emulator = Emulator(design.hls_model)
    x_test, y_test = data.x_test, data.y_test
    started = time.perf_counter()
    out = emulator(x_test, threads=threads)
    seconds = time.perf_counter() - started
    accuracy = float(np.mean(out.argmax(axis=1) == y_test))
    print(f"cifar: {len(x_test)} test images emulated in {seconds:.1f} s on {threads} threads", flush=True)
    started = time.perf_counter()
    inputs, csim = csim_outputs(design, x_test[:csim_images])
    csim_seconds = time.perf_counter() - started
    check = agreement(emulator(inputs), csim)
    mac_layers = [s for s in emulator.steps if hasattr(s.op, "kernel")]
    return {
        "candidate": candidate.to_dict(),
        "train_images": n_train,
        "train_epochs": epochs,
        "build_seconds": round(build_seconds, 1),
        "emulator_build_seconds": round(emulator.build_seconds, 2),
        "test_images": len(x_test),
        "emulate_seconds": round(seconds, 2),
        "images_per_second": round(len(x_test) / seconds, 1),
        "threads": threads,
        "target_seconds": TARGET_SECONDS,
        "meets_target": seconds < TARGET_SECONDS,
        "test_accuracy": {"value": accuracy, "provenance": Provenance.BITEXACT.value},
        "csim_check": {**check.as_dict(), "csim_seconds_incl_compile": round(csim_seconds, 1)},
        "float64_exact_layers": sum(1 for s in mac_layers if s.op.kernel.fast),  # type: ignore[attr-defined]
        "mac_layers": len(mac_layers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="designs,cifar-designs,cifar")
    parser.add_argument("--designs", type=int, default=50)
    parser.add_argument("--cifar-designs", type=int, default=5, help="random CIFAR-10-space designs")
    parser.add_argument("--cifar-images", type=int, default=50, help="test images per CIFAR-10 design")
    parser.add_argument("--train-images", type=int, default=5000, help="CIFAR-10 training subset")
    parser.add_argument("--epochs", type=int, default=2, help="CIFAR-10 QAT epochs on that subset")
    parser.add_argument("--csim-images", type=int, default=20, help="CIFAR-10 images checked by C-sim")
    parser.add_argument("--threads", type=int, default=2, help="BLAS/torch threads (the target: 2 cores)")
    parser.add_argument("--out", type=Path, default=Path("bench_emulator.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:  # numpy's BLAS then uses its own default (set OPENBLAS_NUM_THREADS)
        pass
    parts = set(args.parts.split(","))
    report: dict[str, Any] = {"load_average": os.getloadavg()}
    print(f"load average before: {report['load_average'][0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-emulator-") as tmp:
        if "designs" in parts:
            report["designs"] = _designs(args.designs, Path(tmp))
        if "cifar-designs" in parts:
            report["cifar_designs"] = _designs(args.cifar_designs, Path(tmp), "cifar10", args.cifar_images)
        if "cifar" in parts:
            report["cifar"] = _cifar(
                Path(tmp), args.train_images, args.epochs, args.csim_images, args.threads
            )
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print()
    print(f"{'part':<14} {'figure':<40} value")
    for key in ("designs", "cifar_designs"):
        if key in report:
            d = report[key]
            print(f"{key:<14} {'designs C-simulated and emulated':<40} {d['designs']}")
            print(f"{'':<14} {'min bit_identical (target 1.0)':<40} {d['bit_identical_min']}")
            print(f"{'':<14} {'refusals / failures':<40} {len(d['errors'])}")
    if "cifar" in report:
        c = report["cifar"]
        print(f"{'cifar':<14} {'10,000 test images, s (target < 60)':<40} {c['emulate_seconds']}")
        print(f"{'':<14} {'images / s':<40} {c['images_per_second']}")
        print(f"{'':<14} {'bit_identical vs C-sim':<40} {c['csim_check']['bit_identical']} "
              f"({c['csim_check']['n']} images)")  # fmt: skip
        print(f"{'':<14} {'test accuracy (bitexact, brief QAT)':<40} {c['test_accuracy']['value']:.4f}")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
