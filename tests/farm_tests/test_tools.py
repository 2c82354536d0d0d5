"""Build keys from the tools that really build: declared in the inventory, checked on each worker.

Two real dask workers differ in the version of the sleep builder's pretend tool (as two build
hosts with Vivado 2020.1 and 2023.2 would): the one with other tools refuses each job it is
given, the job goes to the other, and a job no worker can build fails with a message naming
both versions.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hil.farm import Ledger, expected_tools, make_job
from hil.inventory import load_inventory
from tests.farm_tests.conftest import Processes, farm_inventory, hil_argv, start_cluster


def test_declared_tools_enter_the_keys_of_the_builders_that_use_them(dense_onnx: Path) -> None:
    board = load_inventory().board("zcu104")
    estimate = make_job(dense_onnx, board, {})
    assert make_job(dense_onnx, board, {}, tools={"vivado": "2023.2"}).key == estimate.key  # not its tool
    assert make_job(dense_onnx, board, {}, tools={"hls4ml": "0.8.1"}).key != estimate.key
    assert estimate.tools["hls4ml"] and estimate.tools["g++"] and "cost_params" in estimate.tools
    sleep = make_job(dense_onnx, board, {}, builder="sleep")
    assert sleep.tools == {"sleep": "1"}
    assert make_job(dense_onnx, board, {}, builder="sleep", tools={"sleep": "2"}).key != sleep.key
    vivado = expected_tools("vivado", {"backend": "Vitis"}, {"vivado": "2023.2"})
    assert vivado["vivado"] == "2023.2" and "hls4ml" in vivado


@pytest.mark.slow
def test_worker_with_other_tools_refuses_and_the_job_goes_to_one_that_has_them(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    address = start_cluster(
        processes, tmp_path, {"old": {"HIL_SLEEP_TOOL_VERSION": "1"}, "new": {"HIL_SLEEP_TOOL_VERSION": "2"}}
    )
    root = tmp_path / "bs"
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(
        f"builder: sleep\nmodels: [{dense_onnx}]\nboards: [zcu104]\n"
        "grid: {reuse_factor: [1, 2, 3, 4]}\nbuilder_params: {sleep_s: 0.5}\n"
    )

    def run(declared: str) -> tuple[int, dict[str, object]]:
        inventory = farm_inventory(tmp_path / declared, artifacts=str(root), tools={"sleep": declared})
        argv = hil_argv("farm", "run", jobs_file, "--scheduler", address, "--inventory", inventory, "--json")
        done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
        return done.returncode, json.loads(done.stdout)

    code, payload = run("2")
    assert code == 0 and payload["built"] == 4
    rows = payload["jobs"]
    assert isinstance(rows, list) and {row["worker"] for row in rows} == {"new"}
    with Ledger(root / "ledger.sqlite") as ledger:
        refusals = [e for e in ledger.events() if e.event == "refused"]
        assert refusals and all(e.detail["worker"] == "old" for e in refusals)
        assert "sleep 1 here, the job expects 2" in refusals[0].detail["message"]
        for row in rows:
            entry = ledger.get(str(row["key"]))
            assert entry is not None and entry.attempts == 1  # a refusal is no attempt
            assert entry.result is not None and entry.result["tool_versions"] == {
                "sleep": "2"
            }  # the worker's own

    code, payload = run("3")  # nobody has it
    assert code == 1 and payload["failed"] == 4
    messages = {str(row["message"]) for row in payload["jobs"]}  # type: ignore[union-attr]
    assert all("the job expects 3" in m and "refuses the job" in m for m in messages)
    with Ledger(root / "ledger.sqlite") as ledger:
        for row in payload["jobs"]:  # type: ignore[union-attr]
            workers = {e.detail["worker"] for e in ledger.events(str(row["key"])) if e.event == "refused"}
            assert workers == {"old", "new"}  # offered to both before it failed
            assert row["attempts"] == 0  # no build ever started
