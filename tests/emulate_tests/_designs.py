"""hls4ml designs for the emulator's tests: a float model converted with chosen per-layer types."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

from hil.convert import ConversionOptions, build_hls_config
from hil.ingest import load_model


def convert_with_types(
    model_path: Path,
    types: dict[str, dict[str, str]],
    out: Path,
    io_type: str = "io_stream",
    softmax: str = "stable",
) -> Any:
    """An hls4ml ModelGraph of ``model_path`` whose layers get the given precisions (config names)."""
    import hls4ml

    model = load_model(model_path)
    options = ConversionOptions(io_type=io_type, softmax_implementation=softmax)  # type: ignore[arg-type]
    config = build_hls_config(model, options)
    for name, precisions in types.items():
        config["LayerName"][name].setdefault("Precision", {}).update(precisions)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hls4ml.converters.convert_from_onnx_model(
            model.graph,
            output_dir=str(out),
            project_name="myproject",
            io_type=io_type,
            backend="Vitis",
            hls_config=config,
            part="xczu7ev-ffvc1156-2-e",
            clock_period=5.0,
        )
