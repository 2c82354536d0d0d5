#!/usr/bin/env python3
"""hil board agent: runs ON the board, measures one bundle (or probes an overlay), prints one JSON object.

Why one standalone file (longer than hil's other modules, on purpose): a PYNQ image has its own
Python (3.8 and newer), numpy (1.x or 2.x) and pynq (2.7, 3.x or 4.0), and nothing else of ours.
The host uploads this one file next to the bundle over SFTP, checks its sha256 (one file, one
digest: nothing else can be half-updated on the board), and runs it; it imports no hil module,
never uses eval or pickle, and reads only JSON, .npy (``allow_pickle=False``) and .hwh (XML).

``--bundle DIR`` measures, in this order (and why in this order):

1. verify: its own sha256 (``--self-sha256``), the manifest's (``--manifest-sha256``) and every
   file the manifest lists, *before* loading anything: a truncated upload must not program the
   FPGA or be loaded as a shared library.
2. load: the overlay (``design.bit`` + ``design.hwh``) with pynq, or with ``--emulate`` the
   bundle's C simulation library (``csim.so``, top function ``<project>_float``).
3. find the DMA by IP type (``xilinx.com:ip:axi_dma:*``) in pynq's ``ip_dict``, whatever the
   hierarchy (hls4ml's VivadoAccelerator designs put it in ``hier_0``), and take its largest
   transfer and stream widths from its parameters; the network IP need not be in ``ip_dict``
   (an hls4ml IP has only AXI-Stream ports, so it has no address).
4. check: every input of ``inputs.npy`` through the design, one image per transfer, against
   ``expected.npy`` (the C simulation's outputs, bit-exact) and ``reference.npy`` when the bundle
   has it (the reference model's outputs: argmax agreement and error, for the host to judge).
5. measure (real path only): warm-up batches, then batches for at least ``--min-seconds``. Every
   timed batch's outputs are compared with the expected outputs, which were laid out before the
   window, and the output buffer is poisoned with NaN before each transfer, so a stale or lost
   result counts as wrong. Power is sampled in a thread *during* the window (p50 and max);
   latency p50/p99 come from ``--repeats`` single-image transfers, each checked too. A DMA that
   does not finish within ``--dma-timeout`` is a design fault, never a hang.

Emulated runs stop after step 4: their timing is modelled on the host from the bundle's II and
latency plus a host-transfer model, and labelled ``emulated``.

``--probe OVERLAY.hwh`` prints what step 3 would use (DMA path, largest transfer, stream widths,
the PS) without a device, with PYNQ's own metadata parser when pynq is importable (pynq 4's
``pynqmetadata``, pynq 3's runtime parser, pynq 2's HWH classes) and a small built-in reader of
the same XML otherwise. ``hil boards --check --bundle`` runs it on the board.

Exit status: 0 with a result (even when outputs differ: the host judges), 2 bad arguments,
3 integrity or deploy failure, 4 run or design failure. Every exit prints one JSON object on
stdout (``--probe`` without ``--json`` prints a few lines of text); the design's own C++ prints
are redirected to stderr so they cannot corrupt it. Error codes: DEPLOY (the bundle or the
board's software), DESIGN_FAULT (the design misbehaved: no DMA, a DMA error or timeout, an
exception while running it), RUN_TIMEOUT (``--deadline`` passed).
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
import threading
import time
import xml.etree.ElementTree as ET

AGENT_VERSION = "2"
BUNDLE_FORMAT_VERSION = 1
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_POWER_RAILS = ("12V", "VIN", "VCC12", "VCCIN")  # board-input rails: one of them is the whole board
_DMA_TYPE = "xilinx.com:ip:axi_dma:"
_PS_TYPES = {"processing_system7": "zynq7000", "zynq_ultra_ps_e": "zynqmp", "versal_cips": "versal"}


class AgentError(Exception):
    """A failure with the error code the host records (DEPLOY, DESIGN_FAULT, RUN_TIMEOUT)."""

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


def _import_pynq():
    try:
        import pynq

        return pynq
    except Exception:  # pynq raises more than ImportError without a board
        return None


def _versions():
    info = {"agent": AGENT_VERSION, "python": platform.python_version()}
    try:
        import numpy

        info["numpy"] = numpy.__version__
    except ImportError:
        info["numpy"] = None
    pynq = _import_pynq()
    info["pynq"] = getattr(pynq, "__version__", "unknown") if pynq is not None else None
    return info


def _board_name():
    """The board name PYNQ's image gives: $BOARD (from /etc/profile.d/boardname.sh), else the device tree."""
    name = os.environ.get("BOARD")
    if name:
        return name
    try:
        with open("/proc/device-tree/chosen/pynq_board", "rb") as handle:
            return handle.read().rstrip(b"\x00\n").decode("utf-8", "replace") or None
    except OSError:
        return None


