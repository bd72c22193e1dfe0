#!/usr/bin/env bash
# The way out with a real VM (issue 12 items 1 and 3): testvm on the lab's
# network default (gatewayNode node-1) routes off-subnet traffic to the
# gateway (its DHCP router: it answers a ping from an address outside its
# subnet, through the gateway), before and after it moves, and the gateway's
# side of every NAT'd connection reaches it wherever it is:
# a TCP stream from the gateway namespace (where the outside's replies enter
# the overlay, after the masquerade) to the guest's echo stays byte-exact
# across three live migrations, one of them onto the gateway node itself.
# The guest has no shell to start a connection of its own (issue 12 item 4
# brings SSH); tests/e2e/gateway.sh covers the outbound side with endpoints.
# Run under `flock /tmp/godwit-qemu.lock` on shared machines.
source "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
guest=/var/cache/godwit/guest
[[ -s $guest/current/vmlinuz || -n $(ls "$guest"/*/vmlinuz 2>/dev/null) ]] ||
  { echo "SKIP: no guest image under $guest (make guest)"; exit 77; }
OUT=$(dirname "$GODWIT_CONFIG")
GWNS=$LAB-node-1-gw-default

vm_json() { gw get vm testvm -o json; }
vm_running_on() {
  vm_json | jq -e --arg n "$1" '.status.phase == "Running" and .status.node == $n
    and .spec.node == $n and (.spec.target == null)' >/dev/null
}

gw lab up --name "$LAB" --nodes 3 >/dev/null || die "lab up"
GW=$(gw get network default -o json | jq -r .spec.gateway)
[[ $(gw get network default -o json | jq -r .spec.gatewayNode) == node-1 ]] || die "network default has no gatewayNode"
gw apply -f "$(dirname "$0")/../../examples/testvm.yaml" 2>/dev/null || die "apply testvm"
wait_until 90 "testvm Running" bash -c "$GODWIT --lab $LAB get vm testvm -o json | jq -e '.status.phase == \"Running\"'" \
  || die "testvm did not boot"
IP=$(vm_json | jq -r .status.ipv4)
console_log=$(dirname "$(vm_json | jq -r .status.console)")/console.log
# (the lease's router option, spec.gateway, is checked by tests/e2e/dhcp.sh; the
# guest's udhcpc.script makes it its default route)
wait_until 20 "the guest's dhcp line" grep -q "godwit-guest: dhcp ipv4=$IP/" "$console_log" \
  && ok "the guest took $IP by DHCP (router $GW)"
wait_until 15 "the gateway namespace" ip netns exec "$GWNS" true || die "no gateway namespace $GWNS"
wait_until 20 "ping testvm from the gateway namespace" ip netns exec "$GWNS" ping -c 1 -W 1 "$IP" \
  && ok "the gateway namespace reaches testvm" || die "gateway namespace cannot reach testvm"

# A source outside the VM's subnet (the gateway namespace's link address):
# the reply can only come back by the guest's default route, via the gateway.
OFFNET=$(ip -n "$GWNS" -4 -o addr show dev up0 | awk '{print $4}' | cut -d/ -f1)
offnet_ping() { ip netns exec "$GWNS" ping -c 1 -W 1 -I "$OFFNET" "$IP" >/dev/null; }
wait_until 10 "testvm answers $OFFNET (off its subnet)" offnet_ping \
  && ok "testvm routes off-subnet replies via the gateway ($OFFNET -> $IP)"

ip netns exec "$GWNS" "$GODWIT" probe "$IP" --rate 50 --tcp 7 --tcp-rate 16384 --duration 600 \
  --grace-ms 1000 --json >"$OUT/probe.json" 2>"$OUT/probe.err" &
PROBE=$!
EXTRA_PIDS+=("$PROBE")
sleep 1
for i in 1 2 3; do # node-1 -> node-2 -> node-3 -> node-1, from wherever it starts
  from=$(vm_json | jq -r .spec.node)
  case $from in node-1) to=node-2 ;; node-2) to=node-3 ;; *) to=node-1 ;; esac
  if gw migrate testvm --to "$to" --wait --json >"$OUT/m-$i.json" 2>"$OUT/m-$i.err" &&
    jtrue "$OUT/m-$i.json" '.status.phase == "Succeeded"'; then
    ok "$from -> $to: blackout $(jq .status.figures.vm_blackout_ms "$OUT/m-$i.json") ms"
  else
    fail "migrate $from -> $to: $(cat "$OUT/m-$i.err")"
  fi
  wait_until 15 "testvm Running on $to" vm_running_on "$to"
done
sleep 0.5
kill -TERM "$PROBE"
wait "$PROBE"
log "probe from the gateway: $(jq -c '{sent, received, lost, tcp: {reset: .tcp.reset, sent: .tcp.bytes_sent, verified: .tcp.bytes_verified}}' "$OUT/probe.json" 2>/dev/null)"
jtrue "$OUT/probe.json" '.tcp.connected and .tcp.reset == false and .tcp.bytes_sent > 0
    and .tcp.bytes_verified == .tcp.bytes_sent and .tcp.mismatch == null' \
  && ok "TCP from the gateway namespace to testvm byte-exact across three migrations" \
  || fail "TCP from the gateway: $(jq -c .tcp "$OUT/probe.json" 2>/dev/null) $(cat "$OUT/probe.err")"
jtrue "$OUT/probe.json" '.duplicates == 0' && ok "no duplicates" || fail "duplicates seen from the gateway"
wait_until 10 "testvm answers $OFFNET after the migrations" offnet_ping \
  && ok "off-subnet replies still go via the gateway after the migrations"
finish
