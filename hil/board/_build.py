"""build_for_measure(): the one boundary between ``hil measure`` and the build farm.

Why a small function boundary: ``hil measure`` needs "a bundle for this model on this board";
who makes it must not leak into the measure orchestration. It is the farm's cached build
(``hil.farm.make_job`` + ``build_one``, the same ledger and artifact store as ``hil build``), so
a design built once is deployed again without rebuilding, and the bundle is the one the farm
wrote at ``<artifact>/board/`` (C-sim outputs as the expectation; II/latency with the build's
provenance: ``estimate`` for the cost-model builder, ``hls``/``impl`` for Vivado).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from hil.bundle import read_bundle
from hil.errors import BuildError, InputError
from hil.inventory import Board
from hil.records import ErrorCode

__all__ = ["BUILDERS", "BuildFailure", "build_for_measure"]

_log = logging.getLogger(__name__)
BUILDERS = ("estimate", "vivado")


class BuildFailure(BuildError):
    """The farm's build of the design failed; ``code`` is its error code (CONVERT, CSIM, HLS, ...)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(" ".join(message.split()))
        self.code = code


def build_for_measure(
    model: str | Path,
    board: Board,
    options: Any,
    builder: str,
    *,
    inventory: Any = None,
    artifacts: str | Path | None = None,
    n_inputs: int = 16,
    stage_seconds: dict[str, float] | None = None,
) -> Path:
    """A bundle folder for ``model`` on ``board`` from the build farm (cached by build key).

    Args:
        model: the model file (as ``hil convert`` takes it).
        board: the target board.
        options: ``hil.convert.ConversionOptions`` (or a dict of its fields).
        builder: ``estimate`` (no bitstream: emulation only) or ``vivado``.
        inventory: the loaded inventory (locates the artifact store); None = the default one.
        artifacts: artifact store folder overriding the inventory's.
        n_inputs: test inputs in the bundle (their C-sim outputs are what the board must match).
        stage_seconds: receives ``build`` (seconds, ~0 on a cache hit).

    Returns:
        The bundle folder ``<artifact>/board``.

    Raises:
        InputError: unknown builder or bad options. BuildFailure: the build failed (its code).
    """
    from hil.farm import artifacts_root, build_one, make_job, open_farm
    from hil.inventory import load_inventory

    if builder not in BUILDERS:
        raise InputError(f"--builder must be one of {', '.join(BUILDERS)}, got {builder!r}")
    if n_inputs < 1:
        raise InputError(f"the number of check inputs must be >= 1, got {n_inputs}")
    raw = options if isinstance(options, dict) else options.as_dict()
    started = time.perf_counter()
    inv = inventory if inventory is not None else load_inventory(None)
    # Same key as ``hil build`` of the same design: the farm's declared tools, its heartbeat limit.
    job = make_job(model, board, raw, builder=builder, csim_n=n_inputs, tools=inv.farm.tools)
    ledger, store = open_farm(artifacts_root(inv, artifacts))
    with ledger:
        outcome = build_one(job, ledger, store, heartbeat_limit_s=inv.farm.heartbeat_limit_s)
    if stage_seconds is not None:
        stage_seconds["build"] = time.perf_counter() - started
    if outcome["state"] != "done" or not outcome.get("artifact"):
        try:
            code = ErrorCode(str(outcome.get("error_code")))
        except ValueError:
            code = ErrorCode.CONVERT
        raise BuildFailure(
            code, f"build {job.describe()} failed: {outcome.get('message') or outcome['state']}"
        )
    folder = Path(outcome["artifact"]) / "board"
    read_bundle(folder)  # a build without a bundle is a farm bug: say so here, not on the board
    _log.info("bundle %s (%s)", folder, "cached build" if outcome["cache_hit"] else "new build")
    return folder
