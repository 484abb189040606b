#!/usr/bin/env python3
"""CPU time per call of libtorch's conv2d forward, backward-data and backward-weight (+ bias) on the
layers of ConvCpuTime (batch 32; layer names as there: "C@S" 3x3 stride 1 pad 1, "dwC@S" or
"dwC@S/2" depthwise 3x3 pad 1, "pwCIN-COUT@S" pointwise 1x1), for a same-sitting ratio against
qlimit's ConvCpuTime on a machine where the `peers` profile's native jars are not available
(Debian's python3-torch).

Usage: /usr/bin/python3 tools/libtorch-conv-cputime.py [THREADS] [LAYER...]   (default 16@28 32@14 64@7)

Prints, per pass and layer, the median (min-max) of 9 rounds of CPU ms per call after 40 warm-up
calls, in process CPU ms per call (all threads); with THREADS > 1 also the wall ms per call. A
round is 10 calls at one thread and 50 at more (the process clock ticks in 10 ms steps). Inputs
are uniform in [-1, 1).
"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
layers = sys.argv[2:] or ["16@28", "32@14", "64@7"]
torch.set_num_threads(threads)
print("torch", torch.__version__, "threads", torch.get_num_threads())
gen = torch.Generator().manual_seed(1)


def shape(layer):
    """(cin, cout, kernel, stride, pad, groups, size) of a layer name."""
    kind, rest = layer.split("@")
    size, _, stride = rest.partition("/")
    size, stride = int(size), int(stride or 1)
    if kind.startswith("dw"):
        c = int(kind[2:])
        return c, c, 3, stride, 1, c, size
    if kind.startswith("pw"):
        cin, cout = map(int, kind[2:].split("-"))
        return cin, cout, 1, 1, 0, 1, size
    c = int(kind)
    return c, c, 3, 1, 1, 1, size


calls = 10 if threads == 1 else 50
for layer in layers:
    cin, cout, k, st, pad, groups, s = shape(layer)
    x = torch.rand(32, cin, s, s, generator=gen) * 2 - 1
    w = torch.rand(cout, cin // groups, k, k, generator=gen) * 2 - 1
    b = torch.rand(cout, generator=gen) * 2 - 1
    so = (s + 2 * pad - k) // st + 1
    dy = torch.rand(32, cout, so, so, generator=gen) * 2 - 1
    backward = torch.ops.aten.convolution_backward
    conv = dict(stride=[st, st], padding=[pad, pad], dilation=[1, 1], transposed=False,
                output_padding=[0, 0], groups=groups)
    passes = {
        "forward": lambda: torch.nn.functional.conv2d(x, w, b, st, pad, 1, groups),
        "backwardData": lambda: backward(dy, x, w, [cout], conv["stride"], conv["padding"],
                                         conv["dilation"], False, [0, 0], groups,
                                         [True, False, False]),
        "backwardWeight": lambda: backward(dy, x, w, [cout], conv["stride"], conv["padding"],
                                           conv["dilation"], False, [0, 0], groups,
                                           [False, True, True]),
    }
    for name, f in passes.items():
        for _ in range(40):
            f()
        ms, wall = [], []
        for _ in range(9):
            t0, w0 = time.process_time(), time.perf_counter()
            for _ in range(calls):
                f()
            ms.append((time.process_time() - t0) / calls * 1e3)
            wall.append((time.perf_counter() - w0) / calls * 1e3)
        ms.sort()
        wall.sort()
        extra = "" if threads == 1 else "  wall ms/call %.2f" % wall[4]
        print("%-14s %-10s CPU ms/call %.2f (%.2f-%.2f)%s" % (name, layer, ms[4], ms[0], ms[8],
                                                            extra))
