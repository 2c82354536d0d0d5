"""hil's AXI-stream top, C-simulated with g++: the words a DMA would send in and get back.

The top is compiled with the hls4ml project's own firmware and ap_types, plus a TEST SHIM of
AMD's ``ap_axi_sdata.h`` (``tests/flow_tests/shim``: only the ``hls::axis`` members UG1399
documents). A batch of real digits images goes in as one "DMA transfer" (TLAST on its last
word only); the test checks what a receiving DMA relies on: exactly one TLAST, on the batch's
last output word, and every output value equal to hls4ml's own C simulation of the network.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests._models import digits_float_models

SHIM = Path(__file__).parent / "shim"

_TESTBENCH = r"""
#include <cstdio>
#include <vector>
#include "myproject_axis.h"

int main() {
    unsigned n = 0;
    if (scanf("%u", &n) != 1) return 2;
    std::vector<float> x(n * HIL_N_IN);
    for (unsigned i = 0; i < x.size(); i++) if (scanf("%f", &x[i]) != 1) return 3;
    hls::stream<hil_word_t> in_r("in_r"), out_r("out_r");
    for (unsigned i = 0; i < x.size(); i++) {
        hil_word_t word;
        word.data = x[i];
        word.keep = -1;
        word.strb = -1;
        word.last = (i == x.size() - 1) ? 1 : 0;  // what an AXI DMA's MM2S does for one transfer
        in_r.write(word);
    }
    for (unsigned k = 0; k < n; k++) myproject_axis(in_r, out_r);  // free-running: one call per image
    if (!in_r.empty()) return 4;
    while (!out_r.empty()) {
        hil_word_t word = out_r.read();
        printf("%.9g %d\n", (double)word.data, (int)word.last);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory):
    return digits_float_models(tmp_path_factory.mktemp("digits"))


def _convert(model_path: Path, io_type: str, input_shape: tuple[int, ...] | None, out: Path):
    from hil.convert import ConversionOptions, convert
    from hil.inventory import load_inventory

    board = load_inventory().board("zcu104")
    options = ConversionOptions(
        precision="ap_fixed<16,6>",
        io_type=io_type,
        backend="Vitis",
        input_shape=input_shape,  # type: ignore[arg-type]
    )
    return convert(model_path, board, options, output_dir=out)


def _run_top(project: Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    (project / "hil_tb.cpp").write_text(_TESTBENCH)
    binary = project / "hil_tb"
    weights = f'"{project / "firmware" / "weights"}"'
    subprocess.run(
        [
            "g++", "-O1", "-std=c++14", f"-I{SHIM}", f"-I{project / 'firmware'}",
            f"-I{project / 'firmware' / 'ap_types'}", f"-DWEIGHTS_DIR={weights}",
            str(project / "firmware" / "myproject.cpp"), str(project / "firmware" / "myproject_axis.cpp"),
            str(project / "hil_tb.cpp"), "-o", str(binary),
        ],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    flat = x.reshape(len(x), -1)
    feed = f"{len(flat)}\n" + "\n".join(" ".join(f"{v:.9g}" for v in row) for row in flat) + "\n"
    done = subprocess.run([str(binary)], input=feed, capture_output=True, text=True, check=True)
    rows = np.array([[float(v) for v in line.split()] for line in done.stdout.splitlines()])
    return rows[:, 0].astype(np.float32), rows[:, 1].astype(int)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "io_type", "shape"),
    [("conv_ts", "io_stream", (1, 1, 8, 8)), ("dense", "io_parallel", None), ("dense", "io_stream", None)],
)
def test_axis_top_matches_csim_and_sets_tlast_once(digits, tmp_path, name, io_type, shape) -> None:
    from hil.flow import axis_top_for, write_axis_top

    trained = digits[name]
    conversion = _convert(trained.path, io_type, shape, tmp_path / "prj")
    top = axis_top_for(conversion.hls_model)
    write_axis_top(conversion.output_dir, top)
    x = np.ascontiguousarray(trained.x_test[:5], dtype=np.float32)
    with contextlib.redirect_stdout(io.StringIO()):
        conversion.hls_model.compile()
        expected = np.asarray(conversion.hls_model.predict(x), dtype=np.float32).reshape(len(x), -1)
    values, last = _run_top(conversion.output_dir, x)
    assert top.n_out == expected.shape[1] and top.n_in == x[0].size
    assert values.shape == (len(x) * top.n_out,)
    np.testing.assert_array_equal(values.reshape(len(x), -1), expected)  # bit-exact: same fixed-point network
    assert last.sum() == 1 and last[-1] == 1  # one receiving transfer for the whole batch
    assert len(set(expected.argmax(1))) > 1  # a trained net: the images differ in class


def test_multi_input_model_is_refused_in_one_line() -> None:
    from hil.errors import UnsupportedModelError
    from hil.flow import axis_top_for

    class _Var:
        def size(self) -> int:
            return 4

    class _Model:
        def get_input_variables(self):
            return [_Var(), _Var()]

        def get_output_variables(self):
            return [_Var()]

    with pytest.raises(UnsupportedModelError, match="one input and one output; the model has 2 and 1"):
        axis_top_for(_Model())
