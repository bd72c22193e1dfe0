#!/usr/bin/env bash
# Live-migration networking, rehearsed with `godwit drill` on a 3-node lab while
# `godwit probe` runs from endpoints on the source node, the target node and a
# third node: loss confined to the blackout (plus one probe interval), zero
# duplicates, zero early deliveries, TCP byte-exact; the rarp strategy stays
# blocked on ordinary frames and a silent target is activated by completion;
# an aborted migration leaves the source forwarding with no loss and no trace on
# the target; a controller SIGKILL mid-migration is survived.
source "$(dirname "$0")/lib.sh"
RATE=${RATE:-500}          # probes per second from each observer
INTERVAL_MS=$((1000 / RATE))

gw lab up --name "$LAB" --nodes 3 || die "lab up"
gw apply -f "$(dirname "$0")/../../examples/network.yaml" || die "apply network"
for spec in vm:node-1 s:node-1 t:node-2 x:node-3; do
  IFS=: read -r name node <<<"$spec"
  gw endpoint add "$name" --network blue --node "$node" || die "endpoint add $name"
done
VM=$(ep_ip vm)
ep vm "$GODWIT" probe --serve --port 7 >"$LAB_DIR/echo.log" 2>&1 & EXTRA_PIDS+=($!)
wait_until 5 "echo service in vm" ep vm bash -c 'ss -ltn | grep -q ":7 "'

# start_probes TAG SECONDS: one probe per observer endpoint, JSON into $LAB_DIR/TAG-OBS.json
start_probes() {
  local tag=$1 secs=$2 o
  PROBE_PIDS=()
  for o in s t x; do
    ep "$o" "$GODWIT" probe "$VM" --rate "$RATE" --duration "$secs" --tcp 7 --json \
      >"$LAB_DIR/$tag-$o.json" 2>"$LAB_DIR/$tag-$o.err" &
    PROBE_PIDS+=($!)
  done
  EXTRA_PIDS+=("${PROBE_PIDS[@]}")
}
wait_probes() { local p; for p in "${PROBE_PIDS[@]}"; do wait "$p"; done; }

# check_probes TAG MAX_WINDOW_MS: per observer, no duplicates, TCP byte-exact,
# every loss window no longer than MAX_WINDOW_MS.
check_probes() {
  local tag=$1 max=$2 o f
  for o in s t x; do
    f=$LAB_DIR/$tag-$o.json
    jq -e . "$f" >/dev/null 2>&1 || { fail "$tag: probe from $o wrote no report: $(cat "$LAB_DIR/$tag-$o.err")"; continue; }
    log "$tag from $o: $(jq -c '{sent, received, lost, duplicates, windows: [.windows[].length_ms], tcp: {reset: .tcp.reset, sent: .tcp.bytes_sent, verified: .tcp.bytes_verified}}' "$f")"
    jtrue "$f" '.duplicates == 0' || fail "$tag: duplicates seen from $o"
    jtrue "$f" '.sent > 0 and .received > 0' || fail "$tag: probe from $o got nothing"
    jtrue "$f" "all(.windows[]; .length_ms <= $max)" \
      || fail "$tag: a loss window from $o exceeds $max ms"
    jtrue "$f" '.tcp.connected and (.tcp.reset | not) and .tcp.bytes_sent > 0 and .tcp.bytes_verified == .tcp.bytes_sent' || fail "$tag: TCP stream from $o not byte-exact"
  done
}

# drill NAME ARGS...: runs a drill with --json into $LAB_DIR/NAME.drill.json
drill() {
  local name=$1; shift
  gw drill vm "$@" --json >"$LAB_DIR/$name.drill.json" 2>"$LAB_DIR/$name.drill.err"
  local rc=$?
  log "drill $name: $(jq -c '{phase, blackout_us, early_deliveries, first_frame_to_activation_us}' "$LAB_DIR/$name.drill.json" 2>/dev/null)"
  return $rc
}

# --- 1. first-frame: node-1 -> node-2 under probes ---
start_probes ff 5
sleep 1
drill ff --to node-2 --silence-ms 50 || fail "drill first-frame: $(cat "$LAB_DIR/ff.drill.err")"
wait_probes
D=$LAB_DIR/ff.drill.json
jtrue "$D" '.phase == "Succeeded" and .early_deliveries == 0' \
  && ok "first-frame drill succeeded with 0 early deliveries" || fail "first-frame drill: $(cat "$D")"
jtrue "$D" '.first_frame_to_activation_us != null' \
  && ok "activated by the first frame ($(jq .first_frame_to_activation_us "$D") µs)" \
  || fail "no activation event from the target"
blackout_ms=$(( $(jq .blackout_us "$D") / 1000 ))
check_probes ff $((blackout_ms + INTERVAL_MS + 2))
[[ $(gw get port vm -o json | jq -c .spec.locations) == '["node-2"]' ]] && ok "port now on node-2 only" \
  || fail "port locations after drill: $(gw get port vm -o json | jq -c .spec.locations)"

# --- 2. rarp strategy, ordinary frame only: stays blocked, completion activates ---
before=$(node_counter node-3 drop_not_active)
drill rarp-blocked --to node-3 --strategy rarp --announce garp --silence-ms 20 \
  || fail "drill rarp/garp: $(cat "$LAB_DIR/rarp-blocked.drill.err")"
D=$LAB_DIR/rarp-blocked.drill.json
jtrue "$D" '.phase == "Succeeded" and .first_frame_to_activation_us == null' \
  && ok "rarp: an ordinary frame did not activate; completion did" || fail "rarp/garp drill: $(cat "$D")"
