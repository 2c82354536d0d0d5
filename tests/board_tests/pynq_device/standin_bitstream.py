"""Writing the stand-in device's "bitstream": a real Xilinx .bit container with a JSON payload.

Why a real container: PYNQ's own ``parse_bit_header`` reads it on the stand-in device (and the
bundle's sha256 covers it), so the agent's path through pynq is the one a real .bit takes; only
the payload (what the device should behave as) is ours. Imports nothing but the standard library,
so the host side of the tests can write one without pynq.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

MAGIC = "hil_standin_design"


def write_bitstream(
    path: Path, design: dict[str, Any], part: str = "xc7z020clg400-1", name: str = "design_1_wrapper"
) -> Path:
    """Write ``design`` (see hil_standin_device's docstring for its keys) as a .bit file."""
    payload = json.dumps({**design, MAGIC: 1}, sort_keys=True).encode("utf-8")
    payload += b" " * (-len(payload) % 4)

    def field(key: bytes, text: str) -> bytes:
        data = text.encode("ascii") + b"\0"
        return key + struct.pack(">h", len(data)) + data

    header = struct.pack(">h", 9) + bytes.fromhex("0ff00ff00ff00ff000") + struct.pack(">h", 1)
    header += field(b"a", f"{name};UserID=0XFFFFFFFF;Version=2020.1") + field(b"b", part)
    header += field(b"c", "2026/01/01") + field(b"d", "00:00:00")
    path.write_bytes(header + b"e" + struct.pack(">i", len(payload)) + payload)
    return path
