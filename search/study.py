"""The Optuna study of one search phase: settings fingerprint, heartbeats, stale trials, elapsed time.

Why a fingerprint: a resumed study must continue the *same* experiment. Every setting that changes
a trial's result (data, spec, training recipe, fidelity, gate, device, space, ...) is stored with
the study when it is created; a re-run that differs is refused with one line naming the settings
that differ, instead of silently mixing trials of two experiments.

Why heartbeats (Optuna's ``heartbeat_interval``/``grace_period``): a trial left RUNNING may belong
to a live search on another host or in another terminal, not to a dead one. While a trial runs, a
thread records its heartbeat every ``heartbeat_seconds``; only a RUNNING trial whose heartbeat is
older than the grace period (3 x the interval) is failed, by whichever search on the study notices
first (at start and before each new trial), and its params are re-queued once. A RUNNING trial with
no heartbeat at all (made by another tool, or by hil before heartbeats) is failed once it is older
than the grace period.

Why elapsed time is stored per run: a resumed search reports the time of all its runs, not of the
last one. Each process writes only its own ``run:<id>`` attribute (no read-modify-write race when
two searches share a study).
"""

from __future__ import annotations

import datetime
import inspect
import logging
import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from hil.errors import ConfigError, InputError
from search.evaluation import cpu_seconds

__all__ = [
    "GRACE_FACTOR",
    "check_fingerprint",
    "RunClock",
    "fingerprint_diff",
    "heartbeat",
    "open_study",
    "recover_stale",
    "total_elapsed",
]

_log = logging.getLogger(__name__)
# Optuna warns that heartbeats are meant for Study.optimize; with ask/tell, ``heartbeat`` below runs
# the thread that optimize would run.
warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used with Study.optimize")
_RUNNING = optuna.trial.TrialState.RUNNING
#: A trial is stale when its heartbeat is older than GRACE_FACTOR x heartbeat_seconds.
GRACE_FACTOR = 3
_CREATE_ATTEMPTS = 5  # tries at making a new storage that a neighbour is making too
_FINGERPRINT_ATTR = "hil"
_RUN_PREFIX = "run:"


