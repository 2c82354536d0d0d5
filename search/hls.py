"""A candidate's QONNX export -> hls4ml design with per-layer reuse/strategy -> bit-accurate C-sim.

Why not ``hil.convert.convert``: its options set one reuse factor and strategy for the whole model,
and the co-search chooses them per layer. This module builds hil's own hls4ml configuration
(``build_hls_config``, same precision policy), overrides the weight layers, and hands the model to
hil's cached C simulation, with the per-layer settings hashed into the design key so two designs
never share a compiled library.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hil.convert import ConversionOptions, CSimResult, build_hls_config, csim_inputs, run_csim
from hil.errors import ConversionError
from hil.ingest import IngestedModel, load_model
from hil.inventory import Board
from hil.records import design_key
from search.space import Candidate

__all__ = ["HlsDesign", "convert_candidate", "csim_candidate", "write_design"]

_log = logging.getLogger(__name__)
_BACKEND = "Vitis"


@dataclass
class HlsDesign:
    """An hls4ml model of a candidate, with its configuration and design key."""

    model: IngestedModel
    hls_model: Any
    config: dict[str, Any]
    key: str
    board: Board


def _layer_overrides(candidate: Candidate, reuse: list[int]) -> dict[str, dict[str, Any]]:
    """hls4ml layer names (the QONNX export's Conv_i / MatMul_j, in order) -> ReuseFactor, Strategy."""
    n_conv = len(candidate.arch.conv_channels)
    names = [f"Conv_{i}" for i in range(n_conv)] + [
        f"MatMul_{j}" for j in range(candidate.arch.n_mac_layers - n_conv)
    ]
    return {
        name: {"ReuseFactor": rf, "Strategy": hw.strategy}
        for name, rf, hw in zip(names, reuse, candidate.hw, strict=True)
    }


def convert_candidate(
    qonnx_path: Path,
    candidate: Candidate,
    board: Board,
    output_dir: Path,
    input_shape: tuple[int, int, int],
    n_classes: int,
) -> HlsDesign:
    """Convert a candidate's QONNX file with its per-layer settings (not compiled yet)."""
    import hls4ml

    model = load_model(qonnx_path)
    options = ConversionOptions(io_type=candidate.io_type, strategy="Latency", backend=_BACKEND)  # type: ignore[arg-type]
    config = build_hls_config(model, options)
    overrides = _layer_overrides(candidate, candidate.effective_reuse(input_shape, n_classes))
    for name, settings in overrides.items():
        if name not in config["LayerName"]:
            raise ConversionError(f"{qonnx_path}: expected a layer {name} in the QONNX export")
        config["LayerName"][name].update(settings)
    target = board.model_copy(update={"clock_mhz": candidate.clock_mhz})
    key = design_key(
        model.model_bytes,
        {**options.as_dict(), "layers": overrides},
        part=target.part,
        clock_mhz=target.clock_mhz,
    )
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hls_model = hls4ml.converters.convert_from_onnx_model(
                model.graph,
                output_dir=str(Path(output_dir).resolve()),
                project_name="myproject",
                io_type=candidate.io_type,
                backend=_BACKEND,
                hls_config=config,
                part=target.part,
                clock_period=round(1000.0 / target.clock_mhz, 3),
            )
    except Exception as exc:  # hls4ml raises bare Exception for most failures
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConversionError(f"{qonnx_path}: hls4ml could not convert the candidate ({first})") from None
    return HlsDesign(model, hls_model, config, key, target)


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
                "HLSConfig": design.config,
            },
            indent=2,
            default=str,
        )
    )
    return {"config": config_path, "project": Path(design.hls_model.config.get_output_dir())}
