"""Builders by name: ``estimate`` (cost model), ``vivado`` (real tools), ``sleep`` (a stand-in).

Third-party builders register through the ``hil.builders`` entry-point group (name -> class).
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from hil.errors import ConfigError
from hil.farm.builders._base import BaseBuilder, BuildFailure, BuildOutput, FarmFault, Stage

if TYPE_CHECKING:
    from hil.farm.builders._estimate import EstimateBuilder
    from hil.farm.builders._sleep import IsolatedSleepBuilder, SleepBuilder
    from hil.farm.builders._vivado import VivadoBuilder

__all__ = [
    "BaseBuilder",
    "BuildFailure",
    "FarmFault",
    "BuildOutput",
    "Stage",
    "EstimateBuilder",
    "SleepBuilder",
    "IsolatedSleepBuilder",
    "VivadoBuilder",
    "BUILDERS",
    "get_builder",
]

_log = logging.getLogger(__name__)

#: Built-in builders: name -> (module, class). Imported when first asked for: a build child
#: process loads only its own builder (the ``vivado`` and ``estimate`` builders load numpy,
#: hls4ml and the cost model, seconds of start-up a ``sleep`` build does not need).
_BUILT_IN = {
    "estimate": ("hil.farm.builders._estimate", "EstimateBuilder"),
    "vivado": ("hil.farm.builders._vivado", "VivadoBuilder"),
    "sleep": ("hil.farm.builders._sleep", "SleepBuilder"),
    "sleep-isolated": ("hil.farm.builders._sleep", "IsolatedSleepBuilder"),
}
_CLASSES = {cls: (module, name) for name, (module, cls) in _BUILT_IN.items()}

#: Builders loaded so far (built-in ones on first use; ``hil.builders`` entry points too).
BUILDERS: dict[str, type[BaseBuilder]] = {}


def __getattr__(name: str) -> Any:
    if name in _CLASSES:
        return getattr(importlib.import_module(_CLASSES[name][0]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_builder(name: str) -> BaseBuilder:
    """An instance of the named builder (built in, or from a ``hil.builders`` entry point)."""
    if name not in BUILDERS:
        if name in _BUILT_IN:
            module, cls = _BUILT_IN[name]
            BUILDERS[name] = getattr(importlib.import_module(module), cls)
        else:
            for point in entry_points(group="hil.builders"):
                if point.name == name:
                    BUILDERS[name] = point.load()
    try:
        return BUILDERS[name]()
    except KeyError:
        raise ConfigError(
            f"unknown builder {name!r}; known builders: {', '.join(sorted({*_BUILT_IN, *BUILDERS}))}"
        ) from None
