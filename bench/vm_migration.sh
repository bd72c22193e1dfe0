#!/usr/bin/env bash
# Real VM live migrations, measured as the anchors are (issue 10): testvm
# migrates node-1 <-> node-2 while an observer on node-3 runs godwit probe: a
# fixed-schedule ICMP prober at BENCH_RATE/s (default 200, SCHED_FIFO) and a
# TCP connection to the guest's echo service carrying BENCH_TCP_RATE bytes/s
# (default 500: a numbered line's worth every 10 ms, echoed by the guest's
# `nc -e cat`). Per migration: the VM blackout (QMP STOP on the source ->
# RESUME on the target), QEMU's own downtime, probes lost and answered twice,
# the longest gap between replies and the TCP stream's longest stall around
# the switchover, and whether the guest died (stopped answering or reset).
#
# Variants, in one run on one lab, BENCH_VM_MIGRATIONS migrations each
# (default 100):
#   bounded   the agents as they ship: the migration socket's buffers bounded
#             (--migrate-socket-buffer-kib 256)
#   autotuned the previous transport: the kernel's autotuned socket buffers
#             (--migrate-socket-buffer-kib 0), for the comparison
#   unprimed  the shipped agents without the source's primers
#             (--no-source-primers), for the comparison
#   tls       the shipped agents, every migration with --tls (QEMU's stream
#             under TLS with the Migration's pre-shared key, lib/migtls.h)
#   downtime-N the shipped agents with QEMU's downtime-limit at N ms
#             (--migrate-downtime-ms N; not run by default: for tuning it)
# and then BENCH_RAM_CHECKS migrations (default 50) with the target paused
# after the transfer (--vm-incoming-paused) whose guest RAM is compared byte
# for byte with the source's (bench/ramcheck.py), and the control:
# BENCH_PAUSES (default 50) pauses of the guest in place, as long as the
# bounded variant's median blackout (bench/pause.py), under the same probe.
#   bench/vm_migration.sh BUILD_DIR OUT.json
set -uo pipefail
build=$1 out=$2
GODWIT=$build/godwit
LAB=v$$
export GODWIT_CONFIG=$(mktemp -d)/config
N=${BENCH_VM_MIGRATIONS:-100} RATE=${BENCH_RATE:-200} TCP_RATE=${BENCH_TCP_RATE:-500}
RAM_CHECKS=${BENCH_RAM_CHECKS:-50} VARIANTS=${BENCH_VARIANTS:-bounded tls unprimed autotuned}
PAUSES=${BENCH_PAUSES:-50}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [[ -n ${BENCH_KEEP_LOGS:-} ]]; then # the lab's logs and the raw figures, for diagnosis
    mkdir -p "$BENCH_KEEP_LOGS" && cp -r "/run/godwit/labs/$LAB" "$tmp" "$BENCH_KEEP_LOGS/" 2>/dev/null
  fi
  "$GODWIT" lab down --name "$LAB" >/dev/null 2>&1
  rm -rf "$tmp" "$(dirname "$GODWIT_CONFIG")"
}
trap cleanup EXIT
source "$here/bench/vmlab.sh"
say() { echo "  $*" >&2; }
LAB_DIR=/run/godwit/labs/$LAB
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 missing (make deps)" >&2; exit 1; }

answers() { ip netns exec "$LAB-ep-obs" ping -c 1 -W 1 "$IP" >/dev/null 2>&1; }

# Restarts every agent with the shipped flags plus "$@" (as the tests do: the
# same command line, in the node's network namespace only).
restart_agents() {
  local n pid args=() extra=("$@")
  for n in node-1 node-2 node-3; do
    pid=$(jq -r --arg n "$n" '.daemons[] | select(.name == $n) | .pid' "$LAB_DIR/lab.json" | tail -n 1)
    [[ -f $tmp/$n.cmdline ]] || tr '\0' '\n' <"/proc/$pid/cmdline" >"$tmp/$n.cmdline"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    mapfile -t args <"$tmp/$n.cmdline"
    nsenter --net="/run/netns/$LAB-$n" "${args[@]}" "${extra[@]}" >>"$LAB_DIR/$n.log" 2>&1 &
    pid=$!
    jq --arg n "$n" --argjson p "$pid" '(.daemons[] | select(.name == $n) | .pid) = $p' \
      "$LAB_DIR/lab.json" >"$LAB_DIR/lab.json.new" && mv "$LAB_DIR/lab.json.new" "$LAB_DIR/lab.json"
  done
  for _ in $(seq 100); do
    [[ $(gw get nodes -o json | jq '[(.items? // .)[] | select(.status.ready)] | length') == 3 ]] && break
    sleep 0.2
  done
}

