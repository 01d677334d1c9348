#!/usr/bin/env python3
"""CTest test: MoEScope's merged exports load in Hugging Face transformers and compute the logits
MoEScope's own loader computes for them.

For every architecture in tests/data/hf-tiny, with E experts and K = ceil(E / 2):
  compact-average     compact, uniform K, router = average of member rows
  compact-tiedfit     compact, uniform K, router fitted with tied-fit on the calibration ids
  expertmap-half      expert map, uniform K
  expertmap-budget    expert map, the paper's global frequency budget (2K + 1 experts in total)
  expertmap-perlayer  expert map, a different K in every MoE block (a plan written here)
  compact-bf16        (quantized fixtures: FP8 / MXFP4) compact written in BF16 (--precision bf16); the
                      other exports keep the source's quantization and load dequantized
each loaded with AutoModelForCausalLM on the CPU (expert maps with trust_remote_code) and compared
with `moescope-cli forward` on the fixture's reference input ids (scripts/check_exports_transformers.py,
tolerance 1e-3 of max |logit|). Any export that does not load, or differs, fails the test.

    interop_transformers.py --cli BUILD/app/cli/moescope-cli --data tests/data/hf-tiny --work DIR [--arch A]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

# Local folders only, no progress bars: the log shows one line per export.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import check_exports_transformers as checker  # noqa: E402  (the comparison the manual check uses)


def cli(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"moescope-cli {' '.join(args)} exited {r.returncode}:\n{r.stderr}")
    return r.stdout


def num_experts(config):
    if isinstance(config.get("text_config"), dict):  # a multimodal wrapper's language model (Llama-4)
        config = config["text_config"]
    for key in ("n_routed_experts", "num_experts", "num_local_experts", "moe_num_experts"):
        if config.get(key):
            return int(config[key])
    raise RuntimeError("no expert count in config.json")


def per_layer_plan(saved_plan, out_path, experts):
    """The saved uniform plan with block j cut to its own K_j (labels e mod K_j, every group non-empty)."""
    with open(saved_plan) as f:
        plan = json.load(f)
    for j, layer in enumerate(plan["layers"]):
        k = max(1, experts // 2 - j) if j % 2 == 0 else max(1, experts // 2 + 1)
        layer["groups"] = [e % k for e in range(experts)]
        layer["num_groups"] = k
        layer.pop("dominant", None)
    with open(out_path, "w") as f:
        json.dump(plan, f)
    return sorted({layer["num_groups"] for layer in plan["layers"]})


def export_all(binary, src, work, arch):
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    E = num_experts(config)
    K = (E + 1) // 2
    calib = os.path.join(src, "hcsmoe_reference.h5") + ":calib_ids"
    ids = os.path.join(src, "reference.h5") + ":input_ids"
    analysis = os.path.join(work, f"{arch}.analysis.h5")
    cli(binary, "analyze", "--model", src, "--calib", calib, "--out", analysis, "--device", "cpu")
    base = ["--model", src, "--analysis", analysis, "--device", "cpu"]
    plan = os.path.join(work, f"{arch}.plan.json")
    variants = {
        "compact-average": ["--experts", str(K), "--format", "compact", "--router", "average"],
        "compact-tiedfit": ["--experts", str(K), "--format", "compact", "--router", "tied-fit", "--calib", calib],
        "expertmap-half": ["--experts", str(K), "--format", "expert-map", "--save-plan", plan],
        "expertmap-budget": ["--budget", str(2 * K + 1), "--format", "expert-map"],
    }
    if config.get("quantization_config"):  # a quantized source also exported in BF16 (no quantization_config)
        variants["compact-bf16"] = ["--experts", str(K), "--format", "compact", "--precision", "bf16"]
    folders = []
    for name, options in variants.items():
        out = os.path.join(work, f"{arch}.{name}")
        cli(binary, "merge", *base, "--out", out, *options)
        folders.append(out)
    out = os.path.join(work, f"{arch}.expertmap-perlayer")
    ks = per_layer_plan(plan, plan + ".perlayer", E)
    cli(binary, "merge", "--model", src, "--plan", plan + ".perlayer", "--out", out, "--device", "cpu")
    folders.append(out)
    for folder in folders:
        cli(binary, "forward", "--model", folder, "--ids", ids, "--out", os.path.join(folder, "moescope_logits.h5"),
            "--dtype", "fp32", "--device", "cpu")
    return E, K, ks, folders


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cli", required=True)
    p.add_argument("--data", required=True, help="tests/data/hf-tiny")
    p.add_argument("--work", required=True, help="scratch folder (emptied first)")
    p.add_argument("--arch", action="append", help="only these fixtures (default: all)")
    a = p.parse_args()
    start = time.monotonic()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    archs = a.arch or sorted(d for d in os.listdir(a.data) if os.path.isfile(os.path.join(a.data, d, "config.json")))
    if not archs:
        print(f"no fixtures under {a.data}")
        return 1
    print(f"transformers {checker.transformers.__version__}, torch {checker.torch.__version__}", flush=True)
    failures = 0
    for arch in archs:
        try:
            E, K, ks, folders = export_all(a.cli, os.path.join(a.data, arch), a.work, arch)
            print(f"{arch}: E={E}, K={K}, per-layer K {ks}", flush=True)
        except Exception as e:  # an export that cannot be written is a failure too
            failures += 1
            print(f"FAIL {arch}: {e}", flush=True)
            continue
        for folder in folders:
            name = os.path.basename(folder)
            try:
                cls, remote, err = checker.check(folder, "cpu", None)
                ok = err <= checker.TOLERANCE
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name:36s} {cls:30s} remote_code={remote!s:5s} rel_err={err:.2e}",
                      flush=True)
            except Exception as e:
                failures += 1
                print(f"FAIL {name:36s} does not load in transformers: {type(e).__name__}: {e}", flush=True)
    print(f"{failures} failure(s) in {time.monotonic() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
