"""A bit-exact batched emulator of hls4ml 1.3.0 designs (numpy integer arithmetic).

``Emulator(hls_model)(x)`` returns what the design's C simulation (``compile()`` + ``predict(x)``)
returns, element for element as float32, in a fraction of its time: the search can score whole
validation and test splits with it. Layer kinds it does not model are refused with one line
(``UnsupportedModelError``) naming the layer, never approximated. ``agreement`` compares its outputs
with the C simulation's (``bit_identical``: the fraction of identical float32 elements).
"""

from hil.emulate._fixed import FixedType, fixed_type
from hil.emulate._graph import Agreement, Emulator, agreement, emulate
from hil.emulate._layers import KINDS

__all__ = ["Agreement", "Emulator", "FixedType", "KINDS", "agreement", "emulate", "fixed_type"]
