"""A STAND-IN PYNQ *device* for hil's board tests: the real ``pynq`` package runs on top of it.

What is real here and what is not. Everything above the device is the real ``pynq`` (4.0 or
3.x from the package index): ``pynq.Overlay`` parses the bundle's real Vivado ``.hwh`` with
PYNQ's own metadata parser, binds its own drivers (``pynq.lib.dma.DMA`` for an AXI DMA,
``DefaultHierarchy`` for ``hier_0``), programs the PL clocks through its ``Clocks`` class, and
the agent's ``pynq.allocate`` and DMA calls run PYNQ's code line for line. Only what needs a
board is replaced, through the extension point PYNQ has for devices without ``/dev/mem``
(a ``Device`` subclass with the ``REGISTER_RW`` capability):

* **bitstream download**: the ``design.bit`` is a real Xilinx ``.bit`` container (header fields
  a-e, parsed with PYNQ's own ``parse_bit_header`` where it has one) whose payload is a JSON
  description of the design, not a configuration frame stream;
* **registers**: a register file that behaves as the AXI DMA does (PG021: DMACR/DMASR, SA/DA,
  LENGTH; halted/idle bits; TLAST ends an S2MM transfer; a short S2MM buffer is DMAIntErr),
  plus the PS clock registers at their boot values so ``Clocks`` reads real divisors;
* **DMA buffers**: physically separate "device memory" behind each ``PynqBuffer``: data reach
  the DMA only after ``flush()`` and the host sees DMA writes only after ``invalidate()``, as on
  a non-coherent Zynq;
* **the network IP**: the bundle's C simulation library (``csim.so``) behind the DMA streams,
  one 32-bit float per stream beat, hls4ml's VivadoAccelerator convention;
* **timing and power**: each DMA transfer completes ``seconds_per_transfer + images *
  seconds_per_image`` after it starts (known, so a harness can be checked against it), and the
  board's power rail reads ``busy_w`` while a transfer is in flight, ``idle_w`` otherwise.

Fault injection for tests (keys of the design JSON): ``corrupt_batch_transfer`` (1-based index
among transfers of more than one image) with ``corrupt_image`` flips one output LSB there;
``hang`` makes the IP never answer.

Every number measured on this device is a stand-in's: the device says so
(``HIL_STANDIN = True``), and the agent reports it.
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
import threading
import time

import numpy as np
import pynq
from pynq.buffer import PynqBuffer
from pynq.pl_server.device import Device
from standin_bitstream import MAGIC as _MAGIC  # beside this file on PYTHONPATH

HIL_STANDIN = True

# PS clock registers at typical boot values (UG585 / UG1085 register layouts; PYNQ's Clocks
# class reads them): Zynq-7000 with a 50 MHz PS_CLK, ZynqMP with a 33.333 MHz PS_REF_CLK.
_ZYNQ_BOOT = {
    0xF8000100: 26 << 12,  # ARM_PLL_CTRL: x26 = 1300 MHz
    0xF8000104: 21 << 12,  # DDR_PLL_CTRL: x21 = 1050 MHz
    0xF8000108: 20 << 12,  # IO_PLL_CTRL: x20 = 1000 MHz
    0xF8000120: (2 << 8) | (0 << 4),  # ARM_CLK_CTRL: ARM PLL / 2 = 650 MHz
    0xF8000170: (1 << 20) | (10 << 8),  # FPGA0_CLK_CTRL: IO PLL / 10 / 1 = 100 MHz
    0xF8000180: (1 << 20) | (10 << 8),
    0xF8000190: (1 << 20) | (10 << 8),
    0xF80001A0: (1 << 20) | (10 << 8),
}
_ZYNQMP_BOOT = {
    0xFF5E0020: (1 << 16) | (90 << 8),  # IOPLL_CTRL: x90 / 2 = 1500 MHz
    0xFF5E0030: (1 << 16) | (72 << 8),  # RPLL_CTRL: 1200 MHz
    0xFF5E00C0: (1 << 24) | (1 << 16) | (15 << 8),  # PL0_REF_CTRL: IOPLL / 15 = 100 MHz
    0xFF5E00C4: (1 << 24) | (1 << 16) | (15 << 8),
    0xFF5E00C8: (1 << 24) | (1 << 16) | (15 << 8),
    0xFF5E00CC: (1 << 24) | (1 << 16) | (15 << 8),
    0xFD1A0020: (1 << 16) | (72 << 8),  # APLL_CTRL: 1200 MHz
    0xFD1A002C: (1 << 16) | (64 << 8),  # DPLL_CTRL
    0xFD1A0038: (1 << 16) | (64 << 8),  # VPLL_CTRL
    0xFD1A0060: 1 << 8,  # ACPU_CTRL: APLL / 1
}

# AXI DMA status bits (PG021, MM2S_DMASR / S2MM_DMASR)
_HALTED, _IDLE, _INT_ERR, _SLV_ERR, _DEC_ERR, _IOC = 0x1, 0x2, 0x10, 0x20, 0x40, 0x1000


def _parse_bit_header(data):
    for where in ("pynq.pl_server.embedded_device", "pynq.bitstream", "pynq.pl_server.device"):
        try:
            module = __import__(where, fromlist=["parse_bit_header"])
            return module.parse_bit_header(data)
        except (ImportError, AttributeError):
            continue
    raise RuntimeError("this pynq has no parse_bit_header")


def _read_design(bitfile):
    with open(bitfile, "rb") as handle:
        fields = _parse_bit_header(handle.read())
    try:
        design = json.loads(bytes(fields["data"]).decode("utf-8"))
    except ValueError:
        design = _built_design(bitfile)
        if design is None:
            raise RuntimeError(
                "not a stand-in bitstream (this stand-in device cannot program an FPGA)"
            ) from None
    if design.get(_MAGIC) != 1:
        raise RuntimeError("not a stand-in bitstream")
    design["part"] = fields.get("part")
    return design


def _built_design(bitfile):
    """A bitstream built by the AMD tool *stand-ins* (tests/xilinx_standin) for a board bundle: the
    device behaves as that bundle's C simulation says, which is what the real hardware computes
    bit for bit; its timing is the stand-in default (a fixed small time per transfer)."""
    manifest_path = os.path.join(os.path.dirname(os.path.abspath(bitfile)), "bundle.json")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    if not (manifest.get("build") or {}).get("standin") or "csim.so" not in manifest.get("files", {}):
        return None  # only what declared stand-in tools built, with its C simulation beside it
    n_in = 1
    for dim in manifest["input_shape"][1:]:
        n_in *= int(dim)
    return {
        _MAGIC: 1,
        "library": "csim.so",
        "top": "{}_float".format(manifest.get("project", "myproject")),
        "n_in": n_in,
        "n_out": int(manifest["output_shape"][-1]),
        "seconds_per_transfer": 0.001,
    }


class _Memory:
    """Physically contiguous 'device memory', separate from the host's view of each buffer."""

    def __init__(self):
        self._blocks = {}
        self._next = 0x10000000

    def allocate(self, nbytes):
        base = self._next
        self._blocks[base] = np.zeros(max(nbytes, 1), dtype=np.uint8)
        self._next += (max(nbytes, 1) + 4095) // 4096 * 4096 + 4096
        return base

    def view(self, address, nbytes):
        for base, block in self._blocks.items():
            if base <= address and address + nbytes <= base + len(block):
                return block[address - base : address - base + nbytes]
        return None


