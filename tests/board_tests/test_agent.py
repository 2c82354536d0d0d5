"""The standalone agent: integrity checks, --probe on real .hwh files through the real pynq, emulation,
and the real path through the real pynq on a stand-in device (only the device is replaced)."""

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
from tests._shared import require_shared
from tests.board_tests._bundles import HWH, OverlaySpec, make_bundle

AGENT = str(agent_file())
FLAT, HIER = HWH["zcu104"][0], HWH["pynq-z2"][0]
#: What PYNQ's own parser makes of the two real overlays (../shared/hwh/README.md).
EXPECTED_DMA = {
    FLAT: {"path": "axi_dma_0", "max_transfer_bytes": (1 << 23) - 1, "phys_addr": 0xA0000000, "ps": "zynqmp"},
    HIER: {
        "path": "hier_0/axi_dma_0",
        "max_transfer_bytes": (1 << 26) - 1,
        "phys_addr": 0x40400000,
        "ps": "zynq7000",
    },
}


def _agent(python: str, *args: str, timeout: float = 90) -> tuple[int, dict]:  # type: ignore[type-arg]
    done = subprocess.run([python, AGENT, *args], capture_output=True, text=True, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, f"agent printed {done.stdout!r} (stderr {done.stderr[-800:]!r})"
    return done.returncode, json.loads(lines[0])


def test_version_reports_its_own_sha256() -> None:
    code, payload = _agent(sys.executable, "--version")
    assert code == 0 and payload["ok"] and payload["agent"] == "2"
    from hil.bundle import sha256_file

    assert payload["sha256"] == sha256_file(AGENT)


def test_agent_source_is_standalone_and_never_evals() -> None:
    source = Path(AGENT).read_text()
    assert "import hil" not in source and "from hil" not in source
    for forbidden in ("eval(", "exec(", "import pickle", "allow_pickle=True"):
        assert forbidden not in source
    assert source.count("allow_pickle=False") >= 3


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


@pytest.mark.parametrize("relative", [HIER, FLAT], ids=["hls4ml-hierarchical", "flat"])
def test_probe_finds_the_dma_with_pynqs_own_parser(pynq4_plain: str, relative: str) -> None:
    """pynq 4.0's pynqmetadata parser: DMA by IP type at its hierarchy path, limits from its parameters."""
    hwh = require_shared(relative)
    code, payload = _agent(pynq4_plain, "--probe", str(hwh), "--json")
    assert code == 0 and payload["ok"], payload
    assert "RuntimeMetadataParser (pynq 4.0.0)" in payload["parser"]  # pynqmetadata, as Overlay uses
    want = EXPECTED_DMA[relative]
    dma = payload["dma"]
    assert (dma["path"], dma["max_transfer_bytes"], dma["phys_addr"]) == (
        want["path"], want["max_transfer_bytes"], want["phys_addr"],
    )  # fmt: skip
    assert dma["in_width_bits"] == dma["out_width_bits"] == 32 and not dma["scatter_gather"]
    assert payload["ps"]["family"] == want["ps"]
    if relative == HIER:  # the hls4ml IP has only AXI-Stream ports: no address, not in ip_dict
        assert not any("myproject" in key for key in payload["ip"])
        assert "axi_dma_0" not in payload["ip"]  # only at its hierarchical key


@pytest.mark.parametrize("relative", [HIER, FLAT], ids=["hls4ml-hierarchical", "flat"])
def test_builtin_reader_agrees_with_pynqs_parser(pynq4_plain: str, relative: str) -> None:
    """The fallback for a board without pynq reads the same DMA description as PYNQ does."""
    hwh = str(require_shared(relative))
    _, with_pynq = _agent(pynq4_plain, "--probe", hwh, "--json")
    code, builtin = _agent(sys.executable, "--probe", hwh, "--json", "--parser", "builtin")
    assert code == 0 and builtin["parser"] == "hil built-in .hwh reader"
    strip = lambda d: {k: v for k, v in d.items() if k != "interrupts"}  # noqa: E731
    assert [strip(d) for d in builtin["dmas"]] == [strip(d) for d in with_pynq["dmas"]]
    assert builtin["ps"] == with_pynq["ps"]


def test_probe_text_form_and_an_overlay_without_dma(pynq4_plain: str, tmp_path: Path) -> None:
    hwh = require_shared(FLAT)
    done = subprocess.run(
        [pynq4_plain, AGENT, "--probe", str(hwh)], capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0 and "DMA: axi_dma_0 (largest transfer 8388607 bytes" in done.stdout
    # The same design with its DMA unmapped from the PS: nothing to drive.
    no_dma = tmp_path / "no_dma.hwh"
    text = hwh.read_text()
    unmapped = [
        line for line in text.splitlines() if not ("<MEMRANGE" in line and 'INSTANCE="axi_dma_0"' in line)
    ]
    assert len(unmapped) == len(text.splitlines()) - 1
    no_dma.write_text("\n".join(unmapped))
    code, payload = _agent(pynq4_plain, "--probe", str(no_dma), "--json")
    assert code == 4 and not payload["ok"] and payload["dma"] is None
    assert "no AXI DMA" in payload["message"] and "resize_accel_0" in payload["ip"]


def test_emulation_checks_against_csim_and_reference_and_leaves_timing_to_the_host(
    bundle: BoardBundle,
) -> None:
    code, payload = _agent(sys.executable, "--bundle", str(bundle.path), "--emulate", "--batch", "16")
    assert code == 0, payload
    assert payload["emulated"] is True and payload["timing_provenance"] == "hls"
    assert payload["n_checked"] == payload["n_bit_exact"] == 32
    assert payload["reference"]["argmax_agreement"] == 1.0 and payload["reference"]["max_abs_error"] == 0.0
    assert "throughput_fps" not in payload  # modelled on the host (hil.board._transfer), not here


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


def test_real_pynq4_on_the_flat_overlay_measures_the_known_rate_and_power_during_the_window(
    pynq4_python: str, overlay_bundle: BoardBundle
) -> None:
    """Real pynq 4.0 (its Overlay, hwh parser, DMA driver, Clocks) on the stand-in device: 16 images per
    40 ms transfer must measure 400 images/s within 5 %; power is the busy figure, read during the window."""
    code, payload = _agent(
        pynq4_python,
        "--bundle", str(overlay_bundle.path), "--batch", "16", "--min-seconds", "1.0",
        "--repeats", "20", "--warmup", "2",
    )  # fmt: skip
    assert code == 0, payload
    assert payload["versions"]["pynq"] == "4.0.0" and payload["versions"]["numpy"].startswith("1.")
    assert payload["device"]["standin"] is True and payload["device"]["class"].endswith("HilStandinDevice")
    assert payload["emulated"] is False and payload["dma"]["path"] == "axi_dma_0"
    known_rate = 16 / 0.04
    assert payload["throughput_fps"] == pytest.approx(known_rate, rel=0.05)
    assert payload["window_seconds"] >= 1.0
    assert payload["n_bit_exact"] == payload["n_checked"] == 32
    assert payload["window_check"] == {"images": payload["images"], "wrong": 0, "first_wrong": None}
    assert payload["latency_check"] == {"images": 20, "wrong": 0}
    assert payload["latency_ms"]["image_p50"] == pytest.approx(40.0, rel=0.05)
    # the PL clock as pynq's Clocks computes it from the divisors the overlay's hwh set (IOPLL / 15)
    assert payload["clock_mhz"] == pytest.approx(100.0, abs=0.01)
    power = payload["power"]  # busy 9.25 W during transfers, 7.5 W idle: read before/after it would be 7.5
    assert power["available"] and power["summed"] == ["12V"] and power["basis"] == "board input rail 12V"
    assert power["samples"] >= 20 and power["p50"] == 9.25 and power["max"] == 9.25
    print(
        f"real pynq 4.0 on the stand-in device: {payload['throughput_fps']:.1f} images/s vs {known_rate:.1f}"
    )


def test_real_pynq3_on_the_hierarchical_hls4ml_overlay(
    pynq3_python: str, library: Path, tmp_path: Path
) -> None:
    """The real hls4ml PYNQ-Z2 overlay (DMA in hier_0, no network IP in ip_dict) with pynq 3.1."""
    wrong_free = make_bundle(tmp_path / "z2", library, n=8, overlay=OverlaySpec(0.001, hwh="pynq-z2"))
    code, payload = _agent(
        pynq3_python,
        "--bundle",
        str(wrong_free.path),
        "--batch",
        "4",
        "--min-seconds",
        "0.1",
        "--repeats",
        "5",
    )
    assert code == 0, payload
    assert payload["versions"]["pynq"] == "3.1.2" and payload["dma"]["path"] == "hier_0/axi_dma_0"
    assert payload["n_bit_exact"] == 8 and payload["window_check"]["wrong"] == 0
    assert payload["clock_mhz"] == pytest.approx(100.0)  # IO PLL 1000 MHz / 5 / 2 from the hwh


def test_real_pynq4_refuses_the_zynq7000_overlay_with_a_hint(
    pynq4_python: str, library: Path, tmp_path: Path
) -> None:
    z2 = make_bundle(tmp_path / "z2", library, n=4, overlay=OverlaySpec(0.001, hwh="pynq-z2"))
    code, payload = _agent(pynq4_python, "--bundle", str(z2.path))
    assert code == 3 and payload["error"] == "DEPLOY"
    assert "cannot load the overlay" in payload["message"] and "PYNQ 3.x image" in payload["message"]


def test_one_wrong_output_in_the_timed_window_is_caught(
    pynq4_python: str, library: Path, tmp_path: Path
) -> None:
    """The check inputs pass; one image of one batch inside the timed window is one LSB off."""
    spec = OverlaySpec(0.002, corrupt_batch_transfer=3, corrupt_image=5)  # warm-up is 2 batches
    bundle = make_bundle(tmp_path / "wrong", library, n=8, overlay=spec)
    code, payload = _agent(
        pynq4_python, "--bundle", str(bundle.path), "--batch", "8", "--min-seconds", "0.2", "--warmup", "2"
    )
    assert code == 0 and payload["n_bit_exact"] == payload["n_checked"] == 8
    assert payload["window_check"]["wrong"] == 1
    assert payload["window_check"]["first_wrong"] == {"batch": 0, "image": 5}


def test_a_dma_that_never_finishes_is_a_design_fault(
    pynq4_python: str, library: Path, tmp_path: Path
) -> None:
    bundle = make_bundle(tmp_path / "hang", library, n=4, overlay=OverlaySpec(0.001, hang=True))
    code, payload = _agent(pynq4_python, "--bundle", str(bundle.path), "--dma-timeout", "0.5")
    assert code == 4 and payload["error"] == "DESIGN_FAULT"
    assert "did not finish within 0.5 s" in payload["message"] and "axi_dma_0" in payload["message"]


def test_power_sampler_reports_what_it_read_during_the_window() -> None:
    import importlib.util
    import time

    spec = importlib.util.spec_from_file_location("hil_agent_under_test", AGENT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readings = iter([5.0, 6.0, 7.0, 8.0] + [9.0] * 10_000)
    with module.PowerSampler(lambda: next(readings), period_s=0.001) as sampler:
        time.sleep(0.1)
    summary = sampler.summary({"reported": ["12V"], "summed": ["12V"], "basis": "board input rail 12V"})
    assert summary["samples"] >= 10 and summary["max"] == 9.0 and summary["p50"] == 9.0
    assert sampler.samples[:4] == [5.0, 6.0, 7.0, 8.0]
    empty = module.PowerSampler(lambda: None).summary({"reported": [], "summed": []})
    assert empty == {"reported": [], "summed": [], "available": False, "message": "no power sensors"}
    assert np.isfinite(summary["p50"])


def _agent_module():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("hil_agent_under_test", AGENT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Sensor:
    def __init__(self, value: float) -> None:
        self.value = value


class _Rail:
    def __init__(self, watts: float | None) -> None:
        self.power = None if watts is None else _Sensor(watts)


class _Pynq:
    def __init__(self, rails: dict[str, _Rail] | Exception) -> None:
        self._rails = rails

    def get_rails(self) -> dict[str, _Rail]:
        if isinstance(self._rails, Exception):
            raise self._rails
        return self._rails


# What pynq.get_rails() reports on a ZCU104 (PYNQ's sensorconf zcu104.conf, ../shared/DESIGN.md).
ZCU104_RAILS = ("12V", "INT", "1V8", "1V2", "MGTA", "3V3", "1V13", "5V0", "FMC", "MGTRA")


def test_power_on_zcu104_rails_is_the_12v_board_input_alone() -> None:
    module = _agent_module()
    rails = {
        name: _Rail(watts)
        for name, watts in zip(ZCU104_RAILS, (9.5, 2.0, 0.4, 0.3, 0.1, 0.6, 0.2, 1.1, 0.0, 0.1), strict=True)
    }
    read, described = module.power_reader(_Pynq(rails))
    assert read() == 9.5 and described["summed"] == ["12V"] and described["basis"] == "board input rail 12V"
    assert described["reported"] == sorted(ZCU104_RAILS)


def test_power_without_an_input_rail_sums_what_is_reported_and_says_so() -> None:
    module = _agent_module()  # KV260's rail names are unpublished: whatever get_rails() gives is data
    read, described = module.power_reader(
        _Pynq({"VCC_SOM": _Rail(3.0), "VCC_IO": _Rail(0.5), "TEMP": _Rail(None)})
    )
    assert read() == 3.5 and described["summed"] == ["VCC_IO", "VCC_SOM"]
    assert described["basis"] == "sum of rails VCC_IO, VCC_SOM"


def test_no_power_sensors_is_said_not_invented() -> None:
    module = _agent_module()  # PYNQ-Z2 ships no sensor configuration: get_rails() is empty (or fails)
    for pynq in (_Pynq({}), _Pynq(RuntimeError("no sensors")), object()):
        read, described = module.power_reader(pynq)
        assert read is None and described["summed"] == []


def test_emulated_window_charges_what_the_agents_window_charges() -> None:
    """The agent times only the DMA round trip of a batch already in the buffer (no host copy): so does
    the model, whatever the number of values per image; its basis says it is unvalidated."""
    from hil.board import EMULATION_BASIS, emulated_timing

    common = {"ii_cycles": 1.0, "latency_cycles": 10.0, "clock_mhz": 100.0, "board": "pynq-z2"}
    narrow = emulated_timing(values_in=16, values_out=5, batch=1000, timing_provenance="hls", **common)
    stream_s = 1000 * 4 * 16 / (4 * 100e6)  # one 32-bit word per clock, 16 words an image
    assert narrow.batch_seconds == pytest.approx(85e-6 + stream_s)
    assert narrow.image_seconds == pytest.approx(85e-6 + 16 / 100e6)
    assert EMULATION_BASIS["status"] == "unvalidated" and "UNVALIDATED" in narrow.basis
