"""Opening a study: two searches that start together on a new database both get it."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
import sqlalchemy.exc

from hil.errors import InputError
from search import study as study_module


def _open(url: str, name: str = "s") -> optuna.Study:
    return study_module.open_study(
        url,
        name,
        directions=["maximize"],
        sampler=lambda n: optuna.samplers.RandomSampler(seed=n),
        fingerprint={"epochs": 1},
        heartbeat_seconds=60,
    )


def test_tables_made_by_a_neighbour_meanwhile_are_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    real = study_module._new_rdb_storage
    calls: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> optuna.storages.RDBStorage:
        calls.append(1)
        if len(calls) == 1:  # the neighbour wins: its tables exist, ours fail to be created
            optuna.storages.RDBStorage(url)
            raise sqlalchemy.exc.OperationalError(
                "CREATE TABLE studies", (), Exception("table studies already exists")
            )
        return real(*args, **kwargs)

    monkeypatch.setattr(study_module, "_new_rdb_storage", racing)
    study = _open(url)
    assert len(calls) == 2
    assert study.user_attrs["hil"] == {"epochs": 1}


def test_other_storage_errors_are_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def broken(*_args: Any, **_kwargs: Any) -> optuna.storages.RDBStorage:
        calls.append(1)
        raise sqlalchemy.exc.OperationalError("SELECT", (), Exception("disk I/O error"))

    monkeypatch.setattr(study_module, "_new_rdb_storage", broken)
    with pytest.raises(InputError, match="disk I/O error"):
        _open(f"sqlite:///{tmp_path / 'study.db'}")
    assert len(calls) == 1


def _open_at(url: str, start: float) -> int:
    time.sleep(max(0.0, start - time.time()))
    return len(_open(url).trials)


def test_four_processes_opening_a_new_study_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    start = time.time() + 2.0  # all four past their imports, then go together
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.starmap(_open_at, [(url, start)] * 4) == [0, 0, 0, 0]
    summaries = optuna.get_all_study_summaries(url)
    assert [s.study_name for s in summaries] == ["s"]
