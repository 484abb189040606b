#!/usr/bin/env bash
# Interleaved race of qlimit against the official BRECQ/QDrop code on this CPU (issue 14, target 1).
# Order per method: official, qlimit, qlimit, official; 2 threads each; ResNet-20 W2A4, 200 iterations
# per unit (BRECQ + 50 activation iterations), 1,024 calibration images, 100 test images.
# usage: scripts/race-official.sh OUT_DIR [QLIMIT_JAR] [METHODS]
#   needs the official trees prepared by ../shared/peers/setup.sh (PEER_SRC, default /tmp/peer)
#   QJAVA: the java binary for qlimit (default java); QJOPTS: extra JVM options, e.g. -Xmx1536m
#   (the launcher's default heap)
#   summary: python3 scripts/race-summary.py OUT_DIR
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT=$1; JAR=${2:-$ROOT/target/qlimit.jar}; METHODS=${3:-"qdrop brecq"}
PEERS=${PEERS:-$ROOT/../shared/peers}
mkdir -p "$OUT"; cd "$ROOT"
qlimit_run() { # method tag
  local extra=""; [ "$1" = brecq ] && extra="--iters-act 50"
  uptime > "$OUT/q-$1-$2.uptime"
  /usr/bin/time -v "${QJAVA:-java}" --add-modules jdk.incubator.vector -XX:+UseParallelGC ${QJOPTS:-} -jar "$JAR" \
    quantize --model datasets/models/resnet20_fmnist.safetensors --arch resnet20-fmnist \
    --data fashion-mnist --method "$1" --wbits 2 --abits 4 --iters 200 $extra --calib 1024 \
    --eval-limit 100 --seed 1005 --threads 2 --out "$OUT/q-$1-$2" > "$OUT/q-$1-$2.log" 2>&1
}
official_run() { # method tag
  local extra=""; [ "$1" = brecq ] && extra="--iters-a 50"
  uptime > "$OUT/o-$1-$2.uptime"
  PEER_THREADS=2 /usr/bin/time -v /usr/bin/python3 "$PEERS/official_cpu.py" --kind "$1" --w 2 --a 4 \
    --iters 200 $extra --calib 1024 --seed 1005 --eval 100 --out "$OUT/o-$1-$2.json" \
    > "$OUT/o-$1-$2.log" 2>&1
}
for m in $METHODS; do
  official_run "$m" 1; qlimit_run "$m" 1; qlimit_run "$m" 2; official_run "$m" 2
done
