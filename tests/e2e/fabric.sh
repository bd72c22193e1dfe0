#!/usr/bin/env bash
# End to end on a 3-node lab: endpoints on different nodes reach each other
# (ICMP and TCP both ways), two networks with the same CIDR stay isolated,
# spoofed source MAC / IPv4 are dropped and counted, VXLAN from a host that is
# not a node is dropped and counted, a deleted port disappears from every node.
source "$(dirname "$0")/lib.sh"

log "lab $LAB up"
gw lab up --name "$LAB" --nodes 3 || die "lab up"

cat >"$LAB_DIR/nets.yaml" <<YAML
apiVersion: godwit/v1
kind: Network
metadata: {name: blue}
spec: {cidr: 10.20.0.0/24}
---
apiVersion: godwit/v1
kind: Network
metadata: {name: red}
spec: {cidr: 10.30.0.0/24}
---
apiVersion: godwit/v1
kind: Network
metadata: {name: green}
spec: {cidr: 10.30.0.0/24}
YAML
gw apply -f "$LAB_DIR/nets.yaml" || die "apply networks"

for spec in a:blue:node-1 b:blue:node-2 c:blue:node-3 r1:red:node-1 r2:red:node-2 \
            g1:green:node-1 g2:green:node-2; do
  IFS=: read -r name net node <<<"$spec"
  gw endpoint add "$name" --network "$net" --node "$node" || die "endpoint add $name"
done
A=$(ep_ip a) B=$(ep_ip b) C=$(ep_ip c)

# --- reachability: every pair of blue endpoints, across nodes, ICMP ---
for pair in a:$B a:$C b:$A b:$C c:$A c:$B; do
  IFS=: read -r from to <<<"$pair"
  if ep "$from" ping -c 3 -i 0.2 -W 2 "$to" >/dev/null; then ok "ping $from -> $to"
  else fail "ping $from -> $to"; fi
done

# --- TCP both ways (iperf3 one second each direction) ---
ep b iperf3 -s -1 -p 5201 >/dev/null 2>&1 & EXTRA_PIDS+=($!)
wait_until 5 "iperf3 server in b" ep b bash -c 'ss -ltn | grep -q :5201'
if ep a iperf3 -c "$B" -p 5201 -t 1 >/dev/null; then ok "tcp a -> b"; else fail "tcp a -> b"; fi
ep a iperf3 -s -1 -p 5201 >/dev/null 2>&1 & EXTRA_PIDS+=($!)
wait_until 5 "iperf3 server in a" ep a bash -c 'ss -ltn | grep -q :5201'
if ep c iperf3 -c "$A" -p 5201 -t 1 -R >/dev/null; then ok "tcp a -> c (reverse)"; else fail "tcp a -> c"; fi

# --- isolation: red and green share 10.30.0.0/24 and get the same addresses ---
R1=$(ep_ip r1) R2=$(ep_ip r2) G1=$(ep_ip g1) G2=$(ep_ip g2)
[[ $R1 == "$G1" && $R2 == "$G2" ]] || log "note: red/green addresses differ ($R1 $R2 / $G1 $G2)"
ep g2 tcpdump -i eth0 -n -c 1 -w /dev/null 'icmp' 2>"$LAB_DIR/g2.tcpdump" & tcpdump_pid=$!
EXTRA_PIDS+=($tcpdump_pid)
wait_until 5 "tcpdump listening in g2" grep -q listening "$LAB_DIR/g2.tcpdump"
ep r1 ping -c 3 -i 0.2 -W 2 "$R2" >/dev/null || fail "ping r1 -> r2 inside red"
ep r1 ping -b -c 2 -i 0.2 -W 1 10.30.0.255 >/dev/null 2>&1  # broadcast: flooded in red only
sleep 0.5  # frames in flight would have reached g2 by now
if kill -0 "$tcpdump_pid" 2>/dev/null; then ok "green saw no ICMP from red"
else fail "an ICMP frame crossed from red to green"; fi
mac_seen=$(ep r1 ip neigh show "$R2" | awk '{print $5}')
[[ $mac_seen == "$(ep_mac r2)" ]] && ok "r1 resolved r2's MAC (not g2's)" \
  || fail "r1 resolved $R2 to '$mac_seen', want $(ep_mac r2)"

