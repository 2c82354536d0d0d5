"""The hardware handoff (``<bd>.hwh``) that ``generate_target``/``launch_runs`` write for a block design.

Modelled on real Vivado .hwh files (../shared/hwh: an hls4ml PYNQ-Z2 design from Vivado 2020.1 and a
ZCU104 design from 2019.1): ``EDKSYSTEM`` > ``SYSTEMINFO``, ``EXTERNALPORTS``, ``EXTERNALINTERFACES``,
``MODULES``; one ``MODULE`` per BD cell with ``FULLNAME`` (its hierarchy path), ``INSTANCE`` (the path
with ``_``), ``MODTYPE``, ``VLNV``, ``PARAMETERS`` (the cell's CONFIG and, for addressed IP,
``C_BASEADDR``/``C_HIGHADDR``), ``PORTS`` with ``CONNECTIONS``, ``BUSINTERFACES`` with ``PORTMAPS``, and for
AXI masters a ``MEMORYMAP``. Only what PYNQ's parsers read is filled in; DDR/FIXED_IO pins are left out.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.xilinx_standin._catalog import AXIMM, AXIS, INTERFACE_BUS, device
from tests.xilinx_standin._reports import xml_text

if TYPE_CHECKING:
    from tests.xilinx_standin._vivado import BlockDesign, Cell

AXIMM_SIGNALS = [
    ("AWADDR", "I", 32),
    ("AWVALID", "I", 1),
    ("AWREADY", "O", 1),
    ("WDATA", "I", 32),
    ("WSTRB", "I", 4),
    ("WVALID", "I", 1),
    ("WREADY", "O", 1),
    ("BRESP", "O", 2),
    ("BVALID", "O", 1),
    ("BREADY", "I", 1),
    ("ARADDR", "I", 32),
    ("ARVALID", "I", 1),
    ("ARREADY", "O", 1),
    ("RDATA", "O", 32),
    ("RRESP", "O", 2),
    ("RVALID", "O", 1),
    ("RREADY", "I", 1),
]
AXIS_SIGNALS = [("TDATA", "O", 32), ("TVALID", "O", 1), ("TREADY", "I", 1), ("TLAST", "O", 1)]
PS_TYPES = ("processing_system7", "zynq_ultra_ps_e")


def instance(path: str) -> str:
    return path.lstrip("/").replace("/", "_")


def _physical(cell: Cell, intf: str, logical: str) -> str:
    assert cell.ipdef is not None
    if cell.ipdef.name == "axi_dma":
        return f"{intf.lower()}_{logical.lower()}"
    if cell.ipdef.repo:  # HLS IP: Vitis/Vivado HLS names (in_r_TDATA)
        return f"{intf}_{logical}"
    return f"{intf}_{logical}"


def _signals(cell: Cell, intf: Any) -> list[tuple[str, str, int]]:
    """(logical, dir as seen by this pin, width) of an interface pin."""
    base = AXIMM_SIGNALS if intf.vlnv == AXIMM else AXIS_SIGNALS
    master = intf.mode == "Master"
    out = []
    for logical, d, w in base:
        if intf.vlnv == AXIMM:
            direction = ("O" if d == "I" else "I") if master else d
        else:
            direction = d if master else ("I" if d == "O" else "O")
        width = w
        if intf.vlnv == AXIS and logical == "TDATA":
            width = _tdata_bits(cell, intf.name)
        out.append((logical, direction, width))
    return out


def _tdata_bits(cell: Cell, intf: str) -> int:
    assert cell.ipdef is not None
    if cell.ipdef.name == "axi_dma":
        key = "c_m_axis_mm2s_tdata_width" if intf == "M_AXIS_MM2S" else "c_s_axis_s2mm_tdata_width"
        return int(cell.param(key) or 32)
    nbytes = cell.ipdef.defaults.get(f"{intf}.TDATA_NUM_BYTES")
    return int(nbytes) * 8 if nbytes and nbytes.isdigit() else 32


def write_hwh(bd: BlockDesign, part: str, board: str, release: str) -> str:
    """The .hwh text of ``bd``."""
    dev = device(part)
    arch = "zynquplus" if dev.ultrascale else "zynq"
    pkg = (
        part.split("-")[1]
        if "-" in part and dev.ultrascale
        else part[7:-2]
        if part.startswith("xc7z")
        else ""
    )
    name_dev = part[2:].split("-")[0] if dev.ultrascale else part[2:7] if part.startswith("xc7z") else part
    speed = "-" + part.split("-")[-1] if not dev.ultrascale else "-" + part.split("-")[2]
    # physical endpoint -> other endpoints
    links: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def link(a: tuple[str, str], b: tuple[str, str]) -> None:
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)

    cells = {c.path: c for c in bd.cells.values() if c.ipdef is not None}
    for net in bd.nets:  # a driver lists its loads, a load its driver (as real .hwh files do)
        drivers: list[tuple[str, str]] = []
        loads: list[tuple[str, str]] = []
        for m in net["members"]:
            cpath, _, pin = m.rpartition("/")
            if cpath in cells:
                pdir = next((p.dir for p in cells[cpath].pins() if p.name == pin), "I")
                (drivers if pdir == "O" else loads).append((instance(cpath), pin))
        for drv in drivers:
            for load in loads:
                link(drv, load)
    busnames: dict[tuple[str, str], str] = {}
    for net in bd.intf_nets:
        ca, _, ia = net["a"].rpartition("/")
        cb, _, ib = net["b"].rpartition("/")
        if ca not in cells or cb not in cells:
            continue
        busnames[(ca, ia)] = busnames[(cb, ib)] = instance(net["name"])
        pa = next(p for p in cells[ca].intf_pins() if p.name == ia)
        for logical, _, _ in _signals(cells[ca], pa):
            link(
                (instance(ca), _physical(cells[ca], ia, logical)),
                (instance(cb), _physical(cells[cb], ib, logical)),
            )
    ps = next((c for c in cells.values() if c.ipdef and c.ipdef.name in PS_TYPES), None)
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>',
        f'<EDKSYSTEM EDWVERSION="1.2" TIMESTAMP="{time.strftime("%a %b %d %H:%M:%S %Y")}" '
        f'VIVADOVERSION="{release}">',
        "",
        f'  <SYSTEMINFO ARCH="{arch}" BOARD="{xml_text(board)}" DEVICE="{name_dev}" NAME="{bd.name}" '
        f'PACKAGE="{pkg}" SPEEDGRADE="{speed}"/>',
        "",
        "  <EXTERNALPORTS/>",
        "",
        "  <EXTERNALINTERFACES/>",
        "",
        "  <MODULES>",
    ]
    for cell in sorted(cells.values(), key=lambda c: instance(c.path)):
        lines += _module(cell, bd, links, busnames, ps)
    lines += ["  </MODULES>", "", "</EDKSYSTEM>", ""]
    return "\n".join(lines)


def _module(
    cell: Cell,
    bd: BlockDesign,
    links: dict[tuple[str, str], set[tuple[str, str]]],
    busnames: dict[tuple[str, str], str],
    ps: Cell | None,
) -> list[str]:
    ip = cell.ipdef
    assert ip is not None
    inst = instance(cell.path)
    is_ps = ip.name in PS_TYPES
    iptype = "BUS" if ip.iptype == "BUS" else "PERIPHERAL"
    extra = ' IS_PL="FALSE"' if is_ps else f' MODCLASS="{iptype}"'
    out = [
        f'    <MODULE COREREVISION="{0 if ip.repo else 22}" FULLNAME="{cell.path}" HWVERSION="{ip.version}" '
        f'INSTANCE="{inst}" IPTYPE="{iptype}" IS_ENABLE="1"{extra} MODTYPE="{ip.name}" VLNV="{ip.vlnv}">',
        "      <DOCUMENTS/>",
        "      <PARAMETERS>",
    ]
    params = {k: v for k, v in ip.defaults.items() if "." not in k}
    params.update({k: v for k, v in cell.config.items() if not k.upper().endswith(".VALUE_SRC")})
    params["Component_Name"] = f"{bd.name}_{cell.name}_0"
    params["EDK_IPTYPE"] = iptype
    slave_addr = [
        (k, v) for k, v in bd.addresses.items() if "->" not in k and k.rpartition("/")[0] == cell.path
    ]
    if slave_addr:
        params["C_BASEADDR"] = f"0x{slave_addr[0][1]['base']:08X}"
        params["C_HIGHADDR"] = f"0x{slave_addr[0][1]['base'] + slave_addr[0][1]['range'] - 1:08X}"
    if is_ps and ip.name == "processing_system7":
        for i in range(4):
            freq = float(params.get(f"PCW_FPGA{i}_PERIPHERAL_FREQMHZ", "50" if i == 0 else "10"))
            on = "1" if i == 0 or params.get(f"PCW_EN_CLK{i}_PORT") == "1" else "0"
            params.setdefault(f"PCW_FPGA_FCLK{i}_ENABLE", on)
            params.setdefault(f"PCW_FCLK{i}_PERIPHERAL_DIVISOR0", str(max(1, round(1000 / freq / 2))))
            params.setdefault(f"PCW_FCLK{i}_PERIPHERAL_DIVISOR1", "2")
            params.setdefault(f"PCW_FCLK{i}_PERIPHERAL_CLKSRC", "IO PLL")
            params.setdefault(f"PCW_ACT_FPGA{i}_PERIPHERAL_FREQMHZ", f"{freq:.6f}")
            params.setdefault(f"PCW_FPGA{i}_PERIPHERAL_FREQMHZ", f"{freq:g}")
        params.setdefault("PCW_IOPLL_CTRL_FBDIV", "30")
        params.setdefault("PCW_CRYSTAL_PERIPHERAL_FREQMHZ", "33.333333")
    elif is_ps:
        for i in range(4):
            freq = float(params.get(f"PSU__CRL_APB__PL{i}_REF_CTRL__FREQMHZ", "100"))
            params.setdefault(f"PSU__FPGA_PL{i}_ENABLE", "1" if i == 0 else "0")
            params.setdefault(f"PSU__CRL_APB__PL{i}_REF_CTRL__SRCSEL", "IOPLL")
            params.setdefault(f"PSU__CRL_APB__PL{i}_REF_CTRL__DIVISOR0", str(max(1, round(1500 / freq))))
            params.setdefault(f"PSU__CRL_APB__PL{i}_REF_CTRL__DIVISOR1", "1")
            params.setdefault(f"PSU__CRL_APB__PL{i}_REF_CTRL__ACT_FREQMHZ", f"{freq - 0.000999:.6f}")
        params.setdefault("PSU__CRL_APB__IOPLL_CTRL__FBDIV", "90")
        params.setdefault("PSU__CRL_APB__IOPLL_CTRL__DIV2", "1")
        params.setdefault("PSU__PSS_REF_CLK__FREQMHZ", "33.333")
    for k, v in params.items():
        out.append(f'        <PARAMETER NAME="{xml_text(k)}" VALUE="{xml_text(str(v))}"/>')
    out += ["      </PARAMETERS>", "      <PORTS>"]
    ports: list[tuple[str, str, int, str]] = []
    for pin in cell.pins():
        sig = {"clk": "clk", "rst": "rst", "intr": "INTERRUPT"}.get(pin.type, "undef")
        ports.append((pin.name, pin.dir, 1, sig))
    intfs = [p for p in cell.intf_pins() if p.vlnv in (AXIMM, AXIS)]
    for intf in intfs:
        for logical, d, w in _signals(cell, intf):
            ports.append((_physical(cell, intf.name, logical), d, w, "undef"))
    for name, d, w, sig in ports:
        rng = f' LEFT="{w - 1}" RIGHT="0"' if w > 1 else ""
        others = sorted(links.get((inst, name), set()))
        signame = (
            f"{inst}_{name}"
            if not others
            else f"{others[0][0]}_{others[0][1]}"
            if d == "I"
            else f"{inst}_{name}"
        )
        out.append(f'        <PORT DIR="{d}"{rng} NAME="{name}" SIGIS="{sig}" SIGNAME="{xml_text(signame)}">')
        out.append("          <CONNECTIONS>")
        for oi, op in others:
            out.append(f'            <CONNECTION INSTANCE="{oi}" PORT="{op}"/>')
        out.append("          </CONNECTIONS>")
        out.append("        </PORT>")
    out += ["      </PORTS>", "      <BUSINTERFACES>"]
    for intf in intfs:
        kind = "INITIATOR" if intf.mode == "Master" else "TARGET"
        bus = busnames.get((cell.path, intf.name), "__NOC__")
        out.append(
            f'        <BUSINTERFACE BUSNAME="{bus}" NAME="{intf.name}" TYPE="{kind}" '
            f'VLNV="{INTERFACE_BUS[intf.vlnv]}">'
        )
        if intf.vlnv == AXIS:
            nbytes = _tdata_bits(cell, intf.name) // 8
            out += [
                f'          <PARAMETER NAME="TDATA_NUM_BYTES" VALUE="{nbytes}"/>',
                '          <PARAMETER NAME="HAS_TLAST" VALUE="1"/>',
                '          <PARAMETER NAME="HAS_TREADY" VALUE="1"/>',
            ]
        else:
            out += [
                '          <PARAMETER NAME="DATA_WIDTH" VALUE="32"/>',
                '          <PARAMETER NAME="PROTOCOL" VALUE="AXI4LITE"/>'
                if intf.name == "S_AXI_LITE"
                else '          <PARAMETER NAME="PROTOCOL" VALUE="AXI4"/>',
                '          <PARAMETER NAME="HAS_QOS" VALUE="0"/>',
            ]
        out.append("          <PORTMAPS>")
        for logical, _, _ in _signals(cell, intf):
            out.append(
                f'            <PORTMAP LOGICAL="{logical}" PHYSICAL="{_physical(cell, intf.name, logical)}"/>'
            )
        out += ["          </PORTMAPS>", "        </BUSINTERFACE>"]
    out.append("      </BUSINTERFACES>")
    ranges = []
    for key, seg in bd.addresses.items():
        if "->" in key:
            master, slave = key.split("->")
            if master.rpartition("/")[0] != cell.path:
                continue
            target_cell, _, target_intf = slave.rpartition("/")
        else:
            if seg["master"].rpartition("/")[0] != cell.path:
                continue
            target_cell, _, target_intf = key.rpartition("/")
        base, high = seg["base"], seg["base"] + seg["range"] - 1
        ranges.append(
            f'        <MEMRANGE ADDRESSBLOCK="{seg["block"]}" BASENAME="C_BASEADDR" '
            f'BASEVALUE="0x{base:08X}" HIGHNAME="C_HIGHADDR" HIGHVALUE="0x{high:08X}" '
            f'INSTANCE="{instance(target_cell)}" IS_DATA="TRUE" IS_INSTRUCTION="TRUE" '
            f'MASTERBUSINTERFACE="{seg["master"].rpartition("/")[2]}" MEMTYPE="{seg["memtype"]}" '
            f'SLAVEBUSINTERFACE="{target_intf}"/>'
        )
    if ranges:
        out += ["      <MEMORYMAP>", *ranges, "      </MEMORYMAP>", "      <PERIPHERALS>"]
        for r in sorted({r.split('INSTANCE="')[1].split('"')[0] for r in ranges}):
            out.append(f'        <PERIPHERAL INSTANCE="{r}"/>')
        out.append("      </PERIPHERALS>")
    out.append("    </MODULE>")
    return out
