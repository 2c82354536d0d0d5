"""The ``sleep`` builder: a stand-in that takes a fixed time and builds nothing.

Why ship it: it exercises everything around a build (dask scheduling, worker loss, ledger,
artifact store, resume) in seconds, so a new farm can be checked before anyone spends a Vivado
license, and the farm's tests and ``benchmarks/bench_farm.py`` measure the plumbing alone. Its
artifact holds a manifest and an empty report: no board bundle, because there is no design.

Params (``builder_params``): ``sleep_s`` (default 1), ``fail`` (an ErrorCode name to fail with),
``log_file`` (append one JSON line per build run: how tests prove a job was not rebuilt),
``tool`` (spend the time in a stand-in *tool* started with ``run_tool``, which itself starts a
grandchild, like ``vitis-run`` starting ``vivado``: the shape of a real long build), ``pid_file``
(append ``{"role": ..., "pid": ...}`` lines for the build process, the tool and its child).

``sleep-isolated`` is the same builder run in an isolated child process (like ``vivado``): the
path of the build-child watchdog.

Environment, read on the host that runs the build (a farm's checks need a tool that can differ
between workers, and a failure that does not change the key):

- ``HIL_SLEEP_TOOL_VERSION``: the version of the pretend tool ``sleep`` (default ``1``); it enters
  the key like Vivado's release, and a worker with another one refuses the job.
- ``HIL_SLEEP_LOG``: a log file like ``log_file`` for every sleep build on that host.
- ``HIL_SLEEP_FAIL``: an ErrorCode name every sleep build on that host fails with (the tools
  broke since the last build), key unchanged.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hil.farm._job import BuildJob
from hil.farm.builders._base import BaseBuilder, BuildFailure, BuildOutput, Stage
from hil.records import ErrorCode

__all__ = ["SleepBuilder", "IsolatedSleepBuilder"]

#: The stand-in tool: starts a grandchild that sleeps as long, records both pids, sleeps.
_TOOL = """
import json, os, subprocess, sys, time
pid_file, seconds = sys.argv[1], float(sys.argv[2])
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(%r)" % seconds])
with open(pid_file, "a") as f:
    f.write(json.dumps({"role": "tool", "pid": os.getpid()}) + "\\n")
    f.write(json.dumps({"role": "grandchild", "pid": child.pid}) + "\\n")
time.sleep(seconds)
child.wait()
"""


def _note_pid(pid_file: object, role: str) -> None:
    if pid_file:
        with open(str(pid_file), "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"role": role, "pid": os.getpid()}) + "\n")

_log = logging.getLogger(__name__)


class SleepBuilder(BaseBuilder):
    """Sleeps ``sleep_s`` (bounded by the job's timeout), optionally failing with a given code."""

    name = "sleep"
    isolate = False
    design_tools = False

    def tool_versions(self, options: Mapping[str, Any] | None = None) -> dict[str, str]:
        return {"sleep": os.environ.get("HIL_SLEEP_TOOL_VERSION", "1")}

    def build(self, job: BuildJob, workdir: Path, out: Path, stage: Stage) -> BuildOutput:
        params = job.builder_params
        seconds = float(params.get("sleep_s", 1.0))
        line = json.dumps(
            {"key": job.key, "pid": os.getpid(), "host": socket.gethostname(), "t": time.time()}
        )
        for log_file in {params.get("log_file"), os.environ.get("HIL_SLEEP_LOG")} - {None, ""}:
            with open(str(log_file), "a", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line + "\n")
        stage.code = ErrorCode.SYNTH
        if seconds > job.timeout_s and not params.get("tool"):  # a tool's deadline is run_tool's
            time.sleep(job.timeout_s)
            raise BuildFailure(
                ErrorCode.BUILD_TIMEOUT, f"sleep builder: {seconds} s exceeds the {job.timeout_s} s timeout"
            )
        _note_pid(params.get("pid_file"), "build")
        if params.get("tool"):
            from hil.farm.builders._tools import run_tool

            run_tool([sys.executable, "-c", _TOOL, str(params.get("pid_file") or os.devnull), str(seconds)],
                     cwd=workdir, log=workdir / "tool.log", deadline=time.monotonic() + job.timeout_s,
                     code=ErrorCode.SYNTH, what="sleep tool")  # fmt: skip
        else:
            time.sleep(seconds)
        fail = params.get("fail") or os.environ.get("HIL_SLEEP_FAIL")
        if fail:
            raise BuildFailure(ErrorCode(fail), f"sleep builder asked to fail with {fail}")
        return BuildOutput(report={"slept_s": seconds}, provenance="estimate")


class IsolatedSleepBuilder(SleepBuilder):
    """``sleep`` in an isolated child process: the build-child path (watchdog, parent-death signal)."""

    name = "sleep-isolated"
    isolate = True
