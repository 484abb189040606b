#!/usr/bin/env python3
"""Turns JMH JSON results of GemmPeerBench/ConvPeerBench into a qlimit-vs-peer table (markdown).

Each row pairs a qlimit benchmark with its peer from the same run, same parameters:
GemmPeerBench.qlimit / .openblas, ConvPeerBench.qlimitX / .torchX (X = Forward, BackwardData,
BackwardWeight). Columns: JMH's score ± error (mean and 99.9 % half-width, ops/s), GFLOP/s from
the median of the measured iterations, and the ratio of the medians qlimit/peer (> 1: qlimit
faster). GEMM: flop = 2*m*n*k per op. Conv: flop = 2*macs per op, batch 32, 3x3, cin = cout
(the bias gradient is not counted).
Usage: tools/jmh-peers.py result.json
"""
import json
import math
import sys


def median(values):
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def flop(params):
    if "shape" in params:
        m, n, k = (int(v) for v in params["shape"].split("x"))
        return 2.0 * m * n * k
    c, hw = (int(v) for v in params["layer"].split("@"))
    return 2.0 * 32 * c * hw * hw * c * 9


def score(r):
    pm = r["primaryMetric"]
    err = float(pm.get("scoreError", "NaN"))  # JMH writes "NaN" when there are too few samples
    return "%.2f" % pm["score"] + ("" if math.isnan(err) else " ± %.2f" % err)


PAIRS = [  # (class, qlimit method, peer method, label)
    ("GemmPeerBench", "qlimit", "openblas", "GEMM vs OpenBLAS cblas_sgemm"),
    ("ConvPeerBench", "qlimitForward", "torchForward", "conv forward vs at::conv2d"),
    ("ConvPeerBench", "qlimitBackwardData", "torchBackwardData",
     "conv backward-data vs convolution_backward"),
    ("ConvPeerBench", "qlimitBackwardWeight", "torchBackwardWeight",
     "conv backward-weight (+bias) vs convolution_backward"),
]


def main():
    rows = json.load(open(sys.argv[1]))
    by_key = {}
    for r in rows:
        cls, method = r["benchmark"].split(".")[-2:]
        by_key[(cls, method, tuple(sorted(r.get("params", {}).items())))] = r
    print("| pair | shape | threads | qlimit ops/s | peer ops/s | qlimit GFLOP/s | peer GFLOP/s"
          " | qlimit/peer |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for cls, q_method, p_method, label in PAIRS:
        keys = [k for k in by_key if k[0] == cls and k[1] == q_method]
        keys.sort(key=lambda k: (int(dict(k[2])["threads"]), -flop(dict(k[2]))))
        for key in keys:
            params = dict(key[2])
            q = by_key[key]
            p = by_key.get((cls, p_method, key[2]))
            if p is None:
                continue
            f = flop(params)
            qm = median(v for it in q["primaryMetric"]["rawData"] for v in it)
            pm = median(v for it in p["primaryMetric"]["rawData"] for v in it)
            print("| %s | %s | %s | %s | %s | %.1f | %.1f | %.2f |" % (
                label, params.get("shape", params.get("layer")), params["threads"], score(q),
                score(p), qm * f / 1e9, pm * f / 1e9, qm / pm))


if __name__ == "__main__":
    main()
