"""Model ingestion: ONNX / QONNX / TorchScript / torch.export -> a graph hls4ml can convert."""

from hil.ingest._formats import ModelFormat, detect_format
from hil.ingest._model import IngestedModel, load_model
from hil.ingest._quantizer import InputQuantizer, find_input_quantizer

__all__ = [
    "ModelFormat",
    "detect_format",
    "IngestedModel",
    "load_model",
    "InputQuantizer",
    "find_input_quantizer",
]
