#!/usr/bin/env bash
# Runs the papers' ablations of README "Ablations" at a reduced budget: reconstruction
# granularity (layer, block, stage, net) for BRECQ and QDrop on ResNet-20 and MobileNetV2-small
# at W2A4, BRECQ's Fisher-weighted loss beside the squared error on ResNet-20, and QDrop's
# flatness (probe flatness on the ResNet-20 BRECQ and QDrop block runs); copies each
# result.json to docs/ablations/<run>.json and the probe's files to docs/ablations/flatness.*.
#
#   ITERS=50 CALIB=128 EVAL=1000 THREADS=2 scripts/ablations.sh runs/ablations
#
# Existing result.json files are reused. QLIMIT_JAR runs a given jar (see ./qlimit).
set -euo pipefail
OUT="${1:-runs/ablations}"
ITERS="${ITERS:-50}"
CALIB="${CALIB:-128}"
EVAL="${EVAL:-1000}"
THREADS="${THREADS:-2}"
SEED="${SEED:-1005}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mkdir -p "$OUT" docs/ablations
R20=(--model datasets/models/resnet20_fmnist.safetensors --arch resnet20-fmnist)
MBV2=(--model datasets/models/mobilenetv2_small_fmnist.safetensors --arch mobilenetv2-small-fmnist)
run() {  # name, model options..., -- quantize options...
  local name="$1"; shift
  local dir="$OUT/$name"
  if [[ ! -f "$dir/result.json" ]]; then
    echo "== $name" >&2
    ./qlimit quantize "$@" --data fashion-mnist --wbits 2 --abits 4 --iters "$ITERS" \
      --calib "$CALIB" --eval-limit "$EVAL" --seed "$SEED" --threads "$THREADS" --out "$dir" \
      > "$OUT/$name.log"
  fi
  cp "$dir/result.json" "docs/ablations/$name.json"
}
for g in block layer stage net; do
  for m in brecq qdrop; do
    run "r20-$m-$g" "${R20[@]}" --method "$m" --granularity "$g"
  done
done
for m in brecq qdrop; do
  run "r20-$m-fisher" "${R20[@]}" --method "$m" --loss fisher-diag
done
for g in block layer stage net; do
  for m in brecq qdrop; do
    run "mbv2-$m-$g" "${MBV2[@]}" --method "$m" --granularity "$g"
  done
done
if [[ ! -f "$OUT/flatness/flatness.json" ]]; then
  echo "== flatness" >&2
  ./qlimit probe flatness "${R20[@]}" --data fashion-mnist --run "$OUT/r20-brecq-block" \
    --run "$OUT/r20-qdrop-block" --eval-limit "$EVAL" --repeats 3 --magnitudes 0,0.25,0.5,1,2 \
    --seed "$SEED" --threads "$THREADS" --out "$OUT/flatness" > "$OUT/flatness.log"
fi
cp "$OUT/flatness/flatness.json" "$OUT/flatness/flatness.png" docs/ablations/
