#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh llm,test
if [ "${CI:-}" = "true" ]; then
  scripts/ci-system-deps.sh
  # Each CI log ends with the slowest tests, so that a test which has grown slow is seen where it runs.
  exec .venv/bin/python -m pytest --durations=25 "$@"
fi
exec .venv/bin/python -m pytest "$@"
