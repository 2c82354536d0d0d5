"""The content-addressed artifact store: ``<root>/<key>/`` per finished build, written atomically, verified.

Why temp dir + rename: a build is unpacked into ``<root>/.tmp-<holder>-<key>-<random>`` and renamed
into place only when complete, so a crash (of a worker, the coordinator, or the machine) never
leaves a folder at ``<root>/<key>`` that looks finished but is half written. The staging folder
names its holder (the process whose ledger heartbeat covers it), so the ledger's owner removes
only staging folders of processes that are dead by heartbeat, never one a live build is writing.

Why hashes: a hit is served to a board (or into a search's reward), so a flipped byte in a
bitstream or report must not be served. Before packing, the builder's host *seals* the folder:
``manifest.json`` (written last) lists every file with its size and sha256, and the ledger keeps
the manifest's own sha256. A hit is served only when all of them match; otherwise the folder is
moved to ``quarantine/`` and the build runs again.

Why archives are checked against their manifest while they are unpacked: a worker's archive
(a build, or the folder kept from a failed build) is untrusted input. It must start with
``manifest.json``, every other file must be listed there with its size and sha256, and the
whole must stay under a size limit (default 2 GiB: ``farm.max_archive_gib`` in inventory.yaml,
or ``HIL_FARM_MAX_ARCHIVE_BYTES``). Anything else is refused with one line before it is written.

Layout of one build::

    manifest.json   job, status, error code, tool versions, provenance, timings, file hashes
    report.json     metrics in canonical keys, each with its provenance; per-layer rows
    hls4ml/         the hls4ml firmware sources and configuration
    board/          the board bundle (hil.bundle): inputs, expected outputs, csim.so, bit/hwh
    reports/        tool reports (vivado builder)
    build.log       the build's log
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import time
import uuid
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath
from typing import Any

from hil.errors import BuildError, ConfigError

__all__ = [
    "ArtifactStore",
    "pack_folder",
    "seal",
    "file_sha256",
    "archive_limit",
    "MANIFEST",
    "REPORT",
    "DEFAULT_MAX_ARCHIVE_BYTES",
]

_log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REPORT = "report.json"
_STAGING = ".tmp-"
_QUARANTINE = "quarantine"
DEFAULT_MAX_ARCHIVE_BYTES = 2 * 2**30
_LIMIT_ENV = "HIL_FARM_MAX_ARCHIVE_BYTES"


def archive_limit(configured: int | None = None) -> int:
    """The archive size limit: ``configured`` (from the inventory), else the environment, else 2 GiB.

    Raises:
        ConfigError: ``HIL_FARM_MAX_ARCHIVE_BYTES`` is not a positive whole number.
    """
    if configured is not None:
        return int(configured)
    raw = os.environ.get(_LIMIT_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_ARCHIVE_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"{_LIMIT_ENV}={raw!r}: expected a positive number of bytes")
    return value


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def seal(folder: Path) -> str:
    """Add every file's size and sha256 to ``folder/manifest.json``; returns the manifest's sha256.

    Raises:
        BuildError: the folder has no manifest (a build writes it last; nothing to seal).
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise BuildError(f"{folder}: no {MANIFEST} to seal")
    manifest = json.loads(manifest_path.read_text())
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path != manifest_path:
            files[path.relative_to(folder).as_posix()] = {
                "bytes": path.stat().st_size,
                "sha256": file_sha256(path),
            }
    manifest["files"] = files
    blob = json.dumps(manifest, indent=2, sort_keys=True, default=str).encode("utf-8")
    temporary = folder / f".{MANIFEST}.tmp"
    temporary.write_bytes(blob)
    os.replace(temporary, manifest_path)
    return hashlib.sha256(blob).hexdigest()


