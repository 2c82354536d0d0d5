"""A search killed with SIGKILL during training resumes with no completed trial lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from tests._shared import REPO

ARGS = [
    "--board",
    "zcu104",
    "--luts",
    "20000",
    "--fps",
    "100000",
    "--trials",
    "2",
    "--epochs",
    "12",
    "--controller",
    "rl",
    "--fidelity",
    "estimate",
    "--json",
]


def _trials(db: Path) -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name="hil-joint-joint", storage=f"sqlite:///{db}").trials
    except KeyError:
        return []


@pytest.mark.slow
def test_kill_during_training_then_resume(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    out, db = tmp_path / "run", tmp_path / "run" / "study.db"
    env = {**os.environ, "HIL_TORCH_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hil", "search", *ARGS, "--out", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline, killed = time.time() + 240, False
    try:
        while time.time() < deadline and proc.poll() is None:
            trials = _trials(db) if db.exists() else []
            trained = [t for t in trials if t.state.name == "COMPLETE" and t.user_attrs.get("epochs")]
            training = [
                t for t in trials if t.state.name == "RUNNING" and t.user_attrs.get("stage") == "train"
            ]
            if trained and training:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.2)
    finally:
        if proc.poll() is None and not killed:
            proc.kill()
        proc.wait()
    assert killed, "the search finished or stalled before it could be killed during training"
    before = {t.number: (t.params, t.values) for t in _trials(db) if t.state.name == "COMPLETE"}
    victim = next(t for t in _trials(db) if t.state.name == "RUNNING")

    code, stdout, _ = run_cli("search", *ARGS, "--out", str(out))
    assert code == 0
    after = {t.number: t for t in _trials(db)}
    for number, (params, values) in before.items():  # nothing completed was lost or re-run
        assert after[number].state.name == "COMPLETE"
        assert (after[number].params, after[number].values) == (params, values)
    assert after[victim.number].state.name == "FAIL"
    requeued = [t for t in after.values() if t.user_attrs.get("requeue_of") == victim.number]
    assert len(requeued) == 1 and requeued[0].state.name == "COMPLETE"
    assert sum(1 for t in after.values() if t.state.name == "COMPLETE" and t.user_attrs.get("epochs")) == 2
    assert '"trials": 2' in stdout
