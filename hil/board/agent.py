#!/usr/bin/env python3
"""hil board agent: runs ON the board, measures one bundle, prints one JSON object.

Why one standalone file: a PYNQ image has its own Python (3.8 and newer), numpy (1.x or 2.x)
and pynq, and nothing else of ours. The host uploads this file next to the bundle over SFTP and
runs it; it imports no hil module, never uses eval or pickle, and reads only JSON and .npy files
(``allow_pickle=False``).

What it does, in order, and why in that order:

1. verify: its own sha256 (``--self-sha256``), the manifest's (``--manifest-sha256``) and every
   file the manifest lists, *before* loading anything: a truncated upload must not program the
   FPGA or be loaded as a shared library.
2. load: the overlay (``design.bit`` + ``design.hwh``) with pynq, or with ``--emulate`` the
   bundle's C simulation library (``csim.so``, top function ``<project>_float``).
3. check: every input of ``inputs.npy`` through the design, compared with ``expected.npy``
   (the C simulation's outputs): the count of bit-exact samples.
4. measure: real path: warm-up batches, then batches over at least ``--min-seconds`` of work
   (throughput), then ``--repeats`` single-image transfers (latency p50/p99), the PL clock and,
   where the board exposes PMBus rails, power. Emulated path: no timed window; throughput and
   latency are *modelled* from the bundle's II/latency at its clock, and the JSON says
   ``"emulated": true`` and the provenance of that timing.

Exit status: 0 with a result (even when outputs differ: the host judges), 2 bad arguments,
3 integrity or deploy failure, 4 run failure. Every exit prints one JSON object on stdout; the
design's own C++ prints are redirected to stderr so they cannot corrupt it.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import platform
import re
import signal
import sys
import time

AGENT_VERSION = "1"
BUNDLE_FORMAT_VERSION = 1
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_POWER_RAILS = ("12V", "VIN", "PSINT_FP", "VCCINT")  # board input first: one rail, no double counting


class AgentError(Exception):
    """A failure with the error code the host records (DEPLOY, RUN_TIMEOUT, ...)."""

    def __init__(self, code, message, status=4):
        super().__init__(message)
        self.code = code
        self.status = status


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions():
    info = {"agent": AGENT_VERSION, "python": platform.python_version()}
    try:
        import numpy

        info["numpy"] = numpy.__version__
    except ImportError:
        info["numpy"] = None
    try:
        import pynq

        info["pynq"] = getattr(pynq, "__version__", "unknown")
        info["pynq_standin"] = bool(getattr(pynq, "HIL_STANDIN", False))
    except Exception:  # pynq raises more than ImportError without a board
        info["pynq"] = None
    return info


def verify_bundle(folder, manifest_sha256=None):
    """Check names and sha256 of everything before anything is loaded; returns the manifest."""
    manifest_path = os.path.join(folder, "bundle.json")
    if not os.path.isfile(manifest_path):
        raise AgentError("DEPLOY", f"bundle.json is missing from {folder}", 3)
    if manifest_sha256 and sha256_file(manifest_path) != manifest_sha256:
        raise AgentError("DEPLOY", "sha256 mismatch for bundle.json (corrupted upload)", 3)
    with open(manifest_path, encoding="utf-8") as handle:
        try:
            manifest = json.load(handle)
        except ValueError as exc:
            raise AgentError("DEPLOY", f"bundle.json is not valid JSON ({exc})", 3) from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise AgentError("DEPLOY", "unsupported bundle format_version", 3)
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise AgentError("DEPLOY", "bundle.json has no files map", 3)
    for name, expected in sorted(files.items()):
        if not _SAFE_NAME.fullmatch(name):
            raise AgentError("DEPLOY", f"unsafe file name in bundle: {name!r}", 3)
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise AgentError("DEPLOY", f"bundle file {name} is missing", 3)
        if sha256_file(path) != expected:
            raise AgentError("DEPLOY", f"sha256 mismatch for {name} (corrupted upload)", 3)
    return manifest


def _percentile_ms(seconds, q):
    import numpy as np

    return float(np.percentile(np.asarray(seconds, dtype=np.float64), q) * 1e3) if seconds else None


def _compare(outputs, expected):
    import numpy as np

    outputs = outputs.reshape(len(expected), -1)
    same = np.all(outputs == expected, axis=1)
    diff = np.abs(outputs.astype(np.float64) - expected.astype(np.float64))
    return {
        "n_checked": len(expected),
        "n_bit_exact": int(np.count_nonzero(same)),
        "max_abs_error": float(diff.max()) if diff.size else 0.0,
        "argmax_agreement": float(np.mean(outputs.argmax(axis=1) == expected.argmax(axis=1)))
        if expected.size
        else 1.0,
    }


class CSimDesign:
    """The bundle's C simulation library, called one sample at a time like hls4ml's predict."""

    def __init__(self, folder, manifest):
        path = os.path.join(folder, "csim.so")
        if "csim.so" not in manifest["files"]:
            raise AgentError("DEPLOY", "--emulate needs csim.so in the bundle", 3)
        try:
            library = ctypes.CDLL(os.path.abspath(path))
            self._top = getattr(library, "{}_float".format(manifest.get("project", "myproject")))
        except (OSError, AttributeError) as exc:
            raise AgentError("DEPLOY", f"cannot load csim.so: {exc}", 3) from None
        pointer = ctypes.POINTER(ctypes.c_float)
        self._top.argtypes = [pointer, pointer]
        self._top.restype = None
        self._pointer = pointer
        self.n_out = int(manifest["output_shape"][-1])

    def run(self, inputs):
        import numpy as np

        outputs = np.zeros((len(inputs), self.n_out), dtype=np.float32)
        for i in range(len(inputs)):
            sample = np.ascontiguousarray(inputs[i], dtype=np.float32)
            self._top(sample.ctypes.data_as(self._pointer), outputs[i].ctypes.data_as(self._pointer))
        return outputs


def _elements(shape):
    """Values per image of a bundle shape [1, ...] (0 when absent)."""
    if not shape:
        return 0
    count = 1
    for dim in shape[1:]:
        count *= int(dim)
    return count


def run_emulated(folder, manifest, inputs, expected, args):
    """Outputs from the C simulation; timing modelled from the bundle's II/latency at its clock."""
    started = time.perf_counter()
    design = CSimDesign(folder, manifest)
    loaded = time.perf_counter()
    outputs = design.run(inputs)
    checked = time.perf_counter()
    timing = manifest.get("timing") or {}
    clock_mhz = float(manifest["clock_mhz"])
    ii = float(timing.get("ii_cycles") or 0)
    latency = float(timing.get("latency_cycles") or 0)
    if ii <= 0 or clock_mhz <= 0:
        raise AgentError("DEPLOY", "bundle timing has no positive ii_cycles/clock_mhz to emulate", 3)
    period_s = 1e-6 / clock_mhz
    batch = args.batch
    # hls4ml's VivadoAccelerator wrapper streams one 32-bit value per cycle over AXI-stream, so an
    # image cannot enter (or leave) faster than its element count, whatever the core's II.
    interface = max(_elements(manifest.get("input_shape")), _elements(manifest.get("output_shape")))
    ii = max(ii, float(interface))
    # A stream design takes a new image every II cycles; a batch ends one latency after its last image.
    batch_s = (latency + (batch - 1) * ii) * period_s
    image_s = max(latency, ii) * period_s
    result = {
        "emulated": True,
        "timing_provenance": timing.get("provenance"),
        "clock_mhz": clock_mhz,
        "throughput_fps": batch / batch_s,
        "ii_cycles_effective": ii,
        "images": 0,
        "window_seconds": 0.0,
        "latency_ms": {
            "batch_p50": batch_s * 1e3,
            "batch_p99": batch_s * 1e3,
            "image_p50": image_s * 1e3,
            "image_p99": image_s * 1e3,
        },
        "power_w": None,
        "stage_seconds": {"load": loaded - started, "check": checked - loaded, "measure": 0.0},
    }
    result.update(_compare(outputs, expected))
    return result


