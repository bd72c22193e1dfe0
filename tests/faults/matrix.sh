#!/usr/bin/env bash
# The fault matrix of docs/MIGRATION.md ("Faults"): a real QEMU VM migrates
# between node-1 and node-2 of a 3-node lab while an observer on node-3 probes
# it (200/s ICMP on a fixed schedule and a verified TCP stream), and one fault
# hits one part at one moment. An invariant checker runs through every cell:
# vmwatch samples query-status of every QEMU of the VM every 10 ms (never two
# running at once); the migration must reach a terminal phase within its
# bound; the VM must end Running exactly once, on the node the API names,
# answering, its TCP stream intact where the guest kept running.
#
#   tests/faults/matrix.sh GODWIT [CELL...]     (no CELL: the whole matrix)
# CELL is WHO-FAULT-WHEN:
#   WHO    source | target (the agents), controller, tqemu | sqemu (the QEMUs),
#          underlay (source <-> target), clock (the controller's wall clock)
#   FAULT  kill (SIGKILL, the same command line again 3 s later) | stop (SIGSTOP
#          for 10 s) | cut (underlay) | plus30 | minus30 (clock)
#   WHEN   before (right after `godwit migrate`) | mid (1 s into a transfer
#          held at 20 MiB/s) | boundary (at the source QEMU's `completed`) |
#          resumed (at the target QEMU's RESUME)
# Env: FAULTS_OUT (a JSON line per cell is appended; default LABDIR/faults.jsonl),
# FAULTS_DIR (each cell's probe, checker and migration files; default LABDIR/faults).
# Prints one line per cell and a table; exits 1 when a cell failed.
source "$(dirname "$0")/../e2e/lib.sh"
shift
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
ls /var/cache/godwit/guest/*/vmlinuz >/dev/null 2>&1 || { echo "SKIP: no guest image (make guest)"; exit 77; }
VMWATCH=$BUILD_DIR/tests/tools/vmwatch
[[ -x $VMWATCH ]] || { echo "SKIP: $VMWATCH not built"; exit 77; }
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1

ALL_CELLS=()
for who in source target controller; do
  for fault in kill stop; do
    for when in before mid boundary resumed; do ALL_CELLS+=("$who-$fault-$when"); done
  done
done
ALL_CELLS+=(tqemu-kill-resumed sqemu-kill-mid underlay-cut-mid clock-plus30-mid clock-minus30-mid)
CELLS=("$@")
((${#CELLS[@]})) || CELLS=("${ALL_CELLS[@]}")
for c in "${CELLS[@]}"; do
  printf '%s\n' "${ALL_CELLS[@]}" | grep -qx -- "$c" || { echo "unknown cell '$c' (cells: ${ALL_CELLS[*]})"; exit 2; }
done
# The clock cells run godwitd under libfaketime, which cannot start a sanitizer
# build (its clock_gettime recurses in the ASan runtime's start): skipped there.
faketime_works() {
  local d
  d=$(mktemp -d)
  echo "+0" >"$d/t"
  timeout 5 env FAKETIME_TIMESTAMP_FILE="$d/t" FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
    ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$FAKETIME_LIB" "$BUILD_DIR/godwitd" --help >/dev/null 2>&1
  local rc=$?
  rm -rf "$d"
  return $rc
}
if printf '%s\n' "${CELLS[@]}" | grep -q '^clock-' && ! faketime_works; then
  log "SKIP the clock cells: libfaketime cannot run $BUILD_DIR/godwitd (a sanitizer build)"
  mapfile -t CELLS < <(printf '%s\n' "${CELLS[@]}" | grep -v '^clock-')
fi

OUT=${FAULTS_DIR:-$LAB_DIR/faults}
RESULTS=${FAULTS_OUT:-$LAB_DIR/faults.jsonl}
VMDIR=$LAB_DIR/vms

vm_json() { gw get vm testvm -o json; }
vm_field() { vm_json | jq -r "$1"; }
mig_json() { gw get migration "$1" -o json; }
node_ip() { echo "10.254.0.$((10 + ${1#node-}))"; }
pings() { ep obs ping -c 2 -i 0.2 -W 1 "$IP" >/dev/null; }
vm_settled() { # the VM Running and ready on one node, no migration
  vm_json | jq -e '.status.phase == "Running" and .status.ready == true and .status.node == .spec.node
    and .spec.target == null' >/dev/null
}
terminal() { mig_json "$1" | jq -e '.status.phase | IN("Succeeded", "Failed", "Aborted")' >/dev/null; }
# QEMUs of testvm alive under the lab's run dir, as "node:pid" words.
live_qemus() {
  local f pid
  for f in "$VMDIR"/*/testvm/qemu.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null) || continue
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
      [[ $(readlink "/proc/$pid/exe") == *qemu* ]] && echo "$(basename "$(dirname "$(dirname "$f")")"):$pid"
  done
}
stopped() { [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == T ]]; }
one_qemu() { [[ $(live_qemus | wc -l) == 1 ]]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# The daemon a cell hits: lab.json's name of it.
daemon_of() { case $1 in source) echo "$SRC" ;; target) echo "$DST" ;; controller) echo godwitd ;; esac; }

