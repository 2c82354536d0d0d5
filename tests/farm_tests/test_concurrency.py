"""Many processes on one ledger: an overnight `hil farm run` while others run `hil build` and `hil measure`.

Everything is a real OS process: a dask scheduler and two workers on 127.0.0.1, the farm run,
two `hil build` clients, one `hil measure` (estimate build + emulated board), `hil farm status
--watch`, and a process holding a staging folder in the artifact store (as a worker writing a
build into a shared artifacts folder does). The review found that any of the clients re-queued
the run's jobs and deleted its staging folders; here the ledger's events prove nobody did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hil.farm import Ledger
from tests.farm_tests.conftest import Processes, farm_inventory, hil_argv, start_cluster, wait_for

pytestmark = pytest.mark.slow

_HOLDER = """
import sys, time
from pathlib import Path
from hil.farm import ArtifactStore, FarmSession
root = Path(sys.argv[1])
limit_s = float(sys.argv[2])
with FarmSession(root / "ledger.sqlite", ArtifactStore(root), heartbeat_limit_s=limit_s) as session:
    staged = ArtifactStore(root).staging("f" * 64, session.token)
    (staged / "part.bin").write_bytes(b"half-written build")
    print(staged, flush=True)
    while not (root / "stop-holder").exists():
        time.sleep(0.2)
"""


def _json_in(log: Path) -> dict[str, object]:
    """The JSON document a ``--json`` command printed (its log also holds stderr's warnings)."""
    text = log.read_text()
    start = text.index("{\n") if text.startswith("{\n") else text.index("\n{\n") + 1
    data: dict[str, object] = json.loads(text[start:])
    return data


def _builds(log_file: Path) -> Counter[str]:
    lines = log_file.read_text().splitlines() if log_file.is_file() else []
    return Counter(json.loads(line)["key"] for line in lines if line.strip())


def test_overnight_run_beside_three_clients_builds_every_job_once(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "builds.jsonl"
    env = {"HIL_SLEEP_LOG": str(log_file)}
    address = start_cluster(processes, tmp_path, {"w1": env, "w2": env})
    root = tmp_path / "bs"
    inventory = farm_inventory(tmp_path, artifacts=str(root), heartbeat_limit_s=15)
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(
        f"builder: sleep\ntimeout_s: 120\nmodels: [{dense_onnx}]\nboards: [zcu104]\n"
        f"grid: {{reuse_factor: [{', '.join(str(r) for r in range(1, 21))}]}}\n"
    )  # 20 jobs; builder_params {} as `hil build --builder sleep` makes them: the same keys
    client_env = {**os.environ, **env}
    farm = processes.start(
        hil_argv("farm", "run", jobs_file, "--scheduler", address, "--inventory", inventory),
        tmp_path / "farm.log", env=client_env,
    )  # fmt: skip
    wait_for(lambda: (root / "ledger.sqlite").exists(), 60, "the ledger")
    ledger = Ledger(root / "ledger.sqlite")
    wait_for(lambda: sum(e.event == "claimed" for e in ledger.events()) >= 20, 60, "the run's claims")
    holder = processes.start([sys.executable, "-c", _HOLDER, str(root), "15"], tmp_path / "holder.log")
    wait_for(lambda: bool(list(root.glob(".tmp-*"))), 30, "the holder's staging folder")
    staged = next(root.glob(".tmp-*"))

    common = ("--board", "zcu104", "--inventory", inventory, "--json")
    clients = {
        "overlap": hil_argv("build", dense_onnx, "--builder", "sleep", "--reuse", "20", *common),
        "own": hil_argv("build", dense_onnx, "--builder", "sleep", "--reuse", "40", *common),
        "measure": hil_argv("measure", dense_onnx, "--builder", "estimate", *common),
    }
    running = {name: processes.start(argv, tmp_path / f"{name}.log", env=client_env)
               for name, argv in clients.items()}  # fmt: skip
    watcher = subprocess.Popen(
        hil_argv("farm", "status", "--watch", "--until-idle", "--interval", "0.5", "--events", "3",
                 "--inventory", inventory),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=client_env,
    )  # fmt: skip
    for name, proc in running.items():
        assert proc.wait(timeout=240) == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    assert farm.wait(timeout=240) == 0, (tmp_path / "farm.log").read_text()[-3000:]
    watched, _ = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, watched[-2000:]

    outcomes = {name: _json_in(tmp_path / f"{name}.log") for name in ("overlap", "own")}
    overlap = outcomes["overlap"]
    assert overlap["state"] == "done" and overlap["waited"] is True  # the farm built it; this one waited
    assert outcomes["own"]["state"] == "done" and not outcomes["own"]["cache_hit"]
    measured: dict[str, Any] = _json_in(tmp_path / "measure.log")
    assert measured["error_code"] == "OK"
    assert measured["metrics"]["throughput_fps"]["provenance"] == "emulated"
    assert "waiting for build" in (tmp_path / "overlap.log").read_text()  # it said why it waited

    entries = ledger.entries()
    assert len(entries) == 22 and all(e.state == "done" and e.error_code == "OK" for e in entries)
    assert all(e.attempts == 1 for e in entries)
    sleeps = [e.key for e in entries if e.job["builder"] == "sleep"]
    counts = _builds(log_file)
    assert len(sleeps) == 21 and all(counts[key] == 1 for key in sleeps), counts  # every job built once
    events = [e.event for e in ledger.events()]
    for never in ("requeued", "swept", "presumed-dead", "late-result-ignored"):
        assert never not in events, never  # nobody re-queued or swept a live process's work
    assert staged.is_dir() and (staged / "part.bin").read_bytes() == b"half-written build"
    (root / "stop-holder").touch()
    assert holder.wait(timeout=30) == 0
    ledger.close()

    farm_log = (tmp_path / "farm.log").read_text()
    assert "done      " in farm_log and "ETA" in farm_log  # plain progress lines, not a live bar
    assert "\x1b[" not in farm_log
    assert "hours per build" in farm_log and "0 cache hits" in farm_log  # the summary
    assert watched.count("--- ") >= 2 and "owner:" in watched  # --watch refreshed, then stopped when idle
