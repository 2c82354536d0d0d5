"""Builders by name: ``estimate`` (cost model), ``vivado`` (real tools), ``sleep`` (a stand-in).

Third-party builders register through the ``hil.builders`` entry-point group (name -> class).
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from hil.errors import ConfigError
from hil.farm.builders._base import BaseBuilder, BuildFailure, BuildOutput, FarmFault, Stage
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

BUILDERS: dict[str, type[BaseBuilder]] = {
    EstimateBuilder.name: EstimateBuilder,
    VivadoBuilder.name: VivadoBuilder,
    SleepBuilder.name: SleepBuilder,
    IsolatedSleepBuilder.name: IsolatedSleepBuilder,
}


def get_builder(name: str) -> BaseBuilder:
    """An instance of the named builder (built in, or from a ``hil.builders`` entry point)."""
    if name not in BUILDERS:
        for point in entry_points(group="hil.builders"):
            if point.name == name:
                BUILDERS[name] = point.load()
    try:
        return BUILDERS[name]()
    except KeyError:
        raise ConfigError(
            f"unknown builder {name!r}; known builders: {', '.join(sorted(BUILDERS))}"
        ) from None
