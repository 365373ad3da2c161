#!/usr/bin/env bash
# Fuzz the card core and every installed plugin (hcekit fuzz), coverage-guided with atheris.
#
#   scripts/fuzz.sh --ci               CI budget: about 25 s in total, split over the targets
#   scripts/fuzz.sh                    long run: 1,000,000 inputs per target (minutes each)
#   scripts/fuzz.sh --runs 200000 ndef transit
#   scripts/fuzz.sh --seconds 600      ten minutes per target
#
# Prints one line per target (inputs run, crashes, plugin exception sites) and a total;
# exits 1 if any target crashed or a plugin raised. Crashing inputs are written to
# $HCEKIT_FUZZ_ARTIFACTS (default .tmp/fuzz-artifacts); reproduce one in-process with
#   hcekit fuzz TARGET --reproduce CRASH_FILE
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
ARTIFACTS="${HCEKIT_FUZZ_ARTIFACTS:-.tmp/fuzz-artifacts}"
mkdir -p "$ARTIFACTS"

budget=(--runs 1000000)
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ci)
      total="${HCEKIT_FUZZ_CI_SECONDS:-25}"
      count=$("$PYTHON" -c 'from hcekit.fuzzing.runner import default_targets; print(len(default_targets()))')
      # about 2 s of each target's share goes to starting its process and personalising
      per=$(( (total - 2 * count) / count )); [ "$per" -ge 1 ] || per=1
      budget=(--seconds "$per"); shift ;;
    --runs) budget=(--runs "$2"); shift 2 ;;
    --seconds) budget=(--seconds "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done

exec "$PYTHON" -m hcekit.cli.kit_commands fuzz "${budget[@]}" --artifacts "$ARTIFACTS" ${targets[@]+"${targets[@]}"}
