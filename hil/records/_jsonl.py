"""JSON-lines storage of MeasureResults: append-only, locked, fsync'd, versioned.

Why a lock and fsync: several workers may append to one file, and a record that a crash
half-wrote must not corrupt the lines before it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from hil.errors import RecordError
from hil.records._result import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION, MeasureResult

__all__ = ["append_results", "read_results", "iter_results"]

_log = logging.getLogger(__name__)


def append_results(path: str | os.PathLike[str], results: Iterable[MeasureResult]) -> int:
    """Append results to ``path`` (created if absent) under an exclusive lock; returns the count."""
    lines = [r.model_dump_json() + "\n" for r in results]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    _log.debug("appended %d record(s) to %s", len(lines), target)
    return len(lines)


def iter_results(path: str | os.PathLike[str]) -> Iterator[MeasureResult]:
    """Yield each record of a JSON-lines file, refusing unknown schema versions by line number."""
    source = Path(path)
    if not source.is_file():
        raise RecordError(f"{source}: no such records file")
    with open(source, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{source}:{number}: not a JSON object ({exc.msg})") from None
            if not isinstance(raw, dict):
                raise RecordError(f"{source}:{number}: not a JSON object")
            version = raw.get("schema_version")
            if version not in READABLE_SCHEMA_VERSIONS:
                raise RecordError(
                    f"{source}:{number}: record schema_version {version!r} is not supported "
                    f"(this hil reads versions {', '.join(map(str, READABLE_SCHEMA_VERSIONS))} and writes "
                    f"{SCHEMA_VERSION}); upgrade hil or re-export the records"
                )
            try:
                yield MeasureResult.model_validate(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise RecordError(f"{source}:{number}: field {where}: {first['msg']}") from None


def read_results(path: str | os.PathLike[str]) -> list[MeasureResult]:
    """All records of a JSON-lines file (see ``iter_results``)."""
    return list(iter_results(path))
