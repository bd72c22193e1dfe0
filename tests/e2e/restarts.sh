#!/usr/bin/env bash
# Restarts on a 3-node lab: SIGKILL of agents does not stop a running ping and
# the restarted agent reconciles what changed meanwhile; an agent restarted with
# `ip netns exec` refuses to start (src/agent/bpffs.h); SIGKILL of the
# controller and a restart keep every object, allocation and the revision; a
# second godwitd on the same state dir exits; on an empty store (the old token)
# the agents are refused (it knows no node's credential) and keep every port;
# `godwitd restore` of a backup taken while it ran brings everything back.
# Restarted agents reuse the credential they got at their join (the lab
# starts them with --join-token-file; its token is spent after the first).
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
for n in node-1 node-3; do
  [[ $(grep -c 'joined: its credential is kept' "$LAB_DIR/$n.log") == 1 ]] &&
    ok "$n restarted on the credential of its one join" ||
    fail "$n joined $(grep -c 'joined: its credential is kept' "$LAB_DIR/$n.log") times"
done
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
before=$(gw get ports -o json | jq -c '[.items[] | {n: .metadata.name, ip: .spec.ipv4, mac: .spec.mac}]')
nets_before=$(gw get networks -o json | jq -c '[.items[] | {n: .metadata.name, vni: .spec.vni}]')
ep a ping -i 0.05 -c 60 -W 1 "$C" >"$LAB_DIR/ping-ctl.txt" 2>&1 & ping_pid=$!
EXTRA_PIDS+=($ping_pid)
kill_daemon godwitd
log "controller killed"
start_daemon godwitd
wait_until 15 "controller answers again" gw get networks
after=$(gw get ports -o json | jq -c '[.items[] | {n: .metadata.name, ip: .spec.ipv4, mac: .spec.mac}]')
nets_after=$(gw get networks -o json | jq -c '[.items[] | {n: .metadata.name, vni: .spec.vni}]')
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

# --- the store's safety (src/controller/statedir.h, agent/clusterpin.h) ---
mapfile -t ctl_args <"$LAB_DIR/godwitd.cmdline"
STATE=
for ((i = 0; i < ${#ctl_args[@]}; i++)); do
  [[ ${ctl_args[i]} == --state-dir ]] && STATE=${ctl_args[i + 1]}
done
[[ -d $STATE ]] || die "no --state-dir in godwitd's command line"
GODWITD=${ctl_args[0]}
# a second godwitd on the same state dir exits at once and names the first
timeout 5 nsenter --net="/run/netns/$(daemon_netns godwitd)" "${ctl_args[@]}" \
  >"$LAB_DIR/second-godwitd.out" 2>&1; rc=$?
if ((rc == 1)) && grep -q "in use by another godwitd (pid $(pid_of godwitd))" "$LAB_DIR/second-godwitd.out"; then
  ok "a second godwitd on the same state dir exits and names the first"
else
  fail "second godwitd: exit $rc (124: still running), output: $(tail -n 2 "$LAB_DIR/second-godwitd.out")"
fi
gw get networks >/dev/null && ok "the first godwitd still answers" || fail "the first godwitd stopped answering"
"$GODWITD" backup --state-dir "$STATE" "$LAB_DIR/backup.db" >"$LAB_DIR/backup.out" 2>&1 \
  && ok "godwitd backup while godwitd runs" || fail "godwitd backup: $(tail -n 1 "$LAB_DIR/backup.out")"
before=$(gw get ports -o json | jq -c '[.items[] | {n: .metadata.name, ip: .spec.ipv4, mac: .spec.mac}] | sort_by(.n)')
E_IFNAME=$(gw get port e -o json | jq -r .spec.ifname)

# an empty store with the old token: it knows no node's credential, so every
# agent is refused (401) and keeps its cache; nothing is deleted
kill_daemon godwitd
mkdir -p "$LAB_DIR/moved" && mv "$STATE"/godwit.db* "$LAB_DIR/moved/"
start_daemon godwitd
wait_until 15 "controller on an empty store answers" gw get networks
ep a ping -i 0.05 -c 260 -W 1 "$C" >"$LAB_DIR/ping-empty.txt" 2>&1 & ping_pid=$!
EXTRA_PIDS+=($ping_pid)
for n in node-1 node-2 node-3; do
  wait_until 15 "$n is refused by the empty store" grep -q 'HTTP 401: wrong bearer token' "$LAB_DIR/$n.log" &&
    ok "$n is refused by the empty store (its credential is unknown there) and says why"
done
[[ $(gw get ports -o json | jq '.items | length') == 0 ]] || fail "the empty store has ports"
wait "$ping_pid" # 13 s: past the agents' 10 s resync
grep -q ' 0% packet loss' "$LAB_DIR/ping-empty.txt" && ok "forwarding went on under the empty store" \
  || fail "ping under the empty store: $(grep transmitted "$LAB_DIR/ping-empty.txt")"
ip -n "$LAB-node-2" link show "$E_IFNAME" >/dev/null 2>&1 && ok "port e's device is still in place" \
  || fail "port e's device $E_IFNAME was removed under the empty store"

# godwitd restore puts the backup back; the agents take it again
kill_daemon godwitd
"$GODWITD" restore --state-dir "$STATE" "$LAB_DIR/backup.db" >"$LAB_DIR/restore.out" 2>&1 \
  && ok "godwitd restore" || fail "godwitd restore: $(tail -n 1 "$LAB_DIR/restore.out")"
start_daemon godwitd
wait_until 15 "controller on the restored store answers" gw get networks
after=$(gw get ports -o json | jq -c '[.items[] | {n: .metadata.name, ip: .spec.ipv4, mac: .spec.mac}] | sort_by(.n)')
[[ $before == "$after" ]] && ok "the restored store has every port and address" \
  || fail "ports after restore: $before -> $after"
restored_ms=$(date +%s%3N)
wait_until 20 "every node reports to the restored store" \
  bash -c "[[ \$($GODWIT --lab $LAB get nodes -o json | jq '[.items[] | select(.status.heartbeat_ms > $restored_ms)] | length') == 3 ]]" &&
  ok "every node reports to the restored store (its credential is in the backup)"
gw endpoint add f --network blue --node node-3 || fail "endpoint add after restore"
F=$(ep_ip f)
ep f ping -c 2 -i 0.2 -W 2 "$E" >/dev/null && ok "a new endpoint after the restore reaches e" \
  || fail "ping f -> e after the restore"

finish
