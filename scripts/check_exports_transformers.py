#!/usr/bin/env python3
"""Loads every export written by scripts/export-check.sh in Hugging Face transformers and compares
its logits with the ones MoEScope's own loader computed for the same input ids.

    python3 scripts/check_exports_transformers.py OUT_DIR [--device cpu|cuda]

Compact exports must load with no custom code; expert-map exports load through the modeling file
their config.json registers in auto_map (trust_remote_code). Exit status 1 if any export fails to
load or differs by more than 1e-3 of max|logit| (the tolerance of MoEScope's forward-pass tests).
"""
import argparse
import json
import os
import sys
import traceback

import h5py
import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transformers_load import load_causal_lm  # noqa: E402  (aliased model types such as kimi_k2)

TOLERANCE = 1e-3


def quantization_kwargs(config):
    """A quantized export (FP8 / MXFP4, like its source) is loaded dequantized, as transformers does on
    a CPU. transformers' FP8 quantizer asks for accelerate before anything else although its
    dequantizing path never uses it; the reference environment has no accelerate, so the check is
    waived rather than the environment changed (scripts/fixtures/make_reference.py does the same)."""
    q = config.get("quantization_config")
    if not q:
        return {}
    from transformers import FineGrainedFP8Config, Mxfp4Config
    skip = {"modules_to_not_convert": q.get("modules_to_not_convert")}
    if q.get("quant_method") == "fp8":
        import transformers.quantizers.quantizer_finegrained_fp8 as fp8q
        fp8q.is_accelerate_available = lambda: True
        return {"quantization_config": FineGrainedFP8Config(dequantize=True, weight_block_size=q.get("weight_block_size"),
                                                            activation_scheme=q.get("activation_scheme", "dynamic"), **skip)}
    if q.get("quant_method") == "mxfp4":
        return {"quantization_config": Mxfp4Config(dequantize=True, **skip)}
    raise RuntimeError(f"quant_method {q.get('quant_method')!r} is not one MoEScope writes")


def check(folder, device, experts):
    with h5py.File(os.path.join(folder, "moescope_logits.h5"), "r") as f:
        ids = torch.from_numpy(np.asarray(f["input_ids"], dtype=np.int64))
        ref = np.asarray(f["logits"], dtype=np.float32)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    remote = "auto_map" in config
    extra = {"experts_implementation": experts} if experts else {}
    extra.update(quantization_kwargs(config))
    model = load_causal_lm(folder, dtype=torch.float32, attn_implementation="eager", trust_remote_code=remote, **extra)
    if "quantization_config" in config:
        model = model.float()  # transformers dequantizes MXFP4 to bf16 whatever dtype is asked (exact in fp32)
    model.to(device).eval()
    with torch.no_grad():
        got = model(input_ids=ids.to(device)).logits.float().cpu().numpy()
    err = float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))
    return type(model).__name__, remote, err


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--device", action="append", choices=["cpu", "cuda"],
                   help="cpu (default experts implementation); cuda: default (grouped_mm) and eager; "
                        "default: both when a GPU is present")
    a = p.parse_args()
    devices = a.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    variants = [(d, e) for d in devices for e in ([None, "eager"] if d == "cuda" else [None])]
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    failures = 0
    for name in sorted(os.listdir(a.out)):
        folder = os.path.join(a.out, name)
        if not os.path.isfile(os.path.join(folder, "moescope_logits.h5")):
            continue
        for device, experts in variants:
            where = f"{device}/{experts or 'default'}"
            try:
                cls, remote, err = check(folder, device, experts)
                ok = err <= TOLERANCE
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {name:32s} {where:13s} {cls:30s} remote_code={remote!s:5s} "
                      f"rel_err={err:.2e}")
            except Exception as e:  # report every export, then fail
                failures += 1
                print(f"FAIL {name:32s} {where:13s} does not load: {type(e).__name__}: {e}")
                traceback.print_exc(limit=3, file=sys.stdout)
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