def _find_dma(overlay):
    dma = getattr(overlay, "axi_dma_0", None)  # hls4ml's VivadoAccelerator names it so
    if dma is not None:
        return dma
    for name in sorted(getattr(overlay, "ip_dict", {}) or {}):
        if "dma" in name.lower():
            return getattr(overlay, name)
    raise AgentError("DEPLOY", "the overlay has no AXI DMA (expected axi_dma_0)", 3)


def _read_power(pynq):
    get_rails = getattr(pynq, "get_rails", None)
    if get_rails is None:
        return None, {}
    try:
        rails = get_rails()
    except Exception:  # boards without PMBus raise various errors: power is optional
        return None, {}
    watts = {}
    for name, rail in rails.items():
        sensor = getattr(rail, "power", None)
        if sensor is not None:
            watts[name] = float(sensor.value)
    for wanted in _POWER_RAILS:
        for name, value in watts.items():
            if name.upper() == wanted:
                return value, watts
    return None, watts


def _read_clock(pynq):
    clocks = getattr(pynq, "Clocks", None)
    if clocks is None:
        return None
    try:
        return float(clocks.fclk0_mhz)
    except Exception:  # not every image exposes the PS clock registers
        return None


def run_overlay(folder, manifest, inputs, expected, args):
    """Real path: program the overlay, stream through the DMA, time batches and single images."""
    import numpy as np

    for name in ("design.bit", "design.hwh"):
        if name not in manifest["files"]:
            raise AgentError("DEPLOY", f"bundle has no {name} (an estimate build cannot run on a board)", 3)
    started = time.perf_counter()
    try:
        import pynq

        overlay = pynq.Overlay(os.path.abspath(os.path.join(folder, "design.bit")))
    except Exception as exc:  # pynq reports a missing device, a bad bitstream, ... with many types
        raise AgentError("DEPLOY", f"cannot load the overlay: {str(exc).splitlines()[0]}", 3) from None
    dma = _find_dma(overlay)
    send, recv = dma.sendchannel, dma.recvchannel
    batch = args.batch
    n_out = int(manifest["output_shape"][-1])
    sample_shape = tuple(inputs.shape[1:])
    in_buf = pynq.allocate(shape=(batch, *sample_shape), dtype=np.float32)
    out_buf = pynq.allocate(shape=(batch, n_out), dtype=np.float32)
    in_one = pynq.allocate(shape=(1, *sample_shape), dtype=np.float32)
    out_one = pynq.allocate(shape=(1, n_out), dtype=np.float32)
    loaded = time.perf_counter()

    def transfer(source, sink):
        send.transfer(source)
        recv.transfer(sink)
        send.wait()
        recv.wait()

    outputs = np.zeros((len(inputs), n_out), dtype=np.float32)
    for i in range(len(inputs)):  # one image at a time: no padding of a partial batch
        in_one[:] = inputs[i : i + 1]
        transfer(in_one, out_one)
        outputs[i] = out_one[0]
    checked = time.perf_counter()
    for i in range(batch):
        in_buf[i] = inputs[i % len(inputs)]
    for _ in range(args.warmup):
        transfer(in_buf, out_buf)
    warmed = time.perf_counter()
    power_before, _ = _read_power(pynq)
    batch_seconds = []
    window_start = time.perf_counter()
    now = window_start
    while now - window_start < args.min_seconds or not batch_seconds:
        before = now
        transfer(in_buf, out_buf)
        now = time.perf_counter()
        batch_seconds.append(now - before)
    window = now - window_start
    power_after, rails = _read_power(pynq)
    image_seconds = []
    for _ in range(args.repeats):
        before = time.perf_counter()
        transfer(in_one, out_one)
        image_seconds.append(time.perf_counter() - before)
    done = time.perf_counter()
    for buffer in (in_buf, out_buf, in_one, out_one):
        free = getattr(buffer, "freebuffer", None)
        if free is not None:
            free()
    powers = [p for p in (power_before, power_after) if p is not None]
    result = {
        "emulated": False,
        "timing_provenance": None,
        "clock_mhz": _read_clock(pynq),
        "throughput_fps": len(batch_seconds) * batch / window,
        "images": len(batch_seconds) * batch,
        "window_seconds": window,
        "latency_ms": {
            "batch_p50": _percentile_ms(batch_seconds, 50),
            "batch_p99": _percentile_ms(batch_seconds, 99),
            "image_p50": _percentile_ms(image_seconds, 50),
            "image_p99": _percentile_ms(image_seconds, 99),
        },
        "power_w": sum(powers) / len(powers) if powers else None,
        "rails_w": rails,
        "stage_seconds": {
            "load": loaded - started,
            "check": checked - loaded,
            "warmup": warmed - checked,
            "measure": window,
            "latency": done - window_start - window,
        },
    }
    result.update(_compare(outputs, expected))
    return result


