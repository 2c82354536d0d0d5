"""What every real builder does first and last: convert + C-simulate, then write the board bundle.

Why shared: the board needs the same things whichever builder ran (test inputs on the input
quantizer's grid, the C simulation's outputs for them, the compiled C-sim library), and the
cost model and Vivado must describe the very same hls4ml design, converted once per build.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hil.farm._job import BuildJob
from hil.farm.builders._base import Stage
from hil.records import ErrorCode

__all__ = ["Design", "prepare_design", "write_board_bundle", "layer_specs"]

_log = logging.getLogger(__name__)

_SOURCE_IGNORE = shutil.ignore_patterns("*.so", "*.o", "*.tar.gz", "*_prj", "*_vivado_accelerator")


@dataclass
class Design:
    """A converted, C-simulated design and the files the bundle needs."""

    conversion: Any  # hil.convert.ConversionResult
    project_dir: Path
    inputs: np.ndarray
    expected: np.ndarray
    csim_library: Path
    csim_stats: dict[str, Any]
    reference: np.ndarray | None = None

    @property
    def hls_model(self) -> Any:
        return self.conversion.hls_model

    @property
    def project(self) -> str:
        """The hls4ml project name (``myproject``): the prefix of its files and HLS project."""
        return str(self.hls_model.config.get_project_name())


def _board(job: BuildJob) -> Any:
    from hil.inventory import Board, Resources

    resources = job.resources or {"lut": 1, "ff": 1, "dsp": 0, "bram_18k": 0}
    return Board(name=job.board, part=job.part, resources=Resources(**resources), clock_mhz=job.clock_mhz)


def _options(job: BuildJob) -> Any:
    from hil.convert import ConversionOptions

    raw = dict(job.options)
    if raw.get("input_shape"):
        raw["input_shape"] = tuple(int(d) for d in raw["input_shape"])
    # The bundle's csim.so travels to boards and other hosts: weights must be compiled in.
    raw["portable_csim"] = True
    return ConversionOptions(**raw)


def prepare_design(job: BuildJob, workdir: Path, out: Path, stage: Stage) -> Design:
    """Convert the job's model into ``workdir/prj``, keep its sources in ``out/hls4ml``, C-simulate.

    The C-sim library is compiled once per design key into $HIL_CACHE_DIR (``compile_cached``),
    so the estimate and vivado builds of one design share it.
    """
    from hil.convert import compare_outputs, compile_cached, convert, csim_inputs
    from hil.convert._csim import cache_root
    from hil.convert.accelerator_boards import ensure_registered  # registers hil's zcu104 accelerator board

    ensure_registered()
    stage.code = ErrorCode.CONVERT
    project = workdir / "prj"
    conversion = convert(job.model, _board(job), _options(job), output_dir=project)
    stage.seconds.update({f"convert.{k}": round(v, 3) for k, v in conversion.step_seconds.items()})
    shutil.copytree(project, out / "hls4ml", ignore=_SOURCE_IGNORE)
    stage.code = ErrorCode.CSIM
    x = csim_inputs(conversion.model, job.csim_n, seed=0)
    compile_seconds, _hit = compile_cached(conversion.hls_model, conversion.key)
    stage.seconds["csim_compile"] = round(compile_seconds, 3)
    with contextlib.redirect_stdout(io.StringIO()):
        expected = np.asarray(conversion.hls_model.predict(np.ascontiguousarray(x)), dtype=np.float32)
    expected = expected.reshape(len(x), -1)
    reference = np.asarray(conversion.model.reference(x), dtype=np.float32).reshape(len(x), -1)
    entry = cache_root() / "csim" / conversion.key
    library = entry / json.loads((entry / "csim.json").read_text())["library"]
    stats = compare_outputs(expected, reference)
    return Design(conversion, project, x, expected, library, stats, reference)


def layer_specs(hls_model: Any) -> dict[str, Any]:
    """The cost model's layer specs of the design, by hls4ml layer name."""
    from hil.cost import spec_from_hls_model

    return {spec.name: spec for spec in spec_from_hls_model(hls_model)}


def write_board_bundle(
    job: BuildJob,
    design: Design,
    out: Path,
    *,
    ii_cycles: float,
    latency_cycles: float,
    provenance: str,
    bitstream: Path | None = None,
    hwh: Path | None = None,
    axis: dict[str, Any] | None = None,
    build: dict[str, Any] | None = None,
) -> None:
    """Write ``out/board/`` (``hil.bundle``): what the board agent runs and checks."""
    from hil.bundle import BundleTiming, write_bundle

    write_bundle(
        out / "board",
        design_key=job.key,
        board=job.board,
        part=job.part,
        inputs=design.inputs,
        expected=design.expected,
        clock_mhz=job.clock_mhz,
        timing=BundleTiming(int(ii_cycles), int(latency_cycles), provenance),
        csim_library=design.csim_library,
        bitstream=bitstream,
        hwh=hwh,
        reference=design.reference,  # so an emulated run, which *is* the C-sim, can still fail
        axis=axis,
        build=build,
    )
