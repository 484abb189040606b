#!/usr/bin/env python3
"""Prints the README "Ablations" tables from the files scripts/ablations.sh copies to
docs/ablations/: top-1 %, wall time of the quantize command and the start of quantized_sha256
per run, and the flatness probe's loss against epsilon.

    python3 scripts/ablations_table.py docs/ablations
"""
import json
import os
import sys

d = sys.argv[1] if len(sys.argv) > 1 else "docs/ablations"


def load(name):
    p = os.path.join(d, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None


def cell(r):
    if r is None:
        return "–"
    s = r["seconds"]
    t = f"{s:.0f} s" if s < 600 else f"{s / 60:.0f} min"
    return f"{r['top1']:.2f} ({t}, `{r['quantized_sha256'][:8]}`)"


for model, label in (("r20", "ResNet-20"), ("mbv2", "MobileNetV2-small")):
    fp = next((r["fp_top1"] for g in ("block", "layer", "stage", "net") for m in ("brecq", "qdrop")
               if (r := load(f"{model}-{m}-{g}")) is not None), None)
    print(f"{label}, W2A4 (FP32 {fp:.2f} on these images):" if fp is not None else label)
    print()
    print("| method | layer | block | stage | net |")
    print("|---|---|---|---|---|")
    for m in ("brecq", "qdrop"):
        print(f"| {m} | " + " | ".join(cell(load(f"{model}-{m}-{g}"))
                                       for g in ("layer", "block", "stage", "net")) + " |")
    print()

print("ResNet-20, W2A4, block granularity:")
print()
print("| method | mse | fisher-diag |")
print("|---|---|---|")
for m in ("brecq", "qdrop"):
    print(f"| {m} | {cell(load(f'r20-{m}-block'))} | {cell(load(f'r20-{m}-fisher'))} |")
print()

f = load("flatness")
if f is not None:
    runs = f["runs"]
    for target in ("activations", "weights"):
        eps = [p["epsilon"] for p in runs[0]["points"] if p["target"] == target]
        if not eps:
            continue
        print(f"Perturbed {target}: mean cross-entropy (increase over ε = 0; top-1 %), "
              f"{f['eval_images']} test images, {f['repeats']} draws per ε:")
        print()
        print("| run | " + " | ".join(f"ε = {e:g}" for e in eps) + " |")
        print("|---|" + "---|" * len(eps))
        for r in runs:
            pts = [p for p in r["points"] if p["target"] == target]
            base = pts[0]["loss"]
            cells = [f"{p['loss']:.3f} (+{p['loss'] - base:.3f}; {p['top1']:.1f})" for p in pts]
            print(f"| {r['method']} `{r['quantized_sha256'][:8]}` | " + " | ".join(cells) + " |")
        print()
