"""Resources of common FPGA parts, for checking ``fits`` on designs whose files do not state them.

Why a table: the design-description format carries ``part_resources`` when the csynth report states
them, and null otherwise; ``hil costmodel check`` still has to say whether a design fits its own part.
Figures are the AMD/Xilinx product tables (BRAM in 18 Kb blocks: twice the 36 Kb count). A part that
is not listed is reported as unknown, never guessed.
"""

from __future__ import annotations

import logging

__all__ = ["part_resources"]

_log = logging.getLogger(__name__)

#: part-name prefix -> resources (lut, ff, dsp, bram_18k, uram)
_PARTS: dict[str, dict[str, float]] = {
    "xc7z010": {"lut": 17600, "ff": 35200, "dsp": 80, "bram_18k": 120, "uram": 0},
    "xc7z020": {"lut": 53200, "ff": 106400, "dsp": 220, "bram_18k": 280, "uram": 0},
    "xc7a35t": {"lut": 20800, "ff": 41600, "dsp": 90, "bram_18k": 100, "uram": 0},
    "xc7a100t": {"lut": 63400, "ff": 126800, "dsp": 240, "bram_18k": 270, "uram": 0},
    "xczu3eg": {"lut": 70560, "ff": 141120, "dsp": 360, "bram_18k": 432, "uram": 0},
    "xczu7ev": {"lut": 230400, "ff": 460800, "dsp": 1728, "bram_18k": 624, "uram": 96},
    "xczu9eg": {"lut": 274080, "ff": 548160, "dsp": 2520, "bram_18k": 1824, "uram": 0},
    "xck26": {"lut": 117120, "ff": 234240, "dsp": 1248, "bram_18k": 288, "uram": 64},
    "xcu250": {"lut": 1728000, "ff": 3456000, "dsp": 12288, "bram_18k": 5376, "uram": 1280},
    "xcvu9p": {"lut": 1182240, "ff": 2364480, "dsp": 6840, "bram_18k": 4320, "uram": 960},
}


def part_resources(part: str | None) -> dict[str, float] | None:
    """The resources of ``part`` (matched by its device prefix), or None when the part is not listed."""
    name = (part or "").strip().lower()
    for prefix in sorted(_PARTS, key=len, reverse=True):
        if name.startswith(prefix):
            return dict(_PARTS[prefix])
    return None