def setup_facts(workdir):
    """What ``hil boards --check`` needs to judge the board's set-up (never raises)."""
    facts = {
        "ok": True,
        "euid": os.geteuid(),
        "python": sys.executable,
        "arch": platform.machine(),
        "xilinx_xrt": os.environ.get("XILINX_XRT"),
        "board_name": _board_name(),
        "pynq": None,
        "pynq_error": None,
        "device": None,
    }
    try:
        import pwd

        facts["user"] = pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        facts["user"] = None
    try:
        stat = os.statvfs(workdir)
        facts["disk_free_bytes"] = stat.f_bavail * stat.f_frsize
    except OSError:
        facts["disk_free_bytes"] = None
    try:
        import pynq
    except Exception as exc:  # ImportError, or pynq's own errors without a board
        facts["pynq_error"] = "{}: {}".format(
            type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""
        )
    else:
        facts["pynq"] = getattr(pynq, "__version__", "unknown")
        facts["device"] = _device_info(pynq)
    return facts


def _device_info(pynq):
    """The device pynq drives; ``standin`` when it is not one of pynq's own device classes."""
    try:
        device = pynq.Device.active_device
    except Exception as exc:  # "No Devices Found" and friends
        return {"name": None, "class": None, "standin": None, "error": str(exc).splitlines()[0]}
    cls = type(device)
    module = cls.__module__ or ""
    standin = bool(getattr(device, "HIL_STANDIN", False)) or not module.startswith("pynq.")
    return {"name": getattr(device, "name", None), "class": module + "." + cls.__name__, "standin": standin}


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


# --- overlay metadata: PYNQ's parsers, or the same XML read by hand -------------------------


def _lower_keys(parameters):
    return {str(k).lower(): v for k, v in (parameters or {}).items()}


def _builtin_ip_dict(hwh_path):
    """ip_dict-like entries for the IP the PS addresses, read from the .hwh XML (no pynq)."""
    root = ET.parse(hwh_path).getroot()
    modules = {}
    ps_module = None
    for module in root.iter("MODULE"):
        modules[module.get("INSTANCE")] = module
        if module.get("MODTYPE") in _PS_TYPES and ps_module is None:
            ps_module = module
    entries = {}

    def entry(module):
        parameters = {p.get("NAME"): p.get("VALUE") for p in module.iter("PARAMETER") if p.get("NAME")}
        return {"type": module.get("VLNV"), "parameters": parameters, "fullpath": module.get("FULLNAME", "")}

    if ps_module is not None:
        key = ps_module.get("FULLNAME", "").lstrip("/")
        entries[key] = dict(entry(ps_module), phys_addr=None, addr_range=None)
        for memrange in ps_module.iter("MEMRANGE"):
            module = modules.get(memrange.get("INSTANCE"))
            if module is None or memrange.get("MEMTYPE") != "REGISTER":
                continue
            base = int(memrange.get("BASEVALUE"), 16)
            high = int(memrange.get("HIGHVALUE"), 16)
            key = module.get("FULLNAME", "").lstrip("/")
            entries[key] = dict(entry(module), phys_addr=base, addr_range=high - base + 1)
    return entries


def _pynq_ip_dict(hwh_path, pynq, ps_kind):
    """(ip_dict, parser name) from the metadata parser of the installed pynq version."""
    version = getattr(pynq, "__version__", "?")
    try:
        from pynqmetadata.frontends import Metadata
    except ImportError:
        Metadata = None
    if Metadata is not None:
        for where in ("pynq.metadata.runtime_metadata_parser", "pynqmetadata.views.runtime"):
            try:
                module = __import__(where, fromlist=["RuntimeMetadataParser"])
            except ImportError:
                continue
            parser = module.RuntimeMetadataParser(Metadata(input=hwh_path))
            return dict(parser.ip_dict), f"{where}.RuntimeMetadataParser (pynq {version})"
    from pynq.pl_server import hwh_parser  # pynq 2.x: the generic HWH class needs the board's CPU

    cls = hwh_parser._HWHUltrascale if ps_kind == "zynqmp" else hwh_parser._HWHZynq
    parser = cls(hwh_name=hwh_path)
    return dict(parser.ip_dict), f"pynq.pl_server.hwh_parser.{cls.__name__} (pynq {version})"


