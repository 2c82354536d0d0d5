"""hil's accelerator board plug-ins for hls4ml's VivadoAccelerator backend (zcu104).

Why patch in memory, at run time: hls4ml reads its board list from ``supported_boards.json``
inside site-packages and its templates by paths relative to its own writer; editing
site-packages would be lost on reinstall and is not allowed here. ``ensure_registered()``
instead (1) wraps the ``json`` module the backend's config module reads the board list with,
so the loaded list also holds hil's boards, and (2) makes the config's template-path methods
return hil's files (written once under $HIL_CACHE_DIR) for those boards. Idempotent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from hil.convert.accelerator_boards._zcu104 import ZCU104

__all__ = ["ACCELERATOR_BOARDS", "ensure_registered", "register_accelerator_boards"]

_log = logging.getLogger(__name__)

#: hil's board entries, by hls4ml board name.
ACCELERATOR_BOARDS: dict[str, dict[str, Any]] = {"zcu104": ZCU104}

_lock = threading.Lock()
_done = False


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


class _JsonWithBoards:
    """Stands in for ``json`` inside hls4ml's config module: ``load`` adds hil's boards."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def load(self, *args: Any, **kwargs: Any) -> Any:
        data = self._real.load(*args, **kwargs)
        if isinstance(data, dict) and "pynq-z2" in data:  # the supported-boards table
            for name, entry in ACCELERATOR_BOARDS.items():
                data.setdefault(name, _public(entry))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _template_dir(name: str, entry: dict[str, Any]) -> Path:
    """The board's Tcl templates in the cache, written once per content digest.

    Why a unique folder renamed into place: several build workers share one cache, and a reader
    that sees the folder must see every file in it. Each writer fills its own
    ``.{name}-{digest}.<random>`` folder and renames it whole; a writer that loses the race uses
    the winner's folder and deletes its own.
    """
    from hil.convert import cache_root

    digest = hashlib.sha256(json.dumps(entry["_tcl"], sort_keys=True).encode()).hexdigest()[:12]
    parent = cache_root() / "accelerator_boards"
    folder = parent / f"{name}-{digest}"
    if (folder / "tcl_scripts").is_dir():
        return folder
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-{digest}.", dir=parent))
    try:
        (staging / "tcl_scripts").mkdir()
        for file_name, text in entry["_tcl"].items():
            (staging / "tcl_scripts" / file_name).write_text(text)
        os.rename(staging, folder)
    except OSError:
        if not (folder / "tcl_scripts").is_dir():  # not a lost race: a real failure
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _log.debug("board templates %s written by another process; using theirs", folder.name)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def register_accelerator_boards() -> list[str]:
    """Register hil's boards with hls4ml (once per process); returns their names."""
    ensure_registered()
    return sorted(ACCELERATOR_BOARDS)


def ensure_registered() -> None:
    """Patch hls4ml's VivadoAccelerator board list and template paths in memory (idempotent)."""
    global _done
    with _lock:
        if _done:
            return
        import hls4ml.backends.vivado_accelerator.vivado_accelerator_config as module

        module.json = _JsonWithBoards(json)
        config_class = module.VivadoAcceleratorConfig
        hls4ml_templates = Path(module.__file__).resolve().parents[2] / "templates" / "vivado_accelerator"
        original_tcl = config_class.get_tcl_file_path
        original_driver = config_class.get_driver_path

        def get_tcl_file_path(self: Any) -> str:
            entry = ACCELERATOR_BOARDS.get(self.board)
            if entry is None:
                return str(original_tcl(self))
            script = entry["tcl_scripts"].get(self.interface)
            if script is None:
                raise ValueError(f"hil board {self.board}: no Tcl script for interface {self.interface!r}")
            # absolute: hls4ml joins it to its writer folder, and os.path.join keeps an absolute path
            return str(_template_dir(self.board, entry) / "tcl_scripts" / script)

        def get_driver_path(self: Any) -> str:
            entry = ACCELERATOR_BOARDS.get(self.board)
            if entry is None:
                return str(original_driver(self))
            return str(
                hls4ml_templates / entry["_driver_from"] / f"{self.driver}_drivers" / self.get_driver_file()
            )

        config_class.get_tcl_file_path = get_tcl_file_path
        config_class.get_driver_path = get_driver_path
        _done = True
        _log.debug("registered accelerator boards %s with hls4ml", sorted(ACCELERATOR_BOARDS))
