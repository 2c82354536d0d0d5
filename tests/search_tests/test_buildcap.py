"""The build cap (``--builds-per-network``): how many hardware variants of one network are built.

The fast tests script the proposals (network A at five reuse factors, then B, then A again and C),
fake the C-sim gate and count the builds a recording hardware adapter is asked for; the slow one
runs the real gate and the farm's stand-in builder and counts its ledger.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hil.errors import ConfigError, InputError
from hil.farm import Ledger
from hil.inventory import Board
from search.buildcap import CAPPED_STAGE, held_back_by
from search.evaluation import Evaluation, Measured, Rung
from search.ladder import Ladder
from search.report import finalize
from search.runner import SearchConfig, run_search
from search.space import Architecture, Candidate, LayerHw
from tests.search_tests._profile import script_proposals, tiny

_A, _B, _C = (Architecture((w,), (3,), (True,), ()) for w in (4, 6, 8))
#: (architecture, dense reuse factor) per trial. Network A's estimated LUTs (digits, ZCU104, 200 MHz,
#: point estimate): reuse 20: 6,893; 10: 9,044; 40: 5,826; 80: 5,101; 320: 4,997. Every one of them
#: meets the 100,000 img/s estimate (the conv's reuse, 9, sets the II).
_PLAN = [(_A, 20), (_A, 10), (_A, 40), (_A, 80), (_B, 160), (_A, 320), (_C, 160)]


def _design(number: int) -> Candidate:
    arch, reuse = _PLAN[min(number, len(_PLAN) - 1)]
    return Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, reuse, "Resource")))


class _Recorder:
    """A hardware adapter that builds nothing and records what it was asked to build.

    Each build 'measures' 7,000 LUTs (provenance synth): more than the estimates of A's leaner
    variants, so a held-back variant would outrank the built one on LUTs alone. ``over`` holds the
    reuse factors whose build measures 25,000 LUTs (over the 20,000 budget).
    """

    def __init__(self, over: tuple[int, ...] = ()) -> None:
        self.built: list[Candidate] = []
        self.over = over

    def check(self, board: Board, fidelity: str) -> None:
        return None

    def build(self, model: Path, candidate: Candidate, board: Board, *_a: Any, **_k: Any) -> Rung:
        self.built.append(candidate)
        lut = 25_000.0 if candidate.hw[-1].reuse_factor in self.over else 7_000.0
        return Rung("build", ok=True, metrics={"lut": Measured(lut, "synth")}, key=f"k{len(self.built)}")


def _script(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proposals follow ``_PLAN`` (trial by trial)."""
    script_proposals(monkeypatch, _design)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Scripted proposals; the C-sim gate passes without compiling; returns an installer of the
    recording adapter."""
    import search.runner as runner

    def gate(self: Ladder, ev: Evaluation, model: Any, folder: Path) -> None:
        ev.csim, ev.csim_gate, ev.stage = {"argmax_agreement": 1.0}, "passed", "csim"

    _script(monkeypatch)
    monkeypatch.setattr(Ladder, "_csim", gate)

    def install(recorder: _Recorder) -> _Recorder:
        monkeypatch.setattr(runner, "hardware_adapter", lambda *_a, **_k: recorder)
        return recorder

    return install


def _reuse(ev: Evaluation) -> int:
    return ev.candidate.hw[-1].reuse_factor


def test_the_rule_first_climbs_then_only_leaner_variants_up_to_the_cap() -> None:
    assert held_back_by(6_000.0, [], 1) == []  # the network's first variant climbs
    assert held_back_by(1.0, [(0, 6_000.0)], 1) == [0]  # cap spent, however lean
    assert held_back_by(7_000.0, [(0, 6_000.0)], 2) == [0]  # no more margin than a built variant
    assert held_back_by(6_000.0, [(0, 6_000.0)], 2) == [0]  # a tie goes to the one built first
    assert held_back_by(5_000.0, [(0, 6_000.0)], 2) == []  # leaner: climbs
    assert held_back_by(9e9, [(0, 1.0), (3, 2.0)], 0) == []  # 0: no cap


def test_cap_one_builds_one_variant_per_network_and_labels_the_others(tmp_path: Path, scripted: Any) -> None:
    recorder = scripted(_Recorder())
    outcome = run_search(tiny(tmp_path, trials=2, fidelity="build", top_k=3))
    evs = outcome.final.evaluations
    assert sorted(evs) == [0, 1, 2, 3, 4] and all(ev.feasible and ev.complete for ev in evs.values())
    assert [evs[n].reused_from for n in range(5)] == [None, 0, 0, 0, None]
    # one build for A (its first variant), one for B: the adapter was asked for exactly those
    assert [(c.arch, c.hw[-1].reuse_factor) for c in recorder.built] == [(_A, 20), (_B, 160)]
    for n in (0, 4):
        assert evs[n].stage == "build" and evs[n].rungs["build"]["ok"] and evs[n].build_capped_by is None
        assert evs[n].hardware["lut"].provenance == "synth"
    for n in (1, 2, 3):  # held back: labelled, never gated or built, figures still the estimate's
        ev = evs[n]
        assert ev.stage == CAPPED_STAGE and ev.build_capped_by == [0]
        assert "build" not in ev.rungs and ev.csim_gate is None
        assert {m.provenance for m in ev.hardware.values()} == {"estimate"}
        assert ev.reward == ev.accuracy == evs[0].accuracy
    # the built variant ranks first of its network, though A at reuse 80 estimates 5,101 < 7,000 LUTs
    first_a = next(n for n, ev in outcome.final.ranked() if ev.candidate.arch == _A)
    assert first_a == 0 and evs[3].value("lut") < evs[0].value("lut")
    summary = finalize(outcome)
    assert summary["builds"] == {"per_network": 1, "built": 2, "held_back": [1, 2, 3]}
    assert summary["best"]["build_capped_by"] is None and summary["best"]["stage"] == "build"
    rows = {r["trial"]: r for r in summary["top"]}
    assert all(rows[n]["stage"] == CAPPED_STAGE and rows[n]["build_capped_by"] == [0] for n in (1, 2, 3))
    markdown = (tmp_path / "report.md").read_text()
    assert "3 hardware variants of built networks were held back by the cap" in markdown
    assert "trials 1, 2, 3" in markdown


def test_cap_zero_builds_every_variant_among_the_best_k(tmp_path: Path, scripted: Any) -> None:
    recorder = scripted(_Recorder())
    outcome = run_search(tiny(tmp_path, trials=2, fidelity="build", top_k=3, builds_per_network=0))
    evs = outcome.final.evaluations
    assert [_reuse(evs[n]) for n in range(5)] == [c.hw[-1].reuse_factor for c in recorder.built]
    assert len(recorder.built) == 5 and all(ev.stage == "build" for ev in evs.values())
    assert all(ev.build_capped_by is None for ev in evs.values())
    assert finalize(outcome)["builds"] == {"per_network": 0, "built": 5, "held_back": []}


def test_cap_two_builds_a_leaner_variant_after_one_measured_over_the_spec(
    tmp_path: Path, scripted: Any
) -> None:
    """A's first build (reuse 20, 6,893 estimated) measures 25,000 LUTs: over the budget. The next
    variant, reuse 10 (9,044 estimated: no more margin), is held back; reuse 40 (5,826) climbs as
    the second build; reuse 80 (5,101) finds the cap spent."""
    recorder = scripted(_Recorder(over=(20,)))
    outcome = run_search(tiny(tmp_path, trials=2, fidelity="build", top_k=3, builds_per_network=2))
    evs = outcome.final.evaluations
    assert [(c.arch, c.hw[-1].reuse_factor) for c in recorder.built] == [(_A, 20), (_A, 40), (_B, 160)]
    assert not evs[0].feasible and evs[0].binding == "lut" and evs[0].reward == 0.0
    assert evs[1].build_capped_by == [0] and evs[3].build_capped_by == [0, 2]
    assert evs[2].stage == "build" and evs[2].feasible and evs[2].build_capped_by is None
    first_a = next(n for n, ev in outcome.final.ranked() if ev.candidate.arch == _A)
    assert first_a == 2  # the measured variant that fits, before the held-back ones


def test_resume_keeps_the_cap(tmp_path: Path, scripted: Any) -> None:
    recorder = scripted(_Recorder())
    run_search(tiny(tmp_path, trials=2, fidelity="build"))
    copy = tmp_path.parent / f"{tmp_path.name}-other"
    shutil.copytree(tmp_path, copy)
    with pytest.raises(ConfigError, match=r"builds_per_network \(was 1, now <unset>\)"):
        run_search(tiny(copy, trials=2, fidelity="build", builds_per_network=0))
    with pytest.raises(ConfigError, match=r"builds_per_network \(was 1, now 2\)"):
        run_search(tiny(copy, trials=2, fidelity="build", builds_per_network=2))
    recorder.built.clear()
    outcome = run_search(tiny(tmp_path, trials=3, fidelity="build"))  # one more training
    evs = outcome.final.evaluations
    # A at reuse 320 (trial 5) finds A built by trial 0 in the study: held back; C (6) is built
    assert [(c.arch, c.hw[-1].reuse_factor) for c in recorder.built] == [(_C, 160)]
    assert evs[5].stage == CAPPED_STAGE and evs[5].build_capped_by == [0] and evs[6].stage == "build"


def test_a_negative_cap_is_bad_input(tmp_path: Path, run_cli: Any) -> None:
    with pytest.raises(InputError, match="--builds-per-network must be >= 0"):
        SearchConfig(board="zcu104", out=tmp_path, builds_per_network=-1).resolved()
    code, _out, err = run_cli(
        "search", "--board", "zcu104", "--fidelity", "build", "--builds-per-network", "-1", "--out", tmp_path
    )
    assert code == 2 and "--builds-per-network must be >= 0 (0: no cap), got -1" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_cap_one_builds_one_variant_in_the_farm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real C-sim gate and the farm's stand-in builder: its ledger holds one build per network."""
    _script(monkeypatch)
    outcome = run_search(tiny(tmp_path, trials=2, fidelity="build", top_k=3))
    evs = outcome.final.evaluations
    with Ledger(tmp_path / "trials" / "farm" / "ledger.sqlite") as ledger:
        done = ledger.entries("done")
    built = {n for n, ev in evs.items() if "build" in ev.rungs}
    assert len(done) == len(built) == 2 and built == {0, 4}
    assert {e.artifact for e in done} == {evs[n].rungs["build"]["artifact"] for n in built}
    assert [evs[n].stage for n in (1, 2, 3)] == [CAPPED_STAGE] * 3
    summary = finalize(outcome)
    assert summary["builds"]["held_back"] == [1, 2, 3]
    assert json.loads((tmp_path / "report.json").read_text())["builds"]["built"] == 2


