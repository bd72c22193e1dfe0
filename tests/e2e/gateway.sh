#!/usr/bin/env bash
# The way out (issue 12 items 1 and 3): a network with gatewayNode node-1,
# endpoints on node-2 and node-3 reach the lab's outside host 203.0.113.8
# (ping and a checksummed TCP stream to its echo), the outside sees only the
# gateway node's uplink address 203.0.113.1, the stream stays byte-exact
# across three drills of its endpoint (one of them onto the gateway node),
# an agent restart on node-1 keeps the way out, a gatewayNode that goes
# takes the gateway namespace with it, and describe names a missing node.
source "$(dirname "$0")/lib.sh"
OUTSIDE=203.0.113.8
SNAT=203.0.113.1
NET=gwnet
GWNS=$LAB-node-1-gw-$NET

net_manifest() { # net_manifest [GATEWAY_NODE]
  printf 'apiVersion: godwit/v1\nkind: Network\nmetadata: {name: %s}\nspec: {cidr: 10.31.0.0/24%s}\n' \
    "$NET" "${1:+, gatewayNode: $1}"
}

gw lab up --name "$LAB" --nodes 3 || die "lab up"
[[ $(gw get network default -o json | jq -r .spec.gatewayNode) == node-1 ]] \
  && ok "lab up: network default is routed out through node-1" || fail "network default has no gatewayNode node-1"
ip netns exec "$LAB-outside" ping -c 1 -W 2 "$SNAT" >/dev/null && ok "outside host reaches node-1's uplink" \
  || fail "outside namespace not linked to node-1"
gw lab status --name "$LAB" >"$LAB_DIR/status.txt"
grep -q "Outside: netns $LAB-outside (present)" "$LAB_DIR/status.txt" && ok "lab status shows the outside" \
  || fail "lab status: no outside: $(cat "$LAB_DIR/status.txt")"
grep -Eq "^default .* node-1 *$" "$LAB_DIR/status.txt" && ok "lab status shows network default's gateway node" \
  || fail "lab status: network default's gateway node missing: $(cat "$LAB_DIR/status.txt")"

net_manifest node-1 | gw apply -f - || die "apply network"
gw endpoint add a --network "$NET" --node node-2 || die "endpoint a"
gw endpoint add b --network "$NET" --node node-3 || die "endpoint b"
wait_until 15 "gateway namespace $GWNS" ip netns exec "$GWNS" true && ok "gateway namespace $GWNS made by node-1's agent"
grep -q "node-1: ready" <<<"$(gw describe network "$NET")" && ok "describe: gateway node ready" \
  || fail "describe network: $(gw describe network "$NET" | tail -n 3)"

# --- 1. ping the outside from both nodes ---
for e in a b; do
  grep -q "via 10.31.0.1" <<<"$(ep "$e" ip route show default)" || fail "endpoint $e: no default route via the gateway"
  wait_until 15 "ping $OUTSIDE from $e" ep "$e" ping -c 1 -W 1 "$OUTSIDE" \
    && ok "endpoint $e ($(ep_ip "$e")) pings $OUTSIDE"
done

# The gateway's links reach the outside only: not the underlay, not the gateway node itself.
ep a ping -c 1 -W 1 10.254.0.1 >/dev/null && fail "an endpoint reaches the controller's underlay address through the gateway" \
  || ok "the underlay is not reachable through the gateway"
ep a ping -c 1 -W 1 10.254.0.11 >/dev/null && fail "an endpoint reaches node-1's underlay address through the gateway" \
  || ok "the gateway node's own addresses are not reachable through the gateway"

# --- 2. TCP to the outside echo across three drills; the outside sees the SNAT address ---
ep a "$GODWIT" probe "$OUTSIDE" --rate 100 --duration 14 --tcp 7 --tcp-rate 32768 --grace-ms 3000 \
  --json >"$LAB_DIR/out.json" 2>"$LAB_DIR/out.err" &
probe=$!; EXTRA_PIDS+=($probe)
wait_until 10 "the stream's connection at the outside echo" \
  bash -c "ip netns exec $LAB-outside ss -Htn state established '( sport = :7 )' | grep -q ."
peers=$(ip netns exec "$LAB-outside" ss -Htn state established '( sport = :7 )' | awk '{print $4}' | sort -u)
[[ -n $peers ]] && ! grep -qv "^$SNAT:" <<<"$peers" && ok "the outside sees only the SNAT address ($peers)" \
  || fail "the outside sees peers '$peers', not only $SNAT"
