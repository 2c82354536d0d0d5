"""Child-process entry of an isolated build: ``python -m hil.farm._child JOB.json WORKDIR OUT``.

Why a child process: hls4ml, the compiled C simulation and the vendor tools run here, so a
segfault or a hang cannot take the dask worker down, and the parent's timeout kills this whole
process group. The result goes to WORKDIR/result.json (JSON only).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from hil.farm._execute import run_builder
from hil.farm._job import BuildJob


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    spec, workdir, out = (Path(a) for a in argv)
    job = BuildJob.model_validate_json(spec.read_text())
    result = run_builder(job, workdir, out)
    temporary = workdir / "result.json.tmp"
    temporary.write_text(json.dumps(result, default=str))
    temporary.replace(workdir / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