def dma_description(key, ip):
    """What the agent uses of one AXI DMA: path, largest transfer, stream and memory widths."""
    params = _lower_keys(ip.get("parameters"))

    def number(name, default=None):
        value = params.get(name)
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    length_width = number("c_sg_length_width", 26)
    interrupts = ip.get("interrupts")
    return {
        "path": key,
        "type": ip.get("type"),
        "phys_addr": ip.get("phys_addr"),
        "max_transfer_bytes": (1 << length_width) - 1,
        "in_width_bits": number("c_m_axis_mm2s_tdata_width"),
        "out_width_bits": number("c_s_axis_s2mm_tdata_width"),
        "mm2s_memory_width_bits": number("c_m_axi_mm2s_data_width"),
        "s2mm_memory_width_bits": number("c_m_axi_s2mm_data_width"),
        "mm2s": bool(number("c_include_mm2s", 1)),
        "s2mm": bool(number("c_include_s2mm", 1)),
        "scatter_gather": bool(number("c_include_sg", 0)),
        "interrupts": sorted(interrupts) if isinstance(interrupts, dict) else None,
    }


def choose_dma(ip_dict):
    """The DMA to drive: of type axi_dma, with both channels; the first by path when several."""
    dmas = [
        dma_description(key, ip)
        for key, ip in sorted(ip_dict.items())
        if str(ip.get("type") or "").startswith(_DMA_TYPE)
    ]
    usable = [d for d in dmas if d["mm2s"] and d["s2mm"] and d["phys_addr"] is not None]
    return (usable[0] if usable else None), dmas


def _vlnv_name(vlnv):
    parts = str(vlnv or "").split(":")
    return parts[2] if len(parts) > 2 else ""


def probe(hwh_path, parser="auto"):
    """Describe an overlay's DMA and PS from its .hwh, as the measurement would use them."""
    if not os.path.isfile(hwh_path):
        raise AgentError("DEPLOY", f"no such hardware handoff file: {hwh_path}", 2)
    try:
        builtin = _builtin_ip_dict(hwh_path)
    except ET.ParseError as exc:
        raise AgentError("DEPLOY", f"{hwh_path} is not a hardware handoff (XML: {exc})", 3) from None
    ps = [(k, v) for k, v in builtin.items() if _vlnv_name(v["type"]) in _PS_TYPES]
    ps_kind = _PS_TYPES[_vlnv_name(ps[0][1]["type"])] if ps else None
    pynq = _import_pynq() if parser in ("auto", "pynq") else None
    if parser == "pynq" and pynq is None:
        raise AgentError("DEPLOY", "--parser pynq: pynq is not importable here", 2)
    ip_dict, parser_name = builtin, "hil built-in .hwh reader"
    if pynq is not None:
        try:
            ip_dict, parser_name = _pynq_ip_dict(hwh_path, pynq, ps_kind)
        except Exception as exc:  # say so, and still answer from the same XML
            if parser == "pynq":
                raise AgentError("DEPLOY", f"pynq's parser could not read {hwh_path}: {exc}", 3) from None
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            parser_name += f" (pynq {getattr(pynq, '__version__', '?')}'s parser failed: {first})"
    chosen, dmas = choose_dma(ip_dict)
    return {
        "ok": chosen is not None,
        "hwh": os.path.abspath(hwh_path),
        "parser": parser_name,
        "pynq": getattr(pynq, "__version__", None) if pynq is not None else None,
        "ps": {"path": ps[0][0], "type": ps[0][1]["type"], "family": ps_kind} if ps else None,
        "dma": chosen,
        "dmas": dmas,
        "ip": sorted(ip_dict),
        "message": "DMA {} found".format(chosen["path"]) if chosen else "no AXI DMA with MM2S and S2MM",
    }


# --- comparisons -----------------------------------------------------------------------------


def _percentile_ms(seconds, q):
    import numpy as np

    return float(np.percentile(np.asarray(seconds, dtype=np.float64), q) * 1e3) if seconds else None


