"""The jobs file of ``hil farm run``: models x conversion options x boards, validated at load.

Example::

    builder: estimate          # estimate | vivado | sleep
    timeout_s: 21600           # per job
    csim_n: 16                 # test inputs in each board bundle
    keep_failed: false
    models: [models/cnn_a.onnx, models/cnn_b.onnx]   # relative to this file
    boards: [zcu104, pynq-z2]
    options:                   # one or more conversion option sets (keys as `hil convert`)
      - {precision: "ap_fixed<16,6>", io_type: io_stream, strategy: Latency, backend: Vitis}
    grid:                      # optional: every combination, applied on top of each option set
      reuse_factor: [1, 2, 4]
    builder_params: {}         # builder-specific (vivado: stop_after hls|synth|bitstream;
                               #   sleep: sleep_s, fail, log_file)

Why validate everything up front: a typo in a board name or precision must fail before the
first six-hour build starts, with the file, entry and field named.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hil.errors import ConfigError, HilError
from hil.farm._job import BuildJob

__all__ = ["JobsFile", "load_jobs_file", "expand_jobs"]

_log = logging.getLogger(__name__)

_OPTION_KEYS = {
    "precision", "reuse_factor", "io_type", "strategy", "backend", "input_shape",
    "softmax_implementation", "softmax_table_size",
}  # fmt: skip


def _one_empty_option_set() -> list[dict[str, Any]]:
    return [{}]


class JobsFile(BaseModel):
    """The validated jobs file (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    builder: str = "estimate"
    timeout_s: float = Field(default=6 * 3600.0, gt=0)
    csim_n: int = Field(default=16, ge=1, le=10_000)
    keep_failed: bool = False
    models: list[Path] = Field(min_length=1)
    boards: list[str] = Field(min_length=1)
    options: list[dict[str, Any]] = Field(default_factory=_one_empty_option_set)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    builder_params: dict[str, Any] = Field(default_factory=dict)
    source: Path | None = None

    @field_validator("options")
    @classmethod
    def _known_options(cls, sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for number, entry in enumerate(sets):
            unknown = sorted(set(entry) - _OPTION_KEYS)
            if unknown:
                raise ValueError(
                    f"option set {number}: unknown key(s) {unknown}; known: {sorted(_OPTION_KEYS)}"
                )
        return sets or [{}]

    @field_validator("grid")
    @classmethod
    def _known_grid(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        unknown = sorted(set(grid) - _OPTION_KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) {unknown}; known: {sorted(_OPTION_KEYS)}")
        if any(not values for values in grid.values()):
            raise ValueError("every grid entry needs at least one value")
        return grid


def load_jobs_file(path: str | Path) -> JobsFile:
    """Read and validate a jobs file; relative model paths resolve against its folder."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise ConfigError(f"{source}: jobs file not found")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping (builder, models, boards, options, ...)")
    try:
        jobs = JobsFile.model_validate({**raw, "source": source.resolve()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: field {where}: {first['msg'].removeprefix('Value error, ')}") from None
    models = [m if m.is_absolute() else source.resolve().parent / m for m in jobs.models]
    missing = [str(m) for m in models if not m.is_file()]
    if missing:
        raise ConfigError(f"{source}: field models: file(s) not found: {', '.join(missing)}")
    return jobs.model_copy(update={"models": models})


def expand_jobs(jobs: JobsFile, inventory: Any) -> list[BuildJob]:
    """Every (model, option set x grid point, board) as a keyed BuildJob; duplicates removed.

    Raises:
        ConfigError: unknown board or builder; InputError: an invalid conversion option.
    """
    from hil.farm._keys import make_job

    names = sorted(jobs.grid)
    points = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*(jobs.grid[n] for n in names))
    ]
    out: dict[str, BuildJob] = {}
    for model in jobs.models:
        for option_set in jobs.options:
            for point in points or [{}]:
                for board_name in jobs.boards:
                    try:
                        job = make_job(
                            model, inventory.board(board_name), {**option_set, **point},
                            builder=jobs.builder, builder_params=jobs.builder_params,
                            timeout_s=jobs.timeout_s, tools=inventory.farm.tools,
                            csim_n=jobs.csim_n, keep_failed=jobs.keep_failed,
                        )  # fmt: skip
                    except HilError as exc:
                        raise type(exc)(f"{jobs.source}: {exc}") from None
                    out.setdefault(job.key, job)
    return list(out.values())
