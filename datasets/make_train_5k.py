#!/usr/bin/env python3
"""Derive the embedded Fashion-MNIST training subset from the full upstream training files.

Usage (from the repository root):
    python3 datasets/make_train_5k.py /path/to/fashion-mnist
where the folder holds train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz
(SHA-256 b0564c3e... and 0ae29f65..., see datasets/README.md).

Writes datasets/fashion-mnist/train-5k-images-idx3-ubyte.gz and train-5k-labels-idx1-ubyte.gz:
the first N = 5000 images and labels in file order, with IDX headers rewritten to count N.
The gzip wrapper is deterministic (mtime 0, no file name, level 9), so reruns give the same bytes.
"""
import gzip
import struct
import sys
from pathlib import Path

N = 5000


def write_gz(path, payload):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(payload)


def main():
    src = Path(sys.argv[1])
    out = Path(__file__).resolve().parent / "fashion-mnist"
    images = gzip.decompress((src / "train-images-idx3-ubyte.gz").read_bytes())
    labels = gzip.decompress((src / "train-labels-idx1-ubyte.gz").read_bytes())
    magic, count, rows, cols = struct.unpack(">IIII", images[:16])
    assert magic == 0x803 and count >= N and len(images) == 16 + count * rows * cols
    lmagic, lcount = struct.unpack(">II", labels[:8])
    assert lmagic == 0x801 and lcount == count and len(labels) == 8 + lcount
    write_gz(out / "train-5k-images-idx3-ubyte.gz",
             struct.pack(">IIII", 0x803, N, rows, cols) + images[16:16 + N * rows * cols])
    write_gz(out / "train-5k-labels-idx1-ubyte.gz",
             struct.pack(">II", 0x801, N) + labels[8:8 + N])


if __name__ == "__main__":
    main()
