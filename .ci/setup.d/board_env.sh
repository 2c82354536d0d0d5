#!/usr/bin/env bash
# The board agent's own environments (tests/board_tests), like a PYNQ image's Python: the REAL pynq
# from the package index, kept out of the host environment because it pins numpy<2 and
# grpcio==1.64.0. Two of them, because no single pynq release runs every board:
#   .venv/board        pynq 4.0.0 (current; drops Zynq-7000 boards such as PYNQ-Z1/Z2)
#   .venv/board-pynq3  pynq 3.1.2 (the last release for PYNQ-Z1/Z2); pycparser<3 because pynq 3
#                      imports pycparser.plyparser, which pycparser 3 removed
# The tests put a stand-in *device* under the real pynq (tests/board_tests/pynq_device): only the
# bitstream download, registers, DMA buffers and power sensors are replaced. Idempotent.
# Also the privilege-separation folder that sshd needs for the loopback SSH board tests.
set -euo pipefail
cd "$(dirname "$0")/../.."

mkdir -p /run/sshd 2>/dev/null || echo "board_env: cannot create /run/sshd (sshd tests will fail)" >&2

make_env() {  # make_env VENV WANTED_VERSION PIP_SPEC...
  local venv="$1" wanted="$2"
  shift 2
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -W ignore -c "import pynq, sys; sys.exit(pynq.__version__ != '$wanted')" 2>/dev/null; then
    "$venv/bin/python" -m pip uninstall -q -y pynq 2>/dev/null || true  # an older stand-in package
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@"
  fi
  "$venv/bin/python" -W ignore -c "import numpy, pynq; print('board_env:', '$venv', 'pynq', pynq.__version__, 'numpy', numpy.__version__)"
}

make_env "${HIL_BOARD_VENV:-.venv/board}" 4.0.0 "pynq==4.0.0" &
first=$!
make_env "${HIL_BOARD_VENV_PYNQ3:-.venv/board-pynq3}" 3.1.2 "pynq==3.1.2" "pycparser<3" &
second=$!
wait "$first"
wait "$second"
