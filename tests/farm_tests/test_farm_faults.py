"""Farm faults are not the design's: no license or a full disk re-queues the job; NFS ledgers refused."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from hil.errors import ConfigError
from hil.farm import ArtifactStore, FarmRunner, Ledger, make_job
from hil.farm.builders import BuildFailure, FarmFault, SleepBuilder
from hil.farm.builders._tools import run_tool
from hil.inventory import load_inventory
from hil.records import ErrorCode

_LICENSE = (
    "ERROR: [Common 17-345] A valid license was not found for feature 'Synthesis' and/or device 'xczu7ev'. "
    "Please run the Vivado License Manager for assistance in determining"
)


def _tool(tmp_path: Path, text: str) -> list[str]:
    """A stand-in tool that prints ``text`` (many lines of noise first, like Vivado) and exits 1."""
    script = tmp_path / "tool.py"
    noise = "for i in range(2000): print('INFO: [Synth 8-1] line', i)\n"
    script.write_text(f"{noise}print({text!r})\nraise SystemExit(1)\n")
    return [sys.executable, str(script)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (_LICENSE, "license"),
        ("ERROR: [Common 17-348] Failed to get the license for feature 'Implementation'", "license"),
        ("ERROR: [Common 17-349] Got license for feature 'Synthesis' but failed checkout", "license"),
        ("FLEXnet Licensing error:-15,570. License checkout failed", "license"),
        ("ERROR: write_checkpoint: No space left on device", "disk"),
        ("OSError: [Errno 28] ENOSPC while writing synth_1/top.dcp", "disk"),
    ],
)
def test_a_host_failure_in_the_tool_log_is_a_farm_fault(tmp_path: Path, text: str, reason: str) -> None:
    log = tmp_path / "tool.log"
    with pytest.raises(FarmFault) as caught:
        run_tool(_tool(tmp_path, text), cwd=tmp_path, log=log, deadline=time.monotonic() + 60,
                 code=ErrorCode.SYNTH, what="synthesis")  # fmt: skip
    assert caught.value.reason == reason and caught.value.code is ErrorCode.SYNTH
    assert text.split("]")[0][:20] in str(caught.value) and "\n" not in str(caught.value)


def test_a_design_error_stays_a_design_failure(tmp_path: Path) -> None:
    with pytest.raises(BuildFailure) as caught:
        run_tool(_tool(tmp_path, "ERROR: [Synth 8-439] module 'top' not found"), cwd=tmp_path,
                 log=tmp_path / "tool.log", deadline=time.monotonic() + 60, code=ErrorCode.SYNTH,
                 what="synthesis")  # fmt: skip
    assert not isinstance(caught.value, FarmFault) and caught.value.code is ErrorCode.SYNTH


def _run(tmp_path: Path, dense_onnx: Path) -> tuple[Ledger, object, str]:
    board = load_inventory().board("zcu104")
    job = make_job(dense_onnx, board, {}, builder="sleep", builder_params={"sleep_s": 0})
    ledger = Ledger(tmp_path / "bs" / "ledger.sqlite")
    summary = FarmRunner(ledger, ArtifactStore(tmp_path / "bs")).run(None, [job])
    return ledger, summary, job.key


def test_no_license_requeues_the_job_instead_of_failing_it(
    tmp_path: Path, dense_onnx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unlicensed(self: SleepBuilder, *args: object) -> None:
        raise FarmFault("license", f"synthesis: vivado failed on this host: {_LICENSE}", ErrorCode.SYNTH)

    monkeypatch.setattr(SleepBuilder, "build", unlicensed)
    ledger, summary, key = _run(tmp_path, dense_onnx)
    with ledger:
        entry = ledger.get(key)
        events = ledger.events(key)
    assert summary.requeued == [key] and summary.failed == [] and summary.done == []  # type: ignore[attr-defined]
    assert entry is not None and entry.state == "queued" and entry.holder is None and entry.error_code is None
    requeued = [e for e in events if e.event == "requeued"]
    assert requeued and requeued[0].detail["reason"] == "license"
    assert "17-345" in requeued[0].detail["message"]
    assert "failed" not in [e.event for e in events]


def test_a_build_refuses_to_start_on_a_full_disk(
    tmp_path: Path, dense_onnx: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = []
    monkeypatch.setattr(SleepBuilder, "disk_needed_bytes", lambda self, options=None: 2**62)  # 4 EiB
    monkeypatch.setattr(SleepBuilder, "build", lambda self, *a: started.append(1))
    ledger, _, key = _run(tmp_path, dense_onnx)
    with ledger:
        entry = ledger.get(key)
        requeued = [e for e in ledger.events(key) if e.event == "requeued"]
    assert started == []  # never started
    assert entry is not None and entry.state == "queued"
    message = requeued[0].detail["message"]
    assert requeued[0].detail["reason"] == "disk" and "\n" not in message
    assert "GiB free, the flow needs 4294967296.0 GiB; not starting" in message


def test_the_default_builder_needs_no_disk() -> None:
    assert SleepBuilder().disk_needed_bytes({}) == 0


def test_the_ledger_refuses_a_network_filesystem(
    run_cli, dense_onnx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hil.farm._storage as storage

    monkeypatch.setattr(storage, "filesystem_type", lambda path: "nfs4")
    with pytest.raises(ConfigError, match=r"on a network file system \(nfs4\)") as caught:
        Ledger(tmp_path / "bs" / "ledger.sqlite")
    assert isinstance(caught.value, storage.NetworkFilesystemError)
    assert not (tmp_path / "bs" / "ledger.sqlite").exists()
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(f"builder: sleep\nmodels: [{dense_onnx}]\nboards: [zcu104]\n")
    code, _, err = run_cli("farm", "run", jobs_file, "--artifacts", tmp_path / "bs")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "network file system (nfs4)" in err
    assert "Traceback" not in err
    for kind in ("cifs", "smb3", "fuse.sshfs"):
        monkeypatch.setattr(storage, "filesystem_type", lambda path, kind=kind: kind)
        with pytest.raises(storage.NetworkFilesystemError):
            Ledger(tmp_path / "bs" / "ledger.sqlite")
    monkeypatch.setattr(storage, "filesystem_type", lambda path: "ext4")
    Ledger(tmp_path / "bs" / "ledger.sqlite").close()  # a local disk is fine


def test_the_filesystem_detector_reads_proc_mounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hil.farm import _storage as storage

    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/export /mnt/farm\\040share nfs4 rw 0 0\n"
        "me@host:/x /mnt/farm\\040share/ssh fuse.sshfs rw 0 0\n"
    )
    real_path = Path
    monkeypatch.setattr(storage, "Path", lambda p: real_path(mounts) if p == "/proc/mounts" else real_path(p))
    assert storage.filesystem_type(real_path("/mnt/farm share/bitstreams")) == "nfs4"
    assert storage.filesystem_type(real_path("/mnt/farm share/ssh/b")) == "fuse.sshfs"
    assert storage.filesystem_type(real_path("/home/me")) == "ext4"
    assert storage.filesystem_type(real_path("/mnt/farm shared")) == "ext4"  # a prefix, not the mount
