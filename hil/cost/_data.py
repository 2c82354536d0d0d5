"""Measured rows the cost model is calibrated and checked on: N-TORC CSVs, design descriptions, records.

Why one row type for both: ``calibrate``, ``check`` and ``cv`` treat a per-layer CSV row and a
whole-network record alike (a list of layer specs and the measured numbers), so records that later
builds write can recalibrate the model with no new code.

CSV layout (../shared/costdata, from the N-TORC project; HLS csynth figures, io_stream):
    layer ("dense" or "conv1d"), dense: n_in, n_out; conv1d: n_chan, n_filt, seq_len (kernel 3,
    padding same); both: rf_eff, bram_18k, lut, ff, dsp48e (or dsp), latency_min, latency_max.
    Optional: kernel (conv1d, default 3), bits (all widths, default 16), strategy (default
    Latency at rf 1, else Resource, as in the data set).

JSON-lines layout: hil ``MeasureResult`` records with error_code OK whose lut/ff/dsp/bram_18k/
latency_cycles metrics have provenance hls, synth or impl; the design goes in ``candidate``:
    {"layers": [LayerSpec as a dict (hil.cost.layer_to_dict), ...], "clock_mhz": 200.0,
     "part": "xczu7ev-ffvc1156-2-e", "options": {"backend": "Vitis"}}
A record is a whole network (compared with the estimate including FIFOs) unless its candidate names
one ``layer`` (the per-layer rows of ``hil farm export``).

Design-description JSON lines (``../shared/costdata/lowbit``, ``format_version`` 1; see
``_design_format``): whole designs with per-layer truth where the project had it, their part, clock
and tools. A ``.jsonl`` file is read as one or the other by its first object.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.cost._design_format import LayerTruth, confidence_weight, is_design_file, read_designs
from hil.cost._spec import LayerKind, LayerSpec, Strategy, layer_from_dict
from hil.cost._target import HlsTool, Target, target_for
from hil.errors import InputError, RecordError
from hil.records import Provenance, iter_results

__all__ = ["CostRow", "LayerTruth", "read_cost_data"]

_log = logging.getLogger(__name__)

_MEASURED = {
    "lut": "lut",
    "ff": "ff",
    "bram_18k": "bram_18k",
    "latency": "latency_max",
    "latency_min": "latency_min",
}
_SHAPE_COLUMNS = {"dense": ("n_in", "n_out", "rf_eff"), "conv1d": ("n_chan", "n_filt", "seq_len", "rf_eff")}
_HW_PROVENANCE = frozenset({Provenance.HLS, Provenance.SYNTH, Provenance.IMPL})
_SYNTH_LEVEL = frozenset({Provenance.SYNTH, Provenance.IMPL})


#: N-TORC: Vivado HLS 2019.1, xczu7ev (ZCU104), 250 MHz (DESIGN.md).
NTORC_TARGET = Target(hls=HlsTool.VIVADO, clock_ns=4.0)


@dataclass(frozen=True)
class CostRow:
    """One measured design (or one layer measured alone).

    Attributes:
        source: where it came from, ``file:row N``.
        group: the layer stack, for leave-one-shape-out cross-validation (all reuse factors and
            sequence lengths of one N-TORC shape, all clocks of one design stack, share a group).
        layers: the design as layer specs.
        include_io: whether the truth includes FIFOs/I-O (whole networks) or one layer alone.
        truth: measured values by metric (lut, ff, dsp, bram_18k, latency, latency_min, ii, uram).
        family: the source family (by_family reports, leave-one-family-out).
        target: tool, device family and clock the design was synthesized with.
        part: the FPGA part, when known.
        part_resources: the part's resources (for ``fits`` agreement), when known.
        layer_truth: per-layer figures of a whole design, where its report has them.
        weight: calibration weight (confidence, duplicates).
        design_id: the design's id (design files), else the source.
        in_beats: for a layer measured inside a design: the stream beats it reads (see ``estimate``).
        truth_synth: post-synthesis figures of the same kernel (Vivado), when the source has them.
        level: what ``truth`` is: ``hls`` (csynth) or ``synth`` (Vivado synthesis, or an estimate made
            at synthesis level); the check predicts the same level.
    """

    source: str
    group: str
    layers: tuple[LayerSpec, ...]
    include_io: bool
    truth: dict[str, float]
    family: str = ""
    target: Target = NTORC_TARGET
    part: str | None = None
    part_resources: dict[str, float] | None = None
    layer_truth: tuple[LayerTruth, ...] = ()
    weight: float = 1.0
    design_id: str = ""
    in_beats: int = 0
    truth_synth: dict[str, float] | None = None
    level: str = "hls"

    @property
    def name(self) -> str:
        """The design id, or the source for rows without one."""
        return self.design_id or self.source


def _number(text: str | None, path: Path, row: int, column: str) -> float:
    if text is None or text.strip() == "":
        raise InputError(f"{path}: row {row}, column '{column}': empty value")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}: row {row}, column '{column}': {text.strip()!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{path}: row {row}, column '{column}': {value} must be a finite number >= 0")
    return value


def _read_csv(path: Path) -> list[CostRow]:
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        if not header:
            raise InputError(f"{path}: empty file (no header row)")
        header = [h.strip() for h in header]
        reader.fieldnames = header
        dsp_col = "dsp48e" if "dsp48e" in header else "dsp"
        needed = ["layer", "bram_18k", "lut", "ff", dsp_col, "latency_min", "latency_max"]
        missing = [c for c in needed if c not in header]
        if missing:
            raise InputError(f"{path}: row 1 (header): missing column '{missing[0]}'")
        rows: list[CostRow] = []
        for number, raw in enumerate(reader, start=1):
            kind = (raw.get("layer") or "").strip().lower()
            if kind not in _SHAPE_COLUMNS:
                raise InputError(
                    f"{path}: row {number}, column 'layer': {kind!r} is not one of dense, conv1d"
                )
            for column in _SHAPE_COLUMNS[kind]:
                if column not in header:
                    raise InputError(
                        f"{path}: row 1 (header): missing column '{column}' (needed by {kind} rows)"
                    )
            num = {c: _number(raw.get(c), path, number, c) for c in (*_SHAPE_COLUMNS[kind], *needed[1:])}
            bits = int(_number(raw["bits"], path, number, "bits")) if raw.get("bits") else 16
            rf = int(num["rf_eff"])
            if rf < 1:
                raise InputError(f"{path}: row {number}, column 'rf_eff': reuse factor must be >= 1")
            strategy = (
                Strategy(raw["strategy"].strip().lower())
                if raw.get("strategy")
                else (Strategy.LATENCY if rf == 1 else Strategy.RESOURCE)
            )
            common = {
                "weight_bits": bits,
                "act_bits": bits,
                "result_bits": bits,
                "acc_bits": bits,
                "reuse_factor": rf,
                "strategy": strategy,
                "name": f"{kind}_{number}",
            }
            if kind == "dense":
                n_in, n_out = int(num["n_in"]), int(num["n_out"])
                spec = LayerSpec(LayerKind.DENSE, (n_in,), (n_out,), **common)  # type: ignore[arg-type]
                group = f"dense:{n_in}x{n_out}"
            else:
                chan, filt, seq = int(num["n_chan"]), int(num["n_filt"]), int(num["seq_len"])
                k = int(_number(raw["kernel"], path, number, "kernel")) if raw.get("kernel") else 3
                spec = LayerSpec(
                    LayerKind.CONV1D,
                    (seq, chan),
                    (seq, filt),
                    (k,),
                    padding="same",
                    **common,  # type: ignore[arg-type]
                )
                group = f"conv1d:{chan}x{filt}k{k}"
            truth = {m: num[c] for m, c in _MEASURED.items()}
            truth["dsp"] = num[dsp_col]
            rows.append(
                CostRow(
                    f"{path.name}:row {number}",
                    group,
                    (spec,),
                    False,
                    truth,
                    family=path.stem,
                    part="xczu7ev-ffvc1156-2-e",
                )
            )
    if not rows:
        raise InputError(f"{path}: no data rows (only a header)")
    return rows


def _read_jsonl(path: Path, include_estimates: bool = False) -> list[CostRow]:
    rows: list[CostRow] = []
    try:
        records = list(iter_results(path))
    except RecordError as exc:
        raise InputError(str(exc)) from None
    accepted = _HW_PROVENANCE | ({Provenance.ESTIMATE} if include_estimates else set())
    for number, rec in enumerate(records, start=1):
        where = f"{path}: record {number}"
        if not rec.ok:
            _log.info("%s: skipped (error_code %s)", where, rec.error_code.value)
            continue
        cand = rec.candidate or {}
        layers_raw = cand.get("layers")
        if not isinstance(layers_raw, list) or not layers_raw:
            raise InputError(
                f"{where}, field 'candidate.layers': missing or empty (expected a list of layer specs)"
            )
        layers = tuple(
            layer_from_dict(d, f"{where}, field 'candidate.layers[{i}]'")
            if isinstance(d, dict)
            else _bad(f"{where}, field 'candidate.layers[{i}]': not an object")
            for i, d in enumerate(layers_raw)
        )
        truth: dict[str, float] = {}
        for key, metric in (
            ("lut", "lut"),
            ("ff", "ff"),
            ("dsp", "dsp"),
            ("bram_18k", "bram_18k"),
            ("latency_cycles", "latency"),
        ):
            m = rec.metrics.get(key)
            if m is not None and m.value is not None and m.provenance in accepted:
                truth[metric] = float(m.value)
        if not truth:
            _log.info("%s: skipped (no hls/synth/impl hardware metric)", where)
            continue
        clock = cand.get("clock_mhz") if isinstance(cand.get("clock_mhz"), (int, float)) else None
        raw_options = cand.get("options")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        backend = cand.get("backend") or options.get("backend")
        # ``hil farm export`` writes one record per reported layer too (candidate.layer): a layer alone.
        whole = "layer" not in cand
        lut = rec.metrics.get("lut")
        level = str(cand.get("level") or ("synth" if lut and lut.provenance in _SYNTH_LEVEL else "hls"))
        rows.append(
            CostRow(
                f"{path.name}:record {number}",
                stack_group(layers),
                layers,
                whole or len(layers) > 1,
                truth,
                family=str(cand.get("family") or path.stem),
                target=target_for(
                    part=cand.get("part"), hls=cand.get("hls"), backend=backend, clock_mhz=clock
                ),
                part=cand.get("part"),
                design_id=rec.design_key or "",
                level=level,
            )
        )
    if not rows:
        hint = (
            ""
            if include_estimates
            else "; to check estimate records against the model, add --include-estimates"
        )
        raise InputError(f"{path}: no usable records (need error_code OK and hls/synth/impl metrics){hint}")
    return rows


def _bad(message: str) -> LayerSpec:
    raise InputError(message)


def stack_group(layers: tuple[LayerSpec, ...]) -> str:
    """A design's layer stack (classes, shapes, kernels): designs differing only in clock share it."""
    return "|".join(f"{s.kind.value}{list(s.in_shape)}{list(s.out_shape)}{list(s.kernel)}" for s in layers)


