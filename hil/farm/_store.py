"""The content-addressed artifact store: ``<root>/<key>/`` per finished build, written atomically.

Why temp dir + rename: a build is unpacked into ``<root>/.tmp-<key>-<random>`` and renamed into
place only when complete, so a crash (of a worker, the coordinator, or the machine) never leaves
a folder at ``<root>/<key>`` that looks finished but is half written. ``manifest.json`` is
written last inside the temporary folder, and a folder without it is never treated as a build.

Layout of one build::

    manifest.json   job, status, error code, tool versions, provenance, timings (written last)
    report.json     metrics in canonical keys, each with its provenance; per-layer rows
    hls4ml/         the hls4ml firmware sources and configuration
    board/          the board bundle (hil.bundle): inputs, expected outputs, csim.so, bit/hwh
    reports/        tool reports (vivado builder)
    build.log       the build's log
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import tarfile
import uuid
from pathlib import Path
from typing import Any

from hil.errors import BuildError

__all__ = ["ArtifactStore", "pack_folder", "MANIFEST", "REPORT"]

_log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REPORT = "report.json"


def pack_folder(folder: Path) -> bytes:
    """A folder as gzip'd tar bytes (how a worker returns a build to the coordinator)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=3) as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


class ArtifactStore:
    """Build folders under ``root``, one per key; failed builds kept on request under ``failed/``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    def path(self, key: str) -> Path:
        return self.root / key

    def failed_path(self, key: str) -> Path:
        return self.root / "failed" / key

    def complete(self, key: str) -> bool:
        """True when the key's folder exists and holds its manifest (written last)."""
        return (self.path(key) / MANIFEST).is_file()

    def manifest(self, key: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path(key) / MANIFEST).read_text())
        return data

    def report(self, key: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path(key) / REPORT).read_text())
        return data

    def staging(self, key: str) -> Path:
        """A new, empty temporary folder on the store's file system (same device: rename is atomic)."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = self.root / f".tmp-{key[:16]}-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        return folder

    def commit(self, key: str, staged: Path, *, failed: bool = False) -> Path:
        """Rename a staged folder into place; a complete folder already there wins (same key = same build)."""
        target = self.failed_path(key) if failed else self.path(key)
        if not failed and not (staged / MANIFEST).is_file():
            shutil.rmtree(staged, ignore_errors=True)
            raise BuildError(f"build {key[:12]}: artifact has no {MANIFEST}; not storing a partial build")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if failed or not self.complete(key):
                shutil.rmtree(target)  # an older failed copy, or a folder without manifest
            else:
                _log.info("build %s already stored; discarding the duplicate", key[:12])
                shutil.rmtree(staged, ignore_errors=True)
                return target
        os.rename(staged, target)
        return target

    def install(self, key: str, archive: bytes, *, failed: bool = False) -> Path:
        """Unpack a worker's archive into staging, then commit it atomically."""
        staged = self.staging(key)
        try:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
                tar.extractall(staged, filter="data")  # refuses absolute paths, links out, devices
        except (tarfile.TarError, OSError) as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise BuildError(f"build {key[:12]}: cannot unpack the worker's artifact ({exc})") from None
        return self.commit(key, staged, failed=failed)

    def sweep(self) -> int:
        """Remove temporary folders a crash left behind; returns how many."""
        count = 0
        if self.root.is_dir():
            for stale in self.root.glob(".tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
                count += 1
        return count
