"""The artifact store serves only intact builds: hashes checked on every hit, damage rebuilt, all recorded."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from hil.errors import BuildError
from hil.farm import ArtifactStore, FarmRunner, Ledger, build_one, make_job
from hil.farm._store import pack_folder, seal
from hil.inventory import load_inventory


def _flip_one_byte(path: Path, at: int = 7) -> None:
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_byte_is_rebuilt_and_a_failed_rebuild_is_failed(
    run_cli, dense_onnx: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bs"
    log_file = tmp_path / "builds.jsonl"
    board = load_inventory().board("zcu104")
    job = make_job(dense_onnx, board, {}, builder="sleep",
                   builder_params={"sleep_s": 0.05, "log_file": str(log_file)})  # fmt: skip
    store = ArtifactStore(root)
    with Ledger(root / "ledger.sqlite") as ledger:
        assert build_one(job, ledger, store)["state"] == "done"
        manifest = store.manifest(job.key)
        assert set(manifest["files"]) == {"report.json"} and store.verify(job.key) is None
        assert ledger.get(job.key).manifest_sha256 == store.manifest_sha256(job.key)  # type: ignore[union-attr]
        assert build_one(job, ledger, store)["cache_hit"] is True

        _flip_one_byte(store.path(job.key) / "report.json")  # one bit of one byte
        again = build_one(job, ledger, store)
        assert again["state"] == "done" and again["cache_hit"] is False and again["attempts"] == 2
        assert len(log_file.read_text().splitlines()) == 2  # really rebuilt
        assert store.verify(job.key) is None
        quarantined = list((root / "quarantine").iterdir())
        assert len(quarantined) == 1 and quarantined[0].name.startswith(job.key)

        # the manifest itself edited (say, a failure made to look OK): its hash is in the ledger
        text = (
            (store.path(job.key) / "manifest.json")
            .read_text()
            .replace('"schema_version"', '"schema_version" ')
        )
        (store.path(job.key) / "manifest.json").write_text(text)
        monkeypatch.setenv("HIL_SLEEP_FAIL", "SYNTH")  # ...and the tools broke since: the rebuild fails
        failed = build_one(job, ledger, store)
        assert failed["state"] == "failed" and failed["error_code"] == "SYNTH"
        entry = ledger.get(job.key)
        assert entry is not None and entry.state == "failed" and entry.artifact is None

        monkeypatch.delenv("HIL_SLEEP_FAIL")
        assert build_one(job, ledger, store)["state"] == "done"  # a re-run retries the failure
        shutil.rmtree(store.path(job.key))  # the artifact deleted behind the ledger's back
        monkeypatch.setenv("HIL_SLEEP_FAIL", "HLS")
        missing = build_one(job, ledger, store)
        assert missing["state"] == "failed" and missing["error_code"] == "HLS"

    code, out, err = run_cli("farm", "status", "--artifacts", root, "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["counts"]["failed"] == 1
    history = [(h["event"], h["detail"].get("reason") or h["detail"].get("error_code"))
               for h in status["jobs"][0]["history"]]  # fmt: skip
    assert ("invalidated", "report.json: sha256 differs from the manifest (corrupted)") in history
    assert (
        "invalidated",
        "manifest.json changed since the build (sha256 differs from the ledger's)",
    ) in history
    assert ("invalidated", "artifact missing") in history
    assert [h for h in history if h[0] in ("done", "failed")] == [
        ("done", "OK"), ("done", "OK"), ("failed", "SYNTH"), ("done", "OK"), ("failed", "HLS"),
    ]  # fmt: skip
    code, out, _ = run_cli("farm", "status", "--artifacts", root)
    assert code == 0 and "invalidated" in out and "failed" in out


@pytest.mark.slow
def test_corrupted_csim_library_of_an_estimate_build_is_rebuilt(
    run_cli, dense_onnx: Path, tmp_path: Path
) -> None:
    """A real build (hls4ml project, C-sim library, board bundle): a flipped byte in csim.so is not served."""
    root = tmp_path / "bs"
    args = ("build", dense_onnx, "--board", "zcu104", "--artifacts", root, "--json")
    code, out, err = run_cli(*args)
    assert code == 0, err
    first = json.loads(out)
    library = Path(first["artifact"]) / "board" / "csim.so"
    assert (
        library.is_file()
        and "board/csim.so" in json.loads((library.parents[1] / "manifest.json").read_text())["files"]
    )
    _flip_one_byte(library, at=library.stat().st_size // 2)
    code, out, err = run_cli(*args)
    assert code == 0, err
    second = json.loads(out)
    assert second["cache_hit"] is False and second["attempts"] == 2 and second["key"] == first["key"]
    with Ledger(root / "ledger.sqlite") as ledger:
        reasons = [e.detail.get("reason") for e in ledger.events(first["key"]) if e.event == "invalidated"]
    assert reasons == ["board/csim.so: sha256 differs from the manifest (corrupted)"]
    assert ArtifactStore(root).verify(first["key"]) is None


def _archive(add: callable) -> bytes:  # type: ignore[valid-type]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        add(tar)
    return buffer.getvalue()


def _file(tar: tarfile.TarFile, name: str, data: bytes = b"x") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("parent", "points outside"),
        ("absolute", "points outside"),
        ("symlink", "not a regular file"),
        ("hardlink", "not a regular file"),
    ],
)
def test_a_worker_archive_cannot_write_outside_its_folder(tmp_path: Path, what: str, message: str) -> None:
    escape = {"parent": "../escaped.txt", "absolute": str(tmp_path / "escaped.txt")}.get(what, "report.json")
    # the manifest lists the hostile member with its true hash: only the path/type checks stand
    files = {escape: {"bytes": 1, "sha256": hashlib.sha256(b"x").hexdigest()}}

    def add(tar: tarfile.TarFile) -> None:
        _file(tar, "manifest.json", json.dumps({"files": files}).encode())
        if what in ("parent", "absolute"):
            _file(tar, escape)
        else:
            link = tarfile.TarInfo("report.json")
            link.type = tarfile.SYMTYPE if what == "symlink" else tarfile.LNKTYPE
            link.linkname = "/etc/passwd"
            tar.addfile(link)

    store = ArtifactStore(tmp_path / "bs")
    (tmp_path / "bs").mkdir()
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(BuildError, match=message):
        store.install("k" * 64, _archive(add), "holder000001")
    # nothing was written anywhere: not beside the staging folder ("../" from it lands in bs/),
    # not beside the store, not as a link; and the staging folder itself is gone
    assert sorted(tmp_path.rglob("*")) == before


def test_an_archive_damaged_in_transit_is_refused(tmp_path: Path) -> None:
    build = tmp_path / "build"
    (build / "board").mkdir(parents=True)
    (build / "board" / "design.bit").write_bytes(b"bitstream" * 100)
    (build / "manifest.json").write_text(json.dumps({"status": "done"}))
    seal(build)
    (build / "board" / "design.bit").write_bytes(b"bitstreaM" * 100)  # changed after sealing
    store = ArtifactStore(tmp_path / "bs")
    with pytest.raises(BuildError, match=r"does not match its manifest \(board/design.bit: sha256 differs"):
        store.install("k" * 64, pack_folder(build), "holder000001")
    assert not store.path("k" * 64).exists()


def test_a_stored_build_made_by_other_tools_is_not_served(dense_onnx: Path, tmp_path: Path) -> None:
    """Belt and braces: a job whose key predates tool pinning is checked against the manifest's tools."""
    store = ArtifactStore(tmp_path)
    job = make_job(
        dense_onnx, load_inventory().board("zcu104"), {}, builder="sleep", builder_params={"sleep_s": 0}
    )
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        assert build_one(job, ledger, store)["state"] == "done"
        runner = FarmRunner(ledger, store)
        assert runner.hit_problem(job) is None
        other = job.model_copy(update={"tools": {"sleep": "2"}})
        assert runner.hit_problem(other) == "built with other tools (sleep 1, the job expects 2)"


def test_the_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("hil").joinpath("py.typed").is_file()
