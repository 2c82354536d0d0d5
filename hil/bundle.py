"""The board bundle: everything a board needs to run and check one design, in one folder.

The build farm writes it (inside the build's artifact folder, as ``board/``); the board
transport uploads it; the agent on the board reads it with only numpy and pynq (the agent does
not import hil, so this file defines the format and the agent re-reads the same JSON by hand).

Layout (format_version 1)::

    bundle.json    description below; its "files" map every other file to its sha256
    inputs.npy     float32 (N, *input_shape[1:]): test inputs, on the input quantizer's grid
    expected.npy   float32 (N, n_outputs): the C simulation's outputs for those inputs
    reference.npy  float32 (N, n_outputs): the reference model's outputs (onnxruntime, qonnx or
                   torch) for the same inputs; optional (older bundles lack it)
    csim.so        the compiled C simulation (top function ``<project>_float``), for emulation
    design.bit     bitstream (vivado builder only)
    design.hwh     hardware handoff (vivado builder only)

bundle.json::

    {"format_version": 1, "design_key": str, "board": str, "part": str, "project": "myproject",
     "input_shape": [1, ...], "output_shape": [1, n], "io_dtype": "float32",
     "clock_mhz": float,
     "timing": {"ii_cycles": int, "latency_cycles": int,
                "provenance": "estimate"|"hls"|"synth"|"impl"|"standin"},
     "files": {"inputs.npy": sha256, ...},
     "axis": {...},     (bitstream builds: the AXI-stream convention of the top, hil.flow.AXIS_CONVENTION)
     "build": {...}}    (vivado builds: flow, AMD release, stand-in tools or not, stop stage)

Why sha256 for every file: the agent refuses to load a bitstream or library whose bytes differ
from what the build produced (a truncated upload must not program the FPGA).

Why the reference outputs: comparing a board (or an emulation) with the C simulation only proves
the bitstream matches the C++; an emulated run *is* the C simulation, so that check cannot fail.
The reference model's outputs measure what the fixed-point design costs against its float model
(argmax agreement with a Wilson interval, ``hil.board._result``): a property of the design, never
a WRONG_ANSWER of the board.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import BoardError

__all__ = [
    "BUNDLE_FORMAT_VERSION",
    "BundleTiming",
    "BoardBundle",
    "write_bundle",
    "read_bundle",
    "sha256_file",
]

BUNDLE_FORMAT_VERSION = 1
_MANIFEST = "bundle.json"
_OPTIONAL_FILES = ("reference.npy", "csim.so", "design.bit", "design.hwh")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class BundleTiming:
    """The design's timing as built, and where it came from (the emulation derives speed from it)."""

    ii_cycles: int
    latency_cycles: int
    provenance: str  # estimate | hls | synth | impl


@dataclass(frozen=True)
class BoardBundle:
    """A bundle folder as described in this module's docstring."""

    path: Path
    design_key: str
    board: str
    part: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    clock_mhz: float
    timing: BundleTiming
    files: Mapping[str, str] = field(default_factory=dict)
    project: str = "myproject"
    io_dtype: str = "float32"
    #: The AXI-stream convention of the bitstream's top (word width, encoding, TLAST), when built.
    axis: Mapping[str, Any] = field(default_factory=dict)
    #: How the bitstream was built (flow, AMD release, stand-in tools or not), when built.
    build: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_reference(self) -> bool:
        return "reference.npy" in self.files

    @property
    def has_bitstream(self) -> bool:
        return "design.bit" in self.files and "design.hwh" in self.files

    def verify(self) -> None:
        """Check every listed file's sha256; raises BoardError naming the first mismatch."""
        for name, expected in self.files.items():
            target = self.path / name
            if not target.is_file():
                raise BoardError(f"bundle {self.path}: file {name} is missing")
            if sha256_file(target) != expected:
                raise BoardError(f"bundle {self.path}: sha256 mismatch for {name}")


