"""The standalone agent: versions, integrity checks, emulation, and the real path on the stand-in pynq."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hil.board import agent_file
from hil.bundle import BoardBundle

AGENT = str(agent_file())


def _agent(python: str, *args: str, timeout: float = 60) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = subprocess.run([python, AGENT, *args], capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, f"agent printed {done.stdout!r} (stderr {done.stderr[-500:]!r})"
    return done.returncode, json.loads(lines[0])


def test_version_reports_its_own_sha256() -> None:
    code, payload = _agent(sys.executable, "--version")
    assert code == 0 and payload["ok"] and payload["agent"] == "1"
    from hil.bundle import sha256_file

    assert payload["sha256"] == sha256_file(AGENT)


def test_agent_source_is_standalone_and_never_evals() -> None:
    source = Path(AGENT).read_text()
    assert "import hil" not in source and "from hil" not in source
    for forbidden in ("eval(", "exec(", "import pickle", "allow_pickle=True"):
        assert forbidden not in source
    assert source.count("allow_pickle=False") >= 2


def test_agent_parses_as_python_38() -> None:
    import ast

    ast.parse(Path(AGENT).read_text(), feature_version=(3, 8))  # no 3.9+ syntax (runs without ruff too)


def test_agent_lints_for_python_38() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed (pip install -e '.[dev]')")
    done = subprocess.run(
        [ruff, "check", "--target-version", "py38", AGENT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout


def test_emulation_is_bit_exact_with_the_csim_and_models_timing(bundle: BoardBundle) -> None:
    code, payload = _agent(sys.executable, "--bundle", str(bundle.path), "--emulate", "--batch", "16")
    assert code == 0, payload
    assert payload["emulated"] is True and payload["timing_provenance"] == "hls"
    assert payload["n_checked"] == payload["n_bit_exact"] == 32
    # II 100 cycles at 200 MHz: a batch of 16 takes (250 + 15 * 100) cycles = 8.75 us
    assert payload["throughput_fps"] == pytest.approx(16 / 8.75e-6)
    assert payload["latency_ms"]["image_p50"] == pytest.approx(250 / 200e6 * 1e3)


def test_sha256_mismatch_refused_before_loading(bundle: BoardBundle, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(bundle.path, tmp_path / "copy"))
    data = bytearray((copy / "csim.so").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "csim.so").write_bytes(bytes(data))
    code, payload = _agent(sys.executable, "--bundle", str(copy), "--emulate")
    assert code == 3 and payload == {
        "ok": False,
        "error": "DEPLOY",
        "message": "sha256 mismatch for csim.so (corrupted upload)",
    }


def test_unsafe_names_in_the_manifest_are_refused(bundle: BoardBundle, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(bundle.path, tmp_path / "copy"))
    manifest = json.loads((copy / "bundle.json").read_text())
    manifest["files"]["../escape.so"] = "0" * 64
    (copy / "bundle.json").write_text(json.dumps(manifest))
    code, payload = _agent(sys.executable, "--bundle", str(copy), "--emulate")
    assert code == 3 and "unsafe file name" in payload["message"]


def test_real_path_without_a_bitstream_is_a_deploy_error(bundle: BoardBundle) -> None:
    code, payload = _agent(sys.executable, "--bundle", str(bundle.path))
    assert code == 3 and payload["error"] == "DEPLOY" and "design.bit" in payload["message"]


def test_real_path_on_the_standin_pynq_measures_the_known_dma_rate(
    venv_python: str, standin_bundle: BoardBundle
) -> None:
    """numpy<2 + stand-in pynq: 16 images per 10 ms transfer must measure 1600 images/s within 5 %."""
    code, payload = _agent(
        venv_python,
        "--bundle", str(standin_bundle.path), "--batch", "16", "--min-seconds", "1.0",
        "--repeats", "20", "--warmup", "2",
    )  # fmt: skip
    assert code == 0, payload
    assert payload["versions"]["numpy"].startswith("1.") and payload["versions"]["pynq_standin"] is True
    assert payload["emulated"] is False
    known_rate = 16 / 0.01
    assert payload["throughput_fps"] == pytest.approx(known_rate, rel=0.05)
    assert payload["window_seconds"] >= 1.0
    assert payload["n_bit_exact"] == payload["n_checked"] == 32
    assert payload["latency_ms"]["image_p50"] == pytest.approx(10.0, rel=0.05)
    assert payload["power_w"] == 7.5 and payload["clock_mhz"] == 200.0
    print(f"stand-in DMA: measured {payload['throughput_fps']:.1f} images/s vs known {known_rate:.1f}")


def test_real_path_detects_wrong_outputs(venv_python: str, library: Path, tmp_path: Path) -> None:
    from tests.board_tests._bundles import make_bundle

    wrong = make_bundle(
        tmp_path / "wrong", library, n=8, standin_seconds_per_transfer=0.001, corrupt_outputs=True
    )
    code, payload = _agent(venv_python, "--bundle", str(wrong.path), "--batch", "4", "--min-seconds", "0.05")
    assert code == 0 and payload["n_bit_exact"] == 0 and payload["n_checked"] == 8
    assert np.isfinite(payload["max_abs_error"]) and payload["max_abs_error"] > 0


def test_emulated_throughput_is_bounded_by_the_axi_stream_interface(library: Path, tmp_path: Path) -> None:
    """A core with II 1 still receives one 32-bit value per cycle: 64 input values = 64 cycles/image."""
    from hil.bundle import BundleTiming
    from tests.board_tests._bundles import make_bundle

    fast = make_bundle(
        tmp_path / "fast", library, timing=BundleTiming(ii_cycles=1, latency_cycles=20, provenance="estimate")
    )
    code, payload = _agent(sys.executable, "--bundle", str(fast.path), "--emulate", "--batch", "16")
    assert code == 0, payload
    assert payload["ii_cycles_effective"] == 64  # 1x8x8 inputs, 10 outputs
    assert payload["throughput_fps"] == pytest.approx(16 / ((20 + 15 * 64) / 200e6))
