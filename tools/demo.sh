#!/usr/bin/env bash
# The fabric demo: a 3-node lab, a network, an endpoint on every node, traffic
# across nodes, and what the datapath counted. Tears the lab down at the end
# (KEEP=1 keeps it).   tools/demo.sh BUILD_DIR
set -uo pipefail
build=$(realpath "${1:-build}")
GODWIT=$build/godwit
LAB=${LAB:-demo}
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (network namespaces and BPF need it)" >&2; exit 1; }
gw() { "$GODWIT" --lab "$LAB" "$@"; }
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
finish() { [[ ${KEEP:-0} == 1 ]] || { step "tearing the lab down"; gw lab down --name "$LAB"; }; }

if [[ -d /run/godwit/labs/$LAB ]]; then
  step "a lab named $LAB is left over from an earlier run: taking it down"
  "$GODWIT" lab down --name "$LAB"
fi
step "bringing up a 3-node lab (controller + one agent per node)"
gw lab up --name "$LAB" --nodes 3 || exit 1
trap finish EXIT

step "applying examples/network.yaml"
gw apply -f "$(dirname "$0")/../examples/network.yaml" || exit 1
step "plugging an endpoint into network blue on every node"
for n in 1 2 3; do gw endpoint add "ep$n" --network blue --node "node-$n" || exit 1; done
gw get ports -o wide

step "pinging across nodes"
for pair in 1:2 2:3 3:1; do
  IFS=: read -r a b <<<"$pair"
  ip=$(gw get port "ep$b" -o json | jq -r .spec.ipv4)
  echo "ep$a (node-$a) -> ep$b (node-$b, $ip):"
  gw endpoint exec "ep$a" -- ping -c 3 -i 0.2 "$ip" | tail -n 2 | sed 's/^/    /'
done

step "TCP across nodes (iperf3, 2 s)"
ip2=$(gw get port ep2 -o json | jq -r .spec.ipv4)
gw endpoint exec ep2 -- iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
sleep 0.5
gw endpoint exec ep1 -- iperf3 -c "$ip2" -p 5201 -t 2 | grep -E 'sender|receiver' | sed 's/^/    /'

step "what the datapath counted (per node)"
sleep 2.5   # one heartbeat, so the counters are fresh
gw get nodes -o wide