def pack_folder(folder: Path) -> bytes:
    """A sealed folder as gzip'd tar bytes, manifest first (how a worker returns a build)."""
    buffer = io.BytesIO()
    manifest = folder / MANIFEST
    paths = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink() and p != manifest]
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=3) as tar:
        for path in [manifest, *paths] if manifest.is_file() else paths:
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def _unpack(archive: bytes, into: Path, max_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES) -> None:
    """Extract an archive whose first member is its manifest and whose every file that lists.

    Refused (BuildError, one line) before anything of it is written: an absolute name, ``..``,
    a link or device, a file the manifest does not list or lists with another size, a file whose
    sha256 differs, and an archive whose files add up to more than ``max_bytes``.

    Why not ``extractall(filter="data")``: that filter exists only from Python 3.10.12 / 3.11.4,
    and a worker's archive is untrusted input: absolute names, ``..``, links and devices are
    refused here on every Python hil supports.
    """
    listed: dict[str, Any] | None = None
    total = 0
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar:
            name = PurePosixPath(member.name)
            if not member.name or name.is_absolute() or ".." in name.parts:
                raise BuildError(f"archive member {member.name!r} points outside the artifact folder")
            target = into.joinpath(*name.parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isreg():
                raise BuildError(f"archive member {member.name!r} is not a regular file (links are refused)")
            total += member.size
            if total > max_bytes:
                raise BuildError(
                    f"archive member {member.name!r} takes the archive past its {max_bytes} B limit "
                    f"({_LIMIT_ENV} or farm.max_archive_gib)"
                )
            relative = name.as_posix()
            if listed is None:
                if relative != MANIFEST:
                    raise BuildError(f"archive starts with {member.name!r}, not {MANIFEST}")
                listed = _listed_files(tar, member)
                expected: dict[str, Any] | None = None
            else:
                expected = listed.get(relative)
                if not isinstance(expected, dict) or "sha256" not in expected:
                    raise BuildError(f"archive member {member.name!r} is not listed in {MANIFEST}")
                if expected.get("bytes") != member.size:
                    raise BuildError(f"archive member {member.name!r} is {member.size} B, "
                                     f"{MANIFEST} says {expected.get('bytes')} B")  # fmt: skip
            source = tar.extractfile(member)
            if source is None:
                raise BuildError(f"archive member {member.name!r} has no data")
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with source, open(target, "xb") as sink:
                while block := source.read(1 << 20):
                    digest.update(block)
                    sink.write(block)
            if expected is not None and digest.hexdigest() != expected["sha256"]:
                raise BuildError(f"does not match its manifest ({relative}: sha256 differs)")
            os.chmod(target, (member.mode & 0o755) | 0o644)
    if listed is None:
        raise BuildError(f"archive holds no {MANIFEST}")


def _listed_files(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
    """The ``files`` of the archive's manifest (read without extracting it)."""
    handle = tar.extractfile(member)
    try:
        manifest = json.loads(handle.read() if handle is not None else b"")
    except ValueError as exc:
        raise BuildError(f"archive's {MANIFEST} is not JSON ({exc})") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise BuildError(f"archive's {MANIFEST} lists no files (an unsealed build)")
    return files


class ArtifactStore:
    """Build folders under ``root``, one per key; failed builds kept on request under ``failed/``."""

    def __init__(self, root: str | Path, *, max_archive_bytes: int | None = None) -> None:
        self.root = Path(root).expanduser()
        self.max_archive_bytes = archive_limit(max_archive_bytes)

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

    def manifest_sha256(self, key: str) -> str:
        return file_sha256(self.path(key) / MANIFEST)

    def verify(self, key: str, manifest_sha256: str | None = None) -> str | None:
        """None when the stored build is intact; else what is wrong with it (one line).

        Checks the manifest's own hash (when the ledger knows it) and every listed file's size
        and sha256. A folder without hashes (made by an hil before 0.1 sealed builds) cannot be
        verified and is reported as such.
        """
        folder = self.path(key)
        if not (folder / MANIFEST).is_file():
            return "artifact missing" if not folder.exists() else f"artifact has no {MANIFEST}"
        if manifest_sha256 is not None and self.manifest_sha256(key) != manifest_sha256:
            return f"{MANIFEST} changed since the build (sha256 differs from the ledger's)"
        try:
            files = self.manifest(key).get("files")
        except (OSError, ValueError) as exc:
            return f"{MANIFEST} unreadable ({exc})"
        if not isinstance(files, dict) or not files:
            return f"{MANIFEST} lists no file hashes (an unsealed build); cannot verify it"
        for name, expected in sorted(files.items()):
            path = folder / name
            if not path.is_file():
                return f"{name}: missing"
            if path.stat().st_size != expected.get("bytes"):
                return f"{name}: size {path.stat().st_size} B, manifest says {expected.get('bytes')} B"
            if file_sha256(path) != expected.get("sha256"):
                return f"{name}: sha256 differs from the manifest (corrupted)"
        return None

    def staging(self, key: str, holder: str) -> Path:
        """A new, empty folder on the store's file system (same device: rename is atomic).

        Args:
            key: the build key.
            holder: the ledger token of the process whose heartbeat covers this folder.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        folder = self.root / f"{_STAGING}{holder}-{key[:16]}-{uuid.uuid4().hex[:8]}"
        folder.mkdir()
        return folder

    def commit(self, key: str, staged: Path, *, failed: bool = False) -> Path:
        """Rename a staged folder into place; an intact folder already there wins (same key = same build)."""
        target = self.failed_path(key) if failed else self.path(key)
        if not failed and not (staged / MANIFEST).is_file():
            shutil.rmtree(staged, ignore_errors=True)
            raise BuildError(f"build {key[:12]}: artifact has no {MANIFEST}; not storing a partial build")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if failed:
                shutil.rmtree(target, ignore_errors=True)  # an older failed copy
            elif self.verify(key) is None:
                _log.info("build %s already stored; discarding the duplicate", key[:12])
                shutil.rmtree(staged, ignore_errors=True)
                return target
            else:
                self.quarantine(key)  # a broken folder under this key: keep it aside, install the new one
        try:
            os.rename(staged, target)
        except OSError:  # another process committed the same key in between
            if not failed and self.verify(key) is None:
                shutil.rmtree(staged, ignore_errors=True)
                return target
            raise
        return target

    def install(self, key: str, archive: bytes, holder: str, *, failed: bool = False) -> Path:
        """Unpack a worker's archive into staging, check its hashes, then commit it atomically."""
        staged = self.staging(key, holder)
        try:
            _unpack(archive, staged, self.max_archive_bytes)
        except (tarfile.TarError, OSError, BuildError) as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise BuildError(f"build {key[:12]}: cannot unpack the worker's artifact ({exc})") from None
        problem = _verify_folder(staged)  # every listed file is there (kept failed builds too)
        if problem is not None:
            shutil.rmtree(staged, ignore_errors=True)
            raise BuildError(f"build {key[:12]}: the worker's artifact does not match its manifest "
                             f"({problem})")  # fmt: skip
        return self.commit(key, staged, failed=failed)

    def quarantine(self, key: str) -> Path | None:
        """Move ``<root>/<key>`` to ``quarantine/<key>-<time>`` (kept for inspection); None when absent."""
        source = self.path(key)
        if not source.exists():
            return None
        target = self.root / _QUARANTINE / f"{key}-{time.time_ns()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(source, target)
        except FileNotFoundError:  # another process moved it first
            return None
        _log.warning("build %s: moved the damaged artifact to %s", key[:12], target)
        return target

    def staging_folders(self) -> list[Path]:
        return sorted(self.root.glob(f"{_STAGING}*")) if self.root.is_dir() else []

    def sweep(
        self,
        live_holders: Collection[str],
        *,
        min_age_s: float,
        still_owner: Callable[[], bool] | None = None,
    ) -> list[str]:
        """Remove staging folders no live process holds; returns their names.

        A folder is removed only when its holder token is not in ``live_holders`` *and* it was
        last modified more than ``min_age_s`` ago (a folder without a holder in its name, from an
        older hil, by age alone). Only the ledger's owner calls this; ``still_owner`` is asked
        again right before each removal (an owner that stalled must not remove a live folder).
        """
        removed = []
        now = time.time()
        for folder in self.staging_folders():
            holder = _holder_of(folder.name)
            if holder is not None and holder in live_holders:
                continue
            try:
                age = now - folder.stat().st_mtime
            except FileNotFoundError:
                continue
            if age < min_age_s:
                continue
            if still_owner is not None and not still_owner():
                break
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
        return removed


def _holder_of(name: str) -> str | None:
    """The holder in ``.tmp-<holder>-<key16>-<random>``; None for the older ``.tmp-<key16>-<random>``."""
    parts = name[len(_STAGING) :].split("-")
    return parts[0] if len(parts) == 3 else None


def _verify_folder(folder: Path) -> str | None:
    """``ArtifactStore.verify`` for a folder outside the store (a freshly unpacked archive)."""
    probe = ArtifactStore(folder.parent)
    return probe.verify(folder.name)
