"""Running one build on a worker: failure is a result, the timeout is enforced, JSON comes back.

``execute_job`` is the function dask ships to workers. It first compares this worker's tool
versions with the ones the job expects and refuses the job on a difference (``refused``: the
runner offers it to another worker). Then it announces the attempt (a dask event the coordinator
records as an attempt in the ledger, which is how a retry after a lost worker is seen), runs the
builder in a child process when the builder asks for isolation (hls4ml, g++ and the Vivado tools
then cannot crash or hang the worker, and the timeout kills the whole process group), writes
``report.json`` and ``manifest.json`` (last), seals the folder (every file's sha256 in the
manifest) and returns a JSON-ready result plus the artifact folder packed as bytes. With a
shared artifacts folder the worker commits the folder itself and returns no bytes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from hil._process import kill_group, start_group, wait_or_kill
from hil.errors import CSimError, HilError, InputError
from hil.farm._child import DEATH_SIGNAL
from hil.farm._job import BuildJob
from hil.farm._store import MANIFEST, REPORT, ArtifactStore, pack_folder, seal
from hil.farm._tool_versions import host_tools, tool_mismatch
from hil.records import SCHEMA_VERSION, ErrorCode

__all__ = ["execute_job", "run_builder", "refusal_for", "worker_identity", "check_disk", "EVENT_TOPIC"]

_log = logging.getLogger(__name__)

#: dask event topic of "attempt started" messages.
EVENT_TOPIC = "hil-farm"
_RESULT = "result.json"


def worker_identity() -> tuple[str, str | None]:
    """(name for people, dask address or None when not on a dask worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        return str(worker.address if worker.name in (None, "") else worker.name), str(worker.address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}", None


def _announce(key: str, worker: str, attempt: str) -> None:
    with contextlib.suppress(ImportError, ValueError):
        from distributed import get_worker

        get_worker().log_event(
            EVENT_TOPIC,
            {"event": "started", "key": key, "hil_worker": worker, "attempt": attempt, "t": time.time()},
        )


def _code_of(exc: BaseException, stage_code: ErrorCode) -> ErrorCode:
    from hil.farm.builders import BuildFailure

    if isinstance(exc, BuildFailure):
        return exc.code
    if isinstance(exc, CSimError):
        return ErrorCode.CSIM
    if isinstance(exc, InputError):
        return ErrorCode.CONVERT
    return stage_code


def run_builder(job: BuildJob, workdir: Path, out: Path) -> dict[str, Any]:
    """Run the job's builder in this process; always returns a result dict (never raises HilError)."""
    from hil.farm.builders import FarmFault, Stage, get_builder

    stage = Stage()
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "key": job.key,
        "ok": False,
        "error_code": ErrorCode.CONVERT.value,
        "message": "",
    }
    output = None
    builder = None
    try:
        builder = get_builder(job.builder)
        check_disk(workdir, builder.disk_needed_bytes({**job.options, **job.builder_params}))
        output = builder.build(job, workdir, out, stage)
        result.update(ok=True, error_code=ErrorCode.OK.value)
    except (HilError, Exception) as exc:  # a failure is a result: record it, keep the batch going
        code = _code_of(exc, stage.code)
        result.update(error_code=code.value, message=str(exc) or type(exc).__name__)
        if isinstance(exc, FarmFault):  # the host's fault, not the design's: the farm re-queues it
            result["farm_fault"] = exc.reason
        if not isinstance(exc, HilError):
            result["message"] += "\n" + "".join(traceback.format_exception(exc)[-6:])
        _log.warning(
            "build %s failed (%s): %s", job.key[:12], code.value, str(exc).splitlines()[0] if str(exc) else ""
        )
    seconds = round(time.monotonic() - started, 3)
    try:
        versions = host_tools(job.builder, job.options)
    except HilError:  # an unknown builder: its failure is already the result
        versions = {}
    report = {
        "schema_version": SCHEMA_VERSION,
        "design_key": job.key,
        "provenance": output.provenance if output else None,
        "metrics": output.metrics if output else {},
        "layers": output.layers if output else [],
        "candidate": output.candidate if output else {},
        "details": output.report if output else {},
    }
    (out / REPORT).write_text(json.dumps(report, indent=2, sort_keys=True, default=str))
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "key": job.key,
        "job": job.model_dump(),
        "status": "done" if result["ok"] else "failed",
        "error_code": result["error_code"],
        "message": result["message"],
        "tool_versions": versions,
        "provenance": report["provenance"],
        "stage_seconds": {**stage.seconds, "total": seconds},
        "created_at": time.time(),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    result.update(seconds=seconds, stage_seconds=manifest["stage_seconds"], tool_versions=versions)
    return result