# One migration to the other of node-1/node-2; prints nothing; $tmp/$1.json.
migrate() { # TAG
  local to
  [[ $(vm_field .spec.node) == node-1 ]] && to=node-2 || to=node-1
  gw migrate testvm --to "$to" "${MIGRATE_ARGS[@]}" --wait --json >"$tmp/$1.json" 2>"$tmp/$1.err" ||
    say "migration $1 failed: $(tail -n 1 "$tmp/$1.err")"
}

# After a migration: the guest answers (30 s) and has not reset, else it died.
guest_alive() {
  local i
  for i in $(seq 60); do answers && break; sleep 0.5; done
  answers || return 1
  [[ $(vm_field '.status.guest_resets // 0') == 0 ]]
}

# The observer's probe for a run TAG: started before it, finished after it
# ($tmp/TAG.probe.json, and from its record the reply times (send + rtt) in
# $tmp/TAG.replies.json and the probes answered twice in $tmp/TAG.dups.json).
probe_start() { # TAG
  ip netns exec "$LAB-ep-obs" "$GODWIT" probe "$IP" --rate "$RATE" --tcp 7 --tcp-rate "$TCP_RATE" \
    --duration 36000 --grace-ms 1000 --json --record "$tmp/$1.probe.csv" \
    >"$tmp/$1.probe.json" 2>"$tmp/$1.probe.err" &
  PROBE=$!
  pids+=("$PROBE")
  sleep 1
}
probe_finish() { # TAG
  sleep 1
  kill -INT "$PROBE" 2>/dev/null
  wait "$PROBE"
  awk -F, 'NR > 1 && $3 != "" {printf "%.3f\n", $2 + $3}' "$tmp/$1.probe.csv" | sort -n |
    jq -Rn '[inputs | tonumber]' >"$tmp/$1.replies.json"
  awk -F, 'NR > 1 && $4 > 0 {print $2}' "$tmp/$1.probe.csv" | jq -Rn '[inputs | tonumber]' >"$tmp/$1.dups.json"
}

