#!/bin/bash
# (not in a suite; the lead owns the e2e tests). Usage: smoke-two-nodes.sh BUILD_DIR
# Manual smoke: godwitd + two agents + two veth endpoints on two nodes, ping.
set -u
B=${1:-/work/main/build};  P=t$$; D=$(mktemp -d); mkdir -p $D
bin() { [ -x $B/$1 ] && echo $B/$1 || echo $B/$2; }
GODWITD=$(bin godwitd src/controller/godwitd); AGENT=$(bin godwit-agent src/agent/godwit-agent)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill $p 2>/dev/null; done; sleep 0.3
  for n in br n1 n2 e1 e2; do ip netns del $P-$n 2>/dev/null; done
  rm -rf /sys/fs/bpf/godwit/$P-n1 /sys/fs/bpf/godwit/$P-n2
}
trap cleanup EXIT
for n in br n1 n2 e1 e2; do ip netns add $P-$n; done
ip -n $P-br link add br0 type bridge; ip -n $P-br link set br0 up; ip -n $P-br link set lo up
for i in 1 2; do
  ip link add $P-u$i netns $P-n$i type veth peer name u$i netns $P-br
  ip -n $P-br link set u$i master br0 up
  ip -n $P-n$i link set $P-u$i name up0; ip -n $P-n$i addr add 10.99.0.$i/24 dev up0
  ip -n $P-n$i link set up0 up; ip -n $P-n$i link set lo up
done
nsenter --net=/run/netns/$P-br $GODWITD --state-dir $D/state --listen unix:$D/api.sock 2>$D/godwitd.log & pids+=($!)
for t in $(seq 50); do [ -s $D/state/token ] && [ -S $D/api.sock ] && break; sleep 0.1; done
TOK=$(cat $D/state/token)
api() { curl -s --unix-socket $D/api.sock -H "Authorization: Bearer $TOK" -X "$1" "http://x$2" ${3:+-d "$3"}; echo; }
# Network namespace only, as `godwit lab up` does (src/agent/bpffs.h: not `ip netns exec`).
for i in 1 2; do
  nsenter --net=/run/netns/$P-n$i $AGENT --node n$i --server unix:$D/api.sock --token-file $D/state/token \
    --underlay-ip 10.99.0.$i --pin-dir /sys/fs/bpf/godwit/$P-n$i -v 2>$D/agent$i.log & pids+=($!)
done
api POST /v1/networks '{"apiVersion":"godwit/v1","kind":"Network","metadata":{"name":"blue"},"spec":{"cidr":"10.50.0.0/24"}}'
api POST /v1/ports "{\"apiVersion\":\"godwit/v1\",\"kind\":\"Port\",\"metadata\":{\"name\":\"p1\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n1\"],\"netns\":\"$P-e1\"}}"
api POST /v1/ports "{\"apiVersion\":\"godwit/v1\",\"kind\":\"Port\",\"metadata\":{\"name\":\"p2\"},\"spec\":{\"network\":\"blue\",\"locations\":[\"n2\"],\"netns\":\"$P-e2\"}}"
IP2=$(api GET /v1/ports/p2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["ipv4"])')
ok=0
for t in $(seq 1 50); do
  if ip netns exec $P-e1 ping -c1 -W1 $IP2 >/dev/null 2>&1; then ok=1; break; fi; sleep 0.2
done
echo "ping e1 -> e2 ($IP2): $ok"
ip netns exec $P-e1 ping -c3 -i0.2 $IP2 | tail -2
sleep 2.5; api GET /v1/nodes | python3 -c 'import json,sys; [print(n["metadata"]["name"], n.get("status",{}).get("applied_revision"), n.get("status",{}).get("ready"), n.get("status",{}).get("counters",{}).get("fwd_remote")) for n in json.load(sys.stdin)["items"]]'
api DELETE /v1/ports/p2 >/dev/null
for t in $(seq 50); do ip -n $P-e2 link show eth0 >/dev/null 2>&1 || break; sleep 0.1; done
echo "after delete p2, eth0 in e2: $(ip -n $P-e2 link show eth0 >/dev/null 2>&1 && echo present || echo gone)"
grep -v libbpf $D/agent1.log | grep -E "warn|error" | head
[ $ok = 1 ]
