"""What an overnight run shows: a progress bar on a terminal, plain lines in a log, a summary at the end."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from hil.cli._farm_view import RunDisplay, format_eta, summary_tables
from hil.farm import BuildJob, ProgressEvent, RunCounts


def _job(n: int) -> BuildJob:
    return BuildJob(model=f"/models/net{n}.onnx", board="zcu104", part="xczu7ev-ffvc1156-2-e", clock_mhz=200,
                    builder="vivado", key=f"{n:02d}" + "a" * 62)  # fmt: skip


def _events() -> list[ProgressEvent]:
    a, b = _job(1), _job(2)
    return [
        ProgressEvent("started", a, "attempt 1 on w1", RunCounts(2, 1, 1, 0, 0, 0, None)),
        ProgressEvent("done", a, "OK in 5400.0 s", RunCounts(2, 1, 0, 1, 0, 0, 5400.0)),
        ProgressEvent("failed", b, "TIMING: timing not met", RunCounts(2, 0, 0, 1, 1, 0, None)),
    ]


def test_plain_lines_when_not_a_terminal() -> None:
    sink = io.StringIO()
    with RunDisplay(Console(file=sink, width=200), 2, live=False) as display:
        for event in _events():
            display.on_event(event)
    lines = sink.getvalue().splitlines()
    assert len(lines) == 3 and "\x1b[" not in sink.getvalue()
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d done +net1\.onnx -> zcu104 \[vivado\] 01aaaaaaaaaa", lines[1]
    )
    assert lines[1].endswith("| 1/2: queued 1, running 0, done 1, failed 0 | ETA 1:30:00")
    assert "failed    net2.onnx" in lines[2] and "TIMING: timing not met" in lines[2]


def test_progress_bar_on_a_terminal() -> None:
    sink = io.StringIO()
    console = Console(file=sink, width=160, force_terminal=True, color_system="standard")
    with RunDisplay(console, 2, live=True) as display:
        for event in _events():
            display.on_event(event)
    text = sink.getvalue()
    assert "\x1b[" in text  # drawn, not printed line by line
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert "2/2" in plain and "queued 0, running 0, done 1, failed 1" in plain
    assert "TIMING: timing not met" in plain  # failures are logged above the bar


def test_quiet_prints_nothing() -> None:
    sink = io.StringIO()
    with RunDisplay(Console(file=sink), 2, live=True, quiet=True) as display:
        for event in _events():
            display.on_event(event)
    assert sink.getvalue() == ""


def test_summary_by_state_and_error_code_with_hours_per_build() -> None:
    rows = [
        {"key": "a" * 64, "model": "n.onnx", "board": "zcu104", "builder": "vivado", "state": "done",
         "attempts": 1, "worker": "w1", "seconds": 7200.0, "error_code": "OK", "message": "", "lut": 1000.0,
         "provenance": "impl"},
        {"key": "b" * 64, "model": "n.onnx", "board": "zcu104", "builder": "vivado", "state": "done",
         "attempts": 2, "worker": "w2", "seconds": 3600.0, "error_code": "OK", "message": "", "lut": None,
         "provenance": None},
        {"key": "c" * 64, "model": "n.onnx", "board": "zcu104", "builder": "vivado", "state": "failed",
         "attempts": 1, "worker": "w1", "seconds": 1800.0, "error_code": "TIMING", "message": "WNS -0.2 ns",
         "lut": None, "provenance": None},
    ]  # fmt: skip
    payload = {"built": 2, "skipped": 5, "waited": 1, "failed": 1, "seconds": 9000.0}
    sink = io.StringIO()
    console = Console(file=sink, width=200)
    for part in summary_tables(rows, payload):
        console.print(part)
    text = sink.getvalue()
    assert "2 built, 5 cache hits (already done), 1 built by other processes" in text and "2.500 h" in text
    outcomes = text[text.index("outcomes by state and error code") : text.index("jobs")]
    cells = [
        [c.strip() for c in line.split("│")[1:-1]] for line in outcomes.splitlines() if line.startswith("│")
    ]
    assert cells == [["done", "OK", "2", "3.000", "1.5000", "2.0000"],  # builds, hours, per build, longest
                     ["failed", "TIMING", "1", "0.500", "0.5000", "0.5000"]]  # fmt: skip


def test_eta_format() -> None:
    assert (
        format_eta(None) == "-" and format_eta(59.6) == "0:01:00" and format_eta(3 * 3600 + 62) == "3:01:02"
    )


def test_status_watch_until_idle_on_an_idle_ledger(run_cli, tmp_path: Path) -> None:
    from hil.farm import Ledger

    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.enqueue("k", {"model": "/m/net.onnx", "board": "zcu104", "builder": "sleep"})
        ledger.mark_finished("k", ok=False, worker="w1", seconds=2.0, error_code="SYNTH", message="boom")
    code, out, err = run_cli("farm", "status", "--watch", "--until-idle", "--interval", "0.1",
                             "--artifacts", tmp_path)  # fmt: skip
    assert code == 0, err
    assert out.count("--- ") == 1 and "1 failed" in out and "owner: none" in out and "boom" in out
