# ruff: noqa: E501  (the C++/Tcl templates keep one statement per line)
"""hil's AXI4-Stream top for an hls4ml Vitis project: what an AXI DMA on a PYNQ board talks to.

Why hil writes its own top: hls4ml 1.3's Vitis backend makes the network (``myproject``) but no
top a DMA can drive, and its VivadoAccelerator top needs Vivado HLS (<= 2020.1). The convention
is hls4ml's PYNQ driver's, so its driver and hil's agent work unchanged:

* one 32-bit word per value, IEEE float32 (``hls::axis<float, 0, 0, 0>``, UG1399 "AXI4-Stream
  Interfaces with Side-Channels"), in the order hls4ml's C simulation takes a flattened sample;
* a batch of images per DMA transfer: the DMA raises TLAST on the transfer's last input word,
  and the top raises TLAST on the last output word of the image that word belonged to, so the
  receiving DMA transfer of the whole batch ends exactly there;
* free-running (``ap_ctrl_none``): no control registers; the DMA's are the only ones.

The convention is also written into the board bundle's manifest (``AXIS_CONVENTION``) for the agent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.errors import UnsupportedModelError

__all__ = ["AXIS_CONVENTION", "AxisTop", "axis_top_for", "write_axis_top"]

_log = logging.getLogger(__name__)

#: What the bundle's manifest says about the stream (the board agent reads it).
AXIS_CONVENTION: dict[str, Any] = {
    "word_bits": 32,
    "encoding": "float32",
    "values_per_word": 1,
    "order": "flattened sample, as the C simulation takes it",
    "tlast": "last word of the batch (input); last word of that image's output (output)",
    "batch": "any number of images per DMA transfer",
}

#: Depth of the FIFO carrying each image's TLAST flag past the network: images the network can
#: hold in flight between reading an image and writing its result (a 1-bit FIFO: a few LUTs).
_LAST_FIFO_DEPTH = 64


@dataclass(frozen=True)
class AxisTop:
    """The AXI-stream top of one design: its function and port names, sizes, files."""

    project: str
    io_type: str
    n_in: int
    n_out: int

    @property
    def function(self) -> str:
        return f"{self.project}_axis"

    #: Port names of the exported IP (the C++ argument names; Vitis HLS keeps them).
    in_port = "in_r"
    out_port = "out_r"

    @property
    def source(self) -> str:
        return f"firmware/{self.function}.cpp"

    @property
    def header(self) -> str:
        return f"firmware/{self.function}.h"


def axis_top_for(hls_model: Any) -> AxisTop:
    """Describe the top of a converted hls4ml model (one input, one output).

    Raises:
        UnsupportedModelError: the model has several inputs or outputs (the DMA carries one stream each way).
    """
    inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedModelError(
            f"the AXI-stream top takes one input and one output; the model has {len(inputs)} and {len(outputs)}"
        )
    io_type = str(hls_model.config.get_config_value("IOType"))
    project = str(hls_model.config.get_project_name())
    return AxisTop(project, io_type, int(inputs[0].size()), int(outputs[0].size()))


def _stream_body(top: AxisTop) -> str:
    """io_stream: the network takes nnet::array beats; a dataflow of read -> network -> write."""
    return f"""
static void hil_read(hls::stream<hil_word_t> &in_r, hls::stream<input_t> &net_in, hls::stream<bool> &last_out) {{
    bool last = false;
hil_read_beats:
    for (unsigned i = 0; i < HIL_N_IN / input_t::size; i++) {{
        input_t beat;
    hil_read_values:
        for (unsigned j = 0; j < input_t::size; j++) {{
            #pragma HLS PIPELINE II=1
            hil_word_t word = in_r.read();
            beat[j] = typename input_t::value_type(word.data);
            last = last || (word.last == 1);
        }}
        net_in.write(beat);
    }}
    last_out.write(last);
}}

