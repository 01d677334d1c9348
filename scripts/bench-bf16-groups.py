#!/usr/bin/env python3
"""Does a bf16 analysis give the groups of an fp32 one? (issue 13: bf16 as the CPU default.)

    build/pyenv/bin/python scripts/bench-bf16-groups.py [--build build] [--work /tmp/moescope-bf16-groups]

Analyses the demo model (its calibration text) and every fixture of tests/data/hf-tiny (4 x 64 random
token ids, fixed seed) twice with moescope-cli, --dtype fp32 and --dtype bf16, then for every
representation and linkage cuts each MoE block at K = E/2 (`moescope-cli cluster --json`) and
counts the blocks whose groups are the same. It also prints, per representation, the largest
difference between the two stores' distances relative to the largest fp32 distance of the matrix.
A measurement, not a test: it prints figures and exits 0 unless a command fails.
"""
import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np

REPS = ["expert_output", "expert_output_routed", "router_logits", "weights"]
METHODS = ["average", "complete", "single", "ward"]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--work", default="/tmp/moescope-bf16-groups")
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cli = os.path.join(args.build, "app", "cli", "moescope-cli")
    os.makedirs(args.work, exist_ok=True)
    cases = [("demo", f"{root}/resources/demo/demo-moe", f"{root}/resources/demo/calib.jsonl", [])]
    fixtures = f"{root}/tests/data/hf-tiny"
    for name in sorted(os.listdir(fixtures)):
        cfg = json.load(open(f"{fixtures}/{name}/config.json"))
        vocab = cfg.get("vocab_size") or cfg.get("text_config", {}).get("vocab_size") or 256
        ids = f"{args.work}/{name}-ids.npy"
        if not os.path.exists(ids):
            run([sys.executable, f"{root}/scripts/random-ids.py", ids, "4", "64", str(min(vocab, 1000))])
        cases.append((name, f"{fixtures}/{name}", ids, ["--sequences", "4", "--length", "64"]))

    same = {(r, m): 0 for r in REPS for m in METHODS}
    blocks = {(r, m): 0 for r in REPS for m in METHODS}
    worst = {r: 0.0 for r in REPS}
    for name, model, calib, extra in cases:
        stores = {}
        for dtype in ("fp32", "bf16"):
            stores[dtype] = f"{args.work}/{name}-{dtype}.h5"
            run([cli, "analyze", "--model", model, "--calib", calib, "--out", stores[dtype], "--dtype", dtype,
                 "--overwrite"] + extra)
        with h5py.File(stores["fp32"], "r") as a, h5py.File(stores["bf16"], "r") as b:
            for layer in a["layers"]:
                for r in REPS:
                    for metric in ("euclidean", "cosine"):
                        path = f"layers/{layer}/distance/{r}_{metric}"
                        if path in a and path in b:
                            x, y = a[path][()], b[path][()]
                            worst[r] = max(worst[r], float(np.abs(x - y).max() / max(np.abs(x).max(), 1e-30)))
        row = []
        for r in REPS:
            for m in METHODS:
                first = json.loads(run([cli, "cluster", stores["fp32"], "--linkage", m, "--basis", r,
                                        "--experts", "1", "--json"]))
                k = str(max(1, first[0]["experts"] // 2))
                groups = {}
                for dtype in ("fp32", "bf16"):
                    out = json.loads(run([cli, "cluster", stores[dtype], "--linkage", m, "--basis", r,
                                          "--experts", k, "--json"]))
                    groups[dtype] = [sorted(sorted(g) for g in block["groups"]) for block in out]
                for ga, gb in zip(groups["fp32"], groups["bf16"]):
                    blocks[(r, m)] += 1
                    same[(r, m)] += ga == gb
                    if ga != gb:
                        row.append(f"{r}/{m}")
        print(f"{name:16s} blocks with other groups in bf16: {', '.join(sorted(set(row))) or 'none'}", flush=True)

    print("\nblocks with the same groups at K = E/2, bf16 against fp32 (demo and every fixture):")
    print(f"{'representation':22s}" + "".join(f"{m:>10s}" for m in METHODS) + "   largest distance difference")
    for r in REPS:
        print(f"{r:22s}" + "".join(f"{same[(r, m)]:>5d}/{blocks[(r, m)]:<4d}" for m in METHODS) +
              f"   {worst[r]:.2e} of the largest distance")


if __name__ == "__main__":
    main()
