"""What each release has installed: IP catalog (VLNVs and their pins), board parts, device facts.

IP versions per release follow the Vivado IP release notes / the VLNVs in AMD's own example scripts
(``processing_system7:5.5`` and ``axi_dma:7.1`` throughout; ``zynq_ultra_ps_e`` 3.3 up to 2021.1,
3.4 in 2021.2-2022.2, 3.5 from 2023.1). Interface and port names are those of the IP product guides
(PG021 AXI DMA, PG201 Zynq UltraScale+ MPSoC PS, PG082 Zynq-7000 PS7, PG247 SmartConnect, PG059 AXI
Interconnect, PG164 Processor System Reset) as they appear in real ``.hwh`` files. Doubtful versions
are listed in the module's report, not hidden.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

RELEASES = (
    "2019.1",
    "2019.2",
    "2020.1",
    "2020.2",
    "2021.1",
    "2021.2",
    "2022.1",
    "2022.2",
    "2023.1",
    "2023.2",
    "2024.1",
    "2024.2",
    "2025.1",
    "2025.2",
)

#: BUILD numbers printed in banners (the stand-in's own; not AMD's).
AXIMM = "xilinx.com:interface:aximm_rtl:1.0"
AXIS = "xilinx.com:interface:axis_rtl:1.0"
DDRX = "xilinx.com:interface:ddrx_rtl:1.0"
FIXED_IO = "xilinx.com:display_processing_system7:fixedio_rtl:1.0"
GPIO = "xilinx.com:interface:gpio_rtl:1.0"
INTERFACE_BUS = {
    AXIMM: "xilinx.com:interface:aximm:1.0",
    AXIS: "xilinx.com:interface:axis:1.0",
    DDRX: "xilinx.com:interface:ddrx:1.0",
    FIXED_IO: "xilinx.com:display_processing_system7:fixedio:1.0",
    GPIO: "xilinx.com:interface:gpio:1.0",
}


def release_key(release: str) -> tuple[int, int]:
    year, _, minor = release.partition(".")
    return int(year), int(minor or 0)


@dataclass(frozen=True)
class IntfPin:
    """An interface pin: name, mode (Master/Slave), the interface VLNV, the CONFIG that enables it."""

    name: str
    mode: str
    vlnv: str
    enable: tuple[str, str] | None = None  # (CONFIG.param, value that enables)


@dataclass(frozen=True)
class Pin:
    """A plain pin: name, direction (I/O), type (clk/rst/intr/data), the CONFIG that enables it."""

    name: str
    dir: str
    type: str = "data"
    enable: tuple[str, str] | None = None


@dataclass
class IpDef:
    """One catalog entry."""

    vendor: str
    library: str
    name: str
    version: str
    intf_pins: list[IntfPin] = field(default_factory=list)
    pins: list[Pin] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    iptype: str = "PERIPHERAL"
    repo: str | None = None  # component.xml of an IP found under ip_repo_paths
    display: str = ""

    @property
    def vlnv(self) -> str:
        return f"{self.vendor}:{self.library}:{self.name}:{self.version}"


def _zup_version(key: tuple[int, int]) -> str:
    if key <= (2021, 1):
        return "3.3"
    if key <= (2022, 2):
        return "3.4"
    return "3.5"


def _ps7() -> IpDef:
    intf = [
        IntfPin("DDR", "Master", DDRX),
        IntfPin("FIXED_IO", "Master", FIXED_IO),
        IntfPin("M_AXI_GP0", "Master", AXIMM, ("PCW_USE_M_AXI_GP0", "1")),
        IntfPin("M_AXI_GP1", "Master", AXIMM, ("PCW_USE_M_AXI_GP1", "1")),
        IntfPin("S_AXI_GP0", "Slave", AXIMM, ("PCW_USE_S_AXI_GP0", "1")),
        IntfPin("S_AXI_ACP", "Slave", AXIMM, ("PCW_USE_S_AXI_ACP", "1")),
    ]
    pins = [
        Pin("FCLK_CLK0", "O", "clk"),
        Pin("FCLK_RESET0_N", "O", "rst"),
        Pin("M_AXI_GP0_ACLK", "I", "clk", ("PCW_USE_M_AXI_GP0", "1")),
        Pin("M_AXI_GP1_ACLK", "I", "clk", ("PCW_USE_M_AXI_GP1", "1")),
        Pin("IRQ_F2P", "I", "intr", ("PCW_USE_FABRIC_INTERRUPT", "1")),
    ]
    for i in range(4):
        intf.append(IntfPin(f"S_AXI_HP{i}", "Slave", AXIMM, (f"PCW_USE_S_AXI_HP{i}", "1")))
        pins.append(Pin(f"S_AXI_HP{i}_ACLK", "I", "clk", (f"PCW_USE_S_AXI_HP{i}", "1")))
    for i in range(1, 4):
        pins.append(Pin(f"FCLK_CLK{i}", "O", "clk", (f"PCW_EN_CLK{i}_PORT", "1")))
    defaults = {"PCW_USE_M_AXI_GP0": "1", "PCW_FPGA0_PERIPHERAL_FREQMHZ": "50", "PCW_EN_CLK0_PORT": "1"}
    return IpDef(
        "xilinx.com",
        "ip",
        "processing_system7",
        "5.5",
        intf,
        pins,
        defaults,
        display="ZYNQ7 Processing System",
    )


def _zynq_ultra(version: str) -> IpDef:
    intf = [
        IntfPin("M_AXI_HPM0_FPD", "Master", AXIMM, ("PSU__USE__M_AXI_GP0", "1")),
        IntfPin("M_AXI_HPM1_FPD", "Master", AXIMM, ("PSU__USE__M_AXI_GP1", "1")),
        IntfPin("M_AXI_HPM0_LPD", "Master", AXIMM, ("PSU__USE__M_AXI_GP2", "1")),
    ]
    pins = [
        Pin("pl_clk0", "O", "clk", ("PSU__FPGA_PL0_ENABLE", "1")),
        Pin("pl_resetn0", "O", "rst", ("PSU__FPGA_PL0_ENABLE", "1")),
        Pin("maxihpm0_fpd_aclk", "I", "clk", ("PSU__USE__M_AXI_GP0", "1")),
        Pin("maxihpm1_fpd_aclk", "I", "clk", ("PSU__USE__M_AXI_GP1", "1")),
        Pin("maxihpm0_lpd_aclk", "I", "clk", ("PSU__USE__M_AXI_GP2", "1")),
        Pin("pl_ps_irq0", "I", "intr", ("PSU__USE__IRQ0", "1")),
    ]
    for i in range(1, 4):
        pins.append(Pin(f"pl_clk{i}", "O", "clk", (f"PSU__FPGA_PL{i}_ENABLE", "1")))
    slaves = [
        ("S_AXI_HPC0_FPD", "saxihpc0_fpd_aclk", 0),
        ("S_AXI_HPC1_FPD", "saxihpc1_fpd_aclk", 1),
        ("S_AXI_HP0_FPD", "saxihp0_fpd_aclk", 2),
        ("S_AXI_HP1_FPD", "saxihp1_fpd_aclk", 3),
        ("S_AXI_HP2_FPD", "saxihp2_fpd_aclk", 4),
        ("S_AXI_HP3_FPD", "saxihp3_fpd_aclk", 5),
        ("S_AXI_LPD", "saxi_lpd_aclk", 6),
    ]
    for intf_name, clk, gp in slaves:
        intf.append(IntfPin(intf_name, "Slave", AXIMM, (f"PSU__USE__S_AXI_GP{gp}", "1")))
        pins.append(Pin(clk, "I", "clk", (f"PSU__USE__S_AXI_GP{gp}", "1")))
    intf.append(IntfPin("S_AXI_ACP_FPD", "Slave", AXIMM, ("PSU__USE__S_AXI_ACP", "1")))
    defaults = {
        "PSU__USE__M_AXI_GP0": "1",
        "PSU__USE__M_AXI_GP1": "1",
        "PSU__USE__M_AXI_GP2": "0",
        "PSU__FPGA_PL0_ENABLE": "1",
        "PSU__CRL_APB__PL0_REF_CTRL__FREQMHZ": "100",
        "PSU__MAXIGP0__DATA_WIDTH": "128",
        "PSU__MAXIGP1__DATA_WIDTH": "128",
    }
    return IpDef(
        "xilinx.com", "ip", "zynq_ultra_ps_e", version, intf, pins, defaults, display="Zynq UltraScale+ MPSoC"
    )


def _axi_dma() -> IpDef:
    intf = [
        IntfPin("S_AXI_LITE", "Slave", AXIMM),
        IntfPin("M_AXI_SG", "Master", AXIMM, ("c_include_sg", "1")),
        IntfPin("M_AXI_MM2S", "Master", AXIMM, ("c_include_mm2s", "1")),
        IntfPin("M_AXI_S2MM", "Master", AXIMM, ("c_include_s2mm", "1")),
        IntfPin("M_AXIS_MM2S", "Master", AXIS, ("c_include_mm2s", "1")),
        IntfPin("S_AXIS_S2MM", "Slave", AXIS, ("c_include_s2mm", "1")),
    ]
    pins = [
        Pin("s_axi_lite_aclk", "I", "clk"),
        Pin("m_axi_sg_aclk", "I", "clk", ("c_include_sg", "1")),
        Pin("m_axi_mm2s_aclk", "I", "clk", ("c_include_mm2s", "1")),
        Pin("m_axi_s2mm_aclk", "I", "clk", ("c_include_s2mm", "1")),
        Pin("axi_resetn", "I", "rst"),
        Pin("mm2s_prmry_reset_out_n", "O", "rst", ("c_include_mm2s", "1")),
        Pin("s2mm_prmry_reset_out_n", "O", "rst", ("c_include_s2mm", "1")),
        Pin("mm2s_introut", "O", "intr", ("c_include_mm2s", "1")),
        Pin("s2mm_introut", "O", "intr", ("c_include_s2mm", "1")),
    ]
    defaults = {
        "c_include_sg": "1",
        "c_sg_length_width": "14",
        "c_sg_include_stscntrl_strm": "1",
        "c_include_mm2s": "1",
        "c_include_s2mm": "1",
        "c_m_axi_mm2s_data_width": "32",
        "c_m_axis_mm2s_tdata_width": "32",
        "c_m_axi_s2mm_data_width": "32",
        "c_s_axis_s2mm_tdata_width": "32",
        "c_mm2s_burst_size": "16",
        "c_s2mm_burst_size": "16",
        "c_addr_width": "32",
        "c_micro_dma": "0",
        "c_enable_multi_channel": "0",
        "c_include_mm2s_dre": "0",
        "c_include_s2mm_dre": "0",
    }
    return IpDef(
        "xilinx.com", "ip", "axi_dma", "7.1", intf, pins, defaults, display="AXI Direct Memory Access"
    )


def _interconnect(name: str, version: str, iptype: str = "BUS") -> IpDef:
    pins = (
        [Pin("aclk", "I", "clk"), Pin("aresetn", "I", "rst")]
        if name == "smartconnect"
        else [Pin("ACLK", "I", "clk"), Pin("ARESETN", "I", "rst")]
    )
    defaults = {"NUM_SI": "1", "NUM_MI": "1" if name == "smartconnect" else "2"}
    return IpDef(
        "xilinx.com",
        "ip",
        name,
        version,
        [],
        pins,
        defaults,
        iptype=iptype,
        display="AXI SmartConnect" if name == "smartconnect" else "AXI Interconnect",
    )


def _simple(
    name: str, version: str, intf: list[IntfPin], pins: list[Pin], defaults: dict[str, str] | None = None
) -> IpDef:
    return IpDef("xilinx.com", "ip", name, version, intf, pins, dict(defaults or {}))


def builtin_catalog(release: str) -> list[IpDef]:
    """The AMD IP a release ships (the subset hil's and hls4ml's block designs use)."""
    key = release_key(release)
    return [
        _ps7(),
        _zynq_ultra(_zup_version(key)),
        _axi_dma(),
        _interconnect("smartconnect", "1.0"),
        _interconnect("axi_interconnect", "2.1"),
        _simple(
            "proc_sys_reset",
            "5.0",
            [],
            [
                Pin("slowest_sync_clk", "I", "clk"),
                Pin("ext_reset_in", "I", "rst"),
                Pin("aux_reset_in", "I", "rst"),
                Pin("mb_debug_sys_rst", "I", "rst"),
                Pin("dcm_locked", "I"),
                Pin("mb_reset", "O", "rst"),
                Pin("bus_struct_reset", "O", "rst"),
                Pin("peripheral_reset", "O", "rst"),
                Pin("interconnect_aresetn", "O", "rst"),
                Pin("peripheral_aresetn", "O", "rst"),
            ],
        ),
        _simple(
            "clk_wiz",
            "6.0",
            [],
            [
                Pin("clk_in1", "I", "clk"),
                Pin("clk_out1", "O", "clk"),
                Pin("reset", "I", "rst"),
                Pin("resetn", "I", "rst"),
                Pin("locked", "O"),
            ],
            {"CLKOUT1_REQUESTED_OUT_FREQ": "100.000"},
        ),
        _simple(
            "xlconcat",
            "2.1",
            [],
            [Pin(f"In{i}", "I") for i in range(32)] + [Pin("dout", "O")],
            {"NUM_PORTS": "2"},
        ),
        _simple("xlconstant", "1.1", [], [Pin("dout", "O")], {"CONST_VAL": "1", "CONST_WIDTH": "1"}),
        _simple(
            "axis_data_fifo",
            "2.0",
            [IntfPin("S_AXIS", "Slave", AXIS), IntfPin("M_AXIS", "Master", AXIS)],
            [Pin("s_axis_aclk", "I", "clk"), Pin("s_axis_aresetn", "I", "rst")],
            {"FIFO_DEPTH": "16"},
        ),
        _simple(
            "axis_dwidth_converter",
            "1.1",
            [IntfPin("S_AXIS", "Slave", AXIS), IntfPin("M_AXIS", "Master", AXIS)],
            [Pin("aclk", "I", "clk"), Pin("aresetn", "I", "rst")],
        ),
        _simple(
            "axi_gpio",
            "2.0",
            [IntfPin("S_AXI", "Slave", AXIMM), IntfPin("GPIO", "Master", GPIO)],
            [Pin("s_axi_aclk", "I", "clk"), Pin("s_axi_aresetn", "I", "rst")],
        ),
        _simple(
            "axi_intc",
            "4.1",
            [IntfPin("s_axi", "Slave", AXIMM)],
            [
                Pin("s_axi_aclk", "I", "clk"),
                Pin("s_axi_aresetn", "I", "rst"),
                Pin("intr", "I", "intr"),
                Pin("irq", "O", "intr"),
            ],
        ),
        _simple(
            "axi_timer",
            "2.0",
            [IntfPin("S_AXI", "Slave", AXIMM)],
            [Pin("s_axi_aclk", "I", "clk"), Pin("s_axi_aresetn", "I", "rst"), Pin("interrupt", "O", "intr")],
        ),
    ]


#: Board parts that AMD's installer ships, by the first release that has that revision.
_AMD_BOARDS = {
    "xilinx.com:zcu104:part0:1.1": ((2018, 1), None),
    "xilinx.com:zcu102:part0:3.3": ((2018, 3), (2020, 1)),
    "xilinx.com:zcu102:part0:3.4": ((2020, 2), None),
    "xilinx.com:zcu106:part0:2.6": ((2020, 1), None),
    "xilinx.com:zc702:part0:1.4": ((2018, 1), None),
    "xilinx.com:zc706:part0:1.4": ((2018, 1), None),
    "xilinx.com:kv260_som:part0:1.2": ((2021, 2), (2021, 2)),
    "xilinx.com:kv260_som:part0:1.3": ((2022, 1), (2022, 2)),
    "xilinx.com:kv260_som:part0:1.4": ((2023, 1), None),
}

#: Parts of the boards above (``get_board_parts`` -> PART_NAME).
BOARD_PART_NAMES = {
    "zcu104": "xczu7ev-ffvc1156-2-e",
    "zcu102": "xczu9eg-ffvb1156-2-e",
    "zcu106": "xczu7ev-ffvc1156-2-e",
    "zc702": "xc7z020clg484-1",
    "zc706": "xc7z045ffg900-2",
    "kv260_som": "xck26-sfvc784-2LV-c",
    "pynq-z2": "xc7z020clg400-1",
    "pynq-z1": "xc7z020clg400-1",
    "ultra96v2": "xczu3eg-sbva484-1-e",
}


def board_parts(release: str) -> list[str]:
    """Installed board parts: AMD's own for the release, plus the third-party board files listed in
    HIL_STANDIN_BOARD_PARTS (comma-separated; the token ``-amd`` removes AMD's own)."""
    key = release_key(release)
    amd = [bp for bp, (first, last) in _AMD_BOARDS.items() if first <= key and (last is None or key <= last)]
    extra = [x.strip() for x in os.environ.get("HIL_STANDIN_BOARD_PARTS", "").split(",") if x.strip()]
    if "-amd" in extra:
        amd = []
    return amd + [x for x in extra if x not in ("-amd", "+amd") and x not in amd]


@dataclass(frozen=True)
class Device:
    """A part's resource counts (the Available column of utilization reports)."""

    family: str  # zynq, zynquplus, artix7, virtexuplus...
    lut: int
    ff: int
    bram36: int
    dsp: int
    uram: int = 0

    @property
    def ultrascale(self) -> bool:
        return self.family in ("zynquplus", "virtexuplus", "kintexuplus")


_DEVICES = {
    "xc7z020": Device("zynq", 53200, 106400, 140, 220),
    "xc7z045": Device("zynq", 218600, 437200, 545, 900),
    "xc7a35t": Device("artix7", 20800, 41600, 50, 90),
    "xc7a100t": Device("artix7", 63400, 126800, 135, 240),
    "xczu7ev": Device("zynquplus", 230400, 460800, 312, 1728, 96),
    "xczu9eg": Device("zynquplus", 274080, 548160, 912, 2520),
    "xczu3eg": Device("zynquplus", 70560, 141120, 216, 360),
    "xck26": Device("zynquplus", 117120, 234240, 144, 1248, 64),
    "xcu250": Device("virtexuplus", 1728000, 3456000, 2688, 12288, 1280),
}


def device(part: str) -> Device:
    """Resources of ``part`` (by its die prefix); unknown parts get a mid-size UltraScale+ device."""
    for prefix, dev in _DEVICES.items():
        if part.lower().startswith(prefix):
            return dev
    return Device("zynquplus", 230400, 460800, 312, 1728, 96)


def known_part(part: str) -> bool:
    return any(part.lower().startswith(p) for p in _DEVICES)


def short_part(part: str) -> str:
    """How a utilization report's banner names a part (real 2020.1 reports): ``xc7z020clg400-1`` ->
    ``7z020clg400-1``; ``xczu9eg-ffvb1156-2-e`` -> ``xczu9egffvb1156-2``."""
    if part.lower().startswith("xc7"):
        return part[2:]
    fields = part.split("-")
    if len(fields) >= 3:
        return f"{fields[0]}{fields[1]}-{fields[2]}"
    return part


def family_of(part: str) -> str:
    return device(part).family