def _compare(outputs, expected):
    """Bit-exactness against the C simulation's outputs."""
    import numpy as np

    outputs = outputs.reshape(len(expected), -1)
    same = np.all(outputs == expected, axis=1)
    diff = np.abs(outputs.astype(np.float64) - expected.astype(np.float64))
    return {
        "n_checked": len(expected),
        "n_bit_exact": int(np.count_nonzero(same)),
        "max_abs_error": float(np.nanmax(diff)) if diff.size and not np.all(np.isnan(diff)) else 0.0,
    }


def _compare_reference(outputs, reference):
    """Agreement with the reference model (onnxruntime/qonnx/torch), for the host to judge."""
    import numpy as np

    if reference is None:
        return None
    outputs = outputs.reshape(len(reference), -1).astype(np.float64)
    diff = np.abs(outputs - reference.astype(np.float64))
    agree = outputs.argmax(axis=1) == reference.argmax(axis=1) if reference.shape[1] > 1 else None
    return {
        "n": len(reference),
        "argmax_agreement": float(np.mean(agree)) if agree is not None else None,
        "max_abs_error": float(np.nanmax(diff)) if diff.size and not np.all(np.isnan(diff)) else 0.0,
        "mean_abs_error": float(np.nanmean(diff)) if diff.size and not np.all(np.isnan(diff)) else 0.0,
    }


# --- emulation: the C simulation library -----------------------------------------------------


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


def run_emulated(folder, manifest, data, args):
    """The design's outputs from its C simulation; timing is the host's to model."""
    inputs, expected, reference = data
    started = time.perf_counter()
    design = CSimDesign(folder, manifest)
    loaded = time.perf_counter()
    outputs = design.run(inputs)
    checked = time.perf_counter()
    result = {
        "emulated": True,
        "timing_provenance": (manifest.get("timing") or {}).get("provenance"),
        "stage_seconds": {"load": loaded - started, "check": checked - loaded},
        "reference": _compare_reference(outputs, reference),
    }
    result.update(_compare(outputs, expected))
    return result


# --- the real path: pynq, the DMA, a checked timed window ------------------------------------


class DmaLink:
    """Send/receive through one AXI DMA; a transfer that does not finish in time is a design fault."""

    def __init__(self, driver, description, timeout_s):
        self.send, self.recv = driver.sendchannel, driver.recvchannel
        self.description = description
        self.timeout_s = timeout_s

    def _finish(self, channel, nbytes, started):
        while not channel.idle:
            if getattr(channel, "error", False):
                break  # wait() raises pynq's own description of the error
            elapsed = time.perf_counter() - started
            if elapsed > 1e-3:  # spin for short transfers; back off (<= 2 % of the elapsed time) on long ones
                time.sleep(min(1e-3, elapsed / 50))
            if elapsed > self.timeout_s:
                raise AgentError(
                    "DESIGN_FAULT",
                    "DMA transfer of {} bytes through {} did not finish within {:g} s: the design never "
                    "returned its outputs".format(nbytes, self.description["path"], self.timeout_s),
                )
        try:
            channel.wait()
        except RuntimeError as exc:
            raise AgentError("DESIGN_FAULT", "DMA {}: {}".format(self.description["path"], exc)) from None

    def transfer(self, source, sink):
        started = time.perf_counter()
        self.send.transfer(source)
        self.recv.transfer(sink)
        self._finish(self.send, source.nbytes, started)
        self._finish(self.recv, sink.nbytes, started)


def find_dma(overlay, timeout_s):
    """The overlay's AXI DMA driver, found by IP type in ``ip_dict`` and reached by its path."""
    chosen, dmas = choose_dma(getattr(overlay, "ip_dict", {}) or {})
    if chosen is None:
        found = ", ".join(d["path"] for d in dmas) or "none"
        raise AgentError(
            "DESIGN_FAULT",
            f"the overlay has no AXI DMA with both channels (IP of type {_DMA_TYPE}*; found: {found})",
        )
    driver = overlay
    for part in chosen["path"].split("/"):
        driver = getattr(driver, part)
    for key, width in (
        ("in_width_bits", chosen["in_width_bits"]),
        ("out_width_bits", chosen["out_width_bits"]),
    ):
        if width not in (None, 32):
            raise AgentError(
                "DESIGN_FAULT",
                "DMA {} streams {}-bit words ({}); the bundle's float32 I/O needs 32-bit".format(
                    chosen["path"], width, key
                ),
            )
    limit = getattr(driver, "buffer_max_size", None)
    if isinstance(limit, int) and limit > 0:
        chosen["max_transfer_bytes"] = limit
    return DmaLink(driver, chosen, timeout_s)


