"""hil: hardware-in-the-loop co-search of quantized networks and their FPGA implementation."""

from hil.errors import HilError

__version__ = "0.1.0"

__all__ = ["HilError", "__version__"]
