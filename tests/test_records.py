"""Records: canonical keys, provenance, schema versions, JSON lines, design keys."""

from __future__ import annotations

import json

import pytest

from hil.errors import RecordError
from hil.records import (
    FIDELITY_RANK,
    METRIC_KEYS,
    SCHEMA_VERSION,
    ErrorCode,
    MeasureResult,
    Metric,
    Provenance,
    append_results,
    design_key,
    read_results,
)
from tests._shared import REPO


def _result(key: str = "abc", lut: float = 1234.0) -> MeasureResult:
    return MeasureResult(
        design_key=key,
        board="zcu104",
        metrics={
            "lut": Metric(value=lut, provenance=Provenance.HLS),
            "throughput_fps": Metric(value=1300.0, provenance=Provenance.EMULATED, source=Provenance.HLS),
        },
        stage_seconds={"convert": 0.5},
        tool_versions={"hls4ml": "1.3.0"},
    )


def test_canonical_vocabulary_is_complete() -> None:
    assert set(METRIC_KEYS) == {
        "lut", "ff", "dsp", "bram_18k", "uram", "ii_cycles", "latency_cycles", "clock_mhz",
        "throughput_fps", "latency_ms_p50", "latency_ms_p99", "power_w", "accuracy",
        "design_lut", "design_ff", "design_dsp", "design_bram_18k", "design_uram",
    }  # fmt: skip
    assert {p.value for p in Provenance} == {
        "estimate", "hls", "synth", "impl", "csim", "bitexact", "board", "emulated", "standin",
    }  # fmt: skip
    codes = {e.value for e in ErrorCode}
    assert {"BOARD_UNREACHABLE", "DEPLOY", "DESIGN_FAULT", "BOARD_SETUP", "LOW_AGREEMENT"} <= codes
    assert len(ErrorCode) == 15


def test_a_standin_ranks_below_everything_and_board_above_everything() -> None:
    ranked = sorted(FIDELITY_RANK, key=FIDELITY_RANK.__getitem__)
    assert ranked[0] is Provenance.STANDIN and ranked[-1] is Provenance.BOARD
    assert Provenance.EMULATED not in FIDELITY_RANK  # resolved through its source


def test_only_the_agent_result_sets_board_provenance() -> None:
    """``Provenance.BOARD`` is assigned in exactly one place: run_provenance of a real-pynq agent result."""
    import re

    from hil.board import run_provenance

    # a "set" gives a number BOARD provenance: returned, passed as provenance=, or assigned
    setter = re.compile(r"(return\s+|provenance\s*=\s*|[^=!<>]=\s*)Provenance\.BOARD\b")
    sites = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for path in sorted((REPO / "hil").rglob("*.py")) + sorted((REPO / "search").rglob("*.py"))
        for line in path.read_text().splitlines()
        if setter.search(line)
    ]
    assert sites == ["hil/board/_result.py: return Provenance.BOARD"], sites
    real = {"versions": {"pynq": "3.1.2"}, "device": {"standin": False, "class": "pynq.X"}}
    assert run_provenance(real) is Provenance.STANDIN  # no bundle to check the bitstream against
    for standin in (
        {"versions": {"pynq": "4.0.0"}, "device": {"standin": True}},
        {"versions": {"pynq": "4.0.0"}},  # an agent that does not say which device: not a board
    ):
        assert run_provenance(standin) is Provenance.STANDIN
    assert run_provenance({"emulated": True}) is Provenance.EMULATED


