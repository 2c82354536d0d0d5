"""The emulated board's timing: the design's kernel plus the host transfers a PYNQ board pays for.

Why a host-transfer model: a PYNQ board does not deliver ``clock / II`` images per second. Each
call from Python costs a fixed overhead (driver calls, cache flush/invalidate, polling the DMA),
each value is copied and cast into and out of the DMA buffers by the ARM cores, and the AXI
DMA moves one 32-bit word per PL clock. Ignoring that, hil once emulated 19.7 M images/s for a
16-input MLP on a ZCU104, where the same kind of design measures ~0.41 M images/s on a PYNQ-Z2.

The model, for a transfer of ``n`` images of ``v_in`` input and ``v_out`` output float32 values::

    host(n)   = per_call_s + n * (v_in + v_out) * cast_s_per_value
    kernel(n) = (latency + (n - 1) * II) / f_clk               the network core
    stream(n) = n * 4 * max(v_in, v_out) / bytes_per_s          the DMA / AXI-Stream side
    t(n)      = host(n) + max(kernel(n), stream(n))             core and DMA overlap

Every constant is below, with its public source; ``bytes_per_s`` is one 32-bit word per PL
clock (AMD PG021, AXI DMA: the stream data width per cycle; hls4ml's VivadoAccelerator wrapper
streams one float per beat). The two host constants are fitted to the PYNQ-Z2 figures and are
applied unchanged to other boards (their faster cores would do better; no public figure says by
how much), which every emulated metric states in its ``basis``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = [
    "HOST_TRANSFER_MODELS",
    "HostTransferModel",
    "EmulatedTiming",
    "emulated_timing",
    "transfer_model_for",
]

_log = logging.getLogger(__name__)

#: hls4ml-tutorial (fastmachinelearning/hls4ml-tutorial), part7b_deployment.ipynb: the 16-input,
#: 5-output jet-tagging MLP on a PYNQ-Z2 at 100 MHz, "Classified 166000 samples in 0.402568
#: seconds (412352.7 inferences / s)" through the hls4ml PYNQ driver (copy into the DMA buffer,
#: one DMA transfer each way).
_TUTORIAL_BATCH = 166_000
_TUTORIAL_SECONDS = 0.402568
_TUTORIAL_VALUES = 16 + 5
_TUTORIAL_CLOCK_HZ = 100e6
#: Gabriele-bot/PYNQ_IA README (hls4ml 0.6 on PYNQ-Z2): 85 us per image for the jet DNN when
#: images are sent one at a time (the PS-PL DMA round trip dominates).
_SINGLE_IMAGE_S = 85e-6


def _fit_cast_s_per_value() -> float:
    """Host cost per value left over by the tutorial's batch once the call and the DMA are paid."""
    stream_s = _TUTORIAL_BATCH * 4 * 16 / (4 * _TUTORIAL_CLOCK_HZ)  # 16 inputs, one word per clock
    return (_TUTORIAL_SECONDS - _SINGLE_IMAGE_S - stream_s) / (_TUTORIAL_BATCH * _TUTORIAL_VALUES)


@dataclass(frozen=True)
class HostTransferModel:
    """Constants of the host side of a PYNQ transfer (see the module docstring for the formula).

    Attributes:
        name: short label shown in every emulated metric's basis.
        per_call_s: fixed seconds per DMA round trip (one send + one receive from Python).
        cast_s_per_value: seconds per float copied/cast into or out of a DMA buffer.
        stream_bytes_per_clock: bytes the AXI DMA moves per PL clock cycle.
        measured_on: the board the host constants were measured on.
        source: where the constants come from, in words a reader can look up.
    """

    name: str
    per_call_s: float
    cast_s_per_value: float
    stream_bytes_per_clock: float
    measured_on: str
    source: str

    def __post_init__(self) -> None:
        if self.per_call_s < 0 or self.cast_s_per_value < 0 or self.stream_bytes_per_clock <= 0:
            raise ValueError(f"host-transfer model {self.name}: constants must be positive")


HOST_TRANSFER_MODELS: dict[str, HostTransferModel] = {
    "pynq-z2": HostTransferModel(
        name="pynq-z2 host transfers",
        per_call_s=_SINGLE_IMAGE_S,
        cast_s_per_value=_fit_cast_s_per_value(),
        stream_bytes_per_clock=4.0,
        measured_on="pynq-z2",
        source=(
            "85 us/image single calls (Gabriele-bot/PYNQ_IA, PYNQ-Z2); 166,000 jet-MLP samples in "
            "0.4026 s (hls4ml-tutorial part7b, PYNQ-Z2); 4 bytes/clock DMA stream (AMD PG021)"
        ),
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
        host = model.per_call_s + n * (values_in + values_out) * model.cast_s_per_value
        kernel = (max(latency_cycles, ii_cycles) + (n - 1) * ii_cycles) / hz
        stream = n * 4 * max(values_in, values_out) / bytes_per_s
        return host + max(kernel, stream), max(kernel, stream)

    batch_s, device_s = seconds(batch)
    image_s, _ = seconds(1)
    applied = "" if model.measured_on == board else f", constants measured on {model.measured_on}"
    basis = (
        f"II {ii_cycles:g} / latency {latency_cycles:g} cycles ({timing_provenance}) at {clock_mhz:g} MHz "
        f"+ {model.name} ({model.per_call_s * 1e6:.0f} us/call, {model.cast_s_per_value * 1e9:.0f} ns/value"
        f"{applied}; {model.source})"
    )
    return EmulatedTiming(
        throughput_fps=batch / batch_s,
        batch_seconds=batch_s,
        image_seconds=image_s,
        kernel_share=device_s / batch_s,
        basis=basis,
    )
