#!/usr/bin/env bash
# The main job on the embedded demo model: installs what is missing and builds; then opens the
# explorer on the demo when a display is available, and otherwise runs the command-line
# comparison of HC-SMoE and its baselines on the demo and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
demo=resources/demo
gui=build/app/gui/moescope
if { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && [ -x "$gui" ]; then
  exec "$gui"
fi
./build/app/cli/moescope-cli compare --model "$demo/demo-moe" --calib "$demo/calib.jsonl" \
  --text "$demo/eval.jsonl" --experts 12,8,4 --eval-sequences 64
