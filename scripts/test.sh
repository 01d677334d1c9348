#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (CTest). Works without a
# display (GUI tests use Qt's offscreen platform) and without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
export QT_QPA_PLATFORM=offscreen
cd build
ctest --output-on-failure --timeout 1500 -j 2
