#!/usr/bin/env python3
"""Writes ROWS x COLS random int64 token ids below VOCAB to OUT.npy (seeded, standard library only):
calibration input for the benchmarks that need no tokenizer.
   scripts/random-ids.py OUT ROWS COLS VOCAB [SEED (0)]"""
import random
import struct
import sys

out, rows, cols, vocab = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
random.seed(int(sys.argv[5]) if len(sys.argv) > 5 else 0)
header = "{'descr': '<i8', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
header += " " * (63 - (10 + len(header)) % 64) + "\n"
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%dq" % (rows * cols), *[random.randrange(vocab) for _ in range(rows * cols)]))
