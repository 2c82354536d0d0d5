"""Boards as data: what hil's block design needs to know about each board's processing system.

Why data, not a Tcl file per board: the block design is the same for every PYNQ board (PS, AXI
DMA, SmartConnect, reset, the network); what differs is the part, the board files, which PS IP
and which of its ports. Those live in ``hil/data/board_builds.yaml`` (shipped) and may be
overridden or extended per board in the inventory (``build:``), so a new board is a few lines of
YAML. The PS families' port names come from AMD's documentation: PG201 (Zynq UltraScale+ MPSoC
PS: ``M_AXI_HPM0_FPD``, ``S_AXI_HP0_FPD``, ``pl_clk0``, ``PSU__USE__S_AXI_GP2`` enables HP0) and
UG585/PG082 (Zynq-7000 PS: ``M_AXI_GP0``, ``S_AXI_HP0``, ``FCLK_CLK0``).
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hil.errors import ConfigError

__all__ = ["BoardBuild", "PsFamily", "PS_FAMILIES", "board_build", "shipped_board_builds"]

_log = logging.getLogger(__name__)


class PsFamily(BaseModel):
    """One processing-system IP: its ports, its clock property, the CONFIG an overlay needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The automation rule that applies a board preset (used only with board files).
    preset_rule: str
    #: CONFIG values enabling the ports below and the PL clock/reset (without board files, these
    #: are the whole PS configuration the bitstream carries; the boot image configures DDR/MIO).
    preset: dict[str, str]
    #: The CONFIG property that sets the PL clock in MHz.
    clock_property: str
    #: AXI master port the DMA's control registers are reached through, and its clock pin.
    master: str
    master_clock: str
    #: AXI slave port (to DDR) the DMA reads and writes through, and its clock pin.
    slave: str
    slave_clock: str
    #: The PL clock and reset the PS drives.
    pl_clock: str
    pl_reset: str
    #: Interface pins that must be made external (Zynq-7000: DDR and FIXED_IO).
    external: tuple[str, ...] = ()
    #: Allowed PL clock range in MHz (data sheets).
    pl_clock_mhz: tuple[float, float]


PS_FAMILIES: dict[str, PsFamily] = {
    "zynq_ultra_ps_e": PsFamily(
        preset_rule="xilinx.com:bd_rule:zynq_ultra_ps_e",
        preset={
            "PSU__USE__M_AXI_GP0": "1",  # M_AXI_HPM0_FPD
            # M_AXI_HPM1_FPD: a board preset may enable it, and its clock pin would dangle
            "PSU__USE__M_AXI_GP1": "0",
            "PSU__USE__M_AXI_GP2": "0",  # M_AXI_HPM0_LPD
            "PSU__USE__S_AXI_GP2": "1",  # S_AXI_HP0_FPD
            "PSU__FPGA_PL0_ENABLE": "1",
        },
        clock_property="PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ",
        master="M_AXI_HPM0_FPD",
        master_clock="maxihpm0_fpd_aclk",
        slave="S_AXI_HP0_FPD",
        slave_clock="saxihp0_fpd_aclk",
        pl_clock="pl_clk0",
        pl_reset="pl_resetn0",
        pl_clock_mhz=(10.0, 300.0),
    ),
    "processing_system7": PsFamily(
        preset_rule="xilinx.com:bd_rule:processing_system7",
        preset={
            "PCW_USE_M_AXI_GP0": "1",
            "PCW_USE_S_AXI_HP0": "1",
            "PCW_EN_CLK0_PORT": "1",
            "PCW_EN_RST0_PORT": "1",
        },
        clock_property="PCW_FPGA0_PERIPHERAL_FREQMHZ",
        master="M_AXI_GP0",
        master_clock="M_AXI_GP0_ACLK",
        slave="S_AXI_HP0",
        slave_clock="S_AXI_HP0_ACLK",
        pl_clock="FCLK_CLK0",
        pl_reset="FCLK_RESET0_N",
        external=("DDR", "FIXED_IO"),
        pl_clock_mhz=(10.0, 250.0),
    ),
}


class BoardBuild(BaseModel):
    """What the block design of one board is made from (see ``hil/data/board_builds.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    part: str
    board_part: str | None = None
    ps: str
    pl_clock_mhz: tuple[float, float] | None = None
    pynq: tuple[str, ...] = ()
    pynq_note: str | None = None
    #: Extra PS CONFIG values (override the family's preset).
    ps_config: dict[str, str] = Field(default_factory=dict)

    @field_validator("ps_config", mode="before")
    @classmethod
    def _values_as_text(cls, values: Any) -> Any:
        # YAML reads `PSU__USE__S_AXI_GP2: 1` as an int; Vivado's CONFIG values are text.
        if isinstance(values, dict):
            return {str(k): str(v) for k, v in values.items()}
        return values

    @model_validator(mode="after")
    def _known_ps(self) -> BoardBuild:
        if self.ps not in PS_FAMILIES:
            raise ValueError(f"ps must be one of {', '.join(PS_FAMILIES)}, got {self.ps!r}")
        return self

    @property
    def family(self) -> PsFamily:
        return PS_FAMILIES[self.ps]

    @property
    def clock_range(self) -> tuple[float, float]:
        return self.pl_clock_mhz or self.family.pl_clock_mhz

    def preset(self) -> dict[str, str]:
        """The PS CONFIG values hil sets: the family's preset, then the board's own."""
        return {**self.family.preset, **{k: str(v) for k, v in self.ps_config.items()}}

    def check_clock(self, clock_mhz: float, board: str) -> None:
        """Refuse a PL clock outside the board's range (one line naming the range)."""
        low, high = self.clock_range
        if not low <= clock_mhz <= high:
            raise ConfigError(
                f"board {board}: a {clock_mhz:g} MHz PL clock is outside {low:g}-{high:g} MHz "
                f"({self.ps}); set the board's clock_mhz in the inventory"
            )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@functools.lru_cache(maxsize=1)
def shipped_board_builds() -> dict[str, dict[str, Any]]:
    """The raw table shipped with hil (board name -> fields)."""
    text = resources.files("hil.data").joinpath("board_builds.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {str(name): dict(entry) for name, entry in data.items()}


def board_build(name: str, part: str, overrides: dict[str, Any] | None = None) -> BoardBuild:
    """The build data of board ``name``: the shipped entry, overridden by the inventory's ``build:``.

    Raises:
        ConfigError: the board has no build data (neither shipped nor in the inventory), the
            data is invalid, or its part differs from the inventory's part.
    """
    entry = dict(shipped_board_builds().get(name, {}))
    entry.update(overrides or {})
    if not entry:
        raise ConfigError(
            f"board {name}: hil has no block-design data for it; add a `build:` section to the board "
            f"in the inventory (ps: zynq_ultra_ps_e or processing_system7, board_part, pynq)"
        )
    entry.setdefault("part", part)
    try:
        build = BoardBuild(**entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"board {name} build data: {where}: {first['msg']}") from None
    if build.part.lower() != part.lower():
        raise ConfigError(
            f"board {name}: the inventory's part {part} differs from its build data's part {build.part}; "
            "fix one of them (or give the board's own `build:` section)"
        )
    return build