def check_disk(workdir: Path, needed: int) -> None:
    """Refuse to start a build whose disk has less free space than the flow needs (a farm fault).

    Raises:
        FarmFault: ``disk`` when ``shutil.disk_usage(workdir).free < needed``.
    """
    from hil.farm.builders import FarmFault

    if needed <= 0:
        return
    free = shutil.disk_usage(workdir).free
    if free < needed:
        raise FarmFault(
            "disk",
            f"build disk {workdir.parent} has {free / 2**30:.1f} GiB free, the flow needs "
            f"{needed / 2**30:.1f} GiB; not starting",
        )


#: Seconds a timed-out build child gets to kill its tools and exit before SIGKILL.
_GRACE_S = 5.0

_spare_lock = threading.Lock()
#: A build child started ahead of time on a dask worker (``hil.farm._child --spare``).
_spare: subprocess.Popen[bytes] | None = None


def _on_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def _take_spare() -> subprocess.Popen[bytes] | None:
    global _spare
    with _spare_lock:
        process, _spare = _spare, None
    if process is not None and process.poll() is not None:  # died waiting (its thread exited)
        kill_group(process)
        return None
    return process


def _prepare_spare(*, on_worker: bool | None = None) -> None:
    """Start the next build child now, on a dask worker, so the next build need not wait for it.

    Args:
        on_worker: True when the caller knows it runs in a dask worker process (``client.run``);
            None: ask dask.
    """
    global _spare
    if not (_on_dask_worker() if on_worker is None else on_worker):
        return
    with _spare_lock:
        if _spare is None:
            argv = [sys.executable, "-m", "hil.farm._child", "--spare"]
            _spare = start_group(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, death_signal=DEATH_SIGNAL)  # fmt: skip


def prepare_spare_on_worker() -> bool:
    """``client.run`` target: have this worker's first isolated build find a child already loaded.

    Why: a long-lived worker keeps a spare ready after its first build; without this the first
    build on every worker of a run waits for an interpreter to start and import hil (0.3-1.5 s
    on a loaded host), which a short batch of jobs notices. Runs in the worker's event-loop thread,
    which lives as long as the worker (the spare's parent-death signal follows that thread).
    """
    _prepare_spare(on_worker=True)
    return _spare is not None


def _hand_over(process: subprocess.Popen[bytes], order: dict[str, str]) -> bool:
    """Give a spare child its build; False when it is gone (then a fresh child runs it)."""
    try:
        assert process.stdin is not None
        process.stdin.write((json.dumps(order) + "\n").encode())
        process.stdin.flush()
    except (OSError, ValueError):
        kill_group(process)
        return False
    return True


def _run_isolated(job: BuildJob, workdir: Path, out: Path, log: Path) -> dict[str, Any]:
    """Run the build in ``hil.farm._child``, tied to this worker (see that module's watchdog).

    The child's stdin is a pipe whose write end only this process holds: when the worker dies
    the child sees EOF and ends the build; on Linux it also gets SIGHUP (parent-death signal).
    A timeout sends it SIGTERM (it kills its tools, leaves the folder to us), then SIGKILL.
    """
    spec = workdir / "job.json"
    spec.write_text(job.model_dump_json())
    order = {"spec": str(spec), "workdir": str(workdir), "out": str(out), "log": str(log)}
    process = _take_spare()
    child = "spare"
    if process is None or not _hand_over(process, order):
        child = "fresh"
        argv = [sys.executable, "-m", "hil.farm._child", str(spec), str(workdir), str(out)]
        with open(log, "a", encoding="utf-8") as sink:
            process = start_group(argv, stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.STDOUT,
                                  death_signal=DEATH_SIGNAL)  # fmt: skip
    _prepare_spare()  # the next build's child starts while this one runs
    try:
        status = wait_or_kill(process, job.timeout_s, grace_s=_GRACE_S)
    finally:
        if process.stdin is not None:
            process.stdin.close()
    if status is None:
        return {"key": job.key, "ok": False, "error_code": ErrorCode.BUILD_TIMEOUT.value,
                "message": f"build exceeded its {job.timeout_s:g} s timeout; its process group was "
                           "killed"}  # fmt: skip
    result_file = workdir / _RESULT
    if status != 0 or not result_file.is_file():
        return {"key": job.key, "ok": False, "error_code": ErrorCode.CONVERT.value,
                "message": f"build process exited with status {status} and no result"}  # fmt: skip
    data: dict[str, Any] = json.loads(result_file.read_text())
    data["child"] = child  # a spare started ahead of time, or one started for this build
    return data