def fingerprint_diff(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``name (was X, now Y)`` for each setting that differs (a setting only one side has differs too)."""
    out = []
    for key in sorted(set(stored) | set(current)):
        if stored.get(key, "<unset>") != current.get(key, "<unset>"):
            was, now = stored.get(key, "<unset>"), current.get(key, "<unset>")
            if isinstance(was, dict | list) or isinstance(now, dict | list):
                out.append(key)  # a nested value (the space, a recipe) would not fit on one line
            else:
                out.append(f"{key} (was {was}, now {now})")
    return out


def _requeue_once(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Re-queue a stale trial's params once (a re-queued trial that goes stale again is not)."""
    if "requeue_of" in trial.user_attrs:
        _log.warning(
            "trial %d (a re-queue of %d) went stale again: not re-queued",
            trial.number,
            trial.user_attrs["requeue_of"],
        )
        return
    study.enqueue_trial(dict(trial.params), user_attrs={"requeue_of": trial.number})
    _log.warning(
        "trial %d stopped sending heartbeats (its process is gone): failed and re-queued", trial.number
    )


def _storage(url: str, heartbeat_seconds: int) -> optuna.storages.RDBStorage:
    kwargs: dict[str, Any] = {
        "heartbeat_interval": heartbeat_seconds,
        "grace_period": GRACE_FACTOR * heartbeat_seconds,
    }
    params = inspect.signature(optuna.storages.RDBStorage).parameters
    # Optuna 4.9 renamed failed_trial_callback; accept either (pyproject allows optuna >= 3.6).
    callback = (
        "heartbeat_stale_trial_callback"
        if "heartbeat_stale_trial_callback" in params
        else "failed_trial_callback"
    )
    kwargs[callback] = _requeue_once
    if url.startswith("sqlite:///"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}  # a neighbour's write: wait, not fail
    storage = _create_storage(url, kwargs)
    if url.startswith("sqlite:///"):
        _fast_sqlite(storage)
    return storage


def _create_storage(url: str, kwargs: dict[str, Any]) -> optuna.storages.RDBStorage:
    """The storage, retried when a neighbour creates the same new database at the same moment.

    Why: two searches started together on a new SQLite file both run Optuna's table creation and
    schema stamping; the loser gets "table ... already exists" or a UNIQUE failure on
    ``alembic_version``. A retry finds the tables made and simply opens them.
    """
    import sqlalchemy.exc

    for attempt in range(_CREATE_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # heartbeat is "experimental" in some Optuna releases
                return _new_rdb_storage(url, **kwargs)
        except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.IntegrityError) as exc:
            text = str(exc)
            raced = "already exists" in text or "alembic_version" in text
            if not raced or attempt == _CREATE_ATTEMPTS - 1:
                raise
            _log.debug("storage %s: a neighbour made its tables meanwhile; retrying", url)
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _new_rdb_storage(url: str, **kwargs: Any) -> optuna.storages.RDBStorage:
    """Optuna's storage constructor (one seam, so the neighbour race can be provoked in tests)."""
    return optuna.storages.RDBStorage(url, **kwargs)


def _fast_sqlite(storage: optuna.storages.RDBStorage) -> None:
    """WAL journal, ``synchronous=NORMAL``: a commit no longer waits for an fsync.

    Why: a trial writes ~45 small transactions (params, attributes); with the default rollback
    journal each one fsyncs, 20 ms apiece on a busy disk, which made storage the slowest part of a
    digits search. WAL keeps the file consistent through a killed process; only an OS crash can lose
    the last few commits (a lost trial is re-run). Readers never block the writer.
    """
    import sqlalchemy

    @sqlalchemy.event.listens_for(storage.engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    storage.engine.dispose()  # connections opened before the listener get the pragmas too


def open_study(
    url: str,
    name: str,
    *,
    directions: list[Any],
    sampler: Callable[[int], optuna.samplers.BaseSampler],
    fingerprint: Mapping[str, Any],
    heartbeat_seconds: int,
    pruner: optuna.pruners.BasePruner | None = None,
) -> optuna.Study:
    """Open (or create) study ``name`` at ``url``; refuse one made with other settings.

    Args:
        sampler: the sampler, given how many trials the study already holds (re-seed on resume).
        fingerprint: every setting that changes a trial's result (JSON values).
        pruner: what ``trial.should_prune`` asks (``search.pruning``; None: Optuna's default, never
            asked without ``--pruner``). Optuna does not store it: its name is in the fingerprint.

    Raises:
        InputError: the storage cannot be opened.
        ConfigError: the study exists with other settings (the message names them).
    """
    try:
        storage = _storage(url, heartbeat_seconds)
        names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
        existing = len(optuna.load_study(study_name=name, storage=storage).trials) if name in names else 0
    except Exception as exc:  # sqlalchemy raises many types for a bad URL or unreadable file
        raise InputError(
            f"--study {url}: cannot open the Optuna storage ({str(exc).splitlines()[0]})"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            load_if_exists=True,
            directions=directions,
            sampler=sampler(existing),
            pruner=pruner,
        )
    stored = study.user_attrs.get(_FINGERPRINT_ATTR)
    if stored is None:
        study.set_user_attr(_FINGERPRINT_ATTR, dict(fingerprint))
    else:
        _compare(url, name, stored, fingerprint)
    return study


def _compare(url: str, name: str, stored: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    if dict(stored) != dict(current):
        changed = "; ".join(fingerprint_diff(stored, current))
        raise ConfigError(
            f"study {name!r} in {url} was made with other settings: {changed}; "
            "re-run with the same options or use another --study/--out"
        )


def check_fingerprint(
    url: str, name: str, fingerprint: Mapping[str, Any], *, ignore: tuple[str, ...] = ()
) -> None:
    """Refuse early (before any data is loaded or a display starts) when study ``name`` exists at
    ``url`` with other settings; keys in ``ignore`` (derived ones, e.g. the kept architecture) are
    left to ``open_study``. A storage that does not exist yet passes."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return
    try:
        storage = optuna.storages.RDBStorage(url, skip_table_creation=True)
        summaries = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    except Exception:  # unreadable or foreign: open_study reports it with its own message
        return
    if name not in summaries:
        return
    stored = summaries[name].user_attrs.get(_FINGERPRINT_ATTR)
    if stored is not None:
        keep = {k: v for k, v in stored.items() if k not in ignore}
        _compare(url, name, keep, {k: v for k, v in fingerprint.items() if k not in ignore})


def recover_stale(study: optuna.Study, heartbeat_seconds: int) -> None:
    """Fail (and re-queue once) RUNNING trials whose process is gone; live ones are left alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna.storages.fail_stale_trials(study)  # heartbeat older than the grace period
    grace = datetime.timedelta(seconds=GRACE_FACTOR * heartbeat_seconds)
    now = datetime.datetime.now()
    for t in study.get_trials(deepcopy=False, states=(_RUNNING,)):
        if "heartbeat_seconds" in t.user_attrs or t.datetime_start is None or now - t.datetime_start < grace:
            continue  # a heartbeat trial (optuna judges it) or a young one (its first beat may be due)
        try:
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        except (RuntimeError, ValueError):  # another search failed it first
            continue
        _log.warning("trial %d was left running without a heartbeat since %s", t.number, t.datetime_start)
        _requeue_once(study, t)


@contextmanager
def heartbeat(study: optuna.Study, trial: optuna.trial.Trial, heartbeat_seconds: int) -> Iterator[None]:
    """Record ``trial``'s heartbeat now and every ``heartbeat_seconds`` until the block ends."""
    storage = study._storage  # Optuna keeps the heartbeat API on the storage
    trial_id = trial._trial_id  # no public accessor; FrozenTrial has the same private field
    storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]
    trial.set_user_attr("heartbeat_seconds", heartbeat_seconds)
    trial.set_user_attr("owner", {"host": socket.gethostname(), "pid": os.getpid()})
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(heartbeat_seconds):
            try:
                storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]
            except Exception as exc:  # a locked database for a moment: the next beat retries
                _log.debug("heartbeat of trial %d not recorded: %s", trial.number, exc)

    thread = threading.Thread(target=beat, name=f"hil-heartbeat-{trial.number}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@dataclass
class RunClock:
    """This process's wall and CPU time in one study, written after every trial as ``run:<id>``."""

    study: optuna.Study
    started_wall: float
    started_cpu: float
    extra_wall: float = 0.0
    extra_cpu: float = 0.0
    run_id: str = ""

    @classmethod
    def start(cls, study: optuna.Study, *, setup_wall: float = 0.0, setup_cpu: float = 0.0) -> RunClock:
        """Start counting now; ``setup_*``: time spent before (dataset loading), charged to this study."""
        return cls(study, time.perf_counter(), cpu_seconds(), setup_wall, setup_cpu, uuid.uuid4().hex[:12])

    def record(self) -> None:
        self.study.set_user_attr(
            f"{_RUN_PREFIX}{self.run_id}",
            {
                "wall_seconds": round(time.perf_counter() - self.started_wall + self.extra_wall, 3),
                "cpu_seconds": round(cpu_seconds() - self.started_cpu + self.extra_cpu, 3),
                "host": socket.gethostname(),
                "pid": os.getpid(),
            },
        )


def total_elapsed(study: optuna.Study) -> dict[str, float]:
    """Wall and CPU seconds of every run recorded in ``study`` (all resumes together), and the run count."""
    runs = [v for k, v in study.user_attrs.items() if k.startswith(_RUN_PREFIX)]
    return {
        "wall_seconds": float(sum(r.get("wall_seconds", 0.0) for r in runs)),
        "cpu_seconds": float(sum(r.get("cpu_seconds", 0.0) for r in runs)),
        "runs": float(len(runs)),
    }
