#!/usr/bin/env bash
# End to end on a 2-node lab: DHCP is served by each node's agent from IPAM.
# An endpoint on a Network with dhcp: true drops its address and runs busybox
# udhcpc: it gets exactly its Port's address, mask, router and MTU 1450;
# a renewal (unicast to the gateway, whose ARP the datapath answers with
# its virtual MAC) is acknowledged too; the node's dhcp_local counter moves;
# after a (drilled) migration the new node's agent hands out the same lease,
# and no DHCP frame of a DHCP network ever reaches the other node's fabric
# device. A network without dhcp is the control: its DHCP broadcast is
# flooded and seen on the other node, which proves the capture works.
source "$(dirname "$0")/lib.sh"
command -v busybox >/dev/null || { echo "SKIP: no busybox"; exit 77; }

log "lab $LAB up"
gw lab up --name "$LAB" --nodes 2 || die "lab up"

cat >"$LAB_DIR/nets.yaml" <<YAML
apiVersion: godwit/v1
kind: Network
metadata: {name: served}
spec: {cidr: 10.40.0.0/24, dhcp: true}
---
apiVersion: godwit/v1
kind: Network
metadata: {name: plain}
spec: {cidr: 10.41.0.0/24}
YAML
gw apply -f "$LAB_DIR/nets.yaml" || die "apply networks"
for spec in a:served:node-1 b:served:node-2 p:plain:node-1 q:plain:node-2; do
	IFS=: read -r name net node <<<"$spec"
	gw endpoint add "$name" --network "$net" --node "$node" || die "endpoint add $name"
