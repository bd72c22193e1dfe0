#!/usr/bin/env bash
# Restarts on a 3-node lab: SIGKILL of agents does not stop a running ping and
# the restarted agent reconciles what changed meanwhile; an agent restarted with
# `ip netns exec` refuses to start (src/agent/bpffs.h); SIGKILL of the
# controller and a restart keep every object, allocation and the revision.
source "$(dirname "$0")/lib.sh"

gw lab up --name "$LAB" --nodes 3 || die "lab up"
gw apply -f - <<YAML || die "apply network"
apiVersion: godwit/v1
kind: Network
metadata: {name: blue}
spec: {cidr: 10.20.0.0/24}
YAML
for spec in a:node-1 b:node-1 c:node-3; do
  IFS=: read -r name node <<<"$spec"
  gw endpoint add "$name" --network blue --node "$node" || die "endpoint add $name"
done
A=$(ep_ip a) B=$(ep_ip b) C=$(ep_ip c)
B_IFNAME=$(gw get port b -o json | jq -r .spec.ifname)

# --- agents: SIGKILL both ends while a ping runs ---
ep a ping -i 0.05 -c 80 -W 1 "$C" >"$LAB_DIR/ping-agents.txt" 2>&1 & ping_pid=$!
EXTRA_PIDS+=($ping_pid)
sleep 0.5
kill_daemon node-1
kill_daemon node-3
log "agents of node-1 and node-3 killed"
gw delete port b >/dev/null || fail "delete port b while its agent is down"
sleep 1
start_daemon node-1
start_daemon node-3
log "agents restarted"
wait "$ping_pid"
received=$(grep -oE '[0-9]+ received' "$LAB_DIR/ping-agents.txt" | cut -d' ' -f1)
if [[ $received == 80 ]]; then ok "ping a -> c: 80/80 across agent SIGKILL and restart"
else fail "ping a -> c lost frames across agent restart: $(grep -E 'transmitted' "$LAB_DIR/ping-agents.txt")"; fi

wait_until 15 "restarted agent removes b's device" \
  bash -c "! ip -n $LAB-node-1 link show $B_IFNAME" && ok "stale port b removed after restart"
gw endpoint add d --network blue --node node-1 || fail "endpoint add after agent restart"
D=$(ep_ip d)
ep c ping -c 3 -i 0.2 -W 2 "$D" >/dev/null && ok "new endpoint on restarted node reachable" \
  || fail "ping c -> d (new endpoint after agent restart)"

# --- agent restarted with `ip netns exec`: its private /sys has no bpffs, so the
# pins would not outlive it; it must refuse at once and say how to start it ---
kill_daemon node-2
mapfile -t args <"$LAB_DIR/node-2.cmdline"
timeout 5 ip netns exec "$LAB-node-2" "${args[@]}" >"$LAB_DIR/netns-exec.out" 2>&1; rc=$?
if ((rc != 0 && rc != 124)) && grep -q 'nsenter --net' "$LAB_DIR/netns-exec.out"; then
  ok "agent under \`ip netns exec\` refuses to start (exit $rc) and names nsenter --net"
else
  fail "agent under \`ip netns exec\`: exit $rc (124: still running after 5 s), output: $(tail -n 3 "$LAB_DIR/netns-exec.out")"
fi
start_daemon node-2
log "agent of node-2 restarted with nsenter --net"

# --- controller: SIGKILL and restart on the same state ---
before=$(gw get ports -o json | jq -c '[.[] | {n: .metadata.name, ip: .spec.ipv4, mac: .spec.mac}]')
nets_before=$(gw get networks -o json | jq -c '[.[] | {n: .metadata.name, vni: .spec.vni}]')
ep a ping -i 0.05 -c 60 -W 1 "$C" >"$LAB_DIR/ping-ctl.txt" 2>&1 & ping_pid=$!
EXTRA_PIDS+=($ping_pid)
kill_daemon godwitd
log "controller killed"
start_daemon godwitd
wait_until 15 "controller answers again" gw get networks
after=$(gw get ports -o json | jq -c '[.[] | {n: .metadata.name, ip: .spec.ipv4, mac: .spec.mac}]')
nets_after=$(gw get networks -o json | jq -c '[.[] | {n: .metadata.name, vni: .spec.vni}]')
[[ $before == "$after" ]] && ok "ports and allocations survive a controller SIGKILL" \
  || fail "ports changed across restart: $before -> $after"
[[ $nets_before == "$nets_after" ]] && ok "networks survive" || fail "networks: $nets_before -> $nets_after"
wait "$ping_pid"
grep -q ' 0% packet loss' "$LAB_DIR/ping-ctl.txt" && ok "forwarding went on while the controller was down" \
  || fail "ping during controller restart: $(grep transmitted "$LAB_DIR/ping-ctl.txt")"
gw endpoint add e --network blue --node node-2 || fail "endpoint add after controller restart"
E=$(ep_ip e)
echo "$before" | jq -e --arg ip "$E" 'all(.[]; .ip != $ip)' >/dev/null && [[ $E != "$B" ]] \
  && ok "new address $E was not handed out before" || fail "address $E handed out twice"
ep e ping -c 2 -i 0.2 -W 2 "$A" >/dev/null && ok "e -> a after controller restart" || fail "ping e -> a"

finish
