"""Bit-accurate C simulation of an hls4ml design, with the compiled library cached by design key.

Why cache the compiled library: compiling costs 5-60 s per design and the search re-simulates
the same design many times. The key (``design_key``) hashes the inputs of the design, so a hit
is exactly the same C++; hls4ml's own written project cannot be the key (it carries a random
stamp). A hit converts in memory (milliseconds) and loads the cached shared library.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import io
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import CSimError, HilError, InputError, UnsupportedModelError

__all__ = ["CSimResult", "cache_root", "compile_cached", "compare_outputs", "emulator_check", "run_csim"]

_log = logging.getLogger(__name__)
_LIB_RECORD = "csim.json"


def cache_root() -> Path:
    """$HIL_CACHE_DIR, else ~/.cache/hil."""
    return Path(os.environ.get("HIL_CACHE_DIR") or Path.home() / ".cache" / "hil").expanduser()


@dataclass(frozen=True)
class CSimResult:
    """How the fixed-point design compares with the reference model on the same inputs."""

    n_inputs: int
    max_abs_error: float
    mean_abs_error: float
    bit_identical_fraction: float
    argmax_agreement: float
    distinct_classes: int
    compile_seconds: float
    run_seconds: float
    reference_seconds: float
    cache_hit: bool
    hls_accuracy: float | None = None
    reference_accuracy: float | None = None
    emulator: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def emulator_check(hls_model: Any, inputs: np.ndarray, hls_out: np.ndarray) -> dict[str, Any]:
    """How hil's bit-exact emulator (``hil.emulate``) agrees with the C simulation on the same inputs.

    Why beside every C simulation: the emulator scores whole data splits where the C simulation
    can afford a sample, and that is only sound while it stays identical to the C simulation; this
    check runs on the sample the C simulation ran anyway. A design the emulator does not model is
    reported as refused (with its one-line reason), never as a failure of the conversion.
    """
    from hil.emulate import Emulator, agreement

    started = time.perf_counter()
    try:
        emulated = Emulator(hls_model)(inputs)
        result: dict[str, Any] = agreement(emulated, hls_out).as_dict()
    except HilError as exc:
        return {"n": len(inputs), "bit_identical": None, "refused": str(exc)}
    except Exception as exc:  # an emulator bug must not sink the C simulation it is checked against
        _log.warning("emulator failed on a design it accepted: %s", exc)
        return {"n": len(inputs), "bit_identical": None, "error": f"{type(exc).__name__}: {exc}"}
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def _load_library(hls_model: Any, library: Path) -> None:
    # hls4ml has no public "load a compiled library" call; compile() ends by setting this
    # attribute after building, and predict() only needs it (see hls4ml ModelGraph._compile).
    hls_model._top_function_lib = ctypes.cdll.LoadLibrary(str(library))


def _cached_library(entry: Path) -> Path | None:
    record = entry / _LIB_RECORD
    if not record.is_file():
        return None
    library = entry / json.loads(record.read_text())["library"]
    return library if library.is_file() else None


def compile_cached(hls_model: Any, key: str) -> tuple[float, bool]:
    """Make ``hls_model`` ready to predict; returns (compile seconds, cache hit).

    The project is compiled in its final cache folder (hls4ml bakes the weights folder's
    absolute path into the library, so it cannot be moved afterwards). A per-key file lock
    keeps two processes from compiling the same design at once, and the record file, written
    last and atomically, is what marks an entry complete.
    """
    entry = cache_root() / "csim" / key
    entry.parent.mkdir(parents=True, exist_ok=True)
    library = _cached_library(entry)
    if library is not None:
        _load_library(hls_model, library)
        _log.info("C-sim cache hit for %s", key[:12])
        return 0.0, True
    with open(entry.parent / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        library = _cached_library(entry)
        if library is not None:  # another process compiled it while we waited
            _load_library(hls_model, library)
            return 0.0, True
        shutil.rmtree(entry, ignore_errors=True)  # a stale, unfinished entry
        original_dir = hls_model.config.config["OutputDir"]
        started = time.perf_counter()
        try:
            hls_model.config.config["OutputDir"] = str(entry)
            with contextlib.redirect_stdout(io.StringIO()) as sink, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    _compile(hls_model, entry)
                except Exception as exc:  # hls4ml raises bare Exception when g++ fails
                    raise CSimError(
                        f"C simulation failed to compile: {_first_error(exc, sink.getvalue())}"
                    ) from None
        finally:
            hls_model.config.config["OutputDir"] = original_dir
        seconds = time.perf_counter() - started
        libraries = sorted((entry / "firmware").glob("*.so"))
        if not libraries:
            raise CSimError("C simulation compiled but produced no shared library")
        staging = entry / f".{_LIB_RECORD}.tmp"
        staging.write_text(json.dumps({"library": str(libraries[-1].relative_to(entry)), "seconds": seconds}))
        os.replace(staging, entry / _LIB_RECORD)
    _log.info("compiled C-sim for %s in %.1f s", key[:12], seconds)
    return seconds, False


def _compile(hls_model: Any, entry: Path) -> None:
    """hls4ml's ``compile()``, with its two translation units built side by side.

    Why: ``build_lib.sh`` compiles ``myproject.cpp`` (~2/3 of the time) and the bridge one after
    the other; on a 2-core machine running them together cuts a 20 s compile to ~14 s. Where the
    script does not have the expected shape (another hls4ml release) it runs unchanged.
    """
    write, link = getattr(hls_model, "write", None), getattr(hls_model, "_compile", None)
    if write is None or link is None:
        hls_model.compile()
        return
    write()
    script = entry / "build_lib.sh"
    if script.is_file():
        text = script.read_text()
        parallel = parallel_build_script(text)
        if parallel != text:
            script.write_text(parallel)
    link()


def parallel_build_script(text: str) -> str:
    """``build_lib.sh`` with its object-file compiles run in the background and waited for.

    Only a script with exactly two ``-c ... -o X.o`` lines followed by a link line is changed; a
    failing compile still fails the script (``wait PID`` returns its status under ``set -e``).
    """
    lines = text.splitlines()
    compiles = [i for i, line in enumerate(lines) if line.startswith("${CC}") and " -c " in line]
    if len(compiles) != 2 or "set -e" not in lines or not all(lines[i].endswith(".o") for i in compiles):
        return text
    out = list(lines)
    for n, i in enumerate(compiles):
        out[i] = f"{lines[i]} &\nhil_pid_{n}=$!"
    out[compiles[-1]] += "\nwait $hil_pid_0\nwait $hil_pid_1"
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def _first_error(exc: Exception, output: str) -> str:
    """One line: the exception's first line and the compiler's first ``error:`` line, if any."""
    head = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    errors = [line.strip() for line in output.splitlines() if "error:" in line]
    return f"{head} ({errors[0]})" if errors else head


def compare_outputs(
    hls_out: np.ndarray, ref_out: np.ndarray, labels: np.ndarray | None = None
) -> dict[str, Any]:
    """Error statistics between the fixed-point outputs and the reference outputs."""
    hls_flat = hls_out.reshape(len(hls_out), -1).astype(np.float32)
    ref_flat = ref_out.reshape(len(ref_out), -1).astype(np.float32)
    if hls_flat.shape != ref_flat.shape:
        raise CSimError(f"C-sim output shape {hls_flat.shape} differs from the reference's {ref_flat.shape}")
    diff = np.abs(hls_flat - ref_flat)
    hls_class = hls_flat.argmax(axis=1)
    ref_class = ref_flat.argmax(axis=1)
    stats: dict[str, Any] = {
        "max_abs_error": float(diff.max()) if diff.size else 0.0,
        "mean_abs_error": float(diff.mean()) if diff.size else 0.0,
        "bit_identical_fraction": float(np.mean(hls_flat == ref_flat)) if diff.size else 1.0,
        "argmax_agreement": float(np.mean(hls_class == ref_class)),
        "distinct_classes": len(np.unique(hls_class)),
    }
    if labels is not None:
        stats["hls_accuracy"] = float(np.mean(hls_class == labels))
        stats["reference_accuracy"] = float(np.mean(ref_class == labels))
    return stats


def run_csim(
    hls_model: Any,
    key: str,
    inputs: np.ndarray,
    reference: Any,
    labels: np.ndarray | None = None,
    *,
    emulate: bool = True,
) -> CSimResult:
    """Compile (or reuse) the C simulation, run ``inputs`` through it and the reference.

    With ``emulate``, hil's bit-exact emulator runs the same inputs and its agreement with the C
    simulation is reported as ``emulator`` (``emulator_check``).
    """
    if inputs.ndim < 2 or len(inputs) == 0:
        raise InputError(f"C-sim inputs must be a non-empty batch (N, ...), got shape {inputs.shape}")
    if labels is not None and len(labels) != len(inputs):
        raise InputError(f"--labels has {len(labels)} entries but there are {len(inputs)} inputs")
    compile_seconds, hit = compile_cached(hls_model, key)
    x = np.ascontiguousarray(inputs, dtype=np.float32)
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            hls_out = np.asarray(hls_model.predict(x), dtype=np.float32)
    except Exception as exc:  # hls4ml's predict raises bare exceptions (shapes, the library)
        raise CSimError(
            f"C simulation of {len(x)} inputs {x.shape[1:]} failed: {_first_error(exc, '')}"
        ) from None
    run_seconds = time.perf_counter() - started
    started = time.perf_counter()
    try:
        ref_out = np.asarray(reference(x), dtype=np.float32)
    except Exception as exc:  # onnxruntime/qonnx/torch errors: one line, the model's fault
        raise UnsupportedModelError(
            f"the reference model could not run {len(x)} inputs of shape {x.shape[1:]}: "
            f"{_first_error(exc, '')}"
        ) from None
    reference_seconds = time.perf_counter() - started
    hls_out = hls_out.reshape(len(x), -1)
    stats = compare_outputs(hls_out, ref_out, labels)
    return CSimResult(
        n_inputs=len(x),
        compile_seconds=round(compile_seconds, 3),
        run_seconds=round(run_seconds, 3),
        reference_seconds=round(reference_seconds, 3),
        cache_hit=hit,
        **stats,
        emulator=emulator_check(hls_model, x, hls_out) if emulate else None,
    )