def write_bundle(
    folder: str | os.PathLike[str],
    *,
    design_key: str,
    board: str,
    part: str,
    inputs: np.ndarray,
    expected: np.ndarray,
    clock_mhz: float,
    timing: BundleTiming,
    csim_library: str | os.PathLike[str] | None = None,
    bitstream: str | os.PathLike[str] | None = None,
    hwh: str | os.PathLike[str] | None = None,
    project: str = "myproject",
    reference: np.ndarray | None = None,
    axis: Mapping[str, Any] | None = None,
    build: Mapping[str, Any] | None = None,
) -> BoardBundle:
    """Write a bundle folder (created if absent) and return it.

    ``reference`` is the reference model's outputs for ``inputs`` (the float model the design's
    agreement is reported against).
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    inputs = np.ascontiguousarray(inputs, dtype=np.float32)
    expected = np.ascontiguousarray(expected, dtype=np.float32).reshape(len(expected), -1)
    if len(inputs) != len(expected):
        raise BoardError(f"bundle: {len(inputs)} inputs but {len(expected)} expected outputs")
    np.save(target / "inputs.npy", inputs, allow_pickle=False)
    np.save(target / "expected.npy", expected, allow_pickle=False)
    if reference is not None:
        reference = np.ascontiguousarray(reference, dtype=np.float32).reshape(len(reference), -1)
        if reference.shape != expected.shape:
            raise BoardError(
                f"bundle: reference outputs {reference.shape} differ from expected {expected.shape}"
            )
        np.save(target / "reference.npy", reference, allow_pickle=False)
    elif (target / "reference.npy").exists():
        (target / "reference.npy").unlink()
    for name, source in (("csim.so", csim_library), ("design.bit", bitstream), ("design.hwh", hwh)):
        if source is not None:
            shutil.copyfile(source, target / name)
    files = {
        name: sha256_file(target / name)
        for name in ("inputs.npy", "expected.npy", *_OPTIONAL_FILES)
        if (target / name).is_file()
    }
    bundle = BoardBundle(
        path=target,
        design_key=design_key,
        board=board,
        part=part,
        input_shape=(1, *inputs.shape[1:]),
        output_shape=(1, expected.shape[1]),
        clock_mhz=float(clock_mhz),
        timing=timing,
        files=files,
        project=project,
        axis=dict(axis or {}),
        build=dict(build or {}),
    )
    manifest = {
        "format_version": BUNDLE_FORMAT_VERSION,
        "design_key": design_key,
        "board": board,
        "part": part,
        "project": project,
        "input_shape": list(bundle.input_shape),
        "output_shape": list(bundle.output_shape),
        "io_dtype": bundle.io_dtype,
        "clock_mhz": bundle.clock_mhz,
        "timing": asdict(timing),
        "files": files,
    }
    if bundle.axis:
        manifest["axis"] = dict(bundle.axis)
    if bundle.build:
        manifest["build"] = dict(bundle.build)
    temporary = target / f".{_MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(temporary, target / _MANIFEST)
    return bundle


def read_bundle(folder: str | os.PathLike[str]) -> BoardBundle:
    """Read and validate a bundle's manifest (not the file hashes: see ``BoardBundle.verify``)."""
    target = Path(folder)
    manifest = target / _MANIFEST
    try:
        raw: dict[str, Any] = json.loads(manifest.read_text())
    except FileNotFoundError:
        raise BoardError(f"{target}: not a board bundle (no {_MANIFEST})") from None
    except json.JSONDecodeError as exc:
        raise BoardError(f"{manifest}: not valid JSON ({exc.msg})") from None
    if raw.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise BoardError(f"{manifest}: bundle format_version {raw.get('format_version')!r} is not supported")
    try:
        return BoardBundle(
            path=target,
            design_key=str(raw["design_key"]),
            board=str(raw["board"]),
            part=str(raw["part"]),
            input_shape=tuple(int(d) for d in raw["input_shape"]),
            output_shape=tuple(int(d) for d in raw["output_shape"]),
            clock_mhz=float(raw["clock_mhz"]),
            timing=BundleTiming(**raw["timing"]),
            files=dict(raw["files"]),
            project=str(raw.get("project", "myproject")),
            io_dtype=str(raw.get("io_dtype", "float32")),
            axis=dict(raw.get("axis") or {}),
            build=dict(raw.get("build") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BoardError(f"{manifest}: missing or malformed field ({exc})") from None