class PowerSampler:
    """Samples a power reading in a thread while a window runs; p50 and max of what it saw."""

    def __init__(self, read, period_s=0.01):
        self._read = read
        self._period_s = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hil-power", daemon=True)
        self.samples = []

    def _run(self):
        while True:
            try:
                value = self._read()
            except Exception:  # a sensor that fails mid-run: keep what was read
                value = None
            if value is not None:
                self.samples.append(float(value))
            if self._stop.wait(self._period_s):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self, rails):
        import numpy as np

        if not self.samples:
            return dict(rails, available=False, message="no power sensors")
        values = np.asarray(self.samples, dtype=np.float64)
        return dict(
            rails,
            available=True,
            p50=float(np.median(values)),
            max=float(values.max()),
            samples=len(values),
        )


def power_reader(pynq):
    """(read(), rails) for the board's power from what ``pynq.get_rails()`` reports; (None, rails) if none.

    Which rails: a board-input rail (``12V``, ``VIN``, ...: the whole board's draw; ZCU104's PMBus
    names it 12V) alone when there is one, since the other rails are fed from it; otherwise the
    sum of every rail with a power sensor (KV260's names are unpublished: they are data). The
    names go into the result, so a figure always says what it sums. PYNQ-Z2 reports none.
    """
    get_rails = getattr(pynq, "get_rails", None)
    if get_rails is None:
        return None, {"reported": [], "summed": []}
    try:
        rails = dict(get_rails() or {})
    except Exception:  # boards without PMBus raise various errors: power is optional
        rails = {}
    powered = {name: rail for name, rail in rails.items() if getattr(rail, "power", None) is not None}
    described = {"reported": sorted(rails), "summed": []}
    if not powered:
        return None, described
    inputs = [name for wanted in _POWER_RAILS for name in powered if name.upper() == wanted]
    chosen = inputs[:1] or sorted(powered)
    described["summed"] = chosen
    described["basis"] = (
        f"board input rail {chosen[0]}" if inputs else "sum of rails " + ", ".join(chosen)
    )
    sensors = [powered[name].power for name in chosen]

    def read():
        return sum(float(sensor.value) for sensor in sensors)

    return read, described


def _read_clock(pynq):
    clocks = getattr(pynq, "Clocks", None)
    try:
        return float(clocks.fclk0_mhz) if clocks is not None else None
    except Exception:  # not every image exposes the PS clock registers
        return None


def _overlay_hint(folder, pynq):
    try:
        family = (probe(os.path.join(folder, "design.hwh"), parser="builtin")["ps"] or {}).get("family")
    except AgentError:
        return ""
    major = str(getattr(pynq, "__version__", "0")).split(".")[0]
    if family == "zynq7000" and major.isdigit() and int(major) >= 4:
        return (
            f" (pynq {pynq.__version__} does not support Zynq-7000 boards such as PYNQ-Z1/Z2: "
            "use a PYNQ 3.x image)"
        )
    return ""


def _checked_transfer(link, source, sink, expected):
    """One transfer into a NaN-poisoned sink; returns (seconds, indices of wrong images)."""
    import numpy as np

    sink.fill(np.nan)
    if hasattr(sink, "flush"):
        sink.flush()  # the poison must reach the memory the DMA writes, or a lost write looks right
    before = time.perf_counter()
    link.transfer(source, sink)
    seconds = time.perf_counter() - before
    got = np.asarray(sink).reshape(len(expected), -1)
    wrong = np.flatnonzero(~np.all(got == expected, axis=1))
    return seconds, wrong


def _setup_hint(message):
    """A one-line fix for a set-up failure PYNQ reports at overlay load, or None for other failures."""
    if os.geteuid() != 0 or "Root permissions required" in message:
        return (
            f"PYNQ needs root for overlays, MMIO and DMA and the agent runs as uid {os.geteuid()}: "
            "set run_as: sudo (with the sudoers line `hil boards --check` prints) or user: root"
        )
    if "No Devices Found" in message:
        return (
            "pynq found no device (XILINX_XRT={}): set xrt: /usr for the board in the inventory, as PYNQ's "
            "/etc/profile.d/xrt_setup.sh does".format(os.environ.get("XILINX_XRT"))
        )
    return None


