"""HIL overhead per measured candidate over SSH on the emulated board (target: <= 2 s).

Overhead = connect + upload + start/run of the agent + collect + clean up, with the build cached
and the agent's timed measurement window excluded (emulation has none; on a real board the
agent's ``--min-seconds`` window is subtracted). Runs a real OpenSSH server on 127.0.0.1 (as the
board tests do) and a small g++-built stand-in C-sim bundle.

Usage: python benchmarks/bench_board.py [--candidates 10] [--out bench_board.json]
Prints a table and writes JSON with ``overhead_s`` (median) per stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the loopback sshd and bundle helpers live with the board tests

from hil.board import BoardPool, MeasureConfig, measure_bundle  # noqa: E402
from hil.inventory import Board  # noqa: E402
from tests.board_tests._bundles import build_library, make_bundle  # noqa: E402
from tests.board_tests._sshd import LoopbackSshd  # noqa: E402

STAGES = ("lease_wait", "connect", "upload", "run", "collect", "cleanup")
TARGET_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench_board.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hil-bench-board-") as scratch:
        root = Path(scratch)
        server = LoopbackSshd(root / "sshd")
        try:
            bundle = make_bundle(root / "bundle", build_library(root / "lib"), n=64)
            board = Board.model_validate(
                {
                    "name": "bench",
                    "part": "xczu7ev-ffvc1156-2-e",
                    "resources": {"lut": 230400, "ff": 460800, "dsp": 1728, "bram36": 312},
                    "clock_mhz": 200.0,
                    "python": sys.executable,
                    "workdir": str(root / "work"),
                    **server.board_fields(),
                }
            )
            config = MeasureConfig(emulate=True, batch=64, pool=BoardPool(root / "leases"))
            rows = []
            for _ in range(args.candidates):
                result = measure_bundle(board, bundle.path, config)
                if not result.ok:
                    raise SystemExit(f"bench_board: measurement failed: {result.message}")
                stages = result.stage_seconds
                window = stages.get("agent_measure", 0.0)
                rows.append({**{k: stages.get(k, 0.0) for k in STAGES}, "window": window})
        finally:
            server.close()
    medians = {k: statistics.median(r[k] for r in rows) for k in (*STAGES, "window")}
    totals = [sum(r[k] for k in STAGES) - r["window"] for r in rows]
    overhead = statistics.median(totals)
    result = {
        "what": "HIL overhead per candidate, emulated board over loopback SSH, build cached, window excluded",
        "candidates": args.candidates,
        "stage_median_s": medians,
        "overhead_s": overhead,
        "overhead_max_s": max(totals),
        "target_s": TARGET_S,
        "meets_target": overhead <= TARGET_S,
    }
    print(f"{'stage':<12}{'median s':>10}")
    for key in (*STAGES, "window"):
        print(f"{key:<12}{medians[key]:>10.3f}")
    print(f"{'overhead':<12}{overhead:>10.3f}  (max {max(totals):.3f}; target <= {TARGET_S:g} s)")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    if not result["meets_target"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
