#!/usr/bin/env bash
# Third-party clients the interop tests drive that cannot come in through an extra.
#
#   scripts/install-interop-clients.sh [PYTHON]     (default .venv/bin/python)
#
# Called by scripts/test.sh after `pip install -e '.[...,interop]'`.
# Each client gets its own section; say why it needs special handling.
set -euo pipefail
PY="${1:-.venv/bin/python}"

# emvtool (PyPI `emv`): pins pyscard==2.0.0, which would downgrade the pyscard
# hcekit's PC/SC harness uses. Install it without its pins; its runtime deps
# (click, terminaltables, pycountry) come from the `interop` extra. The tests
# run it through tests/payment/emvtool_shim.py.
if ! "$PY" -c "import emv" 2>/dev/null; then
  "$PY" -m pip install -q --no-deps "emv==1.0.14"
fi