class _Network:
    """The hls4ml IP behind the DMA: the bundle's C-sim, one float32 per stream beat."""

    def __init__(self, design, folder):
        library = ctypes.CDLL(os.path.join(folder, design.get("library", "csim.so")))
        self._top = getattr(library, design.get("top", "myproject_float"))
        self._pointer = ctypes.POINTER(ctypes.c_float)
        self._top.argtypes = [self._pointer, self._pointer]
        self._top.restype = None
        self.n_in = int(design["n_in"])
        self.n_out = int(design["n_out"])
        self.hang = bool(design.get("hang", False))
        self.corrupt_transfer = int(design.get("corrupt_batch_transfer") or 0)
        self.corrupt_image = int(design.get("corrupt_image") or 0)
        self.batch_transfers = 0
        self.pending = b""
        self.outputs = []  # (bytes of one image's outputs, TLAST)

    def push(self, data):
        """Stream bytes in; the transfer's last beat carries TLAST (hls4ml forwards it)."""
        self.pending += bytes(data)
        width = 4 * self.n_in
        images = len(self.pending) // width
        if images > 1:
            self.batch_transfers += 1
        x = np.frombuffer(self.pending[: images * width], dtype=np.float32).reshape(images, self.n_in)
        self.pending = self.pending[images * width :]
        if self.hang:
            return images
        y = np.zeros((images, self.n_out), dtype=np.float32)
        for i in range(images):
            sample = np.ascontiguousarray(x[i])
            self._top(sample.ctypes.data_as(self._pointer), y[i].ctypes.data_as(self._pointer))
        if images > 1 and self.batch_transfers == self.corrupt_transfer:
            row = min(self.corrupt_image, images - 1)
            y[row, 0] = np.nextafter(y[row, 0], np.float32(np.inf))
        for i in range(images):
            last = i == images - 1 and not self.pending
            self.outputs.append((y[i].tobytes(), last))
        return images


