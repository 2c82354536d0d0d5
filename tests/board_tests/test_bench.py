"""benchmarks/bench_board.py runs and meets its <= 2 s overhead target on the emulated board."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests._shared import REPO


def test_bench_board_overhead_within_target(tmp_path: Path) -> None:
    out = tmp_path / "bench_board.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_board.py"), "--candidates", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["meets_target"] and result["overhead_s"] <= 2.0
    assert "overhead" in done.stdout