def execute_job(
    job_json: str, shared_root: str | None = None, holder: str = "local", attempt: str | None = None
) -> dict[str, Any]:
    """Run one build (on a dask worker, or inline); returns the result with ``archive`` bytes.

    Args:
        job_json: the ``BuildJob`` as JSON (plain data crosses the wire, no pickled objects).
        shared_root: an artifacts folder every host mounts; the worker then stores the build
            itself and returns no archive.
        holder: the ledger token of the process that claimed the job (names the staging folder,
            so the ledger's owner never sweeps it while that process lives).
        attempt: this attempt's id (made here when None); announced with the start and returned
            with the result, so the ledger takes the result only from the attempt holding the job.
    """
    from hil.farm.builders import get_builder

    job = BuildJob.model_validate_json(job_json)
    worker, address = worker_identity()
    refusal = refusal_for(job, worker)
    if refusal is not None:
        return {**refusal, "worker": worker, "worker_address": address, "archive": None}
    attempt = attempt or uuid.uuid4().hex[:16]
    _announce(job.key, worker, attempt)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"hil-build-{job.key[:12]}-"))
    out = workdir / "artifact"
    log = workdir / "build.log"
    try:
        try:
            isolate = get_builder(job.builder).isolate
        except HilError as exc:
            result = {"key": job.key, "ok": False, "error_code": ErrorCode.CONVERT.value, "message": str(exc)}
            isolate = None
        if isolate is True:
            result = _run_isolated(job, workdir, out, log)
        elif isolate is False:
            result = run_builder(job, workdir, out)
        tail = log.read_text(errors="replace")[-4000:] if log.is_file() else ""
        if log.is_file() and out.is_dir():
            shutil.copyfile(log, out / "build.log")
        result.update(worker=worker, worker_address=address, log_tail=tail, attempt=attempt,
                      seconds=round(time.monotonic() - started, 3))  # fmt: skip
        if result["ok"]:
            result["manifest_sha256"] = seal(out)
        archive: bytes | None = None
        keep = result["ok"] or (job.keep_failed and not result.get("farm_fault"))
        if keep:
            source = out if result["ok"] else _seal_failed(job, workdir, result)  # keeps its tool projects
            if shared_root is not None:
                store = ArtifactStore(shared_root)
                staged = store.staging(job.key, holder)
                shutil.rmtree(staged)
                shutil.copytree(source, staged)
                result["artifact"] = str(store.commit(job.key, staged, failed=not result["ok"]))
            else:
                archive = pack_folder(source)
        result["archive"] = archive
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _seal_failed(job: BuildJob, workdir: Path, result: dict[str, Any]) -> Path:
    """A failed build's whole folder, with a manifest listing every file (archives are checked)."""
    manifest = {"schema_version": SCHEMA_VERSION, "key": job.key, "status": "failed",
                "error_code": result.get("error_code"), "message": result.get("message", "")}  # fmt: skip
    (workdir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    seal(workdir)
    return workdir


def refusal_for(job: BuildJob, worker: str) -> dict[str, Any] | None:
    """The refusal result when this host's tools differ from the job's, else None."""
    try:
        actual = host_tools(job.builder, job.options)
    except HilError as exc:
        return {"key": job.key, "ok": False, "refused": True, "error_code": ErrorCode.CONVERT.value,
                "message": f"worker {worker}: {exc}", "tool_versions": {}}  # fmt: skip
    mismatch = tool_mismatch(job.tools, actual, f"worker {worker}")
    if mismatch is None:
        return None
    _log.warning("%s", mismatch.message)
    return {"key": job.key, "ok": False, "refused": True, "error_code": mismatch.code.value,
            "message": mismatch.message, "tool_versions": actual}  # fmt: skip
