"""Helpers for tests shaped like a long build: a build child runs a tool that starts a grandchild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hil.farm import make_job
from hil.farm._job import BuildJob
from hil.inventory import load_inventory


def long_job(
    model: Path, pid_file: Path, *, sleep_s: float, timeout_s: float = 3600, **params: Any
) -> BuildJob:
    """A ``sleep-isolated`` job whose time is spent in a stand-in tool that starts a grandchild."""
    job = make_job(
        model, load_inventory().board("zcu104"), {}, builder="sleep-isolated",
        builder_params={"sleep_s": sleep_s, "tool": True, "pid_file": str(pid_file), **params},
    )  # fmt: skip
    return job.model_copy(update={"timeout_s": timeout_s})


def pids(pid_file: Path) -> dict[str, list[int]]:
    """role -> pids, in the order they were written (build, tool, grandchild; again per attempt)."""
    out: dict[str, list[int]] = {}
    if pid_file.is_file():
        for line in pid_file.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                out.setdefault(row["role"], []).append(int(row["pid"]))
    return out


def gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