def test_a_variant_that_never_climbed_ranks_after_its_networks_built_one() -> None:
    """Network A was built (7,000 LUTs measured); B, more accurate, came next, so a later variant of A
    (5,101 LUTs estimated) did not climb at top_k 1: neither built nor held back. Equally accurate,
    the built variant ranks first (its LUTs are measured), so the final retrain takes it."""
    from search.results import PhaseResult
    from search.strategies import PhasePlan

    def design(arch: Architecture, reuse: int, accuracy: float, lut: Measured, **fields: Any) -> Evaluation:
        ev = Evaluation(Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, reuse, "Resource"))))
        ev.accuracy, ev.epochs, ev.feasible, ev.hardware = accuracy, 1, True, {"lut": lut}
        for name, value in fields.items():
            setattr(ev, name, value)
        return ev

    result = PhaseResult(PhasePlan("joint", 2, hardware=True), "hil-joint-joint")
    result.evaluations = {
        0: design(_A, 20, 0.8, Measured(7_000.0, "synth"), stage="build", rungs={"build": {"ok": True}}),
        1: design(_B, 160, 0.9, Measured(8_000.0, "estimate"), stage="trained"),
        2: design(_A, 80, 0.8, Measured(5_101.0, "estimate"), stage="trained", reused_from=0),
        3: design(_A, 40, 0.8, Measured(5_826.0, "estimate"), stage=CAPPED_STAGE, build_capped_by=[0]),
    }
    assert [n for n, _ in result.ranked()] == [1, 0, 2, 3]
