"""The emulator: an hls4ml ModelGraph walked once into ops, then run on batches.

Why precompute: the search's gate and a final test run 10,000 images through one design; reading
types, rounding weights through their text form and building tables once leaves only integer
(or proven-exact float64) array arithmetic per batch.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from hil.emulate._common import Op, Tensor
from hil.emulate._fixed import FixedType, fixed_type
from hil.emulate._layers import build_op
from hil.emulate._shape import ReluMaxPool
from hil.errors import InputError, UnsupportedModelError

__all__ = ["Agreement", "Emulator", "agreement", "emulate"]

_log = logging.getLogger(__name__)
#: Images per batch: bounds the im2col buffers (a 16x16x128 map with 3x3 windows is ~1.2 MB a image).
_BATCH = 128


def _threads() -> int:
    env = os.environ.get("HIL_EMULATOR_THREADS")
    if env:
        return max(1, int(env))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class _Step:
    name: str
    op: Op
    sources: tuple[str, ...]
    target: str


class Emulator:
    """A bit-exact emulation of one hls4ml design (hls4ml 1.3.0's C simulation, ``predict``).

    Build it once (types, weights and tables are precomputed), then call it on batches:
    ``Emulator(hls_model)(x)`` returns what ``hls_model.predict(x)`` returns, as float32 (N, outputs).
    Raises UnsupportedModelError, one line naming the layer and its kind, for anything not modelled.
    """

    def __init__(self, hls_model: Any) -> None:
        started = time.perf_counter()
        io_type = str(hls_model.config.get_config_value("IOType") or "io_parallel")
        stream = io_type == "io_stream"
        if len(hls_model.inputs) != 1 or len(hls_model.outputs) != 1:
            raise UnsupportedModelError(
                f"emulator: designs with {len(hls_model.inputs)} inputs and {len(hls_model.outputs)} outputs "
                "are not modelled (one of each)"
            )
        types: dict[str, FixedType] = {}
        self.steps: list[_Step] = []
        self.input_name = hls_model.inputs[0]
        self.output_name = hls_model.outputs[0]
        self.input_type: FixedType | None = None
        self._aliases: dict[str, str] = {}
        self.input_shape: tuple[int, ...] = ()
        for layer in hls_model.get_layers():
            if layer.class_name == "Input":
                var = layer.get_output_variable()
                self.input_type = fixed_type(var.type.precision, f"{layer.name} result")
                self.input_shape = tuple(int(s) for s in var.shape)
                types[layer.outputs[0]] = self.input_type
                continue
            if layer.class_name == "Clone":  # io_stream's fan-out: each output is the input, unchanged
                for name in layer.outputs:
                    self._aliases[name] = self._aliases.get(layer.inputs[0], layer.inputs[0])
                    types[name] = types[layer.inputs[0]]
                continue
            sources = tuple(self._aliases.get(name, name) for name in layer.inputs)
            if not sources or any(name not in types for name in sources):
                raise UnsupportedModelError(
                    f"emulator: layer {layer.name}: layer kind {layer.class_name} with inputs "
                    f"{list(sources)} is not modelled (inputs must come from emulated layers)"
                )
            op = build_op(layer, [types[name] for name in sources], stream)
            if len(layer.outputs) != 1:
                raise UnsupportedModelError(
                    f"emulator: layer {layer.name}: {layer.class_name} with {len(layer.outputs)} outputs"
                )
            types[layer.outputs[0]] = fixed_type(layer.get_output_variable().type.precision, layer.name)
            self.steps.append(_Step(layer.name, op, sources, layer.outputs[0]))
        self.output_name = self._aliases.get(self.output_name, self.output_name)
        self.steps = _fuse(self.steps, types, self.output_name)
        if self.input_type is None or self.output_name not in types:
            raise UnsupportedModelError(
                "emulator: the design has no Input layer or its output is not computed"
            )
        self.output_type = types[self.output_name]
        self.build_seconds = time.perf_counter() - started
        _log.info("emulator built for %d layers in %.2f s (%s)", len(self.steps), self.build_seconds, io_type)

    def __call__(self, x: np.ndarray, *, batch_size: int = _BATCH, threads: int | None = None) -> np.ndarray:
        """Outputs (N, outputs) float32 of the float inputs ``x`` (N, *input shape).

        Batches of ``batch_size`` run on ``threads`` threads (default: ``HIL_EMULATOR_THREADS``, else
        the cores this process may use).
        """
        data = np.asarray(x)
        if data.ndim < 1 or len(data) == 0:
            raise InputError(f"emulator: inputs must be a non-empty batch (N, ...), got shape {data.shape}")
        size = int(np.prod(self.input_shape))
        if data[0].size != size:
            raise InputError(
                f"emulator: inputs have samples of shape {tuple(data.shape[1:])}; the design takes "
                f"{self.input_shape}"
            )
        flat = data.reshape(len(data), size).astype(np.float32)
        chunks = [flat[i : i + batch_size] for i in range(0, len(flat), max(1, batch_size))]
        workers = min(len(chunks), threads or _threads())
        if workers <= 1:
            return np.concatenate([self._run(c) for c in chunks])
        # numpy releases the GIL in its array loops: chunks on threads use every core for the
        # elementwise work too (the matrix products are multithreaded by BLAS either way)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            return np.concatenate(list(pool.map(self._run, chunks)))

    def _run(self, x: np.ndarray) -> np.ndarray:
        assert self.input_type is not None
        m = self.input_type.from_float(x.astype(np.float64)).reshape(len(x), *self.input_shape)
        values: dict[str, Tensor] = {self.input_name: (m, self.input_type)}
        for step in self.steps:
            values[step.target] = step.op([values[name] for name in step.sources])
        out, t = values[self.output_name]
        return t.to_float(out.reshape(len(x), -1)).astype(np.float32)


def _fuse(steps: list[_Step], types: dict[str, FixedType], output: str) -> list[_Step]:
    """ReLU then max pooling -> one ``ReluMaxPool`` where that is exact (see its docstring)."""
    used = [name for s in steps for name in s.sources]
    out: list[_Step] = []
    i = 0
    while i < len(steps):
        step = steps[i]
        after = steps[i + 1] if i + 1 < len(steps) else None
        if (
            after is not None
            and after.sources == (step.target,)
            and len(step.sources) == 1
            and used.count(step.target) == 1
            and step.target != output
            and ReluMaxPool.fusable(step.op, after.op, types[step.sources[0]])
        ):
            fused = ReluMaxPool(step.op, after.op)  # type: ignore[arg-type]
            out.append(_Step(f"{step.name}+{after.name}", fused, step.sources, after.target))
            i += 2
            continue
        out.append(step)
        i += 1
    return out


def emulate(hls_model: Any, x: np.ndarray) -> np.ndarray:
    """What ``hls_model.predict(x)`` returns, emulated bit-exactly (float32, (N, outputs))."""
    return Emulator(hls_model)(x)


@dataclass(frozen=True)
class Agreement:
    """How the emulator's outputs compare with the C simulation's on the same inputs."""

    n: int
    bit_identical: float
    max_abs_diff: float
    argmax_agreement: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def agreement(emulated: np.ndarray, csim: np.ndarray) -> Agreement:
    """Fraction of output elements identical as float32, the largest difference, argmax agreement."""
    a = np.asarray(emulated, dtype=np.float32).reshape(len(emulated), -1)
    b = np.asarray(csim, dtype=np.float32).reshape(len(csim), -1)
    if a.shape != b.shape:
        raise InputError(f"emulator output shape {a.shape} differs from the C simulation's {b.shape}")
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return Agreement(
        n=len(a),
        bit_identical=float(np.mean(a == b)) if a.size else 1.0,
        max_abs_diff=float(diff.max()) if diff.size else 0.0,
        argmax_agreement=float(np.mean(a.argmax(axis=1) == b.argmax(axis=1))) if a.size else 1.0,
    )
