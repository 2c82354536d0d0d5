"""`hil costmodel` end to end, in-process: CV figures, exit codes, bad input, records round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.cli import main
from hil.cost import LayerKind, LayerSpec, Strategy, estimate, layer_to_dict
from hil.records import MeasureResult, Metric, Provenance, append_results

METRICS = ("lut", "ff", "dsp", "bram_18k", "latency")


def _data_args(paths: list[Path]) -> list[str]:
    return [a for p in paths for a in ("--data", str(p))]


def test_cv_within_threshold(costdata, capsys) -> None:
    code = main(["costmodel", "cv", *_data_args(costdata), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["rows"] == 66
    for metric in METRICS:
        assert out["metrics"][metric]["mape"] <= 0.15, metric
        assert out["metrics"][metric]["kendall_tau"] >= 0.85, metric
    assert out["metrics"]["bram_18k"]["excluded_zero"] > 0  # zero-BRAM rows are left out of MAPE, and counted


def test_check_shipped_params_and_plot(costdata, capsys, tmp_path) -> None:
    png = tmp_path / "check.png"
    assert main(["costmodel", "check", *_data_args(costdata), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "MAPE" in text and "latency_min" in text
    assert png.stat().st_size > 10_000


def test_check_exits_1_above_threshold(costdata, capsys) -> None:
    assert main(["costmodel", "check", *_data_args(costdata), "--max-mape", "0.001", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failed"]


def test_calibrate_writes_params_check_reads_them(costdata, capsys, tmp_path) -> None:
    out = tmp_path / "p.json"
    assert main(["costmodel", "calibrate", *_data_args(costdata), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["format"] == "hil.cost.params/1"
    assert main(["costmodel", "check", *_data_args(costdata), "--params", str(out), "--json"]) == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "empty file"),
        ("layer,n_in,n_out,seq_len,rf_eff,bram_18k,lut,ff,dsp48e,latency_min\n", "column 'latency_max'"),
        (
            "layer,n_in,n_out,seq_len,rf_eff,bram_18k,lut,ff,dsp48e,latency_min,latency_max\n"
            "dense,16,1,1,4,0,2191,1623,4,9,10\ndense,16,1,1,4,0,abc,1623,4,9,10\n",
            "row 2, column 'lut'",
        ),
        ("layer,n_in,n_out,seq_len,rf_eff,bram_18k,lut,ff,dsp48e,latency_min,latency_max\n", "no data rows"),
    ],
)
def test_bad_csv_is_one_line_exit_2(tmp_path, capsys, content, needle) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    assert main(["costmodel", "check", "--data", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("hil: error:")
    assert str(bad) in err and needle in err


def test_bad_params_file_exit_2(costdata, tmp_path, capsys) -> None:
    params = tmp_path / "p.json"
    params.write_text('{"format": "hil.cost.params/1", "coefficients": {"lut.layer": -1}}')
    assert main(["costmodel", "check", *_data_args(costdata), "--params", str(params)]) == 2
    assert str(params) in capsys.readouterr().err


def _record(i: int, layers: list[LayerSpec], scale: float) -> MeasureResult:
    truth = estimate(layers).totals
    metrics = {
        k: Metric(value=truth[k] * scale, provenance=Provenance.HLS) for k in ("lut", "ff", "dsp", "bram_18k")
    }
    metrics["latency_cycles"] = Metric(value=truth["latency_cycles"] * scale, provenance=Provenance.HLS)
    return MeasureResult(
        design_key=f"d{i}",
        metrics=metrics,
        candidate={"layers": [layer_to_dict(s) for s in layers], "clock_mhz": 200.0},
    )


def test_records_round_trip_through_check(tmp_path, capsys) -> None:
    path = tmp_path / "results.jsonl"
    nets = [
        [
            LayerSpec(LayerKind.CONV1D, (64, 8), (64, 16), (3,), reuse_factor=rf, strategy=Strategy.RESOURCE),
            LayerSpec(LayerKind.ACTIVATION, (64, 16), (64, 16), activation="relu"),
            LayerSpec(LayerKind.FLATTEN, (64, 16), (1024,)),
            LayerSpec(LayerKind.DENSE, (1024,), (10,), reuse_factor=256, strategy=Strategy.RESOURCE),
        ]
        for rf in (4, 8, 24)
    ]
    append_results(path, [_record(i, n, 1.0) for i, n in enumerate(nets)])
    assert main(["costmodel", "check", "--data", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 3 and out["metrics"]["lut"]["mape"] < 1e-3
    append_results(path, [_record(9, nets[0], 10.0)])
    assert main(["costmodel", "check", "--data", str(path), "--json"]) == 1
    capsys.readouterr()


def test_record_without_layers_names_the_field(tmp_path, capsys) -> None:
    path = tmp_path / "r.jsonl"
    append_results(
        path,
        [
            MeasureResult(
                design_key="x",
                metrics={"lut": Metric(value=5, provenance=Provenance.HLS)},
                candidate={"clock_mhz": 100},
            )
        ],
    )
    assert main(["costmodel", "check", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert "record 1" in err and "candidate.layers" in err
