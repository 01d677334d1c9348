#!/usr/bin/env bash
# Installs the Debian 12 / 13 packages MoEScope builds and tests with, skipping those already present.
# Used by run-demo.sh and test.sh; apt-get runs through sudo when not root.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libtorch-dev libopenblas0-openmp libhdf5-dev nlohmann-json3-dev catch2
  libpcre2-dev libutf8proc-dev
  libgloo-dev                   # gloo's headers, for c10d's ProcessGroupGloo (analyze --distributed)
  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-svg-dev libqcustomplot-dev libgl-dev
  xvfb xauth
  python3-venv                 # the reference environment of the interop test (scripts/python-env.sh)
  clang libclang-rt-dev        # libFuzzer and its sanitizer runtimes (scripts/fuzz.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
