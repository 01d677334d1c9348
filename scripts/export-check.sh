#!/usr/bin/env bash
# Prepares the cross-check of MoEScope's exports against Hugging Face transformers:
# for every fixture architecture, a compact export (router average and tied-fit) and an expert-map
# export (uniform and per-layer K), each with the logits MoEScope's own loader computes for the
# fixture's reference input ids. scripts/check_exports_transformers.py then loads every export in
# transformers (expert-map through trust_remote_code) and compares.
#   scripts/export-check.sh OUT_DIR [BUILD_DIR]
# For a CPU check there is nothing to do by hand: CTest's interop_transformers test
# (tests/interop/, run by scripts/test.sh) writes and loads the same exports on every fixture.
# This script stays for checking on another machine, e.g. with --device cuda.
set -euo pipefail
out=${1:?usage: export-check.sh OUT_DIR [BUILD_DIR]}
build=${2:-build}
cli="$build/app/cli/moescope-cli"
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out"
mkdir -p "$out"
for arch in mixtral qwen2_moe qwen3_moe olmoe granitemoe deepseek_v3 gpt_oss glm4_moe; do
  src="$here/tests/data/hf-tiny/$arch"
  calib="$src/hcsmoe_reference.h5:calib_ids"
  ids="$src/reference.h5:input_ids"
  E=$(python3 -c "import json;c=json.load(open('$src/config.json'));print(c.get('n_routed_experts') or c.get('num_experts') or c.get('num_local_experts'))")
  K=$(( (E + 1) / 2 ))
  "$cli" analyze --model "$src" --calib "$calib" --out "$out/$arch.analysis.h5" --overwrite >/dev/null 2>&1
  run() {  # name, merge options...
    local name=$1; shift
    "$cli" merge --model "$src" --analysis "$out/$arch.analysis.h5" --out "$out/$arch.$name" "$@" >/dev/null 2>&1
    "$cli" forward --model "$out/$arch.$name" --ids "$ids" --out "$out/$arch.$name/moescope_logits.h5" --dtype fp32 >/dev/null 2>&1
  }
  run compact-average --experts "$K" --format compact --router average
  run compact-tiedfit --experts "$K" --format compact --router tied-fit --calib "$calib"
  run expertmap-half --experts "$K" --format expert-map
  run expertmap-budget --budget $(( K * 2 + 1 )) --format expert-map
  echo "$arch: E=$E K=$K exports written"
done
