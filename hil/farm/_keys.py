"""Making a keyed BuildJob from a model file, a board and conversion options (cheap: no hls4ml).

Why cheap: ``hil build`` of a finished design must answer from the ledger in well under two
seconds, so the key is computed from the model's bytes and the options alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hil.errors import InputError
from hil.farm._job import BuildJob, job_key

__all__ = ["make_job"]

_log = logging.getLogger(__name__)


def make_job(
    model: str | Path,
    board: Any,
    options: Mapping[str, Any],
    *,
    builder: str = "estimate",
    builder_params: Mapping[str, Any] | None = None,
    timeout_s: float = 6 * 3600.0,
    csim_n: int = 16,
    keep_failed: bool = False,
    tools: Mapping[str, str] | None = None,
) -> BuildJob:
    """A BuildJob with its key.

    Args:
        model: the model file.
        board: an inventory ``Board``.
        options: conversion options (any subset of ``ConversionOptions`` fields); validated here.
        builder: builder name; the versions of the tools it uses enter the key.
        tools: the farm's declared tool versions (inventory ``farm.tools``); the builder's other
            tools are expected at this host's versions.

    Raises:
        InputError: missing model file or invalid option; ConfigError: unknown builder.
    """
    from hil.convert._options import ConversionOptions
    from hil.farm._tool_versions import expected_tools

    path = Path(model).expanduser().resolve()
    if not path.is_file():
        raise InputError(f"{path}: no such model file")
    raw = dict(options)
    if raw.get("input_shape") is not None:
        raw["input_shape"] = tuple(int(d) for d in raw["input_shape"])
    try:
        conversion = ConversionOptions(**raw)
    except TypeError as exc:
        raise InputError(f"invalid conversion options {sorted(raw)}: {exc}") from None
    option_dict = conversion.as_dict()
    expected = expected_tools(builder, option_dict, tools)
    from hil.farm.builders import get_builder

    params = get_builder(builder).complete_params(board, dict(builder_params or {}))
    key = job_key(
        path.read_bytes(),
        option_dict,
        part=board.part,
        clock_mhz=board.clock_mhz,
        builder=builder,
        tools=expected,
        builder_params={k: v for k, v in params.items() if k != "log_file"},
    )
    return BuildJob(
        model=str(path),
        options=option_dict,
        board=board.name,
        part=board.part,
        clock_mhz=board.clock_mhz,
        resources=board.resources.as_dict(),
        builder=builder,
        builder_params=params,
        tools=expected,
        timeout_s=timeout_s,
        csim_n=csim_n,
        keep_failed=keep_failed,
        key=key,
    )