class _Channel:
    def __init__(self):
        self.cr = 0
        self.sr = _HALTED
        self.address = 0
        self.length = 0
        self.done_at = None
        self.recv = None  # S2MM: [address, capacity, written]

    def status(self, now):
        if self.done_at is not None and now >= self.done_at:
            self.sr |= _IDLE | _IOC
            self.done_at = None
        return self.sr

    @property
    def busy(self):
        return self.done_at is not None or self.recv is not None


class _AxiDma:
    """Register-level model of one AXI DMA in simple (non-SG) mode, MM2S at 0x00, S2MM at 0x30."""

    def __init__(self, base, span, device):
        self.base, self.span, self.device = base, span, device
        self.mm2s, self.s2mm = _Channel(), _Channel()
        self.mm2s_done = 0.0

    def _channel(self, offset):
        return (self.mm2s, offset) if offset < 0x30 else (self.s2mm, offset - 0x30)

    def read(self, offset):
        channel, reg = self._channel(offset)
        if reg == 0x00:
            return channel.cr
        if reg == 0x04:
            return channel.status(time.perf_counter())
        if reg in (0x18, 0x48 - 0x30):
            return channel.address & 0xFFFFFFFF
        if reg in (0x1C, 0x4C - 0x30):
            return channel.address >> 32
        if reg == 0x28:
            return channel.length
        return 0

    def write(self, offset, value):
        channel, reg = self._channel(offset)
        if reg == 0x00:
            channel.cr = value & ~0x4
            if value & 0x4:  # soft reset
                channel.__init__()
            elif value & 0x1:
                channel.sr &= ~_HALTED
            else:
                channel.sr |= _HALTED
        elif reg == 0x04:
            channel.sr &= ~(value & 0x7000)  # interrupt bits are write-1-to-clear
        elif reg == 0x18:
            channel.address = (channel.address & ~0xFFFFFFFF) | value
        elif reg == 0x1C:
            channel.address = (channel.address & 0xFFFFFFFF) | (value << 32)
        elif reg == 0x28 and not channel.sr & _HALTED:
            channel.length = value
            channel.sr &= ~_IDLE
            if channel is self.mm2s:
                self._start_mm2s(value)
            else:
                channel.recv = [channel.address, value, 0]
                channel.length = 0
            self._drain()

    def _fail(self, channel, bit):
        channel.sr |= bit | _HALTED
        channel.done_at = None
        channel.recv = None

    def _start_mm2s(self, nbytes):
        started = time.perf_counter()  # the IP's compute time here is not the design's: not counted
        channel = self.mm2s
        memory = self.device.memory.view(channel.address, nbytes) if nbytes else None
        if nbytes == 0:
            return self._fail(channel, _INT_ERR)
        if memory is None:
            return self._fail(channel, _DEC_ERR)
        network = self.device.network
        images = network.push(memory.tobytes())
        design = self.device.design
        seconds = float(design.get("seconds_per_transfer", 0.0))
        seconds += images * float(design.get("seconds_per_image", 0.0))
        channel.done_at = self.mm2s_done = started + seconds

    def _drain(self):
        channel, network = self.s2mm, self.device.network
        while channel.recv is not None and network.outputs:
            address, capacity, written = channel.recv
            data, last = network.outputs.pop(0)
            if written + len(data) > capacity:  # the packet is longer than the buffer
                return self._fail(channel, _INT_ERR)
            memory = self.device.memory.view(address + written, len(data))
            if memory is None:
                return self._fail(channel, _DEC_ERR)
            memory[:] = np.frombuffer(data, dtype=np.uint8)
            channel.recv[2] = written = written + len(data)
            if last:
                channel.length = written
                channel.recv = None
                channel.done_at = max(self.mm2s_done, time.perf_counter())


class _PowerSensor:
    def __init__(self, device):
        self._device = device

    @property
    def value(self):
        design = self._device.design or {}
        busy = any(dma.mm2s.busy or dma.s2mm.busy for dma in self._device.dmas)
        return float(design.get("busy_w" if busy else "idle_w", 0.0))


