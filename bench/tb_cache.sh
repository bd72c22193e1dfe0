#!/usr/bin/env bash
# Why a migrated TCG guest answers later than one paused in place (issue 10):
# TCG's translation-block count on the target from RESUME on, for BENCH_TB_N
# (default 5) migrations, next to the same count after as many in-place
# pauses of 20 ms (bench/tbwatch.py), under a 200/s ping from node-3.
# Prints one line per run: TBs translated 10/25/50/100/200/1000 ms after RESUME.
#   bench/tb_cache.sh BUILD_DIR
set -uo pipefail
build=$(realpath "${1:-build}")
here=$(cd "$(dirname "$0")" && pwd)
GODWIT=$build/godwit LAB=tb$$ N=${BENCH_TB_N:-5}
export GODWIT_CONFIG=$(mktemp -d)/config
LAB_DIR=/run/godwit/labs/$LAB
tmp=$(mktemp -d)
PING=
cleanup() {
  [[ -n $PING ]] && kill "$PING" 2>/dev/null
  "$GODWIT" lab down --name "$LAB" >/dev/null 2>&1
  rm -rf "$tmp" "$(dirname "$GODWIT_CONFIG")"
}
trap cleanup EXIT
source "$here/vmlab.sh"
vmlab_up "$here/.." || exit 1
ip netns exec "$LAB-ep-obs" ping -q -i 0.005 -w 3600 "$IP" >/dev/null 2>&1 &
PING=$!
sleep 10
for i in $(seq 1 "$N"); do
  for _ in $(seq 120); do settled && break; sleep 0.5; done
  sleep 2
  src=$(vm_field .spec.node)
  [[ $src == node-1 ]] && dst=node-2 || dst=node-1
  python3 "$here/tbwatch.py" "$LAB_DIR/vms/$src/testvm/qmp-watch.sock" 1.5 "$tmp/pause-$i.json" 20 ||
    exit 1
  python3 "$here/tbwatch.py" "$LAB_DIR/vms/$dst/testvm/qmp-watch.sock" 4 "$tmp/migration-$i.json" &
  w=$!
  sleep 0.3
  gw migrate testvm --to "$dst" --wait >/dev/null || echo "migration $i failed" >&2
  wait "$w" || exit 1
done
for f in "$tmp"/pause-*.json "$tmp"/migration-*.json; do
  jq -r --arg f "$(basename "$f" .json)" '.resume_unix_ns as $r | .samples as $s
    | ([$s[] | select(.[0] <= $r) | .[1]] | last // 0) as $base
    | [10, 25, 50, 100, 200, 1000] | map(. as $ms | ([$s[] | select(.[0] <= $r + $ms * 1e6) | .[1]] | last // $base) - $base)
    | "\($f): TBs translated after RESUME at 10/25/50/100/200/1000 ms: \(map(tostring) | join(" / "))"' "$f"
done
