#!/usr/bin/env bash
# Explorer responsiveness benchmark at 256 and 512 experts (issue 11): synthesises DeepSeek-V3-shaped
# checkpoints at a small hidden size (61 decoder layers; `synth` makes layer 0 dense, so 60 MoE
# blocks), analyses each on 4 x 64 random token ids with the CLI, then opens the store in the real
# main window headless (tests/gui/bench_explorer.cpp) and prints open / switch / frame times and
# peak RSS beside the targets (first layer < 2 s, switch < 200 ms, frame < 16 ms, RSS < 1 GB).
#   scripts/bench-explorer.sh [BUILD_DIR (default build)] [WORK_DIR (default /tmp/moescope-bench-explorer)]
# Needs a GUI build (-DMOESCOPE_BUILD_GUI=ON) with the targets moescope-cli and bench_explorer.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=${2:-/tmp/moescope-bench-explorer}
cli=$build/app/cli/moescope-cli
bench=$build/tests/gui/bench_explorer
mkdir -p "$work"
ids=$work/ids.npy
if [ ! -f "$ids" ]; then
  # 4 x 64 int64 token ids below the vocabulary (512), as a .npy written with the standard library.
  scripts/random-ids.py "$ids" 4 64 512
fi
for experts in 256 512; do
  model=$work/ds$experts
  store=$work/ds$experts.h5
  if [ ! -f "$model/config.json" ]; then
    echo "=== synthesising a DeepSeek-V3-shaped checkpoint with $experts experts in $model"
    "$cli" synth --arch deepseek_v3 --out "$model" --layers 61 --hidden 64 --experts "$experts" --top-k 8 \
      --expert-intermediate 32 --heads 4 --vocab 512
  fi
  if [ ! -f "$store" ]; then
    echo "=== analysing $model"
    "$cli" analyze --model "$model" --calib "$ids" --sequences 4 --length 64 --out "$store"
  fi
  echo "=== explorer at $experts experts"
  QT_QPA_PLATFORM=offscreen "$bench" "$store" 30
done