for to in node-3 node-1 node-2; do
  sleep 1.5
  gw drill a --to "$to" --silence-ms 50 --json >"$LAB_DIR/drill-$to.json" 2>"$LAB_DIR/drill-$to.err"
  jtrue "$LAB_DIR/drill-$to.json" '.phase == "Succeeded"' && ok "drill of a to $to succeeded" \
    || fail "drill to $to: $(cat "$LAB_DIR/drill-$to.err")"
done
wait "$probe"
f=$LAB_DIR/out.json
log "probe to the outside: $(jq -c '{sent, received, lost, windows: [.windows[].length_ms], tcp: {connected: .tcp.connected, reset: .tcp.reset, sent: .tcp.bytes_sent, verified: .tcp.bytes_verified}}' "$f" 2>/dev/null)"
jtrue "$f" '.received > 0' && ok "pings to the outside answered during the drills" || fail "no ping answered: $(cat "$LAB_DIR/out.err")"
jtrue "$f" '.tcp.connected and (.tcp.reset | not) and .tcp.bytes_sent > 100000 and .tcp.bytes_verified == .tcp.bytes_sent' \
  && ok "TCP stream through SNAT byte-exact across three migrations" || fail "TCP stream through SNAT not byte-exact"

# --- 3. an agent restart on the gateway node keeps the way out ---
kill_daemon node-1
ep b ping -c 3 -i 0.2 -W 1 "$OUTSIDE" >/dev/null && ok "the way out works while node-1's agent is down" \
  || fail "no way out while node-1's agent is down"
start_daemon node-1
sleep 2
wait_until 15 "node-1 ready again" bash -c "$GODWIT --lab $LAB get node node-1 -o json | jq -e .status.ready"
ip -n "$GWNS" -o link show up0 >/dev/null || fail "gateway namespace lost its uplink after the restart"
wait_until 10 "ping $OUTSIDE from b after node-1's agent restart" ep b ping -c 1 -W 1 "$OUTSIDE" \
  && ok "the way out works after node-1's agent restarted"
[[ $(ip netns list | awk '{print $1}' | grep -c "^$GWNS$") == 1 ]] && ok "the same gateway namespace after the restart" \
  || fail "gateway namespaces after restart: $(ip netns list | grep "^$LAB-node-1-gw-")"
grep -q "gateway namespace $GWNS created" <(tac "$LAB_DIR/node-1.log" | sed '/registered node node-1/q') \
  && fail "the restarted agent made the gateway namespace again" || ok "the restarted agent kept the gateway namespace"

# --- 4. describe names a missing gateway node; a gatewayNode that goes takes the namespace ---
net_manifest node-9 | gw apply -f - || fail "apply gatewayNode node-9"
grep -q "node-9: missing" <<<"$(gw describe network "$NET")" && ok "describe: missing gateway node named" \
  || fail "describe network with node-9: $(gw describe network "$NET" | tail -n 3)"
wait_until 15 "the gateway namespace goes when node-1 is no longer the gateway" \
  bash -c "! ip netns list | grep -q '^$GWNS\\b'" && ok "gateway namespace removed when the gateway moved away"
net_manifest | gw apply -f - || fail "apply without gatewayNode"
ep a ping -c 1 -W 1 "$OUTSIDE" >/dev/null && fail "the outside still reachable without a gateway node" \
  || ok "no way out without a gateway node"
net_manifest node-1 | gw apply -f - || fail "apply gatewayNode node-1 again"
wait_until 15 "ping $OUTSIDE with the gateway back" ep a ping -c 1 -W 1 "$OUTSIDE" && ok "gateway back on node-1"
gw endpoint del a >/dev/null; gw endpoint del b >/dev/null
net_manifest node-1 | gw delete -f - >/dev/null 2>&1 || gw delete network "$NET" >/dev/null || fail "delete network"
wait_until 15 "the gateway namespace goes with the network" \
  bash -c "! ip netns list | grep -q '^$GWNS\\b'" && ok "gateway namespace removed with the network"

# --- 5. lab down removes everything: the outside, the gateway namespaces, the echo ---
echo_pid=$(pid_of outside-echo)
kill -0 "$echo_pid" 2>/dev/null && ok "the outside echo runs (pid $echo_pid)" || fail "no outside echo running"
gw lab down --name "$LAB" >/dev/null || fail "lab down"
left=$(ip netns list | awk '{print $1}' | grep "^$LAB-")
[[ -z $left ]] && ok "lab down left no namespace" || fail "lab down left: $left"
kill -0 "$echo_pid" 2>/dev/null && fail "the outside echo (pid $echo_pid) survived lab down" \
  || ok "lab down stopped the outside echo"

finish
