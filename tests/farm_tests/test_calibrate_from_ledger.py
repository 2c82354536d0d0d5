"""``hil costmodel calibrate --from-ledger``: refit from the farm's finished builds, never stand-ins.

The builds are the estimate builder's (CI has no Vivado); their exported records are relabelled as
csynth figures (``hls``) 20 % above the estimate, as a real Vivado HLS run of the same jobs would
report them, so the refit has measured data; then every build is declared a stand-in, and the
calibration must find no data at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.farm import ArtifactStore, Ledger, build_one, make_job
from hil.inventory import load_inventory
from hil.records import MeasureResult, Metric, Provenance


def _as_measured(records: list[MeasureResult]) -> list[MeasureResult]:
    out = []
    for record in records:
        metrics = {
            key: Metric(value=None if m.value is None else m.value * 1.2, provenance=Provenance.HLS)
            for key, m in record.metrics.items()
            if key in ("lut", "ff", "dsp", "bram_18k", "latency_cycles")
        }
        out.append(record.model_copy(update={"metrics": metrics}))
    return out


def test_calibrate_from_ledger_refits_on_real_builds_never_stand_ins(
    run_cli, dense_onnx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hil.farm._export as export

    ledger, store = Ledger(tmp_path / "bs" / "ledger.sqlite"), ArtifactStore(tmp_path / "bs")
    board = load_inventory().board("zcu104")
    with ledger:
        for reuse in (1, 2, 4):
            assert (
                build_one(make_job(dense_onnx, board, {"reuse_factor": reuse}), ledger, store)["state"]
                == "done"
            )
    real = export.build_records
    monkeypatch.setattr(export, "build_records", lambda s, key: _as_measured(real(s, key)))
    out = tmp_path / "p.json"
    args = ("costmodel", "calibrate", "--from-ledger", "--artifacts", tmp_path / "bs", "--out", out)
    code, stdout, err = run_cli(*args, "--json")
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["rows"] >= 3 and payload["standin_skipped"] == 0
    assert set(payload["mape"]["lut"]) == {"before", "after"}
    assert payload["mape"]["lut"]["after"] < payload["mape"]["lut"]["before"]  # the refit learnt the 20 %
    assert json.loads(out.read_text())["format"] == "hil.cost.params/2"
    code, stdout, err = run_cli(*args)
    assert code == 0 and "MAPE before" in stdout, err
    standin = MeasureResult(design_key="s", metrics={"lut": Metric(value=1.0, provenance=Provenance.STANDIN)})
    assert export.is_standin(standin) and not export.is_standin(_as_measured([standin])[0])
    monkeypatch.setattr(export, "is_standin", lambda record: True)
    code, _stdout, err = run_cli(*args)
    assert code == 2 and "3 stand-in build(s) skipped" in err
