#!/usr/bin/env bash
# Live-migration networking benchmark (issue 3): BENCH_DRILLS drills (default
# 100) back and forth between node-1 and node-2 under a 1000/s probe and a TCP
# stream from node-3. Per drill: network-added loss (the probe's loss window
# minus the blackout, i.e. the time the endpoint itself could not answer),
# duplicates, early deliveries, first frame -> activation (kernel timestamps),
# replication confirmed on every node.   bench/migration.sh BUILD_DIR OUT.json
set -uo pipefail
build=$1 out=$2
GODWIT=$build/godwit
LAB=m$$
LAB_DIR=/run/godwit/labs/$LAB
export GODWIT_CONFIG=$(mktemp -d)/config
DRILLS=${BENCH_DRILLS:-100} RATE=${BENCH_RATE:-1000} SILENCE=${BENCH_SILENCE_MS:-20}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do { wait "$p"; } 2>/dev/null; done # no "Killed" notices
  "$GODWIT" lab down --name "$LAB" >/dev/null 2>&1
  rm -rf "$tmp" "$(dirname "$GODWIT_CONFIG")"
}
trap cleanup EXIT
gw() { "$GODWIT" --lab "$LAB" "$@"; }
say() { echo "  $*" >&2; }

gw lab up --name "$LAB" --nodes 3 >/dev/null || { echo "lab up failed" >&2; exit 1; }
gw apply -f - >/dev/null <<YAML || exit 1
apiVersion: godwit/v1
kind: Network
metadata: {name: bench}
spec: {cidr: 10.97.0.0/24}
YAML
gw endpoint add vm --network bench --node node-1 >/dev/null || exit 1
gw endpoint add x --network bench --node node-3 >/dev/null || exit 1
VM=$(gw get port vm -o json | jq -r .spec.ipv4)
ip netns exec "$LAB-ep-vm" "$GODWIT" probe --serve --port 7 >/dev/null 2>&1 & pids+=($!)
sleep 0.5

# One probe across all drills; each drill is matched to the loss window that overlaps it.
secs=$(( DRILLS * 2 + 10 ))
ip netns exec "$LAB-ep-x" "$GODWIT" probe "$VM" --rate "$RATE" --duration "$secs" --tcp 7 --json \
  >"$tmp/probe.json" 2>"$tmp/probe.err" & probe_pid=$!; pids+=($probe_pid)
sleep 1
say "$DRILLS drills under a ${RATE}/s probe (silence ${SILENCE} ms each)"
to=node-2
for i in $(seq 1 "$DRILLS"); do
  gw drill vm --to "$to" --silence-ms "$SILENCE" --json >"$tmp/drill-$i.json" 2>"$tmp/drill-$i.err" \
    || { say "drill $i failed: $(tail -n 2 "$tmp/drill-$i.err")"; }
  [[ $to == node-2 ]] && to=node-1 || to=node-2
  (( i % 10 == 0 )) && say "$i/$DRILLS"
done
NAIVE=${BENCH_NAIVE_DRILLS:-20}
say "baseline: $NAIVE naive drills (no replication; the fabric switches when the migration completes)"
for i in $(seq 1 "$NAIVE"); do
  gw drill vm --to "$to" --naive --silence-ms "$SILENCE" --json >"$tmp/naive-$i.json" 2>"$tmp/naive-$i.err" \
    || { say "naive drill $i failed: $(tail -n 2 "$tmp/naive-$i.err")"; }
  [[ $to == node-2 ]] && to=node-1 || to=node-2
done
kill -INT "$probe_pid" 2>/dev/null; wait "$probe_pid"

jq -s '.' "$tmp"/drill-*.json >"$tmp/drills.json" 2>/dev/null || echo '[]' >"$tmp/drills.json"
jq -s '.' "$tmp"/naive-*.json >"$tmp/naive.json" 2>/dev/null || echo '[]' >"$tmp/naive.json"
jq -n -L "$(dirname "$0")" --slurpfile p "$tmp/probe.json" --slurpfile d "$tmp/drills.json" --slurpfile n "$tmp/naive.json" \
  --argjson rate "$RATE" '
  include "stats";
  ($p[0]) as $probe | (1000 / $rate) as $interval |
  # each drill is matched to the loss window(s) that overlap its blackout
  def per($drills): [ $drills[] | select(.phase == "Succeeded") |
    (.silence_unix_ns / 1e6) as $s | (.resume_unix_ns / 1e6) as $r |
    ([ $probe.windows[] | select(.end_unix_ms >= $s and .start_unix_ms <= $r + 50) ] ) as $w |
    { blackout_ms: (($r - $s)),
      window_ms: ([ $w[].length_ms ] | add // 0),
      added_ms: ((([ $w[].length_ms ] | add // 0) - ($r - $s)) | if . < 0 then 0 else . end),
      early: .early_deliveries,
      activation_us: .first_frame_to_activation_us,
      replication_ms: .figures.replication_confirm_ms,
      standby_drops: (.figures.standby_drops_after_switch // 0) } ];
  def summary($per; $n): {
    drills: $n, succeeded: ($per | length),
    blackout_ms: dist([ $per[].blackout_ms ]),
    loss_window_ms: dist([ $per[].window_ms ]),
    network_added_ms: dist([ $per[].added_ms ]),
    zero_added_loss: ([ $per[] | select(.added_ms <= $interval) ] | length),
    standby_drops_after_resume: ([ $per[].standby_drops ] | add // 0),
    early_deliveries: ([ $per[].early ] | add // 0),
    first_frame_to_activation_us: dist([ $per[].activation_us | select(. != null) ]),
    replication_confirm_ms: dist([ $per[].replication_ms | select(. != null) ]) };
  summary(per($d[0]); $d[0] | length) + {
    probe: {rate_hz: $rate, sent: $probe.sent, lost: $probe.lost, duplicates: $probe.duplicates,
            tcp: $probe.tcp},
    naive: summary(per($n[0]); $n[0] | length) }' >"$out"
say "$(jq -c '{succeeded, zero_added_loss, network_added_ms, duplicates: .probe.duplicates, early_deliveries}' "$out")"
