"""A candidate's QONNX export -> hls4ml design with per-layer reuse/strategy -> bit-accurate C-sim.

The co-search chooses reuse factor and strategy per layer; ``hil.convert`` takes them as
``ConversionOptions.layer_overrides``, so a candidate is converted exactly as ``hil convert`` and
the build farm convert it (same precision policy, same design key), and its compiled C-sim
library is shared with them through the cache.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from hil.convert import ConversionOptions, CSimResult, convert_model, csim_inputs, run_csim
from hil.ingest import IngestedModel, load_model
from hil.inventory import Board
from hil.records import design_key
from search.space import Candidate

__all__ = ["HlsDesign", "candidate_options", "convert_candidate", "csim_candidate", "write_design"]

_log = logging.getLogger(__name__)
_BACKEND: Final = "Vitis"


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


def csim_candidate(design: HlsDesign, x: np.ndarray, y: np.ndarray) -> CSimResult:
    """Bit-accurate accuracy of the design on (x, y); the compiled library is cached by design key."""
    inputs = csim_inputs(design.model, len(x), data=x)
    return run_csim(design.hls_model, design.key, inputs, design.model.reference, np.asarray(y))


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
