#!/usr/bin/env bash
# Runs the reproduction protocol of ALGORITHMS.md §9 on the embedded ResNet-20 (Fashion-MNIST):
# FP, RTN, AdaRound, BRECQ and QDrop at W4A4, W3A3, W2A4, W2A2 and W2A32, then prints a markdown
# table built from the result.json files: top-1 %, wall time, threads and the start of
# quantized_sha256 per run.
#
#   ITERS=2000 CALIB=1024 EVAL=0 THREADS=2 scripts/reproduce.sh runs/repro   # the full protocol
#   ITERS=100 CALIB=256 EVAL=2000 scripts/reproduce.sh runs/repro-100        # a reduced budget
#   MODEL=datasets/models/mobilenetv2_small_fmnist.safetensors ARCH=mobilenetv2-small-fmnist \
#     METHODS="brecq qdrop" SETTINGS="4,4 2,4" ROUND_WEIGHT=0.1 ITERS=100 CALIB=256 EVAL=2000 \
#     scripts/reproduce.sh runs/repro-mbv2-100
#
# EVAL=0 evaluates on all 10,000 test images. Existing result.json files are reused, and a run
# that was stopped continues from its per-unit checkpoint (quantize --resume); its table cell then
# shows the seconds of the resumed command plus those of the units done before, marked "resumed".
set -euo pipefail
OUT="${1:-runs/repro}"
ITERS="${ITERS:-2000}"
ITERS_ACT="${ITERS_ACT:-$((ITERS / 4))}"
CALIB="${CALIB:-1024}"
EVAL="${EVAL:-0}"
THREADS="${THREADS:-$(nproc)}"
SEED="${SEED:-1005}"
MODEL="${MODEL:-datasets/models/resnet20_fmnist.safetensors}"
ARCH="${ARCH:-resnet20-fmnist}"
SETTINGS="${SETTINGS:-4,4 3,3 2,4 2,2 2,32}"
METHODS="${METHODS:-rtn adaround brecq qdrop}"
ROUND_WEIGHT="${ROUND_WEIGHT:-}"   # rounding-regulariser weight λ; empty = the architecture's (qlimit archs)
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mkdir -p "$OUT"
for s in $SETTINGS; do
  w="${s%,*}"; a="${s#*,}"
  for m in $METHODS; do
    dir="$OUT/$m-w${w}a${a}"
    if [[ -f "$dir/result.json" ]]; then continue; fi
    echo "== $m W${w}A${a}" >&2
    resume=(); [[ -f "$dir/checkpoint.safetensors" ]] && resume=(--resume)
    ./qlimit quantize --model "$MODEL" --arch "$ARCH" --data fashion-mnist --method "$m" \
      --wbits "$w" --abits "$a" --iters "$ITERS" --iters-act "$ITERS_ACT" --calib "$CALIB" \
      --seed "$SEED" --threads "$THREADS" --eval-limit "$EVAL" \
      ${ROUND_WEIGHT:+--round-weight "$ROUND_WEIGHT"} ${resume[@]+"${resume[@]}"} --out "$dir" >> "$dir.log" 2>&1 \
      || { echo "failed: see $dir.log" >&2; exit 1; }
  done
done
python3 - "$OUT" "$SETTINGS" "$METHODS" <<'PY'
import json, os, sys
out, settings, methods = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
cols = [tuple(s.split(',')) for s in settings]
def res(m, w, a):
    p = os.path.join(out, f"{m}-w{w}a{a}", "result.json")
    return json.load(open(p)) if os.path.exists(p) else None
fp = None
for m in methods:
    for w, a in cols:
        r = res(m, w, a)
        if r: fp = r["fp_top1"]
print("| method | " + " | ".join(f"W{w}A{a}" for w, a in cols) + " |")
print("|---|" + "---|" * len(cols))
print("| FP32 | " + " | ".join(f"{fp:.2f}" if fp is not None else "–" for _ in cols) + " |")
for m in methods:
    cells = []
    for w, a in cols:
        r = res(m, w, a)
        if not r:
            cells.append("–")
            continue
        n = r.get("resumed_units", 0)
        secs = r["seconds"]
        if n:  # add the units done before the resumed command
            secs += sum(u["seconds"] for u in r["units"][:n])
        t = f"{secs:.0f} s" if secs < 600 else f"{secs / 60:.0f} min"
        mp = os.path.join(out, f"{m}-w{w}a{a}", "manifest.json")
        threads = json.load(open(mp))["environment"]["threads"] if os.path.exists(mp) else None
        notes = [t] + ([f"{threads} thr"] if threads else []) + (["resumed"] if n else [])
        cells.append(f"{r['top1']:.2f} ({', '.join(notes)}, `{r['quantized_sha256'][:8]}`)")
    print(f"| {m} | " + " | ".join(cells) + " |")
PY