def test_version_1_records_are_still_read(tmp_path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(
        '{"schema_version": 1, "design_key": "x", "metrics": {"lut": {"value": 10, "provenance": "hls"}}}\n'
    )
    (old,) = read_results(path)
    assert old.schema_version == 1 and old.value("lut") == 10.0 and SCHEMA_VERSION == 2


def test_jsonl_round_trip_keeps_every_field(tmp_path) -> None:
    path = tmp_path / "records.jsonl"
    first, second = (
        _result("k1", 100.0),
        _result("k2", 200.0).model_copy(update={"error_code": ErrorCode.TIMING, "message": "WNS -0.3 ns"}),
    )
    assert append_results(path, [first]) == 1
    append_results(path, [second])
    back = read_results(path)
    assert back == [first, second]
    assert back[1].error_code is ErrorCode.TIMING and not back[1].ok
    raw = json.loads(path.read_text().splitlines()[1])
    assert raw["error_code"] == "TIMING" and raw["schema_version"] == SCHEMA_VERSION
    assert raw["metrics"]["throughput_fps"] == {
        "value": 1300.0, "provenance": "emulated", "source": "hls", "basis": None
    }  # fmt: skip


def test_bitexact_accuracy_ranks_like_csim_and_round_trips_in_the_same_schema(tmp_path) -> None:
    """The emulator's accuracies carry ``bitexact``: ranked as ``csim`` (the same outputs, checked), stored
    in schema 2 as a plain word, and a record written before the word existed still reads."""
    assert FIDELITY_RANK[Provenance.BITEXACT] == FIDELITY_RANK[Provenance.CSIM]
    path = tmp_path / "records.jsonl"
    record = _result().model_copy(
        update={"metrics": {"accuracy": Metric(value=0.71, provenance=Provenance.BITEXACT)}}
    )
    append_results(path, [record])
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == SCHEMA_VERSION == 2
    assert raw["metrics"]["accuracy"]["provenance"] == "bitexact"
    (back,) = read_results(path)
    assert back == record and back.metrics["accuracy"].provenance is Provenance.BITEXACT
    path.write_text(
        '{"schema_version": 2, "design_key": "x", '
        '"metrics": {"accuracy": {"value": 0.7, "provenance": "csim"}}}\n'
    )
    (old,) = read_results(path)
    assert old.metrics["accuracy"].provenance is Provenance.CSIM


def test_unknown_schema_version_is_refused_with_line_number(tmp_path) -> None:
    path = tmp_path / "records.jsonl"
    append_results(path, [_result()])
    line = json.loads(path.read_text())
    line["schema_version"] = 99
    with open(path, "a") as handle:
        handle.write(json.dumps(line) + "\n")
    with pytest.raises(
        RecordError, match=r"records.jsonl:2: record schema_version 99 is not supported .*reads versions 1, 2"
    ):
        read_results(path)


def test_malformed_records_name_line_and_field(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"schema_version": 1, "design_key": "x", "metrics": {"luts": {"value": 1, "provenance": "hls"}}}\n'
    )
    with pytest.raises(RecordError, match=r"bad.jsonl:1: field metrics: .*luts"):
        read_results(path)
    path.write_text("not json\n")
    with pytest.raises(RecordError, match=r"bad.jsonl:1: not a JSON object"):
        read_results(path)


def test_emulated_metric_must_name_its_source() -> None:
    with pytest.raises(ValueError, match="emulated metric must name"):
        Metric(value=1.0, provenance=Provenance.EMULATED)


def test_design_key_hashes_every_input() -> None:
    options = {"precision": "ap_fixed<16,6>", "reuse_factor": 1, "io_type": "io_stream"}
    versions = {"hls4ml": "1.3.0", "g++": "12.2.0"}
    base = design_key(b"model", options, part="xczu7ev-ffvc1156-2-e", clock_mhz=200, versions=versions)
    assert len(base) == 64
    assert base == design_key(
        b"model",
        dict(reversed(list(options.items()))),
        part="xczu7ev-ffvc1156-2-e",
        clock_mhz=200.0,
        versions=versions,
    )
    variants = [
        design_key(b"model2", options, part="xczu7ev-ffvc1156-2-e", clock_mhz=200, versions=versions),
        design_key(
            b"model",
            {**options, "reuse_factor": 2},
            part="xczu7ev-ffvc1156-2-e",
            clock_mhz=200,
            versions=versions,
        ),
        design_key(b"model", options, part="xczu9eg-ffvb1156-2-e", clock_mhz=200, versions=versions),
        design_key(b"model", options, part="xczu7ev-ffvc1156-2-e", clock_mhz=250, versions=versions),
        design_key(
            b"model",
            options,
            part="xczu7ev-ffvc1156-2-e",
            clock_mhz=200,
            versions={**versions, "g++": "13.1"},
        ),
        design_key(
            b"model",
            options,
            part="xczu7ev-ffvc1156-2-e",
            clock_mhz=200,
            versions={**versions, "hls4ml": "1.4"},
        ),
    ]
    assert len({base, *variants}) == 7