def _read_designs(path: Path) -> list[CostRow]:
    rows = []
    for design in read_designs(path):
        rows.append(
            CostRow(
                source=f"{path.name}:line {design.line}",
                group=f"{design.family}:{stack_group(design.layers)}",
                layers=design.layers,
                include_io=True,
                truth=design.truth,
                family=design.family,
                target=design.target,
                part=design.part,
                part_resources=design.part_resources,
                layer_truth=design.layer_truth,
                weight=confidence_weight(design.confidence),
                design_id=design.design_id,
                truth_synth=design.truth_synth,
            )
        )
    return rows


def read_cost_data(
    paths: Iterable[str | os.PathLike[str]], *, include_estimates: bool = False
) -> list[CostRow]:
    """Read measured rows from CSV (N-TORC layout) and JSON-lines (hil records) files.

    Records carry real hardware figures (hls/synth/impl) by default. ``include_estimates`` also
    takes cost-model estimates (provenance estimate): checking those against the model is a
    self-consistency check of the record plumbing (export -> check), never an accuracy claim.

    Raises:
        InputError: a file is missing, empty, lacks a column or holds a non-number; the message
            names the file, the row and the column.
    """
    rows: list[CostRow] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
            rows.extend(_read_designs(path) if is_design_file(path) else _read_jsonl(path, include_estimates))
        else:
            rows.extend(_read_csv(path))
    if not rows:
        raise InputError("no data files given")
    _log.info("read %d measured rows", len(rows))
    return rows
