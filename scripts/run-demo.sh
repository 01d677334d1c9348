#!/usr/bin/env bash
# The main job on the embedded demo model: installs what is missing, builds, then runs the
# forward pass of the demo MoE on its bundled evaluation text and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
demo=resources/demo
./build/app/cli/moescope-cli forward --model "$demo/demo-moe" --text "$demo/eval.jsonl" \
  --sequences 4 --length 256 --out build/demo-forward.h5