def load_overlay(folder, pynq):
    """Program the bitstream; returns (overlay, sha256 of the file loaded). Set-up faults: BOARD_SETUP."""
    bitfile = os.path.abspath(os.path.join(folder, "design.bit"))
    loaded_sha = sha256_file(bitfile)
    try:
        overlay = pynq.Overlay(bitfile)
    except Exception as exc:  # pynq reports a missing device, root, a bad bitstream, ... with many types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = _setup_hint(first)
        if hint is not None:
            raise AgentError("BOARD_SETUP", f"cannot load the overlay: {first}; {hint}", 3) from None
        raise AgentError(
            "DEPLOY", f"cannot load the overlay: {first}{_overlay_hint(folder, pynq)}", 3
        ) from None
    return overlay, loaded_sha


def _allocate(pynq, shapes):
    """DMA buffers; a board without CMA memory or XRT fails here: the board's set-up, not the design."""
    import numpy as np

    buffers = []
    try:
        for shape in shapes:
            buffers.append(pynq.allocate(shape=shape, dtype=np.float32))
    except Exception as exc:
        _free(buffers)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AgentError(
            "BOARD_SETUP",
            f"pynq.allocate failed ({first}): the board lacks contiguous (CMA) memory or XRT; reboot it or "
            "raise its CMA size",
            3,
        ) from None
    return buffers


def _free(buffers):
    for buffer in buffers:
        free = getattr(buffer, "freebuffer", None)
        if free is not None:
            try:
                free()
            except Exception:  # freeing must never hide the result or the first error
                pass


def _check_inputs(link, inputs, expected, in_one, out_one):
    """Every check input through the design, one image per transfer: the outputs."""
    import numpy as np

    outputs = np.zeros((len(inputs), expected.shape[1]), dtype=np.float32)
    for i in range(len(inputs)):  # one image at a time: no padding of a partial batch
        in_one[:] = inputs[i : i + 1]
        _checked_transfer(link, in_one, out_one, expected[i : i + 1])
        outputs[i] = out_one[0]
    return outputs


def _timed_window(link, in_buf, out_buf, expected_batch, min_seconds, pynq):
    """Checked batches for at least ``min_seconds``, power sampled meanwhile."""
    read_power, rails = power_reader(pynq)
    sampler = PowerSampler(read_power or (lambda: None))
    batch_seconds, wrong_window, first_wrong = [], 0, None
    with sampler:
        window_start = time.perf_counter()
        while time.perf_counter() - window_start < min_seconds or not batch_seconds:
            seconds, wrong = _checked_transfer(link, in_buf, out_buf, expected_batch)
            batch_seconds.append(seconds)
            if len(wrong) and first_wrong is None:
                first_wrong = {"batch": len(batch_seconds) - 1, "image": int(wrong[0])}
            wrong_window += len(wrong)
        window = time.perf_counter() - window_start
    return batch_seconds, wrong_window, first_wrong, window, sampler.summary(rails)


def _single_images(link, inputs, expected, in_one, out_one, repeats):
    image_seconds, wrong_single = [], 0
    for r in range(repeats):
        i = r % len(inputs)
        in_one[:] = inputs[i : i + 1]
        seconds, wrong = _checked_transfer(link, in_one, out_one, expected[i : i + 1])
        image_seconds.append(seconds)
        wrong_single += len(wrong)
    return image_seconds, wrong_single