wait_until 10 "node-3 counted frames dropped before activation" counter_above node-3 drop_not_active "$before" \
  && ok "rarp: ordinary frames before activation dropped and counted"
ep x ping -c 2 -i 0.2 -W 2 "$VM" >/dev/null && ok "vm reachable on node-3 after completion" \
  || fail "vm unreachable after rarp completion"

# --- 3. rarp strategy with a RARP: activates in the datapath ---
drill rarp --to node-1 --strategy rarp --silence-ms 20 || fail "drill rarp: $(cat "$LAB_DIR/rarp.drill.err")"
jtrue "$LAB_DIR/rarp.drill.json" '.phase == "Succeeded" and .first_frame_to_activation_us != null and .early_deliveries == 0' && ok "rarp: the RARP activated the target" \
  || fail "rarp drill: $(cat "$LAB_DIR/rarp.drill.json")"

# --- 4. abort: the source goes on with zero loss, nothing left on the target ---
start_probes abort 3
sleep 0.5
drill abort --to node-2 --abort || fail "drill --abort: $(cat "$LAB_DIR/abort.drill.err")"
wait_probes
jtrue "$LAB_DIR/abort.drill.json" '.phase == "Aborted"' && ok "migration aborted" \
  || fail "abort drill: $(cat "$LAB_DIR/abort.drill.json")"
for o in s t x; do
  jtrue "$LAB_DIR/abort-$o.json" '.lost == 0 and .duplicates == 0' \
    && ok "abort: zero loss from $o" || fail "abort: loss from $o: $(jq -c '{lost, duplicates}' "$LAB_DIR/abort-$o.json")"
done
[[ $(gw get port vm -o json | jq -c .spec.locations) == '["node-1"]' ]] || fail "locations after abort"
wait_until 10 "the target link leaves the vm namespace" \
  bash -c "[[ \$(ip -n $LAB-ep-vm -o link show | grep -c 'link/ether') == 1 ]]" \
  && ok "no trace of the aborted target in the endpoint"

# --- 5. controller SIGKILL while the migration runs ---
gw drill vm --to node-3 --silence-ms 20 --transfer-ms 3000 --json >"$LAB_DIR/ctl.drill.json" 2>"$LAB_DIR/ctl.drill.err" &
drill_pid=$!; EXTRA_PIDS+=($drill_pid)
wait_until 20 "a migration to node-3 in progress" \
  bash -c "$GODWIT --lab $LAB get migrations -o json 2>/dev/null | jq -e 'any(.items[]; .spec.target == \"node-3\" and .status.phase == \"Running\")'"
kill_daemon godwitd
start_daemon godwitd
wait "$drill_pid"; rc=$?
jtrue "$LAB_DIR/ctl.drill.json" '.phase == "Succeeded"' && [[ $rc == 0 ]] \
  && ok "migration finished after a controller SIGKILL mid-way" \
  || fail "drill across controller restart: rc=$rc $(cat "$LAB_DIR/ctl.drill.err")"
ep s ping -c 2 -i 0.2 -W 2 "$VM" >/dev/null && ok "vm reachable after the restarted migration" \
  || fail "vm unreachable after the controller-restart drill"

# --- 6. agent SIGKILL mid-migration (target, then source): never stuck, forwarding goes on ---
# The vm is on node-3 now.
for victim in target source; do
  from=$(gw get port vm -o json | jq -r '.spec.locations[0]')
  to=$([[ $from == node-3 ]] && echo node-1 || echo node-3)
  node=$([[ $victim == target ]] && echo "$to" || echo "$from")
  start_probes "agent-$victim" 5
  gw drill vm --to "$to" --silence-ms 20 --transfer-ms 2000 --json >"$LAB_DIR/ag-$victim.drill.json" \
    2>"$LAB_DIR/ag-$victim.drill.err" &
  drill_pid=$!; EXTRA_PIDS+=($drill_pid)
  wait_until 20 "migration to $to running" \
    bash -c "$GODWIT --lab $LAB get migrations -o json 2>/dev/null | jq -e 'any(.items[]; .spec.target == \"$to\" and .status.phase == \"Running\")'"
  kill_daemon "$node"
  sleep 0.5
  start_daemon "$node"
  wait "$drill_pid"
  phase=$(jq -r .phase "$LAB_DIR/ag-$victim.drill.json" 2>/dev/null)
  [[ $phase == Succeeded || $phase == Failed ]] && ok "SIGKILL of the $victim agent ($node): migration ended $phase" \
    || fail "SIGKILL of the $victim agent: migration ended '$phase': $(tail -n 3 "$LAB_DIR/ag-$victim.drill.err")"
  wait_probes
  for o in s t x; do
    jtrue "$LAB_DIR/agent-$victim-$o.json" '.duplicates == 0 and .tcp.bytes_verified == .tcp.bytes_sent and (.tcp.reset | not)' \
      && ok "agent-$victim: no duplicates, TCP byte-exact from $o" || fail "agent-$victim: probe from $o: $(jq -c '{lost, duplicates, tcp}' "$LAB_DIR/agent-$victim-$o.json")"
  done
done
now=$(gw get port vm -o json | jq -r '.spec.locations[0]')
next=$([[ $now == node-2 ]] && echo node-1 || echo node-2)
drill after-restarts --to "$next" --silence-ms 20 && jtrue "$LAB_DIR/after-restarts.drill.json" '.phase == "Succeeded"' \
  && ok "the next migration after agent restarts works" || fail "migration after agent restarts: $(cat "$LAB_DIR/after-restarts.drill.err")"

finish
