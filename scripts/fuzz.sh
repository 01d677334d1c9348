#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz in build-fuzz/ (clang, ASan + UBSan + libFuzzer; no
# GUI, no tests) and runs each one: first over its committed corpus, tests/fuzz/corpus/<target>/
# (the seeds and one regress-* input per past finding), then fuzzing for FUZZ_SECONDS (default 60)
# on a temporary copy of that corpus, so the committed files never change.
# Exits non-zero on any crash, leak, timeout or out-of-memory, naming the target and the input.
#   FUZZ_SECONDS=600 scripts/fuzz.sh            # longer runs
#   scripts/fuzz.sh fuzz_npy fuzz_plan          # only these targets
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_BUILD_JOBS:-$(nproc)}
build=build-fuzz
now() { date +%s; }

start=$(now)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DMOESCOPE_FUZZ=ON -DMOESCOPE_BUILD_GUI=OFF -DMOESCOPE_BUILD_TESTS=OFF >/dev/null || exit 1
fi
cmake --build "$build" -j "$jobs" --target moescope_fuzzers || { echo "fuzz: build failed"; exit 1; }
echo "fuzz: build took $(( $(now) - start )) s"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for corpus in tests/fuzz/corpus/*/; do targets+=("$(basename "$corpus")"); done
fi

# Leaks are checked (detect_leaks=1). libtorch and OpenBLAS keep process-lifetime allocations that
# LeakSanitizer would report from fuzz_config, so only there are leaks from them suppressed.
suppressions=$(mktemp)
printf 'leak:libtorch\nleak:libc10\nleak:libopenblas\nleak:libgomp\n' >"$suppressions"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=0"
export LSAN_OPTIONS="suppressions=$suppressions"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

work=$(mktemp -d)
trap 'rm -rf "$work" "$suppressions"' EXIT
failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  corpus="tests/fuzz/corpus/$t"
  if [ ! -x "$bin" ]; then echo "fuzz: $t: no harness $bin"; failed+=("$t"); continue; fi
  if [ ! -d "$corpus" ]; then echo "fuzz: $t: no corpus $corpus"; failed+=("$t"); continue; fi
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp -r "$corpus"/. "$work/$t/corpus/"
  opts=(-rss_limit_mb=2048 -timeout=20 -artifact_prefix="$work/$t/artifacts/" -print_final_stats=0)

  # 1. Replay: every committed input, each one a regression test (files given one by one, so the
  #    log's last "Running:" line names the input that failed).
  t0=$(now)
  if ! "$bin" "${opts[@]}" "$corpus"/* >"$work/$t/replay.log" 2>&1; then
    tail -n 40 "$work/$t/replay.log"
    input=$(grep -h "^Running: " "$work/$t/replay.log" | tail -n 1 | sed 's/^Running: //')
    echo "fuzz: $t FAILED on the committed input $root/${input:-$corpus}"
    failed+=("$t"); continue
  fi
  echo "fuzz: $t replayed $(ls "$corpus" | wc -l) committed inputs in $(( $(now) - t0 )) s"

  # 2. Fuzz on the copy for $seconds seconds.
  t0=$(now)
  if ! (cd "$work/$t" && "$root/$bin" "${opts[@]}" -max_total_time="$seconds" corpus >fuzz.log 2>&1); then
    tail -n 40 "$work/$t/fuzz.log"
    crash=$(ls "$work/$t/artifacts"/* 2>/dev/null | head -n 1)
    keep="$root/$build/fuzz-findings/$t"
    mkdir -p "$keep"
    [ -n "$crash" ] && cp "$crash" "$keep/" && crash="$keep/$(basename "$crash")"
    echo "fuzz: $t FOUND A PROBLEM after $(( $(now) - t0 )) s; input: ${crash:-see the log above}"
    echo "fuzz: reproduce with $bin ${crash:-<input>}"
    failed+=("$t"); continue
  fi
  echo "fuzz: $t ran ${seconds} s (took $(( $(now) - t0 )) s), corpus $(ls "$corpus" | wc -l) -> $(ls "$work/$t/corpus" | wc -l) inputs"
done

echo "fuzz: total $(( $(now) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"
