"""The farm's library entry points: where the store and ledger live, one build, one run.

Artifacts location (decided here, used by ``hil build`` and ``hil farm``): ``--artifacts DIR``
when given; else the inventory's ``farm.artifacts`` resolved next to inventory.yaml; except
when the inventory is the copy shipped inside the hil package, where ``./bitstreams`` (in the
current folder) is used, so builds never land in site-packages. The ledger is
``<artifacts>/ledger.sqlite``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hil.farm._job import BuildJob
from hil.farm._ledger import Ledger
from hil.farm._session import DEFAULT_HEARTBEAT_LIMIT_S
from hil.farm._store import ArtifactStore

__all__ = ["artifacts_root", "open_farm", "build_one"]

_log = logging.getLogger(__name__)


def artifacts_root(inventory: Any, override: str | Path | None = None) -> Path:
    """The artifact store folder (see the module docstring)."""
    from hil.inventory import SHIPPED_INVENTORY

    if override is not None:
        return Path(override).expanduser().resolve()
    source = getattr(inventory, "source", None)
    if source is not None and Path(source).resolve() == SHIPPED_INVENTORY.resolve():
        return (Path.cwd() / "bitstreams").resolve()
    return Path(inventory.artifacts_dir).expanduser().resolve()


def open_farm(root: Path, *, max_archive_gib: float | None = None) -> tuple[Ledger, ArtifactStore]:
    """The ledger and store of an artifacts folder (``max_archive_gib``: the inventory's limit)."""
    limit = None if max_archive_gib is None else int(max_archive_gib * 2**30)
    return Ledger(root / "ledger.sqlite"), ArtifactStore(root, max_archive_bytes=limit)


def build_one(
    job: BuildJob,
    ledger: Ledger,
    store: ArtifactStore,
    *,
    heartbeat_limit_s: float = DEFAULT_HEARTBEAT_LIMIT_S,
) -> dict[str, Any]:
    """Build one job in this process (``hil build``), or answer from the ledger when done.

    A verified hit opens no session. Otherwise this process registers on the ledger (heartbeat),
    claims the job and builds it here; a job another live process holds (an overnight ``hil farm
    run``) is waited for instead, and claimed if that process dies.

    Returns:
        {"cache_hit": bool, "waited": bool, "state": ..., "error_code", "message", "artifact",
        "metrics", ...}.
    """
    from hil.farm._runner import FarmRunner, ProgressEvent
    from hil.farm._session import FarmSession

    runner = FarmRunner(ledger, store)
    todo, done = runner.prepare([job])
    waited = False
    if todo:

        def on_event(event: ProgressEvent) -> None:
            if event.kind == "waiting":
                _log.warning("waiting for build %s: %s", job.describe(), event.detail)

        with FarmSession(ledger.path, store, heartbeat_limit_s=heartbeat_limit_s) as session:
            runner.session = session
            summary = runner.run(None, [job], on_event=on_event, prepared=(todo, done))
        waited = bool(summary.waited)
    entry = ledger.get(job.key)
    assert entry is not None
    return {
        "cache_hit": not todo,
        "waited": waited,
        "key": job.key,
        "state": entry.state,
        "error_code": entry.error_code,
        "message": entry.message,
        "attempts": entry.attempts,
        "seconds": entry.seconds,
        "artifact": entry.artifact,
        "metrics": (entry.result or {}).get("metrics", {}),
        "log_tail": entry.log_tail if entry.state == "failed" else "",
    }
