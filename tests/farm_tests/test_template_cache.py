"""The board template cache is built under a unique name and renamed into place whole."""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path

import pytest

boards = importlib.import_module("hil.convert.accelerator_boards")


def test_many_writers_leave_one_complete_folder_and_no_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path))
    entry = {"_tcl": {f"script{i}.tcl": f"# {i}\n" * 2000 for i in range(5)}}
    seen: list[list[str]] = []
    real_rename = os.rename

    def slow_rename(source: str | Path, target: str | Path) -> None:
        # every writer has filled its own folder before any rename: all of them race on it
        barrier.wait(timeout=10)
        real_rename(source, target)

    barrier = threading.Barrier(4)
    monkeypatch.setattr(boards.os, "rename", slow_rename)

    def write() -> None:
        folder = boards._template_dir("zcu104", entry)
        seen.append(sorted(p.name for p in (folder / "tcl_scripts").iterdir()))

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert seen == [sorted(entry["_tcl"])] * 4  # every caller saw every file
    parent = tmp_path / "accelerator_boards"
    assert [p.name for p in parent.iterdir()] == [next(parent.iterdir()).name]  # one folder, no staging
    folder = next(parent.iterdir())
    assert not folder.name.startswith(".")
    assert (folder / "tcl_scripts" / "script3.tcl").read_text() == "# 3\n" * 2000


def test_a_folder_seen_is_a_complete_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader never sees the final folder before its files: it appears only by the rename."""
    monkeypatch.setenv("HIL_CACHE_DIR", str(tmp_path))
    entry = {"_tcl": {"a.tcl": "a", "b.tcl": "b"}}
    final = []
    real_rename = os.rename

    def spy(source: str | Path, target: str | Path) -> None:
        final.append(sorted(p.name for p in (Path(source) / "tcl_scripts").iterdir()))
        assert not Path(target).exists()
        real_rename(source, target)

    monkeypatch.setattr(boards.os, "rename", spy)
    boards._template_dir("zcu104", entry)
    assert final == [["a.tcl", "b.tcl"]]
