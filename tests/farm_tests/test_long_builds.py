"""Faults of long builds, each shaped like one: a build child running a tool that starts a grandchild.

- a dask worker killed mid-build takes its build child, the tool and the tool's child with it,
  and their build folder, within 30 s; the loss is recorded on the job;
- a build past its timeout is killed as a tree, not only its first process;
- a stale attempt's late failure leaves the re-queued job untouched;
- a stalled owner (SIGSTOP, then SIGCONT after it lost the ledger) changes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.farm import ArtifactStore, FarmSession, Ledger, build_one
from tests.farm_tests.conftest import Processes, farm_inventory, hil_argv, start_cluster, wait_for
from tests.farm_tests.long_build_helpers import gone, long_job, parent_of, pids

_TREE = ("build", "tool", "grandchild")


def _tree_started(pid_file: Path, attempt: int = 1) -> bool:
    found = pids(pid_file)
    return all(len(found.get(role, [])) >= attempt for role in _TREE)


@pytest.mark.slow
def test_a_killed_worker_takes_its_whole_build_and_folder_with_it(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    tmp = {name: tmp_path / f"tmp-{name}" for name in ("w1", "w2")}
    for folder in tmp.values():
        folder.mkdir()
    address = start_cluster(processes, tmp_path, {n: {"TMPDIR": str(t)} for n, t in tmp.items()})
    workers = {proc.pid: proc for proc in processes.procs[1:]}
    pid_file = tmp_path / "pids.jsonl"
    root = tmp_path / "bs"
    inventory = farm_inventory(tmp_path, scheduler=address, artifacts=str(root))
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(
        f"builder: sleep-isolated\nmodels: [{dense_onnx}]\nboards: [zcu104]\n"
        f"builder_params: {{sleep_s: 600, tool: true, pid_file: {pid_file}}}\n"
    )
    processes.start(hil_argv("farm", "run", jobs_file, "--inventory", inventory), tmp_path / "run.log")
    wait_for(lambda: _tree_started(pid_file), 90, "the build child, its tool and the tool's child")
    tree = [pids(pid_file)[role][0] for role in _TREE]
    worker_pid = parent_of(tree[0])
    assert worker_pid in workers  # the build child is the dask worker's child
    name = "w1" if workers[worker_pid] is processes.procs[1] else "w2"
    assert [p.name for p in tmp[name].glob("hil-build-*")]  # its build folder exists

    os.kill(worker_pid, signal.SIGKILL)  # the worker only: its build child is in its own session
    killed_at = time.monotonic()
    wait_for(lambda: all(gone(pid) for pid in tree), 30, "the build tree to die with its worker")
    wait_for(lambda: not list(tmp[name].glob("hil-build-*")), 30 - (time.monotonic() - killed_at),
             "the build folder to be removed")  # fmt: skip
    assert time.monotonic() - killed_at < 30

    # the loss is on the job's record: dask's removal of the worker, then a second attempt elsewhere
    def lost_recorded() -> bool:
        with Ledger(root / "ledger.sqlite") as ledger:
            (entry,) = ledger.entries()
            events = [e.event for e in ledger.events(entry.key)]
        return "worker-lost" in events and "attempt-lost" in events

    wait_for(lost_recorded, 60, "worker-lost and attempt-lost events on the job")
    with Ledger(root / "ledger.sqlite") as ledger:
        (entry,) = ledger.entries()
        lost = next(e for e in ledger.events(entry.key) if e.event == "worker-lost")
        assert entry.state == "running" and entry.attempts == 2
    assert lost.detail["worker"].startswith("tcp://127.0.0.1:")


def test_a_timed_out_build_is_killed_as_a_tree(dense_onnx: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "pids.jsonl"
    job = long_job(dense_onnx, pid_file, sleep_s=600, timeout_s=4)
    store = ArtifactStore(tmp_path / "bs")
    with Ledger(tmp_path / "bs" / "ledger.sqlite") as ledger:
        outcome = build_one(job, ledger, store)
        entry = ledger.get(job.key)
    assert outcome["state"] == "failed" and entry is not None and entry.error_code == "BUILD_TIMEOUT"
    assert _tree_started(pid_file)
    assert all(gone(pid) for role in _TREE for pid in pids(pid_file)[role])  # no orphan tool left


_LATE_WRITER = """
import json, sys
from pathlib import Path
from hil.farm import ArtifactStore, Ledger, build_one
from hil.farm._job import BuildJob
job = BuildJob.model_validate_json(Path(sys.argv[1]).read_text())
root = Path(sys.argv[2])
with Ledger(root / "ledger.sqlite") as ledger:
    outcome = build_one(job, ledger, ArtifactStore(root), heartbeat_limit_s=1.0)
