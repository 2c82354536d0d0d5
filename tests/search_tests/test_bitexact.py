"""The gate and the final accuracy by the bit-exact emulator on whole splits, C-sim on a sample beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hil.inventory import load_inventory
from search.datasets import load_dataset
from search.ladder import Ladder, Target
from search.space import Architecture, Candidate, LayerHw
from search.training import TrainRecipe

BOARD = load_inventory().board("zcu104")


def _small() -> Candidate:
    arch = Architecture((4,), (3,), (True,), ())
    return Candidate(arch, (LayerHw(4, 4, 9, "Resource"), LayerHw(4, 0, 160, "Resource")), "io_stream", 200.0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Ladder, Any]:
    data = load_dataset("digits", subset=300)
    folder = tmp_path_factory.mktemp("bitexact")
    ladder = Ladder(data, Target(BOARD, 20_000, 100_000), TrainRecipe(epochs=2), csim_n=40, artifacts=folder)
    return ladder, ladder.evaluate(_small(), 1)


@pytest.mark.slow
def test_the_gate_scores_the_whole_validation_split_bit_exactly(trained: tuple[Ladder, Any]) -> None:
    ladder, ev = trained
    ladder.gate(ev)
    csim = ev.csim
    assert ev.csim_gate == "passed" and csim is not None and csim["provenance"] == "bitexact"
    assert csim["n_inputs"] == len(ladder.data.x_val) > 40 and csim["fallback"] is None
    # the emulator was checked against the C simulation on the sample, element for element
    assert csim["emulator"]["n"] == 40 == csim["csim_sample"]["n_inputs"]
    assert csim["emulator"]["bit_identical"] == 1.0
    assert csim["csim_sample"]["argmax_agreement"] >= 0.98 and csim["argmax_agreement"] >= 0.98


@pytest.mark.slow
def test_a_refused_or_wrong_emulator_falls_back_to_the_csim_sample(
    trained: tuple[Ladder, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import search.bitexact

    ladder, ev = trained
    real = search.bitexact._emulate
    monkeypatch.setattr(search.bitexact, "_emulate", lambda _d, _x: (None, "refused: emulator: layer X"))
    ladder.gate(ev)
    assert ev.csim is not None and ev.csim["provenance"] == "csim" and ev.csim["n_inputs"] == 40
    assert ev.csim["emulator"]["refused"].startswith("refused") and ev.csim_gate == "passed"

    def off_by_one(design: Any, x: np.ndarray) -> tuple[np.ndarray | None, str | None]:
        out, reason = real(design, x)
        assert out is not None
        out = out.copy()
        out[3, 0] += 1.0  # one element of the sample differs from the C simulation
        return out, reason

    monkeypatch.setattr(search.bitexact, "_emulate", off_by_one)
    ladder.gate(ev)
    assert ev.csim is not None and ev.csim["provenance"] == "csim" and ev.csim["n_inputs"] == 40
    assert ev.csim["emulator"]["bit_identical"] < 1.0 and "differs" in ev.csim["fallback"]

    def wrong_shape(design: Any, x: np.ndarray) -> tuple[np.ndarray | None, str | None]:
        out, reason = real(design, x)
        assert out is not None
        return out[:, :-1], reason  # one output too few: cannot even be compared

    monkeypatch.setattr(search.bitexact, "_emulate", wrong_shape)
    ladder.gate(ev)
    assert ev.csim is not None and ev.csim["provenance"] == "csim" and ev.csim_gate == "passed"
    assert ev.csim["emulator"]["error"].startswith("error: cannot compare")


_ARGS = ("--board", "zcu104", "--luts", "20000", "--fps", "100000", "--trials", "3", "--epochs", "1",
         "--top-k", "1", "--controller", "random", "--estimate-edge", "point", "--json")  # fmt: skip


@pytest.mark.slow
def test_a_retrained_design_that_fails_the_gate_is_replaced_by_the_next_best(
    run_cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    import search.final

    real = search.final._score
    calls: list[int] = []

    def strict_first(design: Any, hls: Any, model: Any, data: Any, cfg: Any, *rest: Any) -> None:
        calls.append(design.trial)  # the first retrain meets an impossible gate (agreement > 1)
        cfg = dataclasses.replace(cfg, min_agreement=1.01) if len(calls) == 1 else cfg
        real(design, hls, model, data, cfg, *rest)

    monkeypatch.setattr(search.final, "_score", strict_first)
    code, out, _ = run_cli("search", *_ARGS, "--final-epochs", "1", "--out", str(tmp_path))
    s = json.loads(out)
    data = load_dataset("digits")
    final, best = s["final"], s["best"]
    assert code == 0 and len(calls) == 2 and len(final) == 2
    failed = next(d for d in final if d["gate"] == "failed")
    assert failed["trial"] == calls[0] and "gate" in failed["error"]
    assert best["trial"] == calls[1] != calls[0] and best["retrained"]
    # the test accuracy is the emulator's on the whole test split, checked against C-sim beside it
    assert best["provenance"]["test_accuracy"] == "bitexact" and best["test_n"] == len(data.x_test)
    passed = next(d for d in final if d["gate"] == "passed")
    assert passed["gate_check"]["n_inputs"] == len(data.x_val)
    assert passed["csim"]["emulator"]["bit_identical"] == 1.0 and passed["csim"]["split"] == "test"
    assert best["test_accuracy"] == passed["csim"]["hls_accuracy"] > 0.2  # one epoch: above chance