def measure(args):
    import numpy as np

    started = time.perf_counter()
    if args.self_sha256 and sha256_file(os.path.abspath(__file__)) != args.self_sha256:
        raise AgentError("DEPLOY", "sha256 mismatch for the agent itself (corrupted upload)", 3)
    folder = os.path.abspath(args.bundle)
    manifest = verify_bundle(folder, args.manifest_sha256)
    verified = time.perf_counter()
    inputs = np.load(os.path.join(folder, "inputs.npy"), allow_pickle=False).astype(np.float32)
    expected = np.load(os.path.join(folder, "expected.npy"), allow_pickle=False).astype(np.float32)
    expected = expected.reshape(len(expected), -1)
    if len(inputs) == 0 or len(inputs) != len(expected):
        raise AgentError("DEPLOY", f"bundle has {len(inputs)} inputs but {len(expected)} expected outputs", 3)
    run = run_emulated if args.emulate else run_overlay
    result = run(folder, manifest, inputs, expected, args)
    result["stage_seconds"]["verify"] = verified - started
    result.update(
        {
            "ok": True,
            "design_key": manifest.get("design_key"),
            "board": manifest.get("board"),
            "batch": args.batch,
            "versions": _versions(),
        }
    )
    return result


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _parser():
    parser = argparse.ArgumentParser(prog="agent.py", description="hil board agent (prints one JSON object)")
    parser.add_argument("--version", action="store_true", help="print versions and this file's sha256")
    parser.add_argument("--bundle", help="bundle folder (bundle.json + files)")
    parser.add_argument("--emulate", action="store_true", help="C-sim outputs, modelled timing")
    parser.add_argument("--batch", type=_positive_int, default=64, help="images per DMA transfer")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="timed window of work")
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches before the window")
    parser.add_argument("--repeats", type=_positive_int, default=100, help="single-image latency runs")
    parser.add_argument("--manifest-sha256", help="expected sha256 of bundle.json")
    parser.add_argument("--self-sha256", help="expected sha256 of this file")
    parser.add_argument("--deadline", type=float, default=0.0, help="exit after this many seconds")
    return parser