done
A=$(ep_ip a) B=$(ep_ip b)
GW=$(gw get network served -o json | jq -r '.spec.gateway')
[[ $A =~ ^10\.40\.0\. && $GW =~ ^10\.40\.0\. ]] || die "addresses: a=$A gateway=$GW"
GW_MAC=$(printf '0a:58:%02x:%02x:%02x:%02x' ${GW//./ })

# Everything DHCP that reaches node-2's fabric device (decapsulated).
ip netns exec "$LAB-node-2" tcpdump -i gw-vxlan -n -l -e 'udp port 67 or udp port 68' \
	>"$LAB_DIR/fabric2.txt" 2>"$LAB_DIR/fabric2.err" &
EXTRA_PIDS+=($!)
wait_until 5 "tcpdump on node-2's fabric" grep -q listening "$LAB_DIR/fabric2.err"

# The script records each event and configures eth0 like a guest would.
cat >"$LAB_DIR/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
	busybox ifconfig "$interface" "$ip" netmask "$subnet"
	echo "$1 ip=$ip subnet=$subnet router=$router mtu=$mtu serverid=$serverid lease=$lease" \
		>>"$EVENTS"
	;;
esac
EOF
chmod +x "$LAB_DIR/udhcpc.sh"

# --- a (node-1): a lease, then a renewal ---
before=$(node_counter node-1 dhcp_local)
ep a ip addr flush dev eth0
EVENTS="$LAB_DIR/a.events" ep a busybox udhcpc -i eth0 -f -t 5 -T 1 -s "$LAB_DIR/udhcpc.sh" \
	-p "$LAB_DIR/a.pid" >"$LAB_DIR/a.udhcpc" 2>&1 &
EXTRA_PIDS+=($!)
want="ip=$A subnet=255.255.255.0 router=$GW mtu=1450 serverid=$GW lease=86400"
if wait_until 15 "a lease in a" grep -q '^bound' "$LAB_DIR/a.events"; then
	got=$(grep '^bound' "$LAB_DIR/a.events" | head -n 1)
	[[ $got == "bound $want" ]] && ok "a: $got" || fail "a: '$got', want 'bound $want'"
fi
ep a ip -4 -o addr show dev eth0 | grep -q " $A/24 " && ok "a configured $A/24" \
	|| fail "a's eth0: $(ep a ip -4 -o addr show dev eth0)"

udhcpc_a=$(cat "$LAB_DIR/a.pid")
EXTRA_PIDS+=($udhcpc_a)
kill -USR1 "$udhcpc_a" # renew now: unicast REQUEST to the server id
if wait_until 10 "a renewal in a" grep -q '^renew' "$LAB_DIR/a.events"; then
	got=$(grep '^renew' "$LAB_DIR/a.events" | head -n 1)
	[[ $got == "renew $want" ]] && ok "a renewed: $got" || fail "a renewal: '$got'"
fi
mac=$(ep a ip neigh show "$GW" | awk '{print $5}')
[[ $mac == "$GW_MAC" ]] && ok "the gateway $GW resolves to its virtual MAC $GW_MAC" \
	|| fail "gateway $GW resolved to '$mac', want $GW_MAC"
kill "$udhcpc_a" 2>/dev/null
# discover + request + renewal request at least
if wait_until 15 "dhcp_local on node-1" counter_above node-1 dhcp_local $((before + 2)); then
	ok "node-1 kept $(($(node_counter node-1 dhcp_local) - before)) DHCP frames local"
else
	gw get node node-1 -o json | jq -c '.status.counters'
fi

# --- b (node-2): its own node's agent answers with its own lease ---
ep b ip addr flush dev eth0
rm -f "$LAB_DIR/b.events"
EVENTS="$LAB_DIR/b.events" ep b timeout 15 busybox udhcpc -i eth0 -f -n -q -t 5 -T 1 \
	-s "$LAB_DIR/udhcpc.sh" >"$LAB_DIR/b.udhcpc" 2>&1
got=$(head -n 1 "$LAB_DIR/b.events" 2>/dev/null)
[[ $got == "bound ip=$B subnet=255.255.255.0 router=$GW mtu=1450 serverid=$GW lease=86400" ]] &&
	ok "b: $got" || fail "b: '$got' (want ip=$B)"

# --- a migrates to node-2 (drill): node-2's agent gives it the same lease ---
gw drill a --to node-2 --json >"$LAB_DIR/drill.json" 2>"$LAB_DIR/drill.err" ||
	fail "drill a to node-2: $(cat "$LAB_DIR/drill.err")"
dev=$(ep a ip -o link show | awk -F': ' '$2 ~ /^eth/ {sub(/@.*/, "", $2); print $2; exit}')
before=$(node_counter node-2 dhcp_local)
ep a ip addr flush dev "$dev"
EVENTS="$LAB_DIR/a2.events" ep a timeout 15 busybox udhcpc -i "$dev" -f -n -q -t 5 -T 1 \
	-s "$LAB_DIR/udhcpc.sh" >"$LAB_DIR/a2.udhcpc" 2>&1
got=$(head -n 1 "$LAB_DIR/a2.events" 2>/dev/null)
[[ $got == "bound $want" ]] && ok "a after migrating to node-2 ($dev): $got" ||
	fail "a after migrating to node-2 ($dev): '$got', want 'bound $want'"
wait_until 15 "dhcp_local on node-2" counter_above node-2 dhcp_local $((before + 1)) &&
	ok "node-2 answered a locally"

# --- control: without dhcp the broadcast is flooded and seen on node-2 ---
ep p ip addr flush dev eth0
ep p timeout 10 busybox udhcpc -i eth0 -f -n -q -t 2 -T 1 -s /bin/true >/dev/null 2>&1 &&
	fail "p got a lease on a network without dhcp"
P_MAC=$(ep_mac p)
wait_until 5 "p's DISCOVER on node-2's fabric" grep -qi "$P_MAC" "$LAB_DIR/fabric2.txt" &&
	ok "control: p's DHCP broadcast reached node-2's fabric"

for name in a b; do
	m=$(ep_mac "$name")
	if grep -qi "$m" "$LAB_DIR/fabric2.txt"; then
		fail "a DHCP frame of $name ($m) reached node-2's fabric"
		grep -i "$m" "$LAB_DIR/fabric2.txt" | head -n 3
	else
		ok "no DHCP frame of $name on node-2's fabric"
	fi
done
finish