# Restarts godwitd, under libfaketime when $1 is given (its wall clock is
# then the real one plus the offset in $OUT/faketime; monotonic untouched).
restart_controller() {
  local pid args=()
  pid=$(pid_of godwitd)
  tr '\0' '\n' <"/proc/$pid/cmdline" >"$LAB_DIR/godwitd.cmdline"
  kill -TERM "$pid"
  wait_until 10 "godwitd to stop" gone "$pid"
  mapfile -t args <"$LAB_DIR/godwitd.cmdline"
  if [[ -n ${1:-} ]]; then
    echo "+0" >"$OUT/faketime"
    # (an ASan build wants its runtime first: the preload is put before it)
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
      FAKETIME_TIMESTAMP_FILE=$OUT/faketime FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
      LD_PRELOAD=$FAKETIME_LIB nsenter --net=/run/netns/$LAB-ul "${args[@]}" >>"$LAB_DIR/godwitd.log" 2>&1 &
  else
    nsenter --net=/run/netns/$LAB-ul "${args[@]}" >>"$LAB_DIR/godwitd.log" 2>&1 &
  fi
  pid=$!
  jq --argjson p "$pid" '(.daemons[] | select(.name == "godwitd") | .pid) = $p' \
    "$LAB_DIR/lab.json" >"$LAB_DIR/lab.json.new" && mv "$LAB_DIR/lab.json.new" "$LAB_DIR/lab.json"
  wait_until 15 "godwitd answers" gw get nodes
}

# Ends the fault: a killed daemon starts again 3 s after it died, a stopped
# one continues 10 s after it stopped; the cut is healed after 10 s.
heal() { # WHO FAULT PID
  local who=$1 fault=$2 pid=$3 name
  case $fault in
    kill)
      [[ $who == *qemu ]] && return 0 # the agent starts a new one by itself when it should
      wait_until 60 "the $who daemon to die" gone "$pid" || return 1
      sleep 3
      name=$(daemon_of "$who")
      start_daemon "$name"
      ;;
    stop)
      wait_until 60 "the $who daemon to stop" stopped "$pid" || return 1
      sleep 10
      kill -CONT "$pid"
      ;;
    cut)
      sleep 10
      ip netns exec "$LAB-$SRC" ip route del blackhole "$(node_ip "$DST")/32" 2>/dev/null
      ;;
  esac
}

transferring() { mig_json "$1" | jq -e '.status.progress.transferred > 0' >/dev/null; }

