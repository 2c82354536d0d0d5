"""Memories: how many 18 Kb block RAMs a ROM or a FIFO takes, and when HLS uses LUTs instead.

Why a block-RAM packing function and not bits / 18,432: a BRAM18 has fixed aspect ratios (16K x 1
... 1K x 18, and 512 x 36 in simple-dual-port mode), so a 40-bit wide, 900-deep FIFO takes three
blocks (1K x 18 each), not two; and a 6-bit weight ROM of 50 words takes a whole block.

Checked against real csynth reports (``../shared/costdata``): the Resource strategy's weight ROM of
``lanes * weight_bits`` x ``reuse`` words packs 36 bits per block, a leftover of at most 9 bits going
to LUTRAM (N-TORC, Vivado HLS 2019.1, 16-bit; tsopeter, Vitis HLS 2024.2, 6-bit); Vitis streams between
layers take ``ceil(width / 18)`` blocks per 1K words once depth x width exceeds 1,024 bits (tsopeter
sweep, exact on all 13 layer stacks); Vivado HLS keeps one FIFO per channel and a FIFO deeper than 32
words in a block (SVHN tutorial CNN, 96 of 96 FIFO blocks).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache

from hil.cost._target import HlsTool

__all__ = ["FIFO_FF", "FifoCost", "fifo_cost", "bram_blocks", "rom_blocks"]

_log = logging.getLogger(__name__)

#: (width, depth) aspect ratios of one BRAM18 in true-dual-port mode (FIFOs, ROMs read twice).
_TDP_MODES = ((18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384))
#: Simple-dual-port adds a 36-bit wide mode (one read port: a ROM).
_SDP_MODES = ((36, 512), *_TDP_MODES)
#: Vitis HLS ``config_storage fifo -auto_srl_max_bits`` default: shallower FIFOs are shift registers.
VITIS_SRL_MAX_BITS = 1024
#: Vivado HLS keeps FIFOs of at most this many words in SRLs (SVHN CNN: 16 deep in SRL, 36 deep in BRAM).
VIVADO_SRL_MAX_DEPTH = 32
#: A ROM leftover of at most this many bits (after whole 36-bit columns) goes to LUTRAM, not a block.
ROM_LUTRAM_REMAINDER_BITS = 9
#: Vivado HLS puts a ROM of fewer bits than this in LUTRAM despite the ROM_nP_BRAM pragma (N-TORC).
VIVADO_LUTRAM_MAX_BITS = 2048
#: Small index tables (the Resource kernel's ``outidx``) above this many bits take a block (N-TORC).
INDEX_TABLE_BRAM_BITS = 1024
#: What csynth counts for one stream FIFO, read off the FIFO tables of the csynth reports in
#: ../shared: no LUTs ever (shift-register and block-RAM FIFOs are FIFO cells, not logic); flip-flops
#: per FIFO, independent of its width: Vivado HLS 5-7 (SVHN CNN, 96 + 400 FIFOs of depth 1-16;
#: hls4ml_test, depth 1), Vitis HLS 99 for a shift-register FIFO and 150-163 for a block-RAM one
#: (tsopeter: depth 9-25, 30-36 bits; depth 9 x 114 bits and 4,096 x 8 bits).
FIFO_FF = {"vivado": 6, "vitis_srl": 99, "vitis_bram": 157}


@lru_cache(maxsize=8192)
def bram_blocks(width: int, depth: int, *, one_port: bool = False) -> int:
    """BRAM18 blocks of a ``depth`` x ``width`` memory, in the cheapest aspect ratio."""
    if width <= 0 or depth <= 0:
        return 0
    modes = _SDP_MODES if one_port else _TDP_MODES
    return min(-(-width // w) * -(-depth // d) for w, d in modes)


@lru_cache(maxsize=8192)
def rom_blocks(width: int, depth: int) -> tuple[int, int]:
    """(BRAM18 blocks, LUTRAM LUTs) of a weight ROM ``width`` bits wide and ``depth`` words deep.

    Whole 36-bit columns (512 words each) go to blocks; a narrow leftover column goes to LUTRAM
    (one LUT holds 64 x 1 bits).
    """
    columns_per_block = 36 if depth <= 512 else 18 if depth <= 1024 else 9 if depth <= 2048 else 4
    stack = max(1, -(-depth // (512 * 36 // columns_per_block)))
    full, rest = divmod(width, columns_per_block)
    if rest and rest > ROM_LUTRAM_REMAINDER_BITS:
        return (full + 1) * stack, 0
    lutram = rest * -(-depth // 64) if rest else 0
    if full == 0 and rest:
        # Too narrow for a block at all: all of it is LUTRAM.
        return 0, lutram
    return full * stack, lutram


@dataclass(frozen=True, slots=True)
class FifoCost:
    """One stream FIFO between layers."""

    width_bits: int
    depth: int
    bram_18k: int
    srl_luts: int
    fifos: int
    #: flip-flops csynth counts for these FIFOs (see FIFO_FF)
    ff: int = 0


@lru_cache(maxsize=8192)
def fifo_cost(channels: int, bits: int, depth: int, hls: HlsTool) -> FifoCost:
    """The FIFO(s) of a stream of ``depth`` beats, each ``channels`` values of ``bits`` bits.

    Vitis HLS aggregates the ``nnet::array`` beat into one FIFO ``channels * bits`` wide; Vivado HLS
    makes one FIFO per channel. Shallow ones are SRL shift registers (one LUT per bit per 32 words).
    """
    depth = max(int(depth), 1)
    if hls is HlsTool.VITIS:
        width = channels * bits
        if width * depth <= VITIS_SRL_MAX_BITS or depth <= 2:
            return FifoCost(width, depth, 0, width * -(-depth // 32), 1, FIFO_FF["vitis_srl"])
        return FifoCost(width, depth, bram_blocks(width, depth), 0, 1, FIFO_FF["vitis_bram"])
    ff = channels * FIFO_FF["vivado"]
    if depth <= VIVADO_SRL_MAX_DEPTH:
        return FifoCost(bits, depth, 0, channels * bits * -(-depth // 32), channels, ff)
    return FifoCost(bits, depth, channels * bram_blocks(bits, depth), 0, channels, ff)


def log2_ceil(n: int) -> int:
    """Bits to index ``n`` items (at least 1)."""
    return max(1, math.ceil(math.log2(max(n, 2))))
