"""convert(): load -> key -> hls4ml -> write project -> optional C simulation, timed per step.

Why one function with named, timed steps: users bisect slow or failing conversions by stage,
and the same JSON summary feeds the CLI, the build farm and the search.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hil.convert._csim import CSimResult, run_csim
from hil.convert._hls import convert_model, summarize
from hil.convert._options import ConversionOptions
from hil.errors import InputError, UnsupportedModelError
from hil.ingest import IngestedModel, load_model
from hil.inventory import Board
from hil.records import design_key, tool_versions

__all__ = ["ConversionResult", "convert", "csim_inputs"]

_log = logging.getLogger(__name__)


@dataclass
class ConversionResult:
    """What a conversion produced: the in-memory hls4ml model, the project folder and a summary."""

    model: IngestedModel
    hls_model: Any
    options: ConversionOptions
    board: Board
    key: str
    output_dir: Path
    step_seconds: dict[str, float] = field(default_factory=dict)
    csim: CSimResult | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (layers, precisions, reuse factors, shapes, design key, timings)."""
        data: dict[str, Any] = {
            "model": str(self.model.path),
            "format": self.model.format.value,
            "board": self.board.name,
            "part": self.board.part,
            "clock_mhz": self.board.clock_mhz,
            "design_key": self.key,
            "options": self.options.as_dict(),
            "input_shape": list(self.model.input_shape),
            "output_shape": list(self.model.output_shape),
            "input_quantizer": None,
            "layers": summarize(self.hls_model),
            "project_dir": str(self.output_dir),
            "tool_versions": tool_versions(),
            "step_seconds": {k: round(v, 3) for k, v in self.step_seconds.items()},
        }
        q = self.model.input_quantizer
        if q is not None:
            data["input_quantizer"] = {
                "scale": q.scale.tolist(),
                "zero_point": q.zero_point.tolist(),
                "bit_width": q.bit_width,
                "signed": q.signed,
                "narrow": q.narrow,
            }
        if self.csim is not None:
            data["csim"] = self.csim.as_dict()
            # the bit-exact emulator against the C simulation, on the same inputs (hil.emulate)
            data["emulator"] = data["csim"].pop("emulator")
        return data


@contextmanager
def _timed(steps: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        steps[name] = time.perf_counter() - started
        _log.info("step %s took %.2f s", name, steps[name])


def csim_inputs(model: IngestedModel, n: int, *, seed: int = 0, data: np.ndarray | None = None) -> np.ndarray:
    """Inputs for C simulation, on the input quantizer's grid when the model has one.

    Args:
        model: the ingested model.
        n: how many inputs (the first ``n`` of ``data`` when given, else random in [0, 1)).
        seed: seed of the random inputs.
        data: user inputs, shaped (N, *input_shape[1:]).
    """
    sample_shape = tuple(model.input_shape[1:])
    if data is None:
        x = np.random.default_rng(seed).random((n, *sample_shape), dtype=np.float32)
    else:
        x = np.asarray(data, dtype=np.float32)
        if tuple(x.shape[1:]) != sample_shape:
            if x.ndim >= 2 and int(np.prod(x.shape[1:])) == int(np.prod(sample_shape)):
                x = x.reshape(len(x), *sample_shape)
            else:
                raise InputError(
                    f"--inputs has samples of shape {tuple(x.shape[1:])}; the model takes {sample_shape}"
                )
        x = x[:n]
    if model.input_quantizer is not None:
        x = model.input_quantizer.snap(x)
    return np.ascontiguousarray(x, dtype=np.float32)


def convert(
    model_path: str | Path,
    board: Board,
    options: ConversionOptions,
    *,
    output_dir: str | Path | None = None,
    csim_n: int = 0,
    csim_data: np.ndarray | None = None,
    csim_labels: np.ndarray | None = None,
    seed: int = 0,
) -> ConversionResult:
    """Convert a model file for ``board`` and optionally C-simulate it.

    Args:
        model_path: float ONNX, QONNX, TorchScript or torch.export file.
        board: the target board (its part and clock enter the design).
        options: conversion options.
        output_dir: where the hls4ml project is written (default hil-out/<stem>-<key>).
        csim_n: number of inputs to C-simulate (0 = no C simulation).
        csim_data: inputs to use instead of random ones.
        csim_labels: labels of ``csim_data``, to report accuracy too.
        seed: seed of random C-sim inputs.
    """
    steps: dict[str, float] = {}
    with _timed(steps, "load"):
        model = load_model(model_path, options.input_shape)
    key = design_key(model.model_bytes, options.as_dict(), part=board.part, clock_mhz=board.clock_mhz)
    out = Path(output_dir) if output_dir is not None else Path("hil-out") / f"{model.path.stem}-{key[:10]}"
    with _timed(steps, "convert"):
        hls_model = convert_model(
            model,
            options,
            part=board.part,
            clock_mhz=board.clock_mhz,
            output_dir=out.resolve(),
            board=board.name,
        )
    with _timed(steps, "write"):
        out.mkdir(parents=True, exist_ok=True)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                hls_model.write()
        except OSError as exc:
            raise InputError(f"cannot write the hls4ml project to {out}: {exc.strerror or exc}") from None
        except Exception as exc:  # hls4ml's writers raise bare exceptions for layers they cannot emit
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UnsupportedModelError(
                f"{model.path}: hls4ml could not write the design ({first})"
            ) from None
    result = ConversionResult(model, hls_model, options, board, key, out, steps)
    if csim_n > 0:
        x = csim_inputs(model, csim_n, seed=seed, data=csim_data)
        labels = None if csim_labels is None else np.asarray(csim_labels)[: len(x)]
        with _timed(steps, "csim"):
            result.csim = run_csim(hls_model, key, x, model.reference, labels)
    return result
