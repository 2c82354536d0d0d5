"""The ``sleep`` builder: a stand-in that takes a fixed time and builds nothing.

Why ship it: it exercises everything around a build (dask scheduling, worker loss, ledger,
artifact store, resume) in seconds, so a new farm can be checked before anyone spends a Vivado
license, and the farm's tests and ``benchmarks/bench_farm.py`` measure the plumbing alone. Its
artifact holds a manifest and an empty report: no board bundle, because there is no design.

Params (``builder_params``): ``sleep_s`` (default 1), ``fail`` (an ErrorCode name to fail with),
``log_file`` (append one JSON line per build run: how tests prove a job was not rebuilt).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

from hil.farm._job import BuildJob
from hil.farm.builders._base import BaseBuilder, BuildFailure, BuildOutput, Stage
from hil.records import ErrorCode

__all__ = ["SleepBuilder"]

_log = logging.getLogger(__name__)


class SleepBuilder(BaseBuilder):
    """Sleeps ``sleep_s`` (bounded by the job's timeout), optionally failing with a given code."""

    name = "sleep"
    isolate = False

    def build(self, job: BuildJob, workdir: Path, out: Path, stage: Stage) -> BuildOutput:
        params = job.builder_params
        seconds = float(params.get("sleep_s", 1.0))
        log_file = params.get("log_file")
        if log_file:
            line = json.dumps(
                {"key": job.key, "pid": os.getpid(), "host": socket.gethostname(), "t": time.time()}
            )
            with open(log_file, "a", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line + "\n")
        stage.code = ErrorCode.SYNTH
        if seconds > job.timeout_s:
            time.sleep(job.timeout_s)
            raise BuildFailure(
                ErrorCode.BUILD_TIMEOUT, f"sleep builder: {seconds} s exceeds the {job.timeout_s} s timeout"
            )
        time.sleep(seconds)
        if params.get("fail"):
            raise BuildFailure(
                ErrorCode(params["fail"]), f"sleep builder asked to fail with {params['fail']}"
            )
        return BuildOutput(report={"slept_s": seconds}, provenance="estimate")
