"""What a new user sees: the Pareto plot's title and a main job's output free of brevitas's noise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from search.report import pareto_title

REPO = Path(__file__).resolve().parents[2]


def test_pareto_title_names_strategy_and_phase_once() -> None:
    title = pareto_title("joint", "joint", "digits", "zcu104")
    assert title == "joint search: digits on zcu104"
    assert "hil-" not in title and "joint-joint" not in title
    assert pareto_title("separate", "hardware", "cifar10", "zcu104") == (
        "separate search, hardware phase: cifar10 on zcu104"
    )


def test_qonnx_export_does_not_print_the_fast_hadamard_warning(tmp_path: Path) -> None:
    """A fresh process (the warning fires once, at brevitas.export's first import) with warnings on."""
    code = (
        "from search.qat import QatCnnSpec, build_qat_cnn, export_qonnx\n"
        "spec = QatCnnSpec((1, 8, 8), 10, conv_channels=(4,), kernel_sizes=(3,), pool=(True,))\n"
        "model = build_qat_cnn(spec)\n"
        f"export_qonnx(model, (1, 8, 8), {str(tmp_path / 'm.onnx')!r})\n"
        "import brevitas.graph.equalize  # the module that warns: already imported, so silent\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-W", "always::UserWarning", "-c", code],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "m.onnx").is_file()
    assert "fast_hadamard_transform" not in proc.stdout + proc.stderr
