"""STAND-IN for pynq, for hil's board tests only. It is NOT pynq and drives no hardware.

Why it exists: the agent's real (non-emulated) path must be tested without a board. This package
offers the few pynq names the agent uses (``Overlay``, ``allocate``, DMA channels with
``transfer``/``wait``, ``Clocks``, ``get_rails``) and behaves like a known device:

* A "bitstream" is a JSON file ``{"hil_standin_bitstream": 1, "seconds_per_transfer": T, ...}``;
  ``Overlay`` refuses anything else (as real pynq refuses a foreign file).
* The "IP" computes its outputs with the bundle's C simulation library (``library`` in that
  JSON, beside the bitstream), so outputs can be checked against the C-sim exactly; a
  ``corrupt_outputs`` flag adds one LSB to every output, to test the wrong-answer path.
* Every DMA transfer takes exactly T seconds from ``transfer`` to the end of ``wait``, so a
  harness moving B images per transfer must measure B / T images/s.
"""

from __future__ import annotations

import ctypes
import json
import os
import time

import numpy as np

__version__ = "0.0.0+hil.standin"
HIL_STANDIN = True

__all__ = ["HIL_STANDIN", "Clocks", "Overlay", "allocate", "get_rails"]


class PynqBuffer(np.ndarray):
    """allocate()'s array; contiguous like pynq's, with the cache calls as no-ops."""

    physical_address = 0

    def flush(self):
        return None

    def invalidate(self):
        return None

    def freebuffer(self):
        return None


def allocate(shape, dtype=np.uint32, **kwargs):
    return np.zeros(shape, dtype=dtype).view(PynqBuffer)


class _Channel:
    def __init__(self, dma, direction):
        self._dma = dma
        self._direction = direction
        self._deadline = None

    def transfer(self, buffer, *args, **kwargs):
        if self._deadline is not None:
            raise RuntimeError("DMA channel is not idle (stand-in)")
        self._deadline = time.perf_counter() + self._dma.seconds_per_transfer
        if self._direction == "send":
            self._dma._pending = np.array(buffer, dtype=np.float32, copy=True)
        else:
            self._dma._compute_into(buffer)

    def wait(self):
        if self._deadline is None:
            raise RuntimeError("wait() without transfer() (stand-in)")
        left = self._deadline - time.perf_counter()
        if left > 0:
            time.sleep(left)
        self._deadline = None


class _Dma:
    """An AXI DMA in front of the 'IP': send the inputs, receive the outputs."""

    def __init__(self, description, folder):
        self.seconds_per_transfer = float(description["seconds_per_transfer"])
        self._corrupt = bool(description.get("corrupt_outputs", False))
        library = ctypes.CDLL(os.path.join(folder, description.get("library", "csim.so")))
        self._top = getattr(library, f"{description.get('project', 'myproject')}_float")
        pointer = ctypes.POINTER(ctypes.c_float)
        self._top.argtypes = [pointer, pointer]
        self._top.restype = None
        self._pointer = pointer
        self._pending = None
        self.sendchannel = _Channel(self, "send")
        self.recvchannel = _Channel(self, "recv")

    def _compute_into(self, out):
        if self._pending is None:
            raise RuntimeError("recv transfer before send (stand-in)")
        x = self._pending.reshape(len(out), -1)
        y = np.zeros((len(out), out.shape[-1]), dtype=np.float32)
        for i in range(len(out)):
            sample = np.ascontiguousarray(x[i])
            self._top(sample.ctypes.data_as(self._pointer), y[i].ctypes.data_as(self._pointer))
        if self._corrupt:
            y = np.nextafter(y, np.float32(np.inf))
        out[:] = y
        self._pending = None


class Overlay:
    """Loads a stand-in 'bitstream' (JSON) and the .hwh beside it; exposes ``axi_dma_0``."""

    def __init__(self, bitfile_name, download=True, **kwargs):
        if not os.path.isfile(os.path.splitext(bitfile_name)[0] + ".hwh"):
            raise OSError(f"hardware handoff for {bitfile_name} not found (stand-in)")
        try:
            with open(bitfile_name, encoding="utf-8") as handle:
                description = json.load(handle)
        except (OSError, ValueError):
            raise RuntimeError(
                "not a stand-in bitstream (the pynq stand-in cannot program an FPGA)"
            ) from None
        if description.get("hil_standin_bitstream") != 1:
            raise RuntimeError("not a stand-in bitstream")
        self.bitfile_name = bitfile_name
        self.axi_dma_0 = _Dma(description, os.path.dirname(os.path.abspath(bitfile_name)))
        self.ip_dict = {"axi_dma_0": {"type": "xilinx.com:ip:axi_dma:7.1"}}
        Clocks.fclk0_mhz = float(description.get("clock_mhz", 100.0))


class Clocks:
    """pynq.Clocks: the PL clock the overlay set."""

    fclk0_mhz = 100.0


class _Sensor:
    def __init__(self, value):
        self.value = value


class _Rail:
    def __init__(self, name, watts):
        self.name = name
        self.power = _Sensor(watts)


def get_rails(config_file=None):
    """A fixed 12V input rail of 7.5 W (stand-in figure, for testing the power path only)."""
    return {"12V": _Rail("12V", 7.5)}
