# ruff: noqa: E501  (the C++/Tcl templates keep one statement per line)
"""The Vitis HLS script of the Vitis flow: the network plus hil's AXI-stream top, to an IP.

Why hil's own script rather than hls4ml's ``build_prj.tcl``: hls4ml's sets the network itself
as the top and exports no IP unless asked, with options that differ between releases. This one
reads hls4ml's ``project.tcl`` (part, clock period, uncertainty: the project's own settings),
synthesizes hil's top and exports it with ``export_design -format ip_catalog`` under a VLNV the
block design asks the IP catalog for. Commands and options: UG1399 (Vitis HLS Command
Reference), valid from 2020.2 through 2025.1; both ``vitis_hls -f`` and ``vitis-run --mode hls
--tcl`` run it.
"""

from __future__ import annotations

from hil.flow._axis_top import AxisTop

__all__ = ["IP_LIBRARY", "IP_VENDOR", "IP_VERSION", "hls_script"]

#: The exported IP's vendor, library and version: its VLNV is ``hil.ml:hls:<top>:1.0``.
IP_VENDOR = "hil.ml"
IP_LIBRARY = "hls"
IP_VERSION = "1.0"

SOLUTION = "solution1"


def hls_script(top: AxisTop, *, export: bool = True) -> str:
    """The Tcl text; run in the hls4ml project folder (where ``project.tcl`` and ``firmware/`` are)."""
    export_tcl = (
        f"""
puts "hil: exporting {top.function} as an IP ({IP_VENDOR}:{IP_LIBRARY}:{top.function}:{IP_VERSION})"
export_design -format ip_catalog -rtl verilog -vendor {IP_VENDOR} -library {IP_LIBRARY} -version {IP_VERSION} \\
    -ipname {top.function} -display_name {{hil {top.project} AXI-stream}} \\
    -description {{hls4ml network {top.project} behind hil's AXI4-Stream top}}
"""
        if export
        else ""
    )
    return f"""# hil: Vitis HLS script of the Vitis flow (hil.flow._tcl_hls). Run in the hls4ml project folder:
#   vitis-run --mode hls --tcl hil_hls.tcl      (2023.2 and later)
#   vitis_hls -f hil_hls.tcl                    (2020.2 - 2024.2)
source [file join [file dirname [info script]] project.tcl]

open_project -reset ${{project_name}}_prj
set_top {top.function}
add_files firmware/${{project_name}}.cpp -cflags "-std=c++0x"
add_files {top.source} -cflags "-std=c++0x"
open_solution -reset {SOLUTION} -flow_target vivado
set_part $part
create_clock -period $clock_period -name default
set_clock_uncertainty $clock_uncertainty default
config_compile -name_max_length 80

puts "hil: C synthesis of {top.function} for $part at $clock_period ns"
csynth_design
{export_tcl}
exit
"""
