"""A worker's archive is refused (one line) unless its manifest lists every file and it fits the limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.errors import BuildError, ConfigError
from hil.farm._store import DEFAULT_MAX_ARCHIVE_BYTES, ArtifactStore, archive_limit, pack_folder, seal


def _sealed_build(folder: Path, payload: bytes = b"bitstream" * 100) -> Path:
    (folder / "board").mkdir(parents=True)
    (folder / "board" / "design.bit").write_bytes(payload)
    (folder / "manifest.json").write_text(json.dumps({"status": "done"}))
    seal(folder)
    return folder


def _refused(store: ArtifactStore, archive: bytes, match: str, *, failed: bool = False) -> str:
    with pytest.raises(BuildError, match=match) as caught:
        store.install("k" * 64, archive, "holder000001", failed=failed)
    message = str(caught.value)
    assert "\n" not in message  # one line
    assert not store.path("k" * 64).exists() and not store.failed_path("k" * 64).exists()
    assert not store.staging_folders()  # nothing of it stays
    return message


def test_a_file_the_manifest_does_not_list_is_refused(tmp_path: Path) -> None:
    build = _sealed_build(tmp_path / "build")
    (build / "board" / "extra.sh").write_text("#!/bin/sh\nrm -rf ~\n")  # added after sealing
    store = ArtifactStore(tmp_path / "bs")
    message = _refused(store, pack_folder(build), r"'board/extra.sh' is not listed in manifest.json")
    assert message.startswith("build kkkkkkkkkkkk: cannot unpack")
    # the same for a kept failed build
    _refused(store, pack_folder(build), "is not listed", failed=True)


def test_an_oversized_archive_is_refused_before_it_is_written(tmp_path: Path) -> None:
    build = _sealed_build(tmp_path / "build", payload=b"\0" * 4096)
    store = ArtifactStore(tmp_path / "bs", max_archive_bytes=2048)
    _refused(store, pack_folder(build), r"'board/design.bit' takes the archive past its 2048 B limit")
    # the same archive under the default limit is fine
    assert ArtifactStore(tmp_path / "bs2").install("k" * 64, pack_folder(build), "holder000001").is_dir()


def test_a_manifest_that_lies_about_a_size_is_refused(tmp_path: Path) -> None:
    build = _sealed_build(tmp_path / "build")
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["files"]["board/design.bit"]["bytes"] = 10
    (build / "manifest.json").write_text(json.dumps(manifest))
    _refused(ArtifactStore(tmp_path / "bs"), pack_folder(build), r"is 900 B, manifest.json says 10 B")


def test_the_limit_comes_from_the_inventory_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIL_FARM_MAX_ARCHIVE_BYTES", raising=False)
    assert archive_limit() == DEFAULT_MAX_ARCHIVE_BYTES == 2 * 2**30
    monkeypatch.setenv("HIL_FARM_MAX_ARCHIVE_BYTES", "1000")
    assert archive_limit() == 1000 and archive_limit(5) == 5
    monkeypatch.setenv("HIL_FARM_MAX_ARCHIVE_BYTES", "lots")
    with pytest.raises(ConfigError, match="expected a positive number of bytes"):
        archive_limit()


def test_a_kept_failed_build_is_sealed_and_installs(tmp_path: Path, dense_onnx: Path) -> None:
    """A failed build kept with keep_failed travels as a sealed folder and passes the same checks."""
    from hil.farm import Ledger, build_one, make_job
    from hil.inventory import load_inventory

    params = {"sleep_s": 0, "fail": "SYNTH"}
    job = make_job(dense_onnx, load_inventory().board("zcu104"), {}, builder="sleep", builder_params=params)
    job = job.model_copy(update={"keep_failed": True})
    store = ArtifactStore(tmp_path / "bs")
    with Ledger(tmp_path / "bs" / "ledger.sqlite") as ledger:
        assert build_one(job, ledger, store)["state"] == "failed"
    kept = store.failed_path(job.key)
    files = json.loads((kept / "manifest.json").read_text())["files"]
    assert {"artifact/manifest.json", "artifact/report.json"} <= set(files)
    on_disk = {p.relative_to(kept).as_posix() for p in kept.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == set(files)  # every file of the kept folder is listed
