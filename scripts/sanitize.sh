#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ (no GUI:
# Qt's own code is not the subject) and runs them. Any sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOESCOPE_SANITIZE=ON -DMOESCOPE_BUILD_GUI=OFF >/dev/null
cmake --build build-asan -j "$(nproc)"
built=$(date +%s)
# libtorch and OpenBLAS are not instrumented and keep process-lifetime allocations: leak reports from
# them are noise, so leak checking is off; every other ASan/UBSan finding aborts the test.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-asan && ctest --output-on-failure --timeout 1800 -j 2 -E '^(interop_|test_gui)')
echo "sanitizer build: $((built - start)) s, tests: $(( $(date +%s) - built )) s"
