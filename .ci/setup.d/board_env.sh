#!/usr/bin/env bash
# The board agent's second environment (tests/board_tests): numpy<2 plus the STAND-IN pynq package
# (tests/board_tests/standin_pynq; not the real pynq), like a PYNQ image's Python. Idempotent.
# Also the privilege-separation folder that sshd needs for the loopback SSH board tests.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV="${HIL_BOARD_VENV:-.venv/board}"
mkdir -p /run/sshd 2>/dev/null || echo "board_env: cannot create /run/sshd (sshd tests will fail)" >&2

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import numpy, sys; sys.exit(0 if numpy.__version__.startswith("1.") else 1)' 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "numpy<2"
fi
# Always reinstall the stand-in (cheap, no dependencies) so edits to it reach the venv; built from a
# copy so no build/ folder is left in the checkout.
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -r tests/board_tests/standin_pynq "$staging/"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$staging/standin_pynq"
"$VENV/bin/python" -c 'import numpy, pynq; assert pynq.HIL_STANDIN; print("board_env:", "numpy", numpy.__version__, "pynq stand-in", pynq.__version__)'
