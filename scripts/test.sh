#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (CTest). Works without a
# display (GUI tests use Qt's offscreen platform) and without a GPU. Prints the time of each stage.
#
# Stages: deps, python (the pinned reference environment of the transformers interop test, made once
# under build/pyenv and re-made when scripts/requirements-reference.txt changes), build, sanitize,
# ctest, fuzz.
# The interop test is always registered here (-DMOESCOPE_PYTHON), so CI always runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

stage_start=0
stage() {  # NAME: starts a stage and prints the time of the previous one
  stage_end
  stage_name=$1
  stage_start=$(date +%s)
  echo "=== $stage_name"
}
stage_end() {
  if [ "$stage_start" -ne 0 ]; then
    echo "=== $stage_name: $(( $(date +%s) - stage_start )) s"
    timings+=("$stage_name $(( $(date +%s) - stage_start )) s")
  fi
}
timings=()
trap 'stage_end; echo "=== stage times: ${timings[*]:-}"' EXIT

stage deps
scripts/install-deps.sh

stage python
python=$(scripts/python-env.sh build/pyenv)

stage build
scripts/build.sh -DMOESCOPE_PYTHON="$python"

# ASan + UBSan over the torch-free libraries' unit tests (tokenizer, clustering and cuts): about 6
# minutes on a 2-core machine. The sanitizer build of every unit test (scripts/sanitize.sh without
# --libraries) rebuilds the whole core library instrumented and is run by hand.
stage sanitize
scripts/sanitize.sh --libraries

stage ctest
export QT_QPA_PLATFORM=offscreen
(cd build && ctest --output-on-failure --timeout 1500 -j 2)

# libFuzzer harnesses (clang, ASan + UBSan): every committed seed and regression input replayed,
# then FUZZ_SECONDS (60) of fuzzing per target; any crash fails the run.
stage fuzz
scripts/fuzz.sh