print(json.dumps({"state": outcome["state"]}))
"""


@pytest.mark.slow
def test_a_stale_attempts_late_failure_leaves_the_requeued_job_untouched(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pids.jsonl"
    job = long_job(dense_onnx, pid_file, sleep_s=6, fail="SYNTH")  # a long build that will fail
    spec = tmp_path / "job.json"
    spec.write_text(job.model_dump_json())
    root = tmp_path / "bs"
    first = processes.start([sys.executable, "-c", _LATE_WRITER, str(spec), str(root)], tmp_path / "a.log")
    wait_for(lambda: _tree_started(pid_file), 60, "the first attempt's build tree")
    with Ledger(root / "ledger.sqlite") as ledger:
        held = ledger.get(job.key)
        assert held is not None and held.state == "running" and held.attempt is not None
        stale_attempt, stale_holder = held.attempt, held.holder

    os.kill(first.pid, signal.SIGSTOP)  # its heartbeat stops; its build child runs on
    with FarmSession(root / "ledger.sqlite", ArtifactStore(root), heartbeat_limit_s=1.0) as second:
        with Ledger(root / "ledger.sqlite") as ledger:
            wait_for(lambda: (second.maintain_now(), ledger.get(job.key).holder is None)[1], 10,  # type: ignore[union-attr]
                     "the stalled holder's job to be re-queued")  # fmt: skip
            assert ledger.claim([job.key], second.token) == [job.key]
            started = ledger.mark_started(job.key, "second-worker", by=second.token, attempt="second-attempt")
            assert started == 2
            os.kill(first.pid, signal.SIGCONT)  # the first attempt's build fails now and reports it
            assert first.wait(timeout=60) == 0
            entry = ledger.get(job.key)
            events = [(e.event, e.by, e.detail) for e in ledger.events(job.key)]
    assert entry is not None
    assert (entry.state, entry.holder, entry.attempt, entry.worker, entry.error_code) == (
        "running", second.token, "second-attempt", "second-worker", None
    )  # untouched: the re-queued job is the second attempt's
    late = [d for event, by, d in events if event == "late-result-ignored" and by == stale_holder]
    assert late and late[0]["attempt"] == stale_attempt and late[0]["error_code"] == "SYNTH"
    assert "failed" not in [event for event, _, _ in events]


_STALLED_OWNER = """
import json, sys, time
from pathlib import Path
from hil.farm import ArtifactStore, FarmSession, Ledger
root, key = Path(sys.argv[1]), sys.argv[2]
store = ArtifactStore(root)
session = FarmSession(root / "ledger.sqlite", store, heartbeat_limit_s=1.0)
session.start()
ledger = Ledger(root / "ledger.sqlite")
assert session.is_owner and ledger.claim([key], session.token) == [key]
ledger.mark_started(key, "owner-worker", by=session.token, attempt="owner-attempt")
staged = store.staging(key, "deadholder01")  # a dead process's staging folder, for the sweep
print(json.dumps({"token": session.token}), flush=True)
sys.stdin.readline()  # the test stops us here (SIGSTOP), and continues us after we lost the ledger
# what a stalled owner does when it wakes in the middle of its maintenance and its build:
out = {
    "requeued": ledger.requeue_stale(by=session.token),
    "pruned": [p.token for p in ledger.prune_dead(by=session.token)],
    "swept": store.sweep(set(), min_age_s=0, still_owner=lambda: ledger.owns(session.token)),
    "finished": ledger.mark_finished(key, ok=False, worker="owner-worker", seconds=1.0, error_code="SYNTH",
                                     by=session.token, attempt="owner-attempt"),
    "started": ledger.mark_started(key, "owner-worker", by=session.token, attempt="owner-attempt-2"),
    "requeued_fault": ledger.requeue_attempt(key, "license", by=session.token, attempt="owner-attempt"),
}
print(json.dumps(out), flush=True)
"""


@pytest.mark.slow
def test_a_stalled_owner_cannot_write_after_it_lost_the_ledger(dense_onnx: Path, tmp_path: Path) -> None:
    root = tmp_path / "bs"
    job = long_job(dense_onnx, tmp_path / "pids.jsonl", sleep_s=1)
    with Ledger(root / "ledger.sqlite") as ledger:
        ledger.enqueue(job.key, job.model_dump())
        ledger.enqueue("other-job", job.model_dump())
        ledger.enqueue("slow-job", job.model_dump())
    owner = subprocess.Popen([sys.executable, "-c", _STALLED_OWNER, str(root), job.key],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert owner.stdout is not None and owner.stdin is not None
        token = json.loads(owner.stdout.readline())["token"]
        os.kill(owner.pid, signal.SIGSTOP)  # stalled: no heartbeat
        with FarmSession(root / "ledger.sqlite", ArtifactStore(root), heartbeat_limit_s=60.0) as new:
            with Ledger(root / "ledger.sqlite") as ledger:
                wait_for(lambda: (new.maintain_now(), new.is_owner)[1], 10, "the new owner to take over")
                assert ledger.get(job.key).holder is None  # type: ignore[union-attr]  # re-queued by the new owner
                assert ledger.claim([job.key, "other-job"], new.token) == [job.key, "other-job"]
                ledger.mark_started(job.key, "new-worker", by=new.token, attempt="new-attempt")
                staged = next(p for p in root.glob(".tmp-*"))  # swept only by a live owner, later
                # a holder that just expired, which the new owner has not maintained yet: bait for
                # a stalled owner that would act on its old right to re-queue and prune
                ledger.register("slowproc0001", limit_s=0.3)
                assert ledger.claim(["slow-job"], "slowproc0001") == ["slow-job"]
                time.sleep(0.5)
                before = ledger.get(job.key)
                os.kill(owner.pid, signal.SIGCONT)
                owner.stdin.write("go\n")
                owner.stdin.flush()
                late = json.loads(owner.stdout.readline())
                after = ledger.get(job.key)
                other = ledger.get("other-job")
                slow = ledger.get("slow-job")
                slow_alive = "slowproc0001" in {p.token for p in ledger.processes()}
                ledger_owner = ledger.owner()
    finally:
        owner.kill()
        owner.wait()
    assert late == {"requeued": [], "pruned": [], "swept": [], "finished": False, "started": 0,
                    "requeued_fault": False}  # fmt: skip
    assert after == before and after is not None
    assert (after.state, after.holder, after.attempt) == ("running", new.token, "new-attempt")
    assert other is not None and (other.state, other.holder) == ("queued", new.token)
    assert ledger_owner is not None and ledger_owner.token == new.token != token
    assert staged.is_dir()  # the stalled owner's sweep removed nothing
    assert slow is not None and slow.holder == "slowproc0001" and slow_alive  # nor re-queued, nor pruned


@pytest.mark.slow
def test_a_worker_keeps_a_spare_build_child_and_it_dies_with_the_worker(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    """The second build on a worker runs in the child started during the first; none outlives it."""
    from distributed import Client

    from hil.farm._build_task import execute_job

    address = start_cluster(processes, tmp_path, {"w1": {}})
    worker = processes.procs[1]
    pid_file = tmp_path / "pids.jsonl"
    jobs = [long_job(dense_onnx, pid_file, sleep_s=0.5, n=n) for n in range(2)]
    with Client(address, timeout=30) as client:
        results = [client.submit(execute_job, job.model_dump_json(), pure=False).result(timeout=60)
                   for job in jobs]  # fmt: skip
    assert [r["ok"] for r in results] == [True, True]
    assert [r["child"] for r in results] == ["fresh", "spare"]
    children = pids(pid_file)["build"]
    assert all(gone(pid) for pid in children)  # each build's child ended with its build
    proc = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    spare = [pid for pid in proc if _is_spare_of(pid, worker.pid)]
    assert len(spare) == 1  # the next build's child is waiting
    os.kill(worker.pid, signal.SIGKILL)
    wait_for(lambda: gone(spare[0]), 30, "the spare child to die with its worker")


def _is_spare_of(pid: int, worker: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return b"--spare" in cmdline and parent_of(pid) == worker
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return False


@pytest.mark.slow
def test_a_run_starts_each_workers_spare_ahead_so_the_first_build_finds_it(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    """The runner's warm-up (``DaskBackend.warm``) leaves a loaded child on every worker before the
    first isolated build; a batch of plain builds starts none."""
    from distributed import Client

    from hil.farm._backends import DaskBackend
    from hil.farm._build_task import execute_job

    address = start_cluster(processes, tmp_path, {"w1": {}})
    worker = processes.procs[1]
    pid_file = tmp_path / "pids.jsonl"
    job = long_job(dense_onnx, pid_file, sleep_s=0.2, n=0)
    plain = job.model_copy(update={"builder": "sleep"})
    with Client(address, timeout=30) as client:
        backend = DaskBackend(client, shared_root=None, holder="test")
        backend.warm([plain])
        proc = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
        assert not [pid for pid in proc if _is_spare_of(pid, worker.pid)]  # nothing isolates
        backend.warm([plain, job])
        wait_for(lambda: any(_is_spare_of(int(p.name), worker.pid) for p in Path("/proc").iterdir()
                             if p.name.isdigit()), 30, "the spare child to start")  # fmt: skip
        result = client.submit(execute_job, job.model_dump_json(), pure=False).result(timeout=60)
        backend.close()
    assert result["ok"] is True and result["child"] == "spare"