# A variant: N migrations under the probe; $tmp/VARIANT.json.
run_variant() { # VARIANT
  local v=$1 i died=null
  for _ in $(seq 120); do settled && answers && break; sleep 0.5; done
  probe_start "$v"
  say "$v: $N live migrations under a ${RATE}/s probe and a ${TCP_RATE} B/s TCP echo"
  for i in $(seq 1 "$N"); do
    migrate "$v-m$i"
    if ! guest_alive; then
      say "$v: the guest died after migration $i (no answer, or a reset): stopping the variant"
      died=$i
      break
    fi
    while ! settled; do sleep 0.1; done
    sleep 1 # the next migration after the TCP stream and the probe settle (windows never overlap)
    ((i % 10 == 0)) && say "$v: $i/$N"
  done
  probe_finish "$v"
  jq -s '.' $(ls "$tmp/$v"-m*.json 2>/dev/null | sort -V) </dev/null >"$tmp/$v.migs.json" 2>/dev/null ||
    echo '[]' >"$tmp/$v.migs.json"
  jq -n -L "$here/bench" --slurpfile p "$tmp/$v.probe.json" --slurpfile m "$tmp/$v.migs.json" \
    --slurpfile replies "$tmp/$v.replies.json" --slurpfile dups "$tmp/$v.dups.json" \
    --argjson rate "$RATE" --argjson died "$died" --arg v "$v" '
    include "stats";
    ($p[0]) as $probe |
    [ $m[0][] | select(.status.phase == "Succeeded") | .status.figures as $f |
      ($f.stop_unix_ns / 1e6) as $s | ($f.resume_unix_ns / 1e6) as $r |
      { migration: .metadata.name, blackout_ms: $f.vm_blackout_ms, qemu_downtime_ms: $f.qemu_downtime_ms,
        blackout_minus_downtime_ms: (if $f.qemu_downtime_ms then $f.vm_blackout_ms - $f.qemu_downtime_ms else null end),
        lost: lost_around($probe.windows; $s; $r),
        duplicates: ([$dups[0][] | select(. >= $s - 1000 and . <= $r + 2000)] | length),
        reply_gap_ms: reply_gap($replies[0]; $s; $r),
        first_reply_ms: first_reply($replies[0]; $r),
        tcp_stall_ms: tcp_stall($probe.tcp.stalls; $s; $r),
        qemu_total_ms: .status.progress.total_ms } ] as $per |
    { variant: $v, migrations: ($m[0] | length), succeeded: ($per | length), guest_died_after: $died,
      probe: {rate_hz: $rate, sent: $probe.sent, lost: $probe.lost, duplicates: $probe.duplicates,
              tcp: ($probe.tcp | del(.stalls))},
      vm_blackout_ms: dist([$per[].blackout_ms]),
      qemu_downtime_ms: dist([$per[].qemu_downtime_ms | select(. != null)]),
      blackout_minus_downtime_ms: dist([$per[].blackout_minus_downtime_ms | select(. != null)]),
      lost_probes: dist([$per[].lost]), duplicates: dist([$per[].duplicates]),
      reply_gap_ms: dist([$per[].reply_gap_ms | select(. != null)]),
      first_reply_ms: dist([$per[].first_reply_ms | select(. != null)]),
      tcp_stall_ms: dist([$per[].tcp_stall_ms]),
      qemu_total_ms: dist([$per[].qemu_total_ms | select(. != null)]),
      zero_loss: ([$per[] | select(.lost == 0)] | length),
      per_migration: $per }' >"$tmp/$v.json"
  say "$v: $(jq -c '{succeeded, guest_died_after, zero_loss, vm_blackout_ms: .vm_blackout_ms.p50, qemu_downtime_ms: .qemu_downtime_ms.p50, reply_gap_ms: .reply_gap_ms.p50, tcp_stall_ms: .tcp_stall_ms.p50, qemu_total_ms: .qemu_total_ms.p50}' "$tmp/$v.json")"
}

