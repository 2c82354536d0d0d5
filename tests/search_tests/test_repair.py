"""``--repair``: a proposal that misses the spec gets its network's least-missing implementation."""

from __future__ import annotations

import random
from pathlib import Path

import optuna
import pytest

from hil.errors import HilError
from hil.inventory import load_inventory
from search.datasets import load_dataset
from search.ladder import Ladder, Target
from search.repair import Repair
from search.resume import EvaluationReader, check_resume
from search.runner import run_search
from search.space import Candidate, default_space
from tests.search_tests._profile import tiny

_BOARD = load_inventory(None).board("zcu104")
_SPACE = default_space("digits", _BOARD.clock_mhz)


def _ladder(tmp_path: Path, luts: float, fps: float) -> Ladder:
    data = load_dataset("digits", subset=100, seed=0)
    return Ladder(data, Target(_BOARD, luts, fps, "point"), None, fidelity="estimate", artifacts=tmp_path)


def _repair(ladder: Ladder) -> Repair:
    return Repair(ladder.estimate, _SPACE.reuse_factors, _SPACE.strategies, _SPACE.clocks_mhz)


def _proposals(n: int, seed: int = 0) -> list[Candidate]:
    rng = random.Random(seed)
    data = load_dataset("digits", subset=100, seed=0)
    return [_SPACE.sample(lambda _n, c: rng.choice(list(c)), data.input_shape) for _ in range(n)]


def test_repair_keeps_the_network_and_never_misses_more(tmp_path: Path) -> None:
    ladder = _ladder(tmp_path, 20000, 100000)
    repair = _repair(ladder)
    fixed = 0
    for proposed in _proposals(60):
        before = ladder.estimate(proposed)
        candidate, ev = repair(proposed)
        assert candidate.network_key() == proposed.network_key()  # architecture and bits untouched
        assert [h.weight_bits for h in candidate.hw] == [h.weight_bits for h in proposed.hw]
        assert candidate.io_type == proposed.io_type
        assert ev.miss <= before.miss
        assert ev.miss == ladder.estimate(candidate).miss  # the estimate it returns is the candidate's
        if before.feasible:
            assert candidate == proposed  # a proposal that fits is left alone
        fixed += not before.feasible and ev.feasible
    assert fixed >= 5  # the spec is tight enough that implementation alone decides some proposals


def test_repair_meets_the_throughput_a_proposal_misses(tmp_path: Path) -> None:
    """A network proposed at the largest reuse factor everywhere misses a throughput spec that a
    smaller reuse meets: repair lowers the reuse until the estimate meets it."""
    ladder = _ladder(tmp_path, 1e9, 100000)
    proposed = next(c for c in _proposals(40, seed=1) if c.quantized)
    slow = Candidate(
        proposed.arch,
        tuple(type(h)(h.weight_bits, h.act_bits, max(_SPACE.reuse_factors), h.strategy) for h in proposed.hw),
        proposed.io_type,
        min(_SPACE.clocks_mhz),
        proposed.learned_scales,
    )
    assert ladder.estimate(slow).binding == "throughput_fps"
    candidate, ev = _repair(ladder)(slow)
    assert ev.feasible and ev.value("throughput_fps") >= 100000
    assert min(h.reuse_factor for h in candidate.hw) < max(_SPACE.reuse_factors)


@pytest.mark.slow
def test_a_repaired_search_records_the_proposal_and_fits_more(tmp_path: Path) -> None:
    plain = run_search(tiny(tmp_path / "plain", luts=8000, trials=2))
    repaired = run_search(tiny(tmp_path / "repair", luts=8000, trials=2, repair=True))
    (p,), (r,) = plain.phases, repaired.phases
    rate = [sum(e.feasible for e in x.evaluations.values()) / len(x.evaluations) for x in (p, r)]
    assert rate[1] > rate[0]
    changed = [e for e in r.evaluations.values() if e.repaired_from is not None]
    assert changed
    for ev in changed:
        proposal = Candidate.from_dict(ev.repaired_from)
        assert proposal != ev.candidate and proposal.network_key() == ev.candidate.network_key()
    # stored with the trial, read back as stored
    storage = f"sqlite:///{tmp_path / 'repair' / 'study.db'}"
    study = optuna.load_study(study_name="hil-joint-joint", storage=storage)
    stored = EvaluationReader().read(study)
    assert {n for n, e in stored.items() if e.repaired_from} == {
        n for n, e in r.evaluations.items() if e.repaired_from
    }


def test_a_study_does_not_resume_with_another_repair_setting(tmp_path: Path) -> None:
    run_search(tiny(tmp_path, luts=8000, trials=1, repair=True))
    with pytest.raises(HilError, match="repair"):
        check_resume(tiny(tmp_path, luts=8000, trials=1))
