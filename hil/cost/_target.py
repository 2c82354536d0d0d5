"""What a design is synthesized for and with: HLS tool, device family, clock.

Why the cost model needs this: the same hls4ml C++ becomes different hardware in different tools.
Vitis HLS packs a stream of ``nnet::array`` into one pixel-wide FIFO and keeps FIFOs of at most
1,024 bits in shift registers (``config_storage fifo -auto_srl_max_bits``, UG1399), while Vivado HLS
splits the struct into one FIFO per channel; Vitis honours the Resource strategy's
``ROM_nP_BRAM`` pragma even for tiny weight ROMs, where Vivado HLS puts them in LUTRAM; a 7-series
DSP48E1 multiplies 25x18 bits, an UltraScale(+) DSP48E2 27x18. The clock target sets the period
HLS schedules for (target minus uncertainty; hls4ml's defaults are 12.5 % for Vivado, 27 % for Vitis).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from enum import Enum

from hil.errors import InputError

__all__ = ["DeviceFamily", "HlsTool", "Target", "target_for"]

_log = logging.getLogger(__name__)


class HlsTool(str, Enum):
    """The HLS compiler generation (hls4ml backends Vivado -> Vivado HLS, Vitis -> Vitis HLS)."""

    VITIS = "vitis"
    VIVADO = "vivado"


class DeviceFamily(str, Enum):
    """FPGA families that differ in what the cost model prices (DSP width, BRAM/URAM)."""

    SERIES7 = "7series"
    ULTRASCALE = "ultrascale"
    ULTRASCALE_PLUS = "ultrascale+"


_ULTRASCALE = re.compile(r"^xc(?:ku|vu)\d+(?P<plus>p?)")

#: hls4ml's default ClockUncertainty per tool, as a fraction of the period.
DEFAULT_UNCERTAINTY = {HlsTool.VITIS: 0.27, HlsTool.VIVADO: 0.125}


@dataclass(frozen=True, slots=True)
class Target:
    """The synthesis target of one design.

    Attributes:
        hls: Vitis HLS (hil's default backend) or Vivado HLS.
        family: the device family (DSP multiplier width).
        clock_ns: the clock target (hls4ml ``ClockPeriod``).
        uncertainty_ns: HLS clock uncertainty; None means hls4ml's default for the tool.
    """

    hls: HlsTool = HlsTool.VITIS
    family: DeviceFamily = DeviceFamily.ULTRASCALE_PLUS
    clock_ns: float = 5.0
    uncertainty_ns: float | None = None
    #: (wide, narrow) signed operand widths of one DSP multiplier (derived from ``family``).
    dsp_ports: tuple[int, int] = field(init=False, repr=False, compare=False)
    #: (HLS tool, family) as plain strings: what the cost model's per-layer memo is keyed by.
    key: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.clock_ns > 0:
            raise InputError(f"clock target must be > 0 ns, got {self.clock_ns}")
        object.__setattr__(self, "hls", HlsTool(self.hls))
        object.__setattr__(self, "family", DeviceFamily(self.family))
        # Derived once: every layer of every estimate reads them.
        object.__setattr__(self, "dsp_ports", (25, 18) if self.family is DeviceFamily.SERIES7 else (27, 18))
        object.__setattr__(self, "key", (self.hls.value, self.family.value))

    @property
    def scheduled_ns(self) -> float:
        """The period HLS schedules for: the target minus the clock uncertainty."""
        unc = self.uncertainty_ns
        if unc is None:
            unc = DEFAULT_UNCERTAINTY[self.hls] * self.clock_ns
        return max(self.clock_ns - unc, 0.1 * self.clock_ns)

    @property
    def clock_mhz(self) -> float:
        """The target clock in MHz."""
        return 1000.0 / self.clock_ns


def family_of(part: str | None) -> DeviceFamily:
    """Device family from a part name: ``xc7...`` 7-series, ``xcku040``/``xcvu095`` UltraScale,
    everything newer (``xczu``, ``xck``, ``xcu``, ``xcvu9p``, unknown) UltraScale+."""
    name = (part or "").strip().lower()
    if name.startswith("xc7"):
        return DeviceFamily.SERIES7
    match = _ULTRASCALE.match(name)
    if match and not match["plus"]:
        return DeviceFamily.ULTRASCALE
    return DeviceFamily.ULTRASCALE_PLUS


def hls_of(tool: str | None, backend: str | None = None) -> HlsTool:
    """Which HLS compiler: from a tool string ("Vitis HLS 2024.2") or else the hls4ml backend name."""
    text = (tool or backend or "vitis").lower()
    return HlsTool.VIVADO if "vivado" in text and "vitis" not in text else HlsTool.VITIS


def target_for(
    *,
    part: str | None = None,
    hls: str | None = None,
    backend: str | None = None,
    clock_mhz: float | None = None,
    clock_ns: float | None = None,
    uncertainty_ns: float | None = None,
) -> Target:
    """A Target from what records and design descriptions carry (part name, tool string, clock)."""
    if clock_ns is None:
        clock_ns = 1000.0 / clock_mhz if clock_mhz else 5.0
    return Target(
        hls=hls_of(hls, backend),
        family=family_of(part),
        clock_ns=float(clock_ns),
        uncertainty_ns=uncertainty_ns,
    )