def _emit(fd, payload):
    data = (json.dumps(payload, sort_keys=True) + "\n").encode("utf-8")
    while data:
        data = data[os.write(fd, data) :]


def _on_deadline(signum, frame):
    raise AgentError("RUN_TIMEOUT", "agent passed its --deadline", 4)


def main(argv=None):
    args = _parser().parse_args(argv)
    # Keep stdout for the one JSON object: anything the C++ design or pynq prints goes to stderr.
    sys.stdout.flush()
    result_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        if args.deadline > 0:
            signal.signal(signal.SIGALRM, _on_deadline)
            signal.setitimer(signal.ITIMER_REAL, args.deadline)
        if args.version:
            payload = dict(_versions(), ok=True, sha256=sha256_file(os.path.abspath(__file__)))
            status = 0
        elif not args.bundle:
            payload, status = {"ok": False, "error": "DEPLOY", "message": "give --version or --bundle DIR"}, 2
        else:
            payload, status = measure(args), 0
    except AgentError as exc:
        payload, status = {"ok": False, "error": exc.code, "message": str(exc)}, exc.status
    except Exception as exc:  # report, never a traceback on stdout: the host parses one object
        message = "{}: {}".format(type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        payload, status = {"ok": False, "error": "DEPLOY", "message": message}, 4
    finally:
        if args.deadline > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
    sys.stdout.flush()
    _emit(result_fd, payload)
    return status


if __name__ == "__main__":
    sys.exit(main())
