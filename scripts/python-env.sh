#!/usr/bin/env bash
# Creates (once) the Python reference environment of the interop test and prints its python.
#   scripts/python-env.sh [VENV_DIR (build/pyenv)]
# The versions are pinned in scripts/requirements-reference.txt; the environment is re-created
# when that file changes (a copy of it is kept in VENV_DIR as the stamp). Progress goes to stderr,
# only the interpreter's path to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$here/build/pyenv}
mkdir -p "$(dirname "$venv")"
venv="$(cd "$(dirname "$venv")" && pwd)/$(basename "$venv")"  # absolute: CMake keeps the path
reqs="$here/scripts/requirements-reference.txt"
stamp="$venv/requirements-reference.txt"
python=${MOESCOPE_BASE_PYTHON:-python3}

if [ -x "$venv/bin/python" ] && cmp -s "$reqs" "$stamp"; then  # made from these pins: reuse
  echo "$venv/bin/python"
  exit 0
fi
echo "python-env: creating $venv from $reqs" >&2
start=$(date +%s)
rm -rf "$venv"
if ! "$python" -m venv "$venv" >&2; then
  echo "python-env: '$python -m venv' failed; on Debian install python3-venv" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$reqs" >&2
# A CUDA wheel of torch would download gigabytes for nothing: the interop test runs on the CPU.
if ! "$venv/bin/python" -c 'import sys, torch; sys.exit(0 if torch.version.cuda is None else 1)'; then
  echo "python-env: pip installed a CUDA build of torch; make the CPU wheel of the pinned version" \
       "available to pip (an extra index or a local wheel) and rerun" >&2
  rm -rf "$venv"
  exit 1
fi
cp "$reqs" "$stamp"  # written last: a half-made environment is never taken as ready
echo "python-env: ready in $(( $(date +%s) - start )) s" >&2
echo "$venv/bin/python"
