#!/usr/bin/env bash
# How far `analyze --first-look` can be trusted: for every tiny reference checkpoint (its 8 x 32
# calibration ids, first look on 1 sequence), the demo (its calibration text, 32 x 128 tokens,
# first look on 4) and a synthetic 64-expert OLMoE-shaped model (32 x 128 random ids, first look
# on 4), prints in how many MoE blocks the first look's groups at K = E/2 equal the full analysis'
# and the mean Rand index. The README records the figures.
#   scripts/bench-first-look.sh [BUILD_DIR (default build)]
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-build}/app/cli/moescope-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
agreement() {  # NAME ARGS...: runs analyze --first-look and prints its agreement line
  local name=$1
  shift
  local line
  line=$("$cli" analyze "$@" --device cpu --out "$work/$name.h5" 2>/dev/null | grep "identical to the full")
  printf '%-22s %s\n' "$name" "${line#first look  }"
}
for dir in tests/data/hf-tiny/*/; do
  name=$(basename "$dir")
  [ -f "$dir/hcsmoe_reference.h5" ] || continue
  agreement "$name" --model "$dir" --calib "$dir/hcsmoe_reference.h5:calib_ids" --first-look 1
done
agreement demo --model resources/demo/demo-moe --calib resources/demo/calib.jsonl --sequences 32 --length 128 \
  --first-look 4
"$cli" synth --arch olmoe --out "$work/olmoe-synth" --layers 4 --hidden 256 --heads 4 --kv-heads 4 --experts 64 \
  --top-k 8 --expert-intermediate 128 --vocab 1024 --seed 0 >/dev/null
scripts/random-ids.py "$work/ids.npy" 32 128 1024
agreement olmoe-synth-64 --model "$work/olmoe-synth" --calib "$work/ids.npy" --sequences 32 --length 128 --first-look 4