# --- port security: spoofed source MAC, then spoofed source IPv4 ---
before=$(node_counter node-1 drop_src_mac)
ep a ip link set eth0 address 0a:58:de:ad:be:ef
ep a ping -c 2 -i 0.2 -W 1 "$B" >/dev/null && fail "ping with a spoofed MAC went through"
ep a ip link set eth0 address "$(ep_mac a)"
wait_until 10 "drop_src_mac counted on node-1" counter_above node-1 drop_src_mac "$before" \
  && ok "spoofed source MAC dropped and counted"

before=$(node_counter node-1 drop_src_ip)
ep a ip addr add 10.20.0.250/24 dev eth0
ep a ping -I 10.20.0.250 -c 2 -i 0.2 -W 1 "$B" >/dev/null && fail "ping from a spoofed IPv4 went through"
ep a ip addr del 10.20.0.250/24 dev eth0
wait_until 10 "drop_src_ip counted on node-1" counter_above node-1 drop_src_ip "$before" \
  && ok "spoofed source IPv4 dropped and counted"
ep a ping -c 2 -i 0.2 -W 2 "$B" >/dev/null && ok "a reaches b again" || fail "a lost b after spoof tests"

# --- a trusted underlay: VXLAN from a host that is not a node reaches no port ---
for n in 1 2 3; do
  [[ $(node_counter "node-$n" drop_unknown_node) == 0 ]] \
    || fail "node-$n dropped VXLAN from a node as from a stranger"
done
VNI=$(gw get network blue -o json | jq -r .spec.vni)
before=$(node_counter node-1 drop_unknown_node)
ep a tcpdump -i eth0 -n -c 1 -w /dev/null 'host 10.20.0.99' 2>"$LAB_DIR/a.tcpdump" & tcpdump_pid=$!
EXTRA_PIDS+=($tcpdump_pid)
wait_until 5 "tcpdump listening in a" grep -q listening "$LAB_DIR/a.tcpdump"
# From the underlay bridge's own address (10.254.0.1: the controller's host,
# no node): an ICMP echo to a, from a made-up address of blue.
ip netns exec "$LAB-ul" python3 - "$VNI" "$(ep_mac a)" "$A" <<'PY' || fail "could not send the stranger's frame"
import socket, struct, sys
vni, dst_mac, dst = int(sys.argv[1]), bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, 1) + b"stranger"
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                 socket.inet_aton("10.20.0.99"), socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
frame = dst_mac + bytes.fromhex("0a5800009999") + b"\x08\x00" + ip + icmp
vxlan = struct.pack("!II", 0x08000000, vni << 8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(vxlan + frame, ("10.254.0.11", 4789))
PY
wait_until 10 "drop_unknown_node counted on node-1" counter_above node-1 drop_unknown_node "$before" \
  && ok "VXLAN from a stranger on the underlay dropped and counted"
sleep 0.5
if kill -0 "$tcpdump_pid" 2>/dev/null; then ok "a saw nothing of the stranger's frames"
else fail "a stranger's VXLAN frame reached endpoint a"; fi

# --- a deleted port disappears from every node ---
B_MAC=$(ep_mac b)
for n in 1 2 3; do fdb_has "node-$n" "$B_MAC" || fail "b's MAC missing from node-$n's fdb before delete"; done
gw endpoint del b || fail "endpoint del b"
for n in 1 2 3; do
  wait_until 10 "b's MAC gone from node-$n's fdb" fdb_lacks "node-$n" "$B_MAC" \
    && ok "b removed from node-$n"
done
ep a ping -c 1 -W 1 "$B" >/dev/null && fail "deleted endpoint b still answers"

finish