static void hil_write(hls::stream<result_t> &net_out, hls::stream<bool> &last_in, hls::stream<hil_word_t> &out_r) {{
    const bool last = last_in.read();
hil_write_beats:
    for (unsigned i = 0; i < HIL_N_OUT / result_t::size; i++) {{
        result_t beat = net_out.read();
    hil_write_values:
        for (unsigned j = 0; j < result_t::size; j++) {{
            #pragma HLS PIPELINE II=1
            hil_word_t word;
            word.data = beat[j].to_float();
            word.keep = -1;
            word.strb = -1;
            word.last = (last && i == HIL_N_OUT / result_t::size - 1 && j == result_t::size - 1) ? 1 : 0;
            out_r.write(word);
        }}
    }}
}}

void {top.function}(hls::stream<hil_word_t> &in_r, hls::stream<hil_word_t> &out_r) {{
    #pragma HLS INTERFACE axis port=in_r
    #pragma HLS INTERFACE axis port=out_r
    #pragma HLS INTERFACE ap_ctrl_none port=return
    #pragma HLS DATAFLOW
    hls::stream<input_t> hil_net_in("hil_net_in");
    hls::stream<result_t> hil_net_out("hil_net_out");
    hls::stream<bool> hil_last("hil_last");
    #pragma HLS STREAM variable=hil_last depth={_LAST_FIFO_DEPTH}
    hil_read(in_r, hil_net_in, hil_last);
    {top.project}(hil_net_in, hil_net_out);
    hil_write(hil_net_out, hil_last, out_r);
}}
"""


def _parallel_body(top: AxisTop) -> str:
    """io_parallel: the network takes arrays; read all, run, write all."""
    return f"""
void {top.function}(hls::stream<hil_word_t> &in_r, hls::stream<hil_word_t> &out_r) {{
    #pragma HLS INTERFACE axis port=in_r
    #pragma HLS INTERFACE axis port=out_r
    #pragma HLS INTERFACE ap_ctrl_none port=return
    input_t hil_net_in[HIL_N_IN];
    result_t hil_net_out[HIL_N_OUT];
    bool last = false;
hil_read_values:
    for (unsigned i = 0; i < HIL_N_IN; i++) {{
        #pragma HLS PIPELINE II=1
        hil_word_t word = in_r.read();
        hil_net_in[i] = input_t(word.data);
        last = last || (word.last == 1);
    }}
    {top.project}(hil_net_in, hil_net_out);
hil_write_values:
    for (unsigned i = 0; i < HIL_N_OUT; i++) {{
        #pragma HLS PIPELINE II=1
        hil_word_t word;
        word.data = hil_net_out[i].to_float();
        word.keep = -1;
        word.strb = -1;
        word.last = (last && i == HIL_N_OUT - 1) ? 1 : 0;
        out_r.write(word);
    }}
}}
"""


def write_axis_top(project_dir: Path, top: AxisTop) -> list[Path]:
    """Write ``firmware/<project>_axis.{h,cpp}`` into an hls4ml project; returns the paths."""
    guard = f"{top.function.upper()}_H_"
    header = f"""// hil: AXI4-Stream top of {top.project} (hil.flow._axis_top; convention in the bundle manifest).
#ifndef {guard}
#define {guard}

#include "ap_axi_sdata.h"
#include "hls_stream.h"
#include "{top.project}.h"

// One float32 value per 32-bit word; TLAST on the batch's last word.
typedef hls::axis<float, 0, 0, 0> hil_word_t;

static const unsigned HIL_N_IN = {top.n_in};
static const unsigned HIL_N_OUT = {top.n_out};

void {top.function}(hls::stream<hil_word_t> &in_r, hls::stream<hil_word_t> &out_r);

#endif
"""
    body = _stream_body(top) if top.io_type == "io_stream" else _parallel_body(top)
    source = f'// hil: AXI4-Stream top of {top.project}.\n#include "{top.function}.h"\n{body}'
    paths = [project_dir / top.header, project_dir / top.source]
    paths[0].write_text(header, encoding="utf-8")
    paths[1].write_text(source, encoding="utf-8")
    _log.debug(
        "wrote the AXI-stream top %s (%s, %d in, %d out)", top.function, top.io_type, top.n_in, top.n_out
    )
    return paths