def run_overlay(folder, manifest, data, args):
    """Real path: program the overlay, stream through the DMA, time checked batches and single images.

    Failure classes: loading the overlay or allocating DMA buffers fails for the board's set-up
    (BOARD_SETUP) or the bundle (DEPLOY); anything once the design runs is the design's
    (DESIGN_FAULT). The DMA buffers are freed on every path.
    """
    import numpy as np

    inputs, expected, reference = data
    started = time.perf_counter()
    for name in ("design.bit", "design.hwh"):  # the bundle's fault, whatever the board has
        if name not in manifest["files"]:
            raise AgentError("DEPLOY", f"bundle has no {name} (an estimate build cannot run on a board)", 3)
    pynq = _import_pynq()
    if pynq is None:
        raise AgentError(
            "BOARD_SETUP", f"pynq is not importable with {sys.executable}: set python: to the PYNQ venv", 3
        )
    overlay, loaded_sha = load_overlay(folder, pynq)
    link = find_dma(overlay, args.dma_timeout)
    sample_shape = tuple(inputs.shape[1:])
    n_out = expected.shape[1]
    in_bytes, out_bytes = 4 * int(np.prod(sample_shape)), 4 * n_out
    limit = link.description["max_transfer_bytes"]
    batch = min(args.batch, limit // in_bytes, limit // out_bytes)
    if batch < 1:
        raise AgentError(
            "DESIGN_FAULT",
            "one image ({} bytes) exceeds DMA {}'s largest transfer ({} bytes)".format(
                max(in_bytes, out_bytes), link.description["path"], limit
            ),
        )
    shapes = [(batch, *sample_shape), (batch, n_out), (1, *sample_shape), (1, n_out)]
    buffers = _allocate(pynq, shapes)
    in_buf, out_buf, in_one, out_one = buffers
    try:
        loaded = time.perf_counter()
        try:
            outputs = _check_inputs(link, inputs, expected, in_one, out_one)
            checked = time.perf_counter()
            order = np.arange(batch) % len(inputs)
            in_buf[:] = inputs[order]
            expected_batch = np.ascontiguousarray(expected[order])  # laid out before the window
            for _ in range(args.warmup):
                _checked_transfer(link, in_buf, out_buf, expected_batch)
            warmed = time.perf_counter()
            batch_seconds, wrong_window, first_wrong, window, power = _timed_window(
                link, in_buf, out_buf, expected_batch, args.min_seconds, pynq
            )
            image_seconds, wrong_single = _single_images(
                link, inputs, expected, in_one, out_one, args.repeats
            )
        except AgentError:
            raise
        except Exception as exc:  # the design (or its driver) misbehaved on a loaded overlay
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise AgentError("DESIGN_FAULT", f"{type(exc).__name__}: {first}") from None
        done = time.perf_counter()
    finally:
        _free(buffers)
    per_batch_fps = sorted(batch / seconds for seconds in batch_seconds if seconds > 0)
    result = {
        "emulated": False,
        "device": dict(_device_info(pynq), board_name=_board_name(), bitstream_sha256=loaded_sha),
        "dma": link.description,
        "batch": batch,
        "clock_mhz": _read_clock(pynq),
        "throughput_fps": float(np.median(per_batch_fps)) if per_batch_fps else 0.0,
        "throughput_fps_mean": len(batch_seconds) * batch / sum(batch_seconds),
        "images": len(batch_seconds) * batch,
        "window_seconds": window,
        "transfer_seconds": sum(batch_seconds),
        "window_check": {
            "images": len(batch_seconds) * batch,
            "wrong": wrong_window,
            "first_wrong": first_wrong,
        },
        "latency_check": {"images": len(image_seconds), "wrong": wrong_single},
        "latency_ms": {
            "batch_p50": _percentile_ms(batch_seconds, 50),
            "batch_p99": _percentile_ms(batch_seconds, 99),
            "image_p50": _percentile_ms(image_seconds, 50),
            "image_p99": _percentile_ms(image_seconds, 99),
        },
        "power": power,
        "reference": _compare_reference(outputs, reference),
        "stage_seconds": {
            "load": loaded - started,
            "check": checked - loaded,
            "warmup": warmed - checked,
            "measure": window,
            "latency": done - warmed - window,
        },
    }
    result.update(_compare(outputs, expected))
    return result


def _load_data(folder, manifest):
    import numpy as np

    inputs = np.load(os.path.join(folder, "inputs.npy"), allow_pickle=False).astype(np.float32)
    expected = np.load(os.path.join(folder, "expected.npy"), allow_pickle=False).astype(np.float32)
    expected = expected.reshape(len(expected), -1)
    reference = None
    if "reference.npy" in manifest["files"]:
        reference = np.load(os.path.join(folder, "reference.npy"), allow_pickle=False).astype(np.float32)
        reference = reference.reshape(len(reference), -1)
    if (
        len(inputs) == 0
        or len(inputs) != len(expected)
        or (reference is not None and len(reference) != len(inputs))
    ):
        raise AgentError("DEPLOY", f"bundle has {len(inputs)} inputs but {len(expected)} expected outputs", 3)
    return inputs, expected, reference


def measure(args):
    started = time.perf_counter()
    if args.self_sha256 and sha256_file(os.path.abspath(__file__)) != args.self_sha256:
        raise AgentError("DEPLOY", "sha256 mismatch for the agent itself (corrupted upload)", 3)
    folder = os.path.abspath(args.bundle)
    manifest = verify_bundle(folder, args.manifest_sha256)
    verified = time.perf_counter()
    data = _load_data(folder, manifest)
    if args.xrt and not os.environ.get("XILINX_XRT"):
        os.environ["XILINX_XRT"] = args.xrt  # what PYNQ's xrt_setup.sh sets in a login shell
    run = run_emulated if args.emulate else run_overlay
    try:
        result = run(folder, manifest, data, args)
    except AgentError:
        raise
    except Exception as exc:  # the design (its C simulation, or its driver) misbehaved
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise AgentError("DESIGN_FAULT", f"{type(exc).__name__}: {first}") from None
    result["stage_seconds"]["verify"] = verified - started
    result.update(
        {
            "ok": True,
            "design_key": manifest.get("design_key"),
            "board": manifest.get("board"),
            "batch_requested": args.batch,
            "versions": _versions(),
        }
    )
    result.setdefault("batch", args.batch)
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
    parser.add_argument("--probe", metavar="HWH", help="describe the overlay's DMA and PS from a .hwh file")
    parser.add_argument(
        "--parser", choices=("auto", "pynq", "builtin"), default="auto", help="--probe's parser"
    )
    parser.add_argument("--json", action="store_true", help="--probe: print JSON (measurements always do)")
    parser.add_argument("--emulate", action="store_true", help="C-sim outputs; the host models timing")
    parser.add_argument("--batch", type=_positive_int, default=64, help="images per DMA transfer")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="timed window of work")
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches before the window")
    parser.add_argument("--repeats", type=_positive_int, default=100, help="single-image latency runs")
    parser.add_argument(
        "--dma-timeout", type=float, default=5.0, help="seconds before a DMA transfer is a fault"
    )
    parser.add_argument(
        "--setup", action="store_true", help="print the board's set-up facts (root, pynq, XRT)"
    )
    parser.add_argument("--xrt", help="XILINX_XRT to set when the environment has none (e.g. /usr)")
    parser.add_argument("--manifest-sha256", help="expected sha256 of bundle.json")
    parser.add_argument("--self-sha256", help="expected sha256 of this file")
    parser.add_argument("--deadline", type=float, default=0.0, help="exit after this many seconds")
    return parser


