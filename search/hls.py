"""A candidate's QONNX export -> hls4ml design with per-layer reuse/strategy -> bit-accurate C-sim.

The co-search chooses reuse factor and strategy per layer; ``hil.convert`` takes them as
``ConversionOptions.layer_overrides``, so a candidate is converted exactly as ``hil convert`` and
the build farm convert it (same precision policy, same design key), and its compiled C-sim
library is shared with them through the cache. A CIFAR-10-sized design simulates about one image
per second per core (hls4ml's C++ multiplies ap_fixed values one at a time), so large batches are
split over spawned worker processes, one library copy each.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import json
import logging
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from hil.convert import (
    ConversionOptions,
    CSimResult,
    compare_outputs,
    compile_cached,
    convert_model,
    csim_inputs,
    run_csim,
)
from hil.errors import CSimError
from hil.ingest import IngestedModel, load_model
from hil.inventory import Board
from hil.records import design_key
from search._csim_worker import run_chunk
from search.space import Candidate

__all__ = [
    "HlsDesign",
    "candidate_options",
    "convert_candidate",
    "csim_candidate",
    "csim_outputs",
    "csim_workers",
    "write_design",
]

_log = logging.getLogger(__name__)
_BACKEND: Literal["Vitis"] = "Vitis"


@dataclass
class HlsDesign:
    """An hls4ml model of a candidate, with its configuration and design key."""

    model: IngestedModel
    hls_model: Any
    config: dict[str, Any]
    key: str
    board: Board
    options: ConversionOptions


def candidate_options(
    candidate: Candidate, input_shape: tuple[int, int, int], n_classes: int
) -> ConversionOptions:
    """The conversion options of a candidate: its io_type and per-layer reuse factor and strategy.

    hls4ml names the QONNX export's weight layers Conv_i then MatMul_j, in order.
    """
    n_conv = len(candidate.arch.conv_channels)
    names = [f"Conv_{i}" for i in range(n_conv)] + [
        f"MatMul_{j}" for j in range(candidate.arch.n_mac_layers - n_conv)
    ]
    reuse = candidate.effective_reuse(input_shape, n_classes)
    overrides = tuple(
        (name, rf, hw.strategy) for name, rf, hw in zip(names, reuse, candidate.hw, strict=True)
    )
    return ConversionOptions(
        io_type=candidate.io_type,  # type: ignore[arg-type]
        strategy="Latency",
        backend=_BACKEND,
        layer_overrides=overrides,
    )


def convert_candidate(
    qonnx_path: Path,
    candidate: Candidate,
    board: Board,
    output_dir: Path,
    input_shape: tuple[int, int, int],
    n_classes: int,
) -> HlsDesign:
    """Convert a candidate's QONNX file with its per-layer settings (not compiled yet)."""
    model = load_model(qonnx_path)
    options = candidate_options(candidate, input_shape, n_classes)
    target = board.model_copy(update={"clock_mhz": candidate.clock_mhz})
    key = design_key(model.model_bytes, options.as_dict(), part=target.part, clock_mhz=target.clock_mhz)
    hls_model = convert_model(
        model, options, part=target.part, clock_mhz=target.clock_mhz, output_dir=Path(output_dir).resolve()
    )
    # the configuration hls4ml was given (no second config_from_onnx_model pass)
    return HlsDesign(model, hls_model, hls_model.config.config["HLSConfig"], key, target, options)


