#!/usr/bin/env bash
# Generation benchmark: decoding speed of a synthetic OLMoE-7B-shaped model (16 layers, hidden 2048,
# 64 experts of width 1024, top-8, vocabulary 50304; about 6.9 B parameters, 13.8 GB in bf16), bf16
# compute, resident, KV cache: one prompt, then a lock-step batch of 8. Prints moescope-cli generate's
# own figures (new tokens per second, prefill seconds).
#   scripts/bench-generate.sh [MODEL_DIR (default build/bench-olmoe7b, synthesised when it holds no model)]
# Needs about 14 GB of disk and 16 GB of free memory. The README records the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/cli/moescope-cli
dir=${1:-build/bench-olmoe7b}
threads=${THREADS:-$(nproc)}
if [ ! -f "$dir/config.json" ]; then
  echo "=== synthesising an OLMoE-7B-shaped checkpoint in $dir"
  "$cli" synth --arch olmoe --out "$dir" --layers 16 --hidden 2048 --heads 16 --kv-heads 16 --experts 64 --top-k 8 \
    --expert-intermediate 1024 --vocab 50304 --seed 0
fi
prompts=$(mktemp)
trap 'rm -f "$prompts"' EXIT
# Eight prompts of 32 random-looking ids each (paragraphs: one prompt each).
for i in 1 2 3 4 5 6 7 8; do
  seq $((100 * i)) 37 $((100 * i + 37 * 31)) | tr '\n' ' '
  printf '\n\n'
done >"$prompts"
one=$(mktemp)
head -n 1 "$prompts" >"$one"
trap 'rm -f "$prompts" "$one"' EXIT
for file in "$one" "$prompts"; do
  n=$(grep -c . "$file")
  echo "=== $n prompt(s), 32 new tokens each, bf16, resident, $threads threads"
  /usr/bin/time -f "peak RSS %M kB, wall %e s" "$cli" generate --model "$dir" --prompts "$file" --ids --original-only \
    --max-new-tokens 32 --dtype bf16 --resident on --batch 8 --threads "$threads" | tail -n 2
done