class _Rail:
    def __init__(self, name, device):
        self.name = name
        self.power = _PowerSensor(device)
        self.voltage = self.current = None


class HilStandinDevice(Device):
    """The PYNQ device of a board that is not there (see the module docstring)."""

    HIL_STANDIN = True
    _probe_priority_ = 1

    @classmethod
    def _probe_(cls):
        return [cls()]

    def __init__(self):
        super().__init__("hil_standin0")
        self.name = "hil-standin"
        self.capabilities = {"REGISTER_RW": True, "MEMORY_MAPPED": False}
        self.arch = "armv7l"
        self.memory = _Memory()
        self.registers = dict(_ZYNQ_BOOT)
        self.registers.update(_ZYNQMP_BOOT)
        self.dmas = []
        self.design = None
        self.network = None
        self._lock = threading.Lock()

    # --- metadata: PYNQ's own parser on the .hwh beside the bitstream --------------------
    def get_bitfile_metadata(self, bitfile_name, partial=False):
        from pynqmetadata.frontends import Metadata

        try:
            from pynqmetadata.views.runtime import RuntimeMetadataParser  # pynq 4
        except ImportError:
            from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser  # pynq 3

        hwh = os.path.splitext(bitfile_name)[0] + ".hwh"
        if not os.path.isfile(hwh):
            raise RuntimeError(f"no hardware handoff {hwh} beside the bitstream")
        parser = RuntimeMetadataParser(Metadata(input=hwh))
        refresh = getattr(parser, "refresh_hierarchy_dict", None)
        if refresh is not None:
            refresh()
        types = {str(ip.get("type", "")) for ip in parser.ip_dict.values()}
        self.arch = "aarch64" if any(":zynq_ultra_ps_e:" in t for t in types) else "armv7l"
        return parser

    # --- download: read the design description, wire DMA models at the hwh's addresses ---
    def download(self, bitstream, parser=None):
        design = _read_design(bitstream.bitfile_name)
        folder = os.path.dirname(os.path.abspath(bitstream.bitfile_name))
        self.design = design
        self.network = _Network(design, folder)
        self.dmas = [
            _AxiDma(int(ip["phys_addr"]), int(ip["addr_range"]), self)
            for ip in parser.ip_dict.values()
            if str(ip.get("type", "")).startswith("xilinx.com:ip:axi_dma:")
        ]
        self.post_download(bitstream, parser)

    # --- registers -------------------------------------------------------------------------
    def _dma_at(self, address):
        for dma in self.dmas:
            if dma.base <= address < dma.base + dma.span:
                return dma
        return None

    def read_registers(self, address, length):
        with self._lock:
            words = []
            for word in range(address, address + length, 4):
                dma = self._dma_at(word)
                words.append(dma.read(word - dma.base) if dma else self.registers.get(word, 0))
            return b"".join(struct.pack("<I", w & 0xFFFFFFFF) for w in words)[:length]

    def write_registers(self, address, data):
        data = bytes(data) + b"\0" * (-len(data) % 4)
        with self._lock:
            for index in range(0, len(data), 4):
                word = address + index
                value = struct.unpack("<I", data[index : index + 4])[0]
                dma = self._dma_at(word)
                if dma is not None:
                    dma.write(word - dma.base, value)
                else:
                    self.registers[word] = value

    # --- buffers: host view + separate device memory, synced by flush/invalidate ----------
    def allocate(self, shape, dtype, **kwargs):
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape)) * dtype.itemsize
        address = self.memory.allocate(nbytes)
        host = bytearray(max(nbytes, 1))
        return PynqBuffer(shape, dtype, buffer=host, device=self, device_address=address, bo=address)

    def flush(self, bo, offset, ptr, size):
        target = self.memory.view(bo + offset, size)
        ctypes.memmove(target.ctypes.data, ptr, size)

    def invalidate(self, bo, offset, ptr, size):
        source = self.memory.view(bo + offset, size)
        ctypes.memmove(ptr, source.ctypes.data, size)

    def rails(self):
        return {"12V": _Rail("12V", self)} if self.design and "busy_w" in self.design else {}


def _get_rails(config_file=None):
    return Device.active_device.rails()


# The power sensors are the board's too: PYNQ reads them through libsensors from the board's
# hwmon devices, which this host does not have.
pynq.get_rails = _get_rails
pynq.pmbus.get_rails = _get_rails