# BENCH_RAM_CHECKS migrations whose guest RAM is compared; $tmp/ram.json.
run_ram_checks() {
  local i dst
  restart_agents --vm-incoming-paused
  say "ram: $RAM_CHECKS migrations with the guest RAM compared at the switchover"
  for i in $(seq 1 "$RAM_CHECKS"); do
    for _ in $(seq 120); do settled && break; sleep 0.5; done
    [[ $(vm_field .spec.node) == node-1 ]] && dst=node-2 || dst=node-1
    python3 "$here/bench/ramcheck.py" "$LAB_DIR/vms" testvm "$(vm_field .spec.node)" "$dst" \
      "$tmp/ram-$i.json" 120 2>"$tmp/ram-$i.err" &
    local chk=$!
    sleep 0.3
    migrate "ram-m$i"
    wait "$chk"
    guest_alive || { say "ram: the guest died after check $i"; break; }
  done
  jq -s '{checks: length, exact: map(select(.differing_pages == 0)) | length,
          differing: map(select(.differing_pages > 0)) | length, failed: map(select(.error)) | length,
          differing_pages: (map(.differing_pages // 0) | add // 0), results: .}' \
    $(ls "$tmp"/ram-[0-9]*.json 2>/dev/null | sort -V) </dev/null >"$tmp/ram.json" 2>/dev/null ||
    echo '{"checks": 0}' >"$tmp/ram.json"
  say "ram: $(jq -c '{checks, exact, differing, failed, differing_pages}' "$tmp/ram.json")"
  restart_agents
}

# The control: BENCH_PAUSES pauses of the guest in place (QMP stop, cont
# PAUSE_MS later; the same QEMU) under the same probe: what the guest alone
# needs to recover from a pause as long as a migration's blackout.
run_pauses() { # PAUSE_MS
  local sock="$LAB_DIR/vms/$(vm_field .spec.node)/testvm/qmp-watch.sock"
  for _ in $(seq 120); do settled && answers && break; sleep 0.5; done
  probe_start pause
  say "pause: $PAUSES pauses of $1 ms in place under the same probe"
  python3 "$here/bench/pause.py" "$sock" "$PAUSES" "$1" 1.5 "$tmp/pauses.json" 2>"$tmp/pause.err" ||
    say "pause: $(tail -n 1 "$tmp/pause.err")"
  probe_finish pause
  [[ -s $tmp/pauses.json ]] || echo '[]' >"$tmp/pauses.json"
  jq -n -L "$here/bench" --slurpfile p "$tmp/pause.probe.json" --slurpfile x "$tmp/pauses.json" \
    --slurpfile replies "$tmp/pause.replies.json" --argjson ms "$1" '
    include "stats";
    [ $x[0][] | (.stop_unix_ns / 1e6) as $s | (.resume_unix_ns / 1e6) as $r |
      { pause_ms: ($r - $s), lost: lost_around($p[0].windows; $s; $r),
        reply_gap_ms: reply_gap($replies[0]; $s; $r), first_reply_ms: first_reply($replies[0]; $r),
        tcp_stall_ms: tcp_stall($p[0].tcp.stalls; $s; $r) } ] as $per |
    { requested_ms: $ms, pauses: ($per | length), pause_ms: dist([$per[].pause_ms]),
      lost_probes: dist([$per[].lost]), reply_gap_ms: dist([$per[].reply_gap_ms | select(. != null)]),
      first_reply_ms: dist([$per[].first_reply_ms | select(. != null)]),
      tcp_stall_ms: dist([$per[].tcp_stall_ms]), per_pause: $per }' >"$tmp/pause.json"
  say "pause: $(jq -c '{pauses, pause_ms: .pause_ms.p50, reply_gap_ms: .reply_gap_ms.p50, tcp_stall_ms: .tcp_stall_ms.p50}' "$tmp/pause.json")"
}

vmlab_up "$here" || exit 1
for _ in $(seq 100); do answers && break; done
status=0
for v in $VARIANTS; do
  MIGRATE_ARGS=()
  case $v in
    bounded) restart_agents ;;
    tls) restart_agents; MIGRATE_ARGS=(--tls) ;;
    autotuned) restart_agents --migrate-socket-buffer-kib 0 ;;
    unprimed) restart_agents --no-source-primers ;;
    downtime-[0-9]*) restart_agents --migrate-downtime-ms "${v#downtime-}" ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  run_variant "$v"
  [[ $(jq .guest_died_after "$tmp/$v.json") == null ]] || status=1
done
echo null >"$tmp/pause.json"
if ((PAUSES > 0)); then # as long as the shipped transport's median blackout (else 8 ms)
  pause_ms=$(jq -r '.vm_blackout_ms.p50 // 8 | round' "$tmp/bounded.json" 2>/dev/null || echo 8)
  run_pauses "${pause_ms:-8}"
fi
if ((RAM_CHECKS > 0)); then
  run_ram_checks
  [[ $(jq '.differing // 1' "$tmp/ram.json") == 0 ]] || status=1
fi
[[ -f $tmp/ram.json ]] || echo null >"$tmp/ram.json"
files=()
for v in $VARIANTS; do files+=("$tmp/$v.json"); done
jq -n --arg qemu "$(qemu-system-x86_64 --version | head -1)" --slurpfile ram "$tmp/ram.json" \
  --slurpfile pause "$tmp/pause.json" \
  --argjson rate "$RATE" --argjson tcp_rate "$TCP_RATE" \
  '{qemu: $qemu, rate_hz: $rate, tcp_rate: $tcp_rate, variants: [inputs], ram_check: $ram[0], pause: $pause[0]}' \
  "${files[@]}" >"$out"
exit $status