def csim_workers(inputs: np.ndarray, requested: int | None = None) -> int:
    """Processes for a C simulation of ``inputs``: ``HIL_CSIM_WORKERS`` or ``requested``, else every
    core for image-sized inputs (a CIFAR-10 design simulates ~1 image/s per core) and 1 for small
    ones (8x8 digits simulate in milliseconds: a pool would cost more than it saves)."""
    env = os.environ.get("HIL_CSIM_WORKERS")
    if env or requested:
        return max(1, int(env or requested or 1))
    if len(inputs) < 32 or int(np.prod(inputs.shape[2:])) <= 256:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _predict_parallel(design: HlsDesign, x: np.ndarray, workers: int) -> np.ndarray | None:
    """The design's outputs for ``x``, chunked over ``workers`` spawned processes; None when the
    design's bridge is not the one-input/one-output form the workers call (then run serially)."""
    model = design.hls_model
    library = getattr(getattr(model, "_top_function_lib", None), "_name", None)
    if library is None or len(model.get_input_variables()) != 1 or len(model.get_output_variables()) != 1:
        return None
    n_out = int(model.get_output_variables()[0].size())
    function = f"{model.config.get_project_name()}_float"
    chunks = np.array_split(np.ascontiguousarray(x, dtype=np.float32), workers)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        parts = list(pool.map(run_chunk, *zip(*[(library, function, n_out, c) for c in chunks], strict=True)))
    return np.concatenate(parts)


def csim_outputs(
    design: HlsDesign, inputs: np.ndarray, *, workers: int | None = None
) -> tuple[np.ndarray, float, bool]:
    """The C simulation's raw outputs (N, outputs) of grid-snapped ``inputs``; returns (outputs,
    compile seconds, cache hit). Large inputs are split over processes (``csim_workers``)."""
    compile_seconds, hit = compile_cached(design.hls_model, design.key)
    x = np.ascontiguousarray(inputs, dtype=np.float32)
    n_workers = min(csim_workers(x, workers), len(x))
    out = _predict_parallel(design, x, n_workers) if n_workers > 1 else None
    if out is None:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                out = np.asarray(design.hls_model.predict(x), dtype=np.float32)
        except Exception as exc:  # hls4ml's predict raises bare exceptions (shapes, the library)
            raise CSimError(f"C simulation of {len(x)} inputs {x.shape[1:]} failed: {exc}") from None
    return np.asarray(out, dtype=np.float32).reshape(len(x), -1), compile_seconds, hit


def csim_candidate(
    design: HlsDesign,
    x: np.ndarray,
    y: np.ndarray,
    reference: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    workers: int | None = None,
) -> CSimResult:
    """Bit-accurate accuracy of the design on (x, y); the compiled library is cached by design key.

    ``reference``: what the design's outputs are compared with, given the same (grid-snapped)
    inputs; the search passes the trained torch model, whose agreement is the C-sim gate (and
    which runs a batch at once, where the QONNX default runs one image at a time). Large inputs
    are simulated by several processes (``csim_workers``); the result is the same.
    """
    inputs = csim_inputs(design.model, len(x), data=x)
    ref = reference or design.model.reference
    n_workers = min(csim_workers(inputs, workers), len(inputs))
    if n_workers <= 1:
        return run_csim(design.hls_model, design.key, inputs, ref, np.asarray(y))
    started = time.perf_counter()
    hls_out, compile_seconds, hit = csim_outputs(design, inputs, workers=n_workers)
    run_seconds = time.perf_counter() - started - compile_seconds
    started = time.perf_counter()
    ref_out = np.asarray(ref(inputs), dtype=np.float32).reshape(len(inputs), -1)
    reference_seconds = time.perf_counter() - started
    _log.info("C-simulated %d inputs on %d processes in %.1f s", len(inputs), n_workers, run_seconds)
    return CSimResult(
        n_inputs=len(inputs),
        compile_seconds=round(compile_seconds, 3),
        run_seconds=round(run_seconds, 3),
        reference_seconds=round(reference_seconds, 3),
        cache_hit=hit,
        **compare_outputs(hls_out, ref_out, np.asarray(y)),
    )


def write_design(design: HlsDesign, folder: Path) -> dict[str, Path]:
    """Write the hls4ml project and its configuration JSON into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design.hls_model.write()
    config_path = folder / "hls4ml_config.json"
    config_path.write_text(
        json.dumps(
            {
                "key": design.key,
                "part": design.board.part,
                "clock_mhz": design.board.clock_mhz,
                "backend": _BACKEND,
                "conversion_options": design.options.as_dict(),
                "HLSConfig": design.config,
            },
            indent=2,
            default=str,
        )
    )
    return {"config": config_path, "project": Path(design.hls_model.config.get_output_dir())}
