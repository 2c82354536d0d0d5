"""``hil farm export``: every finished build as measurement records (JSON lines).

Why per-layer rows too: the cost model is calibrated per layer (N-TORC data are per layer), and
each HLS report lists its layers' figures. One record per build (the whole network, candidate =
all layer specs) plus one per reported layer (candidate = that layer's spec, design key
``<build key>/<layer>``). This is the layout ``hil costmodel check|calibrate --data`` reads:
the start of the recalibration loop.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hil.farm._ledger import Ledger
from hil.farm._store import ArtifactStore
from hil.records import ErrorCode, MeasureResult, Metric, Provenance, append_results

__all__ = ["export_records", "export_measured", "build_records", "is_standin"]

_log = logging.getLogger(__name__)


def _metrics(raw: dict[str, Any]) -> dict[str, Metric]:
    out = {}
    for key, metric in raw.items():
        if isinstance(metric, dict) and "provenance" in metric:
            value = metric.get("value")
            out[key] = Metric(
                value=None if value is None else float(value), provenance=Provenance(metric["provenance"])
            )
    return out


def build_records(store: ArtifactStore, key: str) -> list[MeasureResult]:
    """The records of one stored build: the network, then each reported layer."""
    manifest = store.manifest(key)
    report = store.report(key)
    job = manifest["job"]
    versions = manifest.get("tool_versions", {})
    common = {
        "board": job["board"],
        "tool_versions": versions,
        "stage_seconds": manifest.get("stage_seconds", {}),
    }
    base_candidate = {
        "build_key": key,
        "model": job["model"],
        "builder": job["builder"],
        "options": job["options"],
        "part": job["part"],
        "clock_mhz": job["clock_mhz"],
    }
    records = [
        MeasureResult(
            design_key=key,
            metrics=_metrics(report.get("metrics", {})),
            error_code=ErrorCode(manifest.get("error_code", "OK")),
            message=manifest.get("message", ""),
            candidate={**base_candidate, **report.get("candidate", {})},
            **common,
        )
    ]
    for layer in report.get("layers", []):
        provenance = layer.get("provenance", report.get("provenance") or "estimate")
        metrics = {k: {"value": v, "provenance": provenance} for k, v in layer.get("metrics", {}).items()}
        records.append(
            MeasureResult(
                design_key=f"{key}/{layer['name']}",
                metrics=_metrics(metrics),
                candidate={
                    **base_candidate,
                    "layer": layer["name"],
                    "layers": [layer["spec"]],
                    "clock_mhz": job["clock_mhz"],
                },
                **common,
            )
        )
    return records


def export_records(ledger: Ledger, store: ArtifactStore, path: str | Path) -> dict[str, int]:
    """Append every done build's records to ``path``; returns counts (builds, records)."""
    builds = records = 0
    batch: list[MeasureResult] = []
    for entry in ledger.entries("done"):
        if not store.complete(entry.key):
            _log.warning("%s: done in the ledger but no artifact; not exported", entry.key[:12])
            continue
        found = build_records(store, entry.key)
        batch.extend(found)
        builds += 1
        records += len(found)
    target = Path(path)
    if target.exists():
        target.unlink()  # an export is a snapshot of the ledger, not an append log
    append_results(target, batch)
    return {"builds": builds, "records": records}


def is_standin(record: MeasureResult) -> bool:
    """A record of a stand-in build: any metric labelled ``standin``, or a stand-in tool version."""
    if any(m.provenance is Provenance.STANDIN for m in record.metrics.values()):
        return True
    return any("standin" in str(v) for v in (record.tool_versions or {}).values())


def export_measured(ledger: Ledger, store: ArtifactStore, path: str | Path) -> dict[str, int]:
    """Like ``export_records``, for recalibration: only builds with real tool figures.

    Stand-in builds (tests' recording Vivado, ``standin`` provenance) never reach a fit: their
    numbers agree with the code, not with the tools. Returns counts (builds, records, standin).
    """
    builds = standin = 0
    batch: list[MeasureResult] = []
    for entry in ledger.entries("done"):
        if not store.complete(entry.key):
            continue
        found = build_records(store, entry.key)
        if any(is_standin(r) for r in found):
            standin += 1
            continue
        batch.extend(found)
        builds += 1
    target = Path(path)
    if target.exists():
        target.unlink()
    append_results(target, batch)
    return {"builds": builds, "records": len(batch), "standin": standin}
