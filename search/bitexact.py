"""A design's accuracy on a whole data split: hil's bit-exact emulator, with C simulation beside it.

Why the emulator and not the C simulation: hls4ml's C++ runs a CIFAR-10 design at about one image
per second per core, so a gate or a test accuracy by C simulation could afford a few hundred
images; the emulator (``hil.emulate``) computes the same outputs, element for element, for whole
splits in seconds. Why C simulation still runs: the emulator's claim is only as good as its last
comparison, so every score C-simulates a small sample (``csim_n``, the first images of the split)
and reports the emulator's ``bit_identical`` on it. When the emulator refuses a design (a layer
kind it does not model) or differs from the C simulation on the sample, the score falls back to
that C-simulated sample (provenance ``csim``) and says why: a wrong emulator must never decide
which design is valid.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hil.convert import compare_outputs, csim_inputs
from hil.errors import HilError
from hil.records import Provenance
from search.hls import HlsDesign, csim_outputs

__all__ = ["DEFAULT_CSIM_SAMPLE", "Score", "score_design"]

_log = logging.getLogger(__name__)

#: C-simulated images beside an emulated score when the caller names none: ~1-2 minutes of a
#: CIFAR-10 design on 2 cores, milliseconds for digits.
DEFAULT_CSIM_SAMPLE = 200


@dataclass(frozen=True)
class Score:
    """A design's outputs on a split compared with a reference model's and with the labels.

    The fields of ``hil.convert.CSimResult``'s comparison (``argmax_agreement`` with the reference,
    ``hls_accuracy`` against the labels, ...) plus where they came from.

    Attributes:
        n_inputs: images scored (the whole split with the emulator; the sample on a fallback).
        provenance: ``bitexact`` (emulator, checked against C-sim on the sample) or ``csim``.
        emulator: the emulator's agreement with the C simulation on the sample (``bit_identical``,
            ``max_abs_diff``, ...), or ``refused``/``error`` with its one-line reason.
        csim_sample: the C simulation of the sample compared with the reference and labels.
        fallback: why the emulator's figures were not used (None when they were).
    """

    n_inputs: int
    provenance: str
    argmax_agreement: float
    max_abs_error: float
    mean_abs_error: float
    bit_identical_fraction: float
    distinct_classes: int
    hls_accuracy: float | None
    reference_accuracy: float | None
    emulator: dict[str, Any] = field(default_factory=dict)
    csim_sample: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    fallback: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _emulate(design: HlsDesign, inputs: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """The emulator's outputs for ``inputs``, or (None, the reason it could not run)."""
    from hil.emulate import Emulator

    try:
        return Emulator(design.hls_model)(inputs), None
    except HilError as exc:  # a layer kind it does not model: one line, never a guess
        return None, f"refused: {exc}"
    except Exception as exc:  # an emulator bug must not sink the score; the C-sim sample stands
        _log.warning("emulator failed on a design it accepted: %s", exc)
        return None, f"error: {type(exc).__name__}: {exc}"


def score_design(
    design: HlsDesign,
    x: np.ndarray,
    y: np.ndarray,
    reference: Callable[[np.ndarray], np.ndarray],
    *,
    csim_n: int | None = None,
) -> Score:
    """Score ``design`` on the whole split (x, y) with the emulator; C-simulate the first ``csim_n``.

    Args:
        reference: the model the design must agree with (the trained torch model's logits), given
            the same grid-snapped inputs.
        csim_n: C-simulated images beside the emulator (``DEFAULT_CSIM_SAMPLE`` when None).

    Raises HilError (CSimError) only when the C simulation itself fails: a design hls4ml cannot
    compile is not a valid design.
    """
    from hil.emulate import agreement

    inputs = csim_inputs(design.model, len(x), data=x)
    labels = np.asarray(y)
    m = max(1, min(len(inputs), DEFAULT_CSIM_SAMPLE if csim_n is None else csim_n))
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    csim_out, compile_seconds, hit = csim_outputs(design, inputs[:m])
    seconds["csim"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    ref_out = np.asarray(reference(inputs), dtype=np.float32).reshape(len(inputs), -1)
    seconds["reference"] = round(time.perf_counter() - started, 3)
    sample = {
        "n_inputs": m,
        "compile_seconds": round(compile_seconds, 3),
        "cache_hit": hit,
        **compare_outputs(csim_out, ref_out[:m], labels[:m]),
    }
    started = time.perf_counter()
    emulated, reason = _emulate(design, inputs)
    seconds["emulator"] = round(time.perf_counter() - started, 3)
    check: dict[str, Any] = {"n": m}
    if emulated is not None:
        try:
            check = agreement(emulated[:m], csim_out).as_dict()
        except Exception as exc:  # e.g. another output shape: the emulator is wrong, not the design
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            reason = f"error: cannot compare with the C simulation ({why})"
            check["error"] = reason
            _log.warning("emulator %s; scoring the C-simulated sample of %d instead", reason, m)
        else:
            reason = None
        if reason is None and check["bit_identical"] < 1.0:
            reason = (
                f"differs from the C simulation on the sample (bit_identical {check['bit_identical']:.6f})"
            )
            _log.warning("emulator %s; scoring the C-simulated sample of %d instead", reason, m)
    else:
        check["refused" if reason and reason.startswith("refused") else "error"] = reason
        _log.info("emulator not used (%s); scoring the C-simulated sample of %d", reason, m)
    if reason is None and emulated is not None:
        stats, n, provenance = compare_outputs(emulated, ref_out, labels), len(inputs), Provenance.BITEXACT
    else:
        stats, n, provenance = compare_outputs(csim_out, ref_out[:m], labels[:m]), m, Provenance.CSIM
    return Score(
        n_inputs=n,
        provenance=provenance.value,
        emulator=check,
        csim_sample=sample,
        seconds=seconds,
        fallback=reason,
        **stats,
    )
