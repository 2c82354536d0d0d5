"""Searches sharing one study, as separate processes: a live trial is never failed by a neighbour;
a killed search's trial is failed only after its heartbeat expires, then re-queued once, and nothing
completed is lost. Heartbeat 2 s (``HIL_SEARCH_HEARTBEAT``), so a trial is stale after 6 s.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy.exc

from search.study import recover_stale
from tests._shared import REPO

HEARTBEAT = 2
GRACE = 3 * HEARTBEAT


def _args(trials: int, epochs: int) -> list[str]:
    return [
        "--board", "zcu104", "--luts", "20000", "--fps", "100000", "--trials", str(trials),
        "--epochs", str(epochs), "--controller", "rl", "--fidelity", "estimate", "--estimate-edge", "point",
        "--json",
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "HIL_TORCH_THREADS": "1", "HIL_SEARCH_HEARTBEAT": str(HEARTBEAT)}


def _search(out: Path, trials: int, epochs: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hil", "search", *_args(trials, epochs), "--out", str(out)],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _study(db: Path) -> optuna.Study | None:
    """The study as a reader sees it: never creates tables (the search is making them)."""
    try:
        storage = optuna.storages.RDBStorage(f"sqlite:///{db}", skip_table_creation=True)
        return optuna.load_study(study_name="hil-joint-joint", storage=storage)
    except (KeyError, sqlalchemy.exc.OperationalError):  # not made yet, or made half-way
        return None


def _trials(db: Path) -> list[optuna.trial.FrozenTrial]:
    study = _study(db) if db.exists() else None
    return [] if study is None else study.trials


def _wait_for_training(
    proc: subprocess.Popen[bytes], db: Path, after_completed: int
) -> optuna.trial.FrozenTrial:
    """The RUNNING trial in its training stage once ``after_completed`` trials are complete."""
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        trials = _trials(db)
        trained = [t for t in trials if t.state.name == "COMPLETE" and t.user_attrs.get("epochs")]
        training = [t for t in trials if t.state.name == "RUNNING" and t.user_attrs.get("stage") == "train"]
        if len(trained) >= after_completed and training:
            return training[0]
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the search finished or stalled before a trial was seen training")


@pytest.mark.slow
def test_a_second_search_on_the_study_leaves_the_first_ones_trial_alone(tmp_path: Path) -> None:
    out, db = tmp_path / "run", tmp_path / "run" / "study.db"
    first = _search(out, trials=3, epochs=40)
    try:
        running = _wait_for_training(first, db, after_completed=0)
        second = _search(out, trials=3, epochs=40)  # same study, same settings, while `running` trains
        assert second.wait(timeout=600) == 0, second.stderr.read().decode() if second.stderr else ""
        assert first.wait(timeout=600) == 0, first.stderr.read().decode() if first.stderr else ""
    finally:
        for proc in (first,):
            if proc.poll() is None:
                proc.kill()
    trials = {t.number: t for t in _trials(db)}
    assert trials[running.number].state.name == "COMPLETE"  # the first search finished its own trial
    assert not [t for t in trials.values() if t.state.name == "FAIL"]
    owners = {t.user_attrs["owner"]["pid"] for t in trials.values() if t.state.name == "COMPLETE"}
    assert len(owners) == 2  # both searches trained trials on the study
    assert all("requeue_of" not in t.user_attrs for t in trials.values())


@pytest.mark.slow
def test_a_killed_searchs_trial_is_failed_after_its_heartbeat_expires_then_requeued_once(
    tmp_path: Path,
    run_cli,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    out, db = tmp_path / "run", tmp_path / "run" / "study.db"
    proc = _search(out, trials=3, epochs=40)
    try:
        victim = _wait_for_training(proc, db, after_completed=1)
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = datetime.datetime.now()
    finally:
        proc.wait()
    before = {t.number: (t.params, t.values) for t in _trials(db) if t.state.name == "COMPLETE"}
    study = _study(db)
    assert study is not None
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{db}", heartbeat_interval=HEARTBEAT, grace_period=GRACE
    )  # what a search opening the study sees
    recover_stale(optuna.load_study(study_name="hil-joint-joint", storage=storage), HEARTBEAT)
    assert {t.number: t.state.name for t in _trials(db)}[victim.number] == "RUNNING"  # heartbeat still fresh
    time.sleep(GRACE + 0.5)

    monkeypatch.setenv("HIL_SEARCH_HEARTBEAT", str(HEARTBEAT))
    code, stdout, _ = run_cli("search", *_args(3, 40), "--out", str(out))
    assert code == 0
    after = {t.number: t for t in _trials(db)}
    for number, (params, values) in before.items():  # nothing completed was lost or re-run
        assert after[number].state.name == "COMPLETE"
        assert (after[number].params, after[number].values) == (params, values)
    failed = after[victim.number]
    assert failed.state.name == "FAIL"
    assert failed.datetime_complete is not None
    assert failed.datetime_complete - killed_at >= datetime.timedelta(seconds=GRACE - HEARTBEAT)
    requeued = [t for t in after.values() if t.user_attrs.get("requeue_of") == victim.number]
    assert len(requeued) == 1 and requeued[0].state.name == "COMPLETE"
    assert requeued[0].params == victim.params
    trainings = [  # designs sharing an already trained network's weights spend no training
        t
        for t in after.values()
        if t.state.name == "COMPLETE" and t.user_attrs.get("epochs") and t.user_attrs["reused_from"] is None
    ]
    assert len(trainings) == 3
    assert '"trials": 3' in stdout
