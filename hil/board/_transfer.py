"""The emulated board's timing: the design's kernel plus what the agent's timed window pays on a board.

Why a model at all: a PYNQ board does not deliver ``clock / II`` images per second; each DMA
round trip from Python costs a fixed overhead (starting both channels, polling them idle), and
the AXI DMA moves one 32-bit word per PL clock. Ignoring that, hil once emulated 19.7 M images/s
for a 16-input MLP.

What the model charges is exactly what the real agent's window charges (``agent.py``,
``_checked_transfer``): the DMA round trip of a batch already laid out in the DMA buffer. The
agent copies inputs into the buffer before the window and compares outputs after each transfer,
outside the timed call, so no host copy or cast is charged. For ``n`` images of ``v_in`` input and
``v_out`` output float32 values::

    kernel(n) = (latency + (n - 1) * II) / f_clk               the network core
    stream(n) = n * 4 * max(v_in, v_out) / bytes_per_s          the DMA / AXI-Stream side
    t(n)      = per_call_s + max(kernel(n), stream(n))          core and DMA overlap

Its basis, in one place (``BASIS``), with what it was and was not checked against:

* constants: ``per_call_s`` = 85 us, a single-image DMA round trip through hls4ml's PYNQ driver
  on a PYNQ-Z2 (Gabriele-bot/PYNQ_IA README, hls4ml 0.6; that figure includes copying 16 values,
  ~1 % of it); ``bytes_per_s`` = 4 bytes per PL clock (AMD PG021, AXI DMA: one stream beat per
  clock at 32-bit TDATA; hil's and hls4ml's AXI-stream tops carry one float per beat);
* checks: none. The other public PYNQ figure for an hls4ml design (hls4ml-tutorial part7b: 166,000
  jet-MLP samples in 0.4026 s, 412,353 images/s on a PYNQ-Z2) times the driver's ``predict``,
  which copies the inputs into the DMA buffer inside its timing, so it measures a different window
  (and the earlier version of this model was fitted to it, so it could not check it either). No
  second public measurement of the DMA round trip alone exists that we know of: **the emulation
  is unvalidated**, and every emulated metric says so in its ``basis``; it ranks below its source
  and is never a measurement. The PYNQ-Z2 constant is applied to every board (their faster
  cores would do better; no public figure says by how much).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = [
    "BASIS",
    "HOST_TRANSFER_MODELS",
    "HostTransferModel",
    "EmulatedTiming",
    "emulated_timing",
    "transfer_model_for",
]

_log = logging.getLogger(__name__)

#: Gabriele-bot/PYNQ_IA README (hls4ml 0.6 on PYNQ-Z2): 85 us per image for the jet DNN when
#: images are sent one at a time (the PS-PL DMA round trip dominates).
_SINGLE_IMAGE_S = 85e-6

#: The sources of the constants and the state of their validation, shown with every emulated metric.
BASIS = {
    "constants": (
        "85 us per DMA round trip (Gabriele-bot/PYNQ_IA, PYNQ-Z2, single images); "
        "4 bytes/clock stream (AMD PG021)"
    ),
    "checked_against": (
        "nothing: hls4ml-tutorial part7b's 412,353 images/s (PYNQ-Z2) times the driver's host copy too, "
        "a different window"
    ),
    "status": "unvalidated",
}


@dataclass(frozen=True)
class HostTransferModel:
    """Constants of a PYNQ DMA round trip as the agent's window sees it (see the module docstring).

    Attributes:
        name: short label shown in every emulated metric's basis.
        per_call_s: fixed seconds per DMA round trip (one send + one receive from Python).
        stream_bytes_per_clock: bytes the AXI DMA moves per PL clock cycle.
        measured_on: the board the per-call constant was measured on.
        source: where the constants come from, in words a reader can look up.
        validated: whether an independent measurement confirmed the model (none has).
    """

    name: str
    per_call_s: float
    stream_bytes_per_clock: float
    measured_on: str
    source: str
    validated: bool = False

    def __post_init__(self) -> None:
        if self.per_call_s < 0 or self.stream_bytes_per_clock <= 0:
            raise ValueError(f"host-transfer model {self.name}: constants must be positive")


HOST_TRANSFER_MODELS: dict[str, HostTransferModel] = {
    "pynq-z2": HostTransferModel(
        name="pynq-z2 DMA round trip",
        per_call_s=_SINGLE_IMAGE_S,
        stream_bytes_per_clock=4.0,
        measured_on="pynq-z2",
        source=BASIS["constants"],
    ),
}


def transfer_model_for(board: str) -> HostTransferModel:
    """The host-transfer model used for ``board`` (the PYNQ-Z2 figures: the only public ones)."""
    return HOST_TRANSFER_MODELS.get(board, HOST_TRANSFER_MODELS["pynq-z2"])


@dataclass(frozen=True)
class EmulatedTiming:
    """Modelled throughput and latency of one emulated design, and what they rest on."""

    throughput_fps: float
    batch_seconds: float
    image_seconds: float
    kernel_share: float
    basis: str


def emulated_timing(
    *,
    ii_cycles: float,
    latency_cycles: float,
    clock_mhz: float,
    values_in: int,
    values_out: int,
    batch: int,
    board: str,
    timing_provenance: str,
    model: HostTransferModel | None = None,
) -> EmulatedTiming:
    """Throughput of ``batch``-image transfers and single-image latency on an emulated board.

    Raises:
        ValueError: a non-positive II, clock or batch (the caller reports a design fault).
    """
    if ii_cycles <= 0 or clock_mhz <= 0 or batch < 1:
        raise ValueError(f"cannot model timing from II {ii_cycles} at {clock_mhz} MHz, batch {batch}")
    model = model or transfer_model_for(board)
    hz = clock_mhz * 1e6
    bytes_per_s = model.stream_bytes_per_clock * hz

    def seconds(n: int) -> tuple[float, float]:
        kernel = (max(latency_cycles, ii_cycles) + (n - 1) * ii_cycles) / hz
        stream = n * 4 * max(values_in, values_out) / bytes_per_s
        return model.per_call_s + max(kernel, stream), max(kernel, stream)

    batch_s, device_s = seconds(batch)
    image_s, _ = seconds(1)
    applied = "" if model.measured_on == board else f", measured on {model.measured_on}"
    status = "validated" if model.validated else "UNVALIDATED model"
    basis = (
        f"II {ii_cycles:g} / latency {latency_cycles:g} cycles ({timing_provenance}) at {clock_mhz:g} MHz "
        f"+ {model.name} ({model.per_call_s * 1e6:.0f} us/call{applied}; {model.source}); {status}: "
        "the agent's window (DMA round trip only, no host copy)"
    )
    return EmulatedTiming(
        throughput_fps=batch / batch_s,
        batch_seconds=batch_s,
        image_seconds=image_s,
        kernel_share=device_s / batch_s,
        basis=basis,
    )