# One cell; appends its JSON line to $RESULTS and returns 1 when it failed.
cell() {
  local cell=$1 who fault when pid="" trig=() bw=() name probe watch hpid="" t_fault m
  IFS=- read -r who fault when <<<"$cell"
  SRC=$(vm_field .spec.node)
  [[ $SRC == node-1 ]] && DST=node-2 || DST=node-1
  wait_until 120 "testvm settled before $cell" vm_settled || return 1
  wait_until 20 "testvm answers before $cell" pings || return 1
  [[ $who == clock ]] && restart_controller faketime
  case $who in
    source | target | controller)
      pid=$(pid_of "$(daemon_of "$who")")
      tr '\0' '\n' <"/proc/$pid/cmdline" >"$LAB_DIR/$(daemon_of "$who").cmdline"
      ;;
  esac
  local sig=KILL
  [[ $fault == stop ]] && sig=STOP
  case $when in
    mid) bw=(--max-bandwidth-mib 20) ;;
  esac
  case $who-$when in
    source-mid | target-mid | controller-mid) trig=(--trigger "$SRC:MIGRATION=active:$sig:$pid:1000") ;;
    source-boundary | target-boundary | controller-boundary) trig=(--trigger "$SRC:MIGRATION=completed:$sig:$pid") ;;
    source-resumed | target-resumed | controller-resumed) trig=(--trigger "$DST:RESUME:$sig:$pid") ;;
    tqemu-resumed) trig=(--trigger "$DST:RESUME:KILL:qemu") ;;
    sqemu-mid) trig=(--trigger "$SRC:MIGRATION=active:KILL:qemu:1000") ;;
  esac
  [[ $who == underlay ]] && bw+=(--progress-timeout-s 5)
  # the instruments: the probe from node-3 and the invariant checker
  ip netns exec "$LAB-ep-obs" "$GODWIT" probe "$IP" --rate 200 --tcp 7 --duration 600 --grace-ms 500 --json \
    >"$OUT/$cell.probe.json" 2>"$OUT/$cell.probe.err" &
  probe=$!
  "$VMWATCH" --run-dir "$VMDIR" --vm testvm --out "$OUT/$cell.watch.json" "${trig[@]}" \
    2>"$OUT/$cell.watch.err" &
  watch=$!
  EXTRA_PIDS+=("$probe" "$watch")
  sleep 1
  t_fault=$SECONDS
  gw migrate testvm --to "$DST" "${bw[@]}" --json >"$OUT/$cell.create.json" 2>"$OUT/$cell.create.err" ||
    { fail "$cell: migrate refused: $(cat "$OUT/$cell.create.err")"; kill "$probe" "$watch"; return 1; }
  name=$(jq -r .metadata.name "$OUT/$cell.create.json")
  case $who-$when in
    source-before | target-before | controller-before) kill "-$sig" "$pid" ;;
  esac
  case $who in
    underlay)
      wait_until 30 "$name transferring" transferring "$name"
      ip netns exec "$LAB-$SRC" ip route add blackhole "$(node_ip "$DST")/32"
      ;;
    clock)
      wait_until 30 "$name transferring" transferring "$name"
      [[ $fault == plus30 ]] && echo "+30s" >"$OUT/faketime" || echo "-30s" >"$OUT/faketime"
      ;;
  esac
  [[ -n $pid || $who == underlay ]] && { heal "$who" "$fault" "$pid" & hpid=$!; }
  wait_until 150 "$name to finish" terminal "$name"
  [[ -n $hpid ]] && wait "$hpid"
  # after the fault: the VM Running once, where the API says, answering
  wait_until 120 "testvm settled after $cell" vm_settled
  wait_until 20 "testvm answers after $cell" pings
  # the source QEMU the guest left is quit once its agent hears of the end
  wait_until 30 "one QEMU of testvm left after $cell" one_qemu
  sleep 1
  kill -TERM "$probe" "$watch"
  wait "$probe" "$watch" 2>/dev/null
  [[ $who == clock ]] && restart_controller
  m=$(mig_json "$name")
  local qemus api_node
  qemus=$(live_qemus | tr '\n' ' ')
  api_node=$(vm_field .status.node)
  jq -nc --arg cell "$cell" --argjson m "$m" --slurpfile w "$OUT/$cell.watch.json" \
    --slurpfile p "$OUT/$cell.probe.json" --arg qemus "$qemus" \
    --arg api_node "$api_node" --arg src "$SRC" --arg dst "$DST" --argjson settled "$(vm_settled && echo true || echo false)" \
    --argjson answers "$(pings && echo true || echo false)" --argjson secs $((SECONDS - t_fault)) '
    ($qemus | split(" ") | map(select(length > 0))) as $q
    | {cell: $cell, migration: $m.metadata.name, phase: $m.status.phase, reason: ($m.status.reason // null),
       from: $src, to: $dst, vm_node: $api_node, running_now: $w[0].running_now,
       violations: $w[0].violation_count, overlaps: $w[0].violations,
       sampled_overlaps: $w[0].sampled_overlap_count, qemus: $q,
       trigger: ($w[0].triggers[0] // null),
       answers: $answers, settled: $settled, seconds: $secs,
       probe: ($p[0] | {lost, duplicates, max_gap_ms, tcp: (.tcp | {connected, reset, bytes_sent, bytes_verified, longest_stall_ms})}),
       figures: ($m.status.figures | {vm_blackout_ms, qemu_downtime_ms}), notes: ($m.status.notes // []),
       phases: $m.status.phases, cancel: ($m.status.cancel // null)}' \
    >"$OUT/$cell.result.json"
  judge "$cell" "$OUT/$cell.result.json"
}

# The verdict of a cell: every invariant, and what happened, in one line.
judge() { # CELL RESULT.json
  local cell=$1 f=$2 why=() kept
  jq -e '.violations == 0' "$f" >/dev/null || why+=("two QEMUs ran at once: $(jq -c .overlaps "$f")")
  jq -e '.trigger == null or .trigger.fired' "$f" >/dev/null || why+=("the fault was not injected")
  jq -e '.phase | IN("Succeeded", "Failed", "Aborted")' "$f" >/dev/null || why+=("stuck in $(jq -r .phase "$f")")
  jq -e '.settled and .answers' "$f" >/dev/null || why+=("the VM is not Running and answering")
  jq -e '(.qemus | length) == 1 and (.qemus[0] | split(":")[0]) == .vm_node and .running_now == [.vm_node]' "$f" >/dev/null ||
    why+=("the API says $(jq -r .vm_node "$f"), QEMUs $(jq -c .qemus "$f"), running $(jq -c .running_now "$f")")
  jq -e '(.phase == "Succeeded" and .vm_node == .to) or (.phase != "Succeeded" and .vm_node == .from)' "$f" >/dev/null ||
    why+=("phase $(jq -r .phase "$f") but the VM is on $(jq -r .vm_node "$f")")
  # The guest kept running unless its QEMU was the fault: then its stream must be intact.
  kept=true
  [[ $cell == *qemu-* ]] && kept=false
  if $kept; then
    jq -e '.probe.tcp.connected and (.probe.tcp.reset | not) and .probe.tcp.bytes_verified == .probe.tcp.bytes_sent' "$f" >/dev/null ||
      why+=("TCP broken: $(jq -c .probe.tcp "$f")")
  fi
  jq -c --arg ok "$( ((${#why[@]})) && echo false || echo true)" --arg why "${why[*]:-}" '. + {ok: ($ok == "true"), why: $why}' \
    "$f" >>"$RESULTS"
  if ((${#why[@]})); then
    fail "$cell: $(jq -r '"\(.phase) (\(.reason // "-")), VM on \(.vm_node)"' "$f"): ${why[*]}"
    return 1
  fi
  ok "$cell: $(jq -r '"\(.phase)\(if .reason then " (" + .reason + ")" else "" end), VM on \(.vm_node), lost \(.probe.lost), TCP stall \(.probe.tcp.longest_stall_ms) ms, \(.seconds) s"' "$f")"
}

log "lab $LAB up (3 nodes); cells: ${CELLS[*]}"
gw lab up --name "$LAB" --nodes 3 >/dev/null || die "lab up"
mkdir -p "$OUT"
gw apply -f "$(dirname "$0")/../../examples/testvm.yaml" >/dev/null 2>&1 || die "apply testvm"
wait_until 120 "testvm Running" vm_settled || die "testvm did not boot"
IP=$(vm_field .status.ipv4)
gw endpoint add obs --network default --node node-3 >/dev/null || die "endpoint obs"
wait_until 30 "testvm answers the observer" pings || die "testvm does not answer"

failed_cells=()
for c in "${CELLS[@]}"; do
  log "--- cell $c"
  cell "$c" || failed_cells+=("$c")
done
log "matrix: $((${#CELLS[@]} - ${#failed_cells[@]})) of ${#CELLS[@]} cells held every invariant"
((${#failed_cells[@]})) && log "failed: ${failed_cells[*]}"
finish
