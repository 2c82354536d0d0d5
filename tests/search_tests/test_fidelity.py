"""`hil search --fidelity build|board`: the best K climb to the farm and the (emulated) board.

What is checked: every candidate that reached C-sim is built by the farm into the search's own
artifact store (a ledger entry, done, with its artifact); the best design's hardware figures are
the rung's own (the farm report's ``estimate`` for the cost-model builder; ``emulated`` naming its
``estimate`` source for the board); failures (a Vivado build with no Vivado, a wrong answer on the
board) are recorded on the candidate and the search still finishes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from hil.farm import Ledger
from hil.inventory import SHIPPED_INVENTORY
from hil.records import ErrorCode
from search.ladder import Evaluation, Rung
from tests._shared import REPO

_ARGS = (
    "--board", "zcu104", "--luts", "20000", "--fps", "100000", "--trials", "2", "--epochs", "1",
    "--controller", "random", "--seed", "0", "--estimate-edge", "point", "--json",
)  # fmt: skip


def _search(run_cli: Any, out: Path, fidelity: str) -> tuple[int, dict[str, Any], dict[int, Evaluation]]:
    code, stdout, _ = run_cli("search", *_ARGS, "--fidelity", fidelity, "--out", str(out))
    summary = json.loads(stdout)
    study = optuna.load_study(study_name="hil-joint-joint", storage=f"sqlite:///{out / 'study.db'}")
    evs = {t.number: Evaluation.from_attrs(t.user_attrs) for t in study.trials if "candidate" in t.user_attrs}
    return code, summary, evs


def _climbed(evs: dict[int, Evaluation]) -> dict[int, Evaluation]:
    """The trials that reached C-sim (the best K): the ones that must have climbed further."""
    return {n: ev for n, ev in evs.items() if ev.csim is not None}


@pytest.mark.slow
def test_build_fidelity_builds_the_best_k_in_the_farm(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, s, evs = _search(run_cli, tmp_path, "build")
    assert code == 0 and s["valid"] and s["fidelity"] == "build"
    climbed = _climbed(evs)
    assert climbed
    with Ledger(tmp_path / "trials" / "farm" / "ledger.sqlite") as ledger:
        for ev in climbed.values():
            rung = ev.rungs["build"]
            assert rung["ok"] and rung["error_code"] == "OK" and ev.stage == "build"
            entry = ledger.get(rung["key"])
            assert entry is not None and entry.state == "done" and entry.artifact == rung["artifact"]
            assert (Path(rung["artifact"]) / "report.json").is_file()
            assert (Path(rung["artifact"]) / "board" / "bundle.json").is_file()
    best = evs[s["best"]["trial"]]
    report = json.loads((Path(best.rungs["build"]["artifact"]) / "report.json").read_text())
    for key in ("lut", "ff", "dsp", "throughput_fps"):  # the farm's figures, with the farm's provenance
        assert best.hardware[key].value == pytest.approx(report["metrics"][key]["value"])
        assert best.hardware[key].provenance == report["metrics"][key]["provenance"] == "estimate"
        assert s["best"]["provenance"][key] == "estimate"
    assert s["best"]["lut"] == pytest.approx(report["metrics"]["lut"]["value"])


@pytest.mark.slow
def test_board_fidelity_measures_emulated_and_a_wrong_answer_earns_zero(
    run_cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hil.board

    real, calls = hil.board.measure_bundle, []

    def first_one_wrong(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls.append(result.design_key)
        if len(calls) == 1:  # as if the board's outputs differed from the C-sim
            return result.model_copy(
                update={"error_code": ErrorCode.WRONG_ANSWER, "message": "3 of 16 outputs differ from C-sim"}
            )
        return result

    monkeypatch.setattr(hil.board, "measure_bundle", first_one_wrong)
    code, s, evs = _search(run_cli, tmp_path, "board")
    climbed = _climbed(evs)
    assert len(climbed) == len(calls) == 2  # both trained candidates are within the best K=3
    wrong = [ev for ev in climbed.values() if not ev.rungs["board"]["ok"]]
    right = [(n, ev) for n, ev in climbed.items() if ev.rungs["board"]["ok"]]
    assert len(wrong) == 1 and len(right) == 1
    bad = wrong[0]
    assert bad.rungs["board"]["error_code"] == "WRONG_ANSWER" and bad.stage == "board failed"
    assert not bad.feasible and bad.binding == "wrong_answer" and bad.reward == 0.0
    assert "WRONG_ANSWER" in str(bad.error)
    # The search finished and the measured design is the best one.
    number, good = right[0]
    assert code == 0 and s["valid"] and s["best"]["trial"] == number and good.stage == "board"
    assert good.rungs["build"]["ok"] and good.rungs["board"]["error_code"] == "OK"
    for key in ("latency_ms_p50", "latency_ms_p99"):  # only the board knows these: emulated, from estimate
        m = good.hardware[key]
        assert (m.provenance, m.source) == ("emulated", "estimate") and m.value > 0
        assert s["best"]["provenance"][key] == "emulated"
    board_fps = Rung.from_dict(good.rungs["board"]).metrics["throughput_fps"]
    assert (board_fps.provenance, board_fps.source) == ("emulated", "estimate") and board_fps.value > 0
    # An emulated figure never outranks its source: the build's estimate keeps deciding feasibility.
    fps = good.hardware["throughput_fps"]
    assert fps.provenance == "estimate"
    assert fps.value == pytest.approx(good.rungs["build"]["metrics"]["throughput_fps"]["value"])
    rows = {r["trial"]: r for r in s["top"]}
    failed = next(n for n, ev in climbed.items() if ev is bad)
    assert rows[failed]["stage"] == "board failed" and "WRONG_ANSWER" in rows[failed]["error"]


@pytest.mark.slow
def test_a_failed_build_is_recorded_and_the_search_finishes(
    run_cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The inventory in the working folder asks for Vivado builds; there is no Vivado here.
    raw = yaml.safe_load(SHIPPED_INVENTORY.read_text())
    raw["farm"]["builder"] = "vivado"
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # whatever this machine has, no Xilinx tools
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the farm's build process imports this checkout
    out = tmp_path / "out"
    code, s, evs = _search(run_cli, out, "board")
    climbed = _climbed(evs)
    assert climbed and code == 0 and s["valid"]
    with Ledger(out / "trials" / "farm" / "ledger.sqlite") as ledger:
        failed = ledger.entries("failed")
    assert len(failed) == len(climbed)
    for ev in climbed.values():
        rung = ev.rungs["build"]
        assert not rung["ok"] and rung["error_code"] != "OK" and "board" not in ev.rungs
        assert ev.stage == "build failed" and "no AMD tools on PATH" in str(ev.error)
        assert ev.feasible  # a missing tool says nothing against the design: its C-sim figures stand
    best = s["best"]
    assert best["provenance"]["accuracy"] == "torch" and best["csim_gate"] == "passed"
    assert best["provenance"]["lut"] == "estimate"
    assert all(r["error"] for r in s["top"] if r["trial"] in climbed)


def test_a_real_board_without_a_bitstream_builder_is_bad_input(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load(SHIPPED_INVENTORY.read_text())
    raw["boards"]["zcu104"]["host"] = "192.0.2.1"  # a real board (TEST-NET address: never contacted)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump(raw))
    code, _out, err = run_cli(
        "search", "--board", "zcu104", "--fidelity", "board", "--inventory", str(inventory),
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 2 and "no bitstream" in err and len(err.strip().splitlines()) == 1
