#!/usr/bin/env python3
"""Turns JMH JSON results of GemmBench/ConvBench into a GFLOP/s table (markdown).

GemmBench: flop = 2*m*n*k per op. ConvBench: flop = 2*macs per op (forward, backward-data and
backward-weight all do the same number of multiply-adds; the bias gradient is not counted).
Usage: tools/jmh-gflops.py result.json [peak_gflops]
"""
import json
import sys


def conv_macs(layer):
    dw = layer.startswith("dw")
    c, hw = (int(v) for v in layer.replace("dw", "").split("@"))
    n, k = 32, 3
    cin_g = 1 if dw else c
    return n * c * hw * hw * cin_g * k * k


def main():
    rows = json.load(open(sys.argv[1]))
    peak = float(sys.argv[2]) if len(sys.argv) > 2 else 232.0
    print("| benchmark | params | ops/s median (min–max) | GFLOP/s (median) | %% of %.0f GFLOP/s |" % peak)
    print("|---|---|---|---|---|")
    for r in rows:
        name = r["benchmark"].split(".")[-2] + "." + r["benchmark"].split(".")[-1]
        p = r.get("params", {})
        raw = sorted(v for it in r["primaryMetric"]["rawData"] for v in it)
        mid = len(raw) // 2
        score = raw[mid] if len(raw) % 2 else (raw[mid - 1] + raw[mid]) / 2
        lo, hi = raw[0], raw[-1]
        if "shape" in p:
            m, n, k = (int(v) for v in p["shape"].split("x"))
            flop = 2.0 * m * n * k
        else:
            flop = 2.0 * conv_macs(p["layer"])
        gf = score * flop / 1e9
        params = ", ".join("%s=%s" % kv for kv in sorted(p.items()))
        print("| %s | %s | %.2f (%.2f–%.2f) | %.1f | %.0f %% |" % (name, params, score, lo, hi, gf,
                                                               100 * gf / peak))


if __name__ == "__main__":
    main()
