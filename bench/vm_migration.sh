#!/usr/bin/env bash
# Real VM live migrations (issue 4): BENCH_VM_MIGRATIONS (default 20) QEMU live
# migrations of testvm round the three nodes under a 1000/s probe and a TCP
# stream from an observer endpoint. Per migration: the client's loss window
# against the VM blackout (QMP STOP on the source -> RESUME on the target), the
# probes lost, and the zero-loss handoff's figures (STOP -> handoff, frames
# drained from the source tap).
#   bench/vm_migration.sh BUILD_DIR OUT.json
set -uo pipefail
build=$1 out=$2
GODWIT=$build/godwit
LAB=v$$
export GODWIT_CONFIG=$(mktemp -d)/config
N=${BENCH_VM_MIGRATIONS:-20} RATE=${BENCH_RATE:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [[ -n ${BENCH_KEEP_LOGS:-} ]]; then   # the lab's logs and the raw figures, for diagnosis
    mkdir -p "$BENCH_KEEP_LOGS" && cp -r "/run/godwit/labs/$LAB" "$tmp" "$BENCH_KEEP_LOGS/" 2>/dev/null
  fi
  "$GODWIT" lab down --name "$LAB" >/dev/null 2>&1
  rm -rf "$tmp" "$(dirname "$GODWIT_CONFIG")"
}
trap cleanup EXIT
gw() { "$GODWIT" --lab "$LAB" "$@"; }
say() { echo "  $*" >&2; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 missing (make deps)" >&2; exit 1; }

gw lab up --name "$LAB" --nodes 3 >/dev/null || { echo "lab up failed" >&2; exit 1; }
gw apply -f "$here/examples/testvm.yaml" >/dev/null 2>&1 || exit 1
for _ in $(seq 180); do
  [[ $(gw get vm testvm -o json 2>/dev/null | jq -r .status.phase) == Running ]] && break
  sleep 0.5
done
IP=$(gw get vm testvm -o json | jq -r .status.ipv4)
gw endpoint add obs --network default --node node-3 >/dev/null || exit 1
for _ in $(seq 100); do ip netns exec "$LAB-ep-obs" ping -c 1 -W 1 "$IP" >/dev/null 2>&1 && break; done
ip netns exec "$LAB-ep-obs" "$GODWIT" probe "$IP" --rate "$RATE" --tcp 7 --duration 3600 --json \
  --record "$tmp/probe.csv" \
  >"$tmp/probe.json" 2>"$tmp/probe.err" & probe_pid=$!; pids+=($probe_pid)
sleep 1
say "$N live migrations of testvm under a ${RATE}/s probe"
node=node-1 unreachable_after=null reset_after=null
for i in $(seq 1 "$N"); do
  case $node in node-1) to=node-2 ;; node-2) to=node-3 ;; *) to=node-1 ;; esac
  gw migrate testvm --to "$to" --wait --json >"$tmp/m-$i.json" 2>"$tmp/m-$i.err" \
    || say "migration $i failed: $(tail -n 1 "$tmp/m-$i.err")"
  node=$to
  answered=0
  for _ in $(seq 30); do   # the guest answers again before the next one starts
    ip netns exec "$LAB-ep-obs" ping -c 1 -W 1 "$IP" >/dev/null 2>&1 && { answered=1; break; }
  done
  if (( ! answered )); then   # a guest whose network is gone: say so, measure no further
    say "the guest does not answer 30 s after migration $i: stopping the run"
    unreachable_after=$i
    break
  fi
  # a guest that rebooted itself (QMP RESET): stop with its console in the lab
  if [[ $(gw get vm testvm -o json | jq '.status.guest_resets // 0') != 0 ]]; then
    say "the guest reset itself after migration $i: stopping the run"
    reset_after=$i
    break
  fi
  sleep 0.5
  (( i % 5 == 0 )) && say "$i/$N"
done
sleep 1
kill -INT "$probe_pid" 2>/dev/null; wait "$probe_pid"

jq -s '.' $(ls "$tmp"/m-*.json 2>/dev/null | sort -V) </dev/null >"$tmp/all.json" 2>/dev/null || echo '[]' >"$tmp/all.json"
jq -n -L "$(dirname "$0")" --slurpfile p "$tmp/probe.json" --slurpfile m "$tmp/all.json" --argjson rate "$RATE" \
  --argjson unreachable "$unreachable_after" --argjson reset "$reset_after" '
  include "stats";
  ($p[0]) as $probe | (1000 / $rate) as $interval |
  [ $m[0][] | select(.status.phase == "Succeeded") | .status.figures as $f |
    ($f.stop_unix_ns / 1e6) as $s | ($f.resume_unix_ns / 1e6) as $r |
    ([ $probe.windows[] | select(.end_unix_ms >= $s and .start_unix_ms <= $r + 200) ]) as $w |
    ([ $w[].length_ms ] | add // 0) as $win |
    { blackout_ms: $f.vm_blackout_ms, window_ms: $win,
      lost: ([ $w[].lost ] | add // 0),
      stop_to_handoff_ms: $f.stop_to_handoff_ms, handoff_tap_frames: $f.handoff_tap_frames,
      diff_ms: ($win - $f.vm_blackout_ms),
      ratio: (if $f.vm_blackout_ms > 0 then $win / $f.vm_blackout_ms else null end),
      within_goal: ($win <= $f.vm_blackout_ms + 2 * $interval),
      standby_drops: ($f.standby_drops_after_switch // 0) } ] as $per |
  { migrations: ($m[0] | length), succeeded: ($per | length),
    guest_unreachable_after: $unreachable, guest_reset_after: $reset,
    probe: {rate_hz: $rate, sent: $probe.sent, lost: $probe.lost, duplicates: $probe.duplicates,
            tcp: $probe.tcp},
    vm_blackout_ms: dist([ $per[].blackout_ms ]),
    loss_window_ms: dist([ $per[].window_ms ]),
    window_minus_blackout_ms: dist([ $per[].diff_ms ]),
    window_over_blackout: dist([ $per[].ratio | select(. != null) ]),
    within_goal: ([ $per[] | select(.within_goal) ] | length),
    zero_loss: ([ $per[] | select(.lost == 0) ] | length),
    lost_probes: dist([ $per[].lost ]),
    stop_to_handoff_ms: dist([ $per[].stop_to_handoff_ms | select(. != null) ]),
    handoff_tap_frames: dist([ $per[].handoff_tap_frames | select(. != null) ]),
    standby_drops_after_switch: ([ $per[].standby_drops ] | add // 0),
    per_migration: $per }' >"$out"
say "$(jq -c '{succeeded, within_goal, zero_loss, vm_blackout_ms, loss_window_ms, duplicates: .probe.duplicates}' "$out")"
[[ $unreachable_after == null && $reset_after == null ]]
