"""build_for_measure(): the one boundary between ``hil measure`` and the build farm.

Why a small function boundary: ``hil measure`` needs "a bundle for this model on this board",
cached by design key; who makes it (the estimate path here, or the farm's cached build) must not
leak into the measure orchestration.

TODO(farm): switch to the farm's cached build once ``hil.farm`` exposes one (it writes a bundle
at ``<artifact>/board/`` for every build); until then the ``estimate`` builder is implemented
here with hil.convert (bit-accurate C-sim outputs) and hil.cost (II/latency, provenance
``estimate``), and ``vivado`` raises BuildError.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from hil.bundle import BundleTiming, read_bundle, write_bundle
from hil.errors import BoardError, BuildError, InputError
from hil.inventory import Board

__all__ = ["BUILDERS", "build_for_measure"]

_log = logging.getLogger(__name__)
BUILDERS = ("estimate", "vivado")


def _cached(folder: Path) -> bool:
    try:
        read_bundle(folder).verify()
    except BoardError:
        return False
    return True


def build_for_measure(
    model: str | Path,
    board: Board,
    options: object,
    builder: str,
    *,
    n_inputs: int = 64,
    inputs: np.ndarray | None = None,
    seed: int = 0,
    stage_seconds: dict[str, float] | None = None,
) -> Path:
    """A bundle folder for ``model`` on ``board``, built (or found in the cache) by ``builder``.

    Args:
        model: the model file (as ``hil convert`` takes it).
        board: the target board.
        options: ``hil.convert.ConversionOptions``.
        builder: ``estimate`` (no bitstream: emulation only) or ``vivado`` (the farm).
        n_inputs: how many inputs the bundle checks on the board.
        inputs: real inputs (else random ones on the input quantizer's grid).
        seed: seed of random inputs.
        stage_seconds: filled with the seconds of each stage (convert, csim, estimate, bundle).

    Returns:
        The bundle folder (``hil.bundle`` layout), verified.
    """
    from hil.convert import ConversionOptions, cache_root, compile_cached, convert, csim_inputs
    from hil.cost import estimate, spec_from_hls_model
    from hil.ingest import load_model
    from hil.records import design_key

    if builder not in BUILDERS:
        raise InputError(f"--builder must be one of {', '.join(BUILDERS)}, got {builder!r}")
    if builder == "vivado":
        raise BuildError(
            "the vivado builder runs on the build farm, which hil measure cannot reach yet "
            "(hil.farm has no build API); use --builder estimate with an emulated board"
        )
    if not isinstance(options, ConversionOptions):
        raise TypeError("options must be a hil.convert.ConversionOptions")
    if n_inputs < 1:
        raise InputError(f"the number of check inputs must be >= 1, got {n_inputs}")
    stages = stage_seconds if stage_seconds is not None else {}
    started = time.perf_counter()
    ingested = load_model(model, options.input_shape)
    key = design_key(ingested.model_bytes, options.as_dict(), part=board.part, clock_mhz=board.clock_mhz)
    data_tag = (
        f"s{seed}"
        if inputs is None
        else hashlib.sha256(np.ascontiguousarray(inputs).tobytes()).hexdigest()[:12]
    )
    folder = cache_root() / "bundles" / f"{key}-{builder}-n{n_inputs}-{data_tag}"
    stages["load"] = time.perf_counter() - started
    if _cached(folder):
        _log.info("bundle cache hit: %s", folder)
        return folder

    mark = time.perf_counter()
    result = convert(model, board, options, output_dir=cache_root() / "projects" / key)
    stages["convert"] = time.perf_counter() - mark
    mark = time.perf_counter()
    x = csim_inputs(result.model, n_inputs, seed=seed, data=inputs)
    compile_cached(result.hls_model, result.key)
    with contextlib.redirect_stdout(io.StringIO()):
        expected = np.asarray(result.hls_model.predict(x), dtype=np.float32).reshape(len(x), -1)
    library = Path(result.hls_model._top_function_lib._name)  # the cached library predict() used
    stages["csim"] = time.perf_counter() - mark
    mark = time.perf_counter()
    # TODO(farm): timing comes from the cost model (provenance estimate) until the farm's HLS report does.
    totals = estimate(spec_from_hls_model(result.hls_model), clock_mhz=board.clock_mhz).totals
    timing = BundleTiming(
        ii_cycles=max(1, round(totals["ii_cycles"])),
        latency_cycles=max(1, round(totals["latency_cycles"])),
        provenance="estimate",
    )
    stages["estimate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write_bundle(
            staging,
            design_key=result.key,
            board=board.name,
            part=board.part,
            inputs=x,
            expected=expected,
            clock_mhz=board.clock_mhz,
            timing=timing,
            csim_library=library,
            project=str(result.hls_model.config.get_project_name()),
        )
        try:
            os.replace(staging, folder)  # atomic; loses to a concurrent identical build
        except OSError:
            if not _cached(folder):
                shutil.rmtree(folder, ignore_errors=True)
                os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stages["bundle"] = time.perf_counter() - mark
    _log.info("wrote bundle %s", folder)
    return folder
