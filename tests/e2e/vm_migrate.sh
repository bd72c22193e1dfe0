#!/usr/bin/env bash
# A real QEMU live migration driven end to end by `godwit migrate` on a
# 3-node lab: the KubeVirt test VM boots with its IPAM address by DHCP; an
# observer endpoint on node-3 probes it (200 Hz ICMP + a verified TCP echo
# stream) while it moves node-1 -> node-2 -> node-3 -> node-1: TCP byte-exact,
# no duplicates, every Migration Succeeded with the hypervisor's figures and no
# standby drop after the switch; the source handed the port off to the target
# at STOP (zero-loss handoff), and each loss window is within the VM blackout +
# 2 probe intervals (in practice 0-2 probes around STOP, far below the blackout). A VM without the KubeVirt annotation is refused with the
# controller's reason. Failures leave the VM running on the source with the
# fabric pointing at it: --abort while Running (bandwidth-limited transfer),
# and the target's QEMU SIGKILLed mid-transfer; the next migration works. The
# lab runs godwitd --migration-tls: a capture of the first migration's stream
# on the underlay shows no QEMU stream magic, where the second's (--no-tls)
# does; the abort, the kill and the next migration run under TLS too.
source "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
guest=${GODWIT_GUEST_DIR:-/var/cache/godwit/guest}  # the agents take GODWIT_GUEST_DIR too
[[ -s $guest/current/vmlinuz || -n $(ls "$guest"/*/vmlinuz 2>/dev/null) ]] ||
  { echo "SKIP: no guest image under $guest (make guest)"; exit 77; }
OUT=$(dirname "$GODWIT_CONFIG")

vm_json() { gw get vm testvm -o json; }
vm_field() { vm_json | jq -r "$1"; }
mig_json() { gw get migration "$1" -o json; }
port_locations() { gw get port testvm -o json | jq -c '.spec.locations'; }
vm_running_on() { # vm_running_on NODE: phase Running on NODE, no target
  vm_json | jq -e --arg n "$1" '.status.phase == "Running" and .status.node == $n
    and .spec.node == $n and (.spec.target == null)' >/dev/null
}
node_reports_vm() { gw get node "$1" -o json | jq -e '.status.vms.testvm != null' >/dev/null; }
node_lacks_vm() { ! node_reports_vm "$1"; }
node_vm() { gw get node "$1" -o json | jq -r ".status.vms.testvm.$2 // empty"; }
pings() { ep obs ping -c 3 -i 0.2 -W 1 "$IP" >/dev/null; }

log "lab $LAB up (3 nodes)"
gw lab up --name "$LAB" --nodes 3 --migration-tls >/dev/null || die "lab up"
gw apply -f "$(dirname "$0")/../../examples/testvm.yaml" 2>/dev/null || die "apply testvm"
t0=$SECONDS
wait_until 90 "testvm Running" vm_running_on node-1 || die "testvm did not boot"
log "testvm Running on node-1 after $((SECONDS - t0)) s"

# --- the address: DHCP from the node-local server == the IPAM allocation ---
IP=$(vm_field .status.ipv4)
PORT_IP=$(gw get port testvm -o json | jq -r .spec.ipv4)
console_log=$(dirname "$(vm_field .status.console)")/console.log
[[ -n $IP && $IP == "$PORT_IP" ]] || fail "vm status.ipv4 '$IP' != port ipv4 '$PORT_IP'"
if wait_until 20 "the guest's dhcp line" grep -q "godwit-guest: dhcp ipv4=$IP/" "$console_log"; then
  ok "guest took $IP by DHCP ($(tr -d '\r' <"$console_log" | grep -m1 'godwit-guest: dhcp ipv4='))"
fi

# --- observer on node-3 and the probe across three migrations ---
gw endpoint add obs --network default --node node-3 >/dev/null || die "endpoint obs"
wait_until 20 "ping testvm from obs" pings || die "testvm does not answer the observer"
# (ip netns exec execs the probe: $! is its pid, which a shell function's would not be)
ip netns exec "$LAB-ep-obs" "$GODWIT" probe "$IP" --rate 200 --tcp 7 --duration 600 --grace-ms 500 --json \
  >"$OUT/probe.json" 2>"$OUT/probe.err" &
PROBE=$!
EXTRA_PIDS+=("$PROBE")
sleep 1 # a baseline before the first migration (the probe measures, nothing waits on it)

# The lab's godwitd runs with --migration-tls: a migration without spec.tls
# runs under TLS (lib/migtls.h). The first one's stream on the underlay (the
# target's ephemeral port, TCP other than the API, streams and metrics) is TLS
# with the Migration's key, so QEMU's stream magic "QEVM" and its section
# names are not in it; the second runs with --no-tls and its capture shows
# them (the check can see a clear stream). Heads only (-s 256): the stream is
# the guest's RAM.
capture_start() {
  pcap=$OUT/migration.pcap
  ip netns exec "$LAB-ul" timeout 120 tcpdump -i br0 -U -s 256 -w "$pcap" \
    'tcp and not port 7480 and not port 7481 and not port 7482' >"$OUT/tcpdump.log" 2>&1 & TD=$!
  wait_until 5 "tcpdump listening" grep -q "listening on" "$OUT/tcpdump.log"
}
capture_check() { # tls | plain
  kill -TERM "$TD" 2>/dev/null; wait "$TD" 2>/dev/null
  local bytes
  bytes=$(tcpdump -r "$pcap" -nn 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "length") n += $(i + 1)} END {print n + 0}')
  ((bytes > 10000000)) && ok "the capture holds the migration stream ($bytes bytes of TCP payload)" ||
    fail "the capture holds only $bytes bytes: not the migration stream?"
  if [[ $1 == plain ]]; then # the check's own check: a clear stream shows its magic
    grep -aqF QEVM "$pcap" && ok "without --tls the capture shows QEMU's stream magic (the check sees a clear stream)" ||
      fail "no QEVM in a clear migration stream: the capture check cannot see one"
  elif grep -aqF QEVM "$pcap" || grep -aqF virtio-net "$pcap" || grep -aqF 0000:00: "$pcap"; then
    fail "QEMU's migration stream is in clear on the underlay"
  else ok "the migration stream is encrypted on the underlay (no QEVM, no section names)"; fi
}

migs=() starts=()
for to in node-2 node-3 node-1; do
  from=$(vm_field .spec.node)
  [[ $to != node-1 ]] && capture_start
  tls=(); [[ $to == node-3 ]] && tls=(--no-tls)
  start=$(date +%s%3N)
  gw migrate testvm --to "$to" "${tls[@]}" --wait --json >"$OUT/m-$to.json" 2>"$OUT/m-$to.err"; rc=$?
  [[ $to == node-2 ]] && capture_check tls
  [[ $to == node-3 ]] && capture_check plain
  [[ $to == node-2 ]] && { jtrue "$OUT/m-$to.json" '.spec.tls == true and (.status.transport.nonce | length) == 64' ||
    fail "--migration-tls: spec.tls and status.transport: $(jq -c '{tls: .spec.tls, transport: .status.transport}' "$OUT/m-$to.json")"; }
  [[ $to == node-3 ]] && { jtrue "$OUT/m-$to.json" '.spec.tls == false and .status.transport == null' ||
    fail "--no-tls: $(jq -c '{tls: .spec.tls, transport: .status.transport}' "$OUT/m-$to.json")"; }
  if ((rc == 0)); then
    name=$(jq -r .metadata.name "$OUT/m-$to.json")
    migs+=("$name") starts+=("$start")
    ok "$from -> $to: $(jq -c '.status.figures | {vm_blackout_ms, qemu_downtime_ms, stop_to_handoff_ms,
      handoff_tap_frames, first_frame_to_activation_ms, standby_drops_after_switch, total_ms}' "$OUT/m-$to.json")"
  else
    fail "migrate $from -> $to: $(cat "$OUT/m-$to.err") $(jq -c .status "$OUT/m-$to.json" 2>/dev/null)"
    continue
  fi
  jtrue "$OUT/m-$to.json" '.status.phase == "Succeeded" and (.status.figures.vm_blackout_ms | type) == "number"
      and .status.figures.vm_blackout_ms > 0 and (.status.figures.qemu_downtime_ms | type) == "number"' ||
    fail "$from -> $to: figures $(jq -c .status.figures "$OUT/m-$to.json")"
  jtrue "$OUT/m-$to.json" '.status.figures.standby_drops_after_switch == 0' ||
    fail "$from -> $to: network-added loss: standby drops after the switch"
  jtrue "$OUT/m-$to.json" '(.status.figures.stop_to_handoff_ms | type) == "number"
      and (.status.figures.handoff_tap_frames | type) == "number"' ||
    fail "$from -> $to: the source did not hand the port off at STOP: $(jq -c .status.figures "$OUT/m-$to.json")"
  wait_until 15 "testvm Running on $to" vm_running_on "$to"
  [[ $(port_locations) == "[\"$to\"]" ]] || fail "port locations $(port_locations) after -> $to"
  wait_until 15 "$from no longer runs testvm" node_lacks_vm $from
done
sleep 0.5
kill -TERM "$PROBE"
wait "$PROBE"
if jtrue "$OUT/probe.json" '.tcp.connected and .tcp.reset == false and .tcp.bytes_sent > 0
    and .tcp.bytes_verified == .tcp.bytes_sent and .tcp.mismatch == null'; then
  ok "TCP byte-exact through 3 migrations: $(jq -c '.tcp | {bytes_sent, bytes_verified, retransmits, longest_stall_ms}' "$OUT/probe.json")"
else
  fail "TCP: $(jq -c .tcp "$OUT/probe.json" 2>/dev/null) $(cat "$OUT/probe.err")"
fi
jtrue "$OUT/probe.json" '.duplicates == 0' && ok "no duplicates (so no early delivery to a paused target)" ||
  fail "duplicates: $(jq .duplicates "$OUT/probe.json")"
log "probe: $(jq -c '{sent, received, lost, duplicates, max_gap_ms}' "$OUT/probe.json")"
# The handoff carried frames: marked by the stopped sources, taken by the
# standby targets (every node was both once).
handoff() { # handoff COUNTER: the sum over the nodes
  local n sum=0
  for n in node-1 node-2 node-3; do
    sum=$((sum + $(gw get node "$n" -o json | jq ".status.counters.$1 // 0")))
  done
  echo "$sum"
}
fwd=$(handoff handoff_fwd) rx=$(handoff handoff_rx)
(( fwd > 0 && rx > 0 )) && ok "handoff: $fwd frames sent on by stopped sources, $rx taken into standby targets" ||
  fail "handoff counters: handoff_fwd $fwd, handoff_rx $rx"
# Each migration's loss window against its blackout: the goal is the blackout
# + 2 probe intervals (10 ms at 200/s); with the handoff it is 0-2 probes. A
# migration's switchover is STOP - 20 ms to RESUME + 1 s, cut where the next
# migration starts (its pre-copy is not this one's switchover).
for i in "${!migs[@]}"; do
  name=${migs[i]}
  m=$(mig_json "$name")
  stop=$(jq '.status.figures.stop_unix_ns / 1e6' <<<"$m")
  resume=$(jq '.status.figures.resume_unix_ns / 1e6' <<<"$m")
  blackout=$(jq '.status.figures.vm_blackout_ms' <<<"$m")
  until_ms=$(jq -n --argjson r "$resume" --argjson n "${starts[i + 1]:-1e18}" '[$r + 1000, $n] | min')
  win=$(jq -c --argjson s "$stop" --argjson r "$until_ms" \
    '[.windows[] | select(.end_unix_ms >= $s - 20 and .start_unix_ms <= $r)]
     | if length == 0 then {length_ms: 0, lost: 0} else {length_ms: (map(.length_ms) | add), lost: (map(.lost) | add)} end' \
    "$OUT/probe.json")
  log "  $name $(jq -r '"\(.status.source) -> \(.spec.target)"' <<<"$m"): VM blackout ${blackout} ms, loss window $(jq .length_ms <<<"$win") ms ($(jq .lost <<<"$win") probes), QEMU downtime $(jq .status.figures.qemu_downtime_ms <<<"$m") ms, STOP -> handoff $(jq .status.figures.stop_to_handoff_ms <<<"$m") ms, first frame -> activation $(jq .status.figures.first_frame_to_activation_ms <<<"$m") ms"
  jq -e --argjson b "$blackout" '.length_ms <= $b + 10' <<<"$win" >/dev/null ||
    fail "$name: loss window $(jq .length_ms <<<"$win") ms beyond the blackout $blackout ms + 2 probe intervals;" \
      "windows (ms from STOP; RESUME at +$blackout): $(jq -c --argjson s "$stop" --argjson r "$until_ms" \
        '[.windows[] | select(.end_unix_ms >= $s - 20 and .start_unix_ms <= $r)
          | {from: (.start_unix_ms - $s), to: (.end_unix_ms - $s), lost}]' "$OUT/probe.json");" \
      "TCP stalls (ms from STOP): $(jq -c --argjson s "$stop" '[.tcp.stalls[]? | {at: (.start_unix_ms - $s), length_ms}]' "$OUT/probe.json")"
done

# --- a VM without the KubeVirt annotation is refused, with the reason ---
sed -e 's/name: testvm/name: plainvm/' -e '/allow-pod-bridge-network-live-migration/d' \
  -e 's/runStrategy: Always/runStrategy: Halted/' \
  "$(dirname "$0")/../../examples/testvm.yaml" >"$OUT/plainvm.yaml"
gw apply -f "$OUT/plainvm.yaml" >/dev/null 2>&1 || fail "apply plainvm"
if gw migrate plainvm --to node-2 >"$OUT/plain.out" 2>&1; then
  fail "plainvm (no annotation) was migrated"
else
  grep -q 'kubevirt.io/allow-pod-bridge-network-live-migration' "$OUT/plain.out" &&
    ok "refused: $(cat "$OUT/plain.out")" || fail "refusal without the annotation's name: $(cat "$OUT/plain.out")"
fi

# --- abort while Running: the VM stays on node-1 ---
pid_before=$(node_vm node-1 pid)
gw migrate testvm --to node-2 --max-bandwidth-mib 1 --json >"$OUT/abort.json" 2>&1 || fail "migrate (to abort)"
name=$(jq -r .metadata.name "$OUT/abort.json")
running() { mig_json "$1" | jq -e '.status.phase == "Running" and .status.progress.transferred > 0' >/dev/null; }
if wait_until 30 "$name Running" running "$name"; then
  log "transferring: $(mig_json "$name" | jq -c .status.progress)"
  gw migrate testvm --abort --wait --json >"$OUT/aborted.json" 2>"$OUT/aborted.err" ||
    fail "migrate --abort: $(cat "$OUT/aborted.err")"
  jtrue "$OUT/aborted.json" '.status.phase == "Aborted"' && ok "aborted while Running: $(jq -r .status.reason "$OUT/aborted.json")" ||
    fail "after --abort: $(jq -c .status "$OUT/aborted.json")"
  wait_until 15 "node-2 quits its incoming QEMU" node_lacks_vm node-2
  wait_until 10 "testvm Running on node-1" vm_running_on node-1
  [[ $(node_vm node-1 pid) == "$pid_before" ]] && ok "the source QEMU (pid $pid_before) runs on" ||
    fail "source QEMU pid $(node_vm node-1 pid), was $pid_before"
  [[ $(port_locations) == '["node-1"]' ]] && ok "port locations [node-1]" || fail "locations $(port_locations)"
  wait_until 10 "pings after the abort" pings && ok "testvm answers on node-1 after the abort"
fi

# --- the target's QEMU killed mid-transfer: Failed, VM stays on node-1 ---
gw migrate testvm --to node-2 --max-bandwidth-mib 2 --json >"$OUT/kill.json" 2>&1 || fail "migrate (to kill)"
name=$(jq -r .metadata.name "$OUT/kill.json")
if wait_until 30 "$name Running" running "$name"; then
  tpid=$(node_vm node-2 pid)
  [[ $tpid =~ ^[0-9]+$ ]] || die "no pid of node-2's incoming QEMU"
  kill -KILL "$tpid"
  final() { mig_json "$1" | jq -e '.status.phase == "Failed" or .status.phase == "Aborted" or .status.phase == "Succeeded"' >/dev/null; }
  wait_until 20 "$name finished" final "$name"
  m=$(mig_json "$name")
  [[ $(jq -r .status.phase <<<"$m") == Failed ]] && ok "target QEMU killed: Failed: $(jq -r .status.reason <<<"$m")" ||
    fail "after killing the target QEMU: $(jq -c .status <<<"$m")"
  wait_until 15 "testvm Running on node-1" vm_running_on node-1
  [[ $(node_vm node-1 pid) == "$pid_before" ]] || fail "source QEMU pid changed"
  [[ $(port_locations) == '["node-1"]' ]] || fail "locations $(port_locations)"
  wait_until 10 "pings after the failure" pings && ok "testvm answers on node-1 after the failure"
fi
wait_until 15 "node-2 drops the dead incoming VM" node_lacks_vm node-2

# --- and the next migration works ---
if gw migrate testvm --to node-2 --wait --json >"$OUT/next.json" 2>"$OUT/next.err" &&
  jtrue "$OUT/next.json" '.status.phase == "Succeeded"'; then
  ok "the next migration succeeds: blackout $(jq .status.figures.vm_blackout_ms "$OUT/next.json") ms"
  wait_until 15 "testvm Running on node-2" vm_running_on node-2
  wait_until 10 "pings on node-2" pings && ok "testvm answers on node-2"
else
  fail "next migration: $(cat "$OUT/next.err") $(jq -c .status "$OUT/next.json" 2>/dev/null)"
fi
finish
