#!/usr/bin/env bash
# Install everything the test suite needs and run the whole suite.
#
#   ./scripts/test.sh [pytest args...]
#
# 1. Debian packages (pcscd, vsmartcard-vpcd, OpenSC, yubico-piv-tool, a JDK, …)
#    through scripts/install-system-deps.sh (uses sudo when not root);
# 2. a virtual environment in .venv with hcekit and every extra the tests use;
# 3. pytest over tests/. Exits non-zero when a test fails, and also when no
#    test ran at all (pytest's exit code 5), so CI can never pass vacuously.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh

if [ -z "${JAVA_HOME:-}" ] && command -v javac >/dev/null; then
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
  export JAVA_HOME
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "test.sh: creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
# This machine's pip configuration names mirror folders that may not exist; pip says so once
# per package. Hide that noise, keep every other message (and pip's exit status).
quiet_pip() { .venv/bin/python -m pip "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
quiet_pip install -q --upgrade pip
echo "test.sh: installing hcekit with extras dev, pcsc, android, interop, docs"
quiet_pip install -q -e '.[dev,pcsc,android,interop,docs]'
if [ -x scripts/install-interop-clients.sh ]; then
  scripts/install-interop-clients.sh .venv/bin/python
fi

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; failing on purpose" >&2
  exit 1
fi
exit "$status"