def _emit(fd, payload, as_text=False):
    if as_text:
        dma = payload.get("dma") or {}
        lines = [
            "parser: {}".format(payload.get("parser")),
            "PS: {}".format((payload.get("ps") or {}).get("path")),
            "DMA: {} (largest transfer {} bytes, in {} bit, out {} bit)".format(
                dma.get("path"),
                dma.get("max_transfer_bytes"),
                dma.get("in_width_bits"),
                dma.get("out_width_bits"),
            )
            if dma
            else "DMA: none ({})".format(payload.get("message")),
        ]
        text = "\n".join(lines) + "\n"
    else:
        text = json.dumps(payload, sort_keys=True) + "\n"
    data = text.encode("utf-8")
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
    as_text = False
    try:
        if args.deadline > 0:
            signal.signal(signal.SIGALRM, _on_deadline)
            signal.setitimer(signal.ITIMER_REAL, args.deadline)
        if args.version:
            payload = dict(_versions(), ok=True, sha256=sha256_file(os.path.abspath(__file__)))
            status = 0
        elif args.setup:
            if args.xrt and not os.environ.get("XILINX_XRT"):
                os.environ["XILINX_XRT"] = args.xrt
            payload, status = setup_facts(os.getcwd()), 0
        elif args.probe:
            payload = probe(args.probe, args.parser)
            status = 0 if payload["ok"] else 4
            as_text = not args.json
        elif not args.bundle:
            payload, status = (
                {"ok": False, "error": "DEPLOY", "message": "give --version, --probe HWH or --bundle DIR"},
                2,
            )
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
    _emit(result_fd, payload, as_text and payload.get("parser") is not None)
    return status


if __name__ == "__main__":
    sys.exit(main())
