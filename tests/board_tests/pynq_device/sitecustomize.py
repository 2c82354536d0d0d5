"""Loaded by Python at start-up when this folder is on PYTHONPATH (the board tests' wrapper does
that): registers the STAND-IN PYNQ device under the real pynq. See hil_standin_device.py."""

import hil_standin_device  # noqa: F401
