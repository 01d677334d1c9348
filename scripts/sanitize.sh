#!/usr/bin/env bash
# Builds unit tests with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ (no GUI: Qt's own
# code is not the subject) and runs them. Any sanitizer report fails the run.
#   scripts/sanitize.sh              every unit test (the whole core library: long on 2 cores)
#   scripts/sanitize.sh --libraries  the torch-free libraries' tests only: tokenizer, clustering and cuts
#                                    (test_tokenizer, test_cluster); the stage scripts/test.sh runs
#                                    (measured on the 2-core build machine: 374 s to build, 4 s to run)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
filter='^(interop_|test_gui)'
select=()
if [ "${1:-}" = "--libraries" ]; then
  targets=(--target test_tokenizer test_cluster)
  select=(-R '^(test_tokenizer|test_cluster)$')
fi
start=$(date +%s)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOESCOPE_SANITIZE=ON -DMOESCOPE_BUILD_GUI=OFF >/dev/null
cmake --build build-asan -j "$(nproc)" "${targets[@]}"
built=$(date +%s)
# libtorch and OpenBLAS are not instrumented and keep process-lifetime allocations: leak reports from
# them are noise, so leak checking is off; every other ASan/UBSan finding aborts the test.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-asan && ctest --output-on-failure --timeout 1800 -j 2 -E "$filter" "${select[@]}")
echo "sanitizer build: $((built - start)) s, tests: $(( $(date +%s) - built )) s"
