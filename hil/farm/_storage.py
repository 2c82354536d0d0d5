"""Where the ledger may live: a local disk, never a network file system.

Why refuse instead of warn: the ledger is SQLite in WAL mode, which keeps its index in shared
memory (``-shm``) and relies on POSIX locks; on NFS, CIFS/SMB or a FUSE mount over SSH the
locks are advisory at best and the shared memory is not shared between hosts, so two
processes on two hosts can both "own" the ledger and corrupt it silently. A farm that shares
artifacts between hosts (``farm.shared_artifacts``) keeps the artifacts folder, and the ledger
in it, on the coordinator's local disk and exports that folder to the workers, which write
artifacts there but never open the ledger.

The file system type comes from ``/proc/mounts`` (the mount with the longest prefix of the
path); ``filesystem_type`` is the one place to replace in tests.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hil.errors import ConfigError

__all__ = ["NetworkFilesystemError", "NETWORK_FILESYSTEMS", "filesystem_type", "refuse_network_filesystem"]

_log = logging.getLogger(__name__)

#: File system types (``/proc/mounts`` third field) on which SQLite's locking is unsafe.
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "sshfs", "9p", "afs",
    "ceph", "fuse.ceph", "glusterfs", "fuse.glusterfs", "lustre", "gpfs", "beegfs", "fuse.s3fs",
    "fuse.rclone", "davfs", "fuse.davfs2", "ncpfs", "coda",
})  # fmt: skip


class NetworkFilesystemError(ConfigError):
    """The ledger's folder is on a network file system (exit code 2)."""


def _unescape(field: str) -> str:
    """``/proc/mounts`` writes spaces, tabs and backslashes in paths as octal escapes."""
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")


def filesystem_type(path: Path) -> str | None:
    """The type of the file system holding ``path`` (``ext4``, ``nfs4``), or None when unknown."""
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None  # not Linux: nothing to read, nothing refused
    target = os.path.realpath(path)
    best, kind = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = _unescape(fields[1])
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, kind = mount, fields[2]
    return kind


def refuse_network_filesystem(folder: Path) -> None:
    """Raises NetworkFilesystemError when ``folder`` is on a network file system.

    ``HIL_LEDGER_ALLOW_NETWORK_FS=1`` skips the check (for a file system hil misjudges; at
    the user's risk).
    """
    if os.environ.get("HIL_LEDGER_ALLOW_NETWORK_FS") == "1":
        return
    kind = filesystem_type(folder)
    if kind is not None and kind.lower() in NETWORK_FILESYSTEMS:
        raise NetworkFilesystemError(
            f"{folder} is on a network file system ({kind}): the ledger's SQLite locking is unsafe "
            "there; keep the artifacts folder on the coordinator's local disk (export it to the workers)"
        )
