"""Recognising what a model file is, from its bytes rather than its name.

Why by content: users rename files freely (.onnx, .pt, .pth, .pt2), and a pickled torch
module must be refused before anything unpickles it (loading a pickle runs arbitrary code).
"""

from __future__ import annotations

import enum
import zipfile
from pathlib import Path

from hil.errors import InputError

__all__ = ["ModelFormat", "detect_format", "QONNX_DOMAINS", "QONNX_OPS"]

#: Domains brevitas/qonnx use for their custom quantization operators.
QONNX_DOMAINS = ("qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas")
#: QONNX quantization operators (present in a QONNX graph, absent in plain float ONNX).
QONNX_OPS = ("Quant", "BipolarQuant", "IntQuant", "Trunc", "MultiThreshold")


class ModelFormat(str, enum.Enum):
    """The model formats hil ingests."""

    ONNX = "onnx"  # float ONNX
    QONNX = "qonnx"  # ONNX with QONNX quantization nodes (e.g. brevitas export_qonnx)
    TORCHSCRIPT = "torchscript"  # torch.jit.save
    TORCH_EXPORT = "torch_export"  # torch.export.save (.pt2)


def _torch_archive_kind(path: Path) -> ModelFormat:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise InputError(f"{path}: a damaged zip archive, not a model file") from None
    if any("/code/" in name for name in names) and any(n.endswith("constants.pkl") for n in names):
        return ModelFormat.TORCHSCRIPT
    if any(name.endswith("/archive_format") for name in names) or any(
        name.endswith("models/model.json") for name in names
    ):
        return ModelFormat.TORCH_EXPORT
    if any(name.endswith("data.pkl") for name in names):
        raise InputError(
            f"{path}: a pickled torch object (torch.save), which hil never loads because unpickling runs "
            "code; save the model with torch.jit.save(torch.jit.trace(model, x)) or "
            "torch.export.save(torch.export.export(model, (x,)))"
        )
    raise InputError(f"{path}: a zip archive that is neither TorchScript nor torch.export")


def detect_format(path: Path) -> ModelFormat:
    """Tell ONNX, QONNX, TorchScript and torch.export files apart by content.

    Raises:
        InputError: the file is missing, empty, a pickle, or not a model at all.
    """
    if not path.exists():
        raise InputError(f"{path}: no such model file")
    if not path.is_file():
        raise InputError(f"{path}: not a file (give an .onnx, TorchScript or torch.export file)")
    with open(path, "rb") as handle:
        head = handle.read(4)
    if not head:
        raise InputError(f"{path}: empty file, not a model")
    if head == b"PK\x03\x04":
        return _torch_archive_kind(path)

    import onnx

    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception:  # onnx raises DecodeError, ValueError, ... for non-protobuf bytes
        raise InputError(f"{path}: not an ONNX, QONNX, TorchScript or torch.export model") from None
    if len(model.graph.node) == 0:
        raise InputError(f"{path}: not an ONNX model (no graph nodes found)")
    is_qonnx = any(n.op_type in QONNX_OPS and n.domain in QONNX_DOMAINS for n in model.graph.node)
    return ModelFormat.QONNX if is_qonnx else ModelFormat.ONNX
