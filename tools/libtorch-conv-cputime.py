#!/usr/bin/env python3
"""CPU time per call of libtorch's conv2d forward, backward-data and backward-weight (+ bias) on the
layers of ConvCpuTime (3x3, stride 1, pad 1, batch 32, layers "c@s"), for a same-sitting ratio
against qlimit's ConvCpuTime on a machine where the `peers` profile's native jars are not
available (Debian's python3-torch).

Usage: /usr/bin/python3 tools/libtorch-conv-cputime.py [THREADS] [16@28 32@14 64@7]

Prints, per pass and layer, the median (min-max) of 9 rounds of 10 calls after 40 warm-up calls,
in process CPU ms per call (all threads). Inputs are uniform in [-1, 1).
"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
layers = sys.argv[2:] or ["16@28", "32@14", "64@7"]
torch.set_num_threads(threads)
print("torch", torch.__version__, "threads", torch.get_num_threads())
gen = torch.Generator().manual_seed(1)
for layer in layers:
    c, s = map(int, layer.split("@"))
    x = torch.rand(32, c, s, s, generator=gen) * 2 - 1
    w = torch.rand(c, c, 3, 3, generator=gen) * 2 - 1
    b = torch.rand(c, generator=gen) * 2 - 1
    dy = torch.rand(32, c, s, s, generator=gen) * 2 - 1
    backward = torch.ops.aten.convolution_backward
    passes = {
        "forward": lambda: torch.nn.functional.conv2d(x, w, b, 1, 1),
        "backwardData": lambda: backward(dy, x, w, [c], [1, 1], [1, 1], [1, 1], False, [0, 0],
                                         1, [True, False, False]),
        "backwardWeight": lambda: backward(dy, x, w, [c], [1, 1], [1, 1], [1, 1], False, [0, 0],
                                           1, [False, True, True]),
    }
    for name, f in passes.items():
        for _ in range(40):
            f()
        ms = []
        for _ in range(9):
            t0 = time.process_time()
            for _ in range(10):
                f()
            ms.append((time.process_time() - t0) / 10 * 1e3)
        ms.sort()
        print("%-14s %-6s CPU ms/call %.2f (%.2f-%.2f)" % (name, layer, ms[4], ms[0], ms[8]))
