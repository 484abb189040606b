#!/usr/bin/env bash
# Quantizes a committed BERT-layout model (datasets/models/bert_<data>/) with RTN, AdaRound,
# BRECQ and QDrop at W8A8, W4A8, W2A8 and W4A4 (or the W:A pairs of $SETTINGS, e.g.
# SETTINGS="4:3 4:2"), and prints one table row per run from each result.json (accuracy on
# SST-2 dev / TREC test, time, hash).
# Usage: [SETTINGS="W:A ..."] scripts/bert_quantize_table.sh sst2|trec ITERS CALIB OUT_DIR [method ...]
set -euo pipefail
data=$1; iters=$2; calib=$3; out=$4; shift 4
methods=${*:-rtn adaround brecq qdrop}
for m in $methods; do
  for wa in ${SETTINGS:-8:8 4:8 2:8 4:4}; do
    w=${wa%:*}; a=${wa#*:}
    dir=$out/$data-$m-w${w}a${a}
    ./qlimit quantize --arch bert --data "$data" --model "datasets/models/bert_$data/model.safetensors" \
      --method "$m" --wbits "$w" --abits "$a" --iters "$iters" --calib "$calib" --out "$dir" > "$dir.log" 2>&1 \
      || { echo "| $data | $m | W${w}A${a} | failed, see $dir.log |"; continue; }
    python3 - "$dir/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("| %s | %s | W%dA%d | %.2f | %.2f | %.0f s | %s |" % (r["dataset"], r["method"], r["wbits"], r["abits"],
      r["fp_accuracy"], r["accuracy"], r["reconstruction_seconds"], r["quantized_sha256"][:8]))
PY
  done
done
