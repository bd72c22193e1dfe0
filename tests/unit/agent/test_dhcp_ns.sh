#!/bin/bash
# The agent's DHCP module over a real veth (root; exits 77 otherwise):
#   netns A: the host end, served by test_dhcp_serve (the module standalone),
#            with a tc ingress filter that steals every frame: the module's
#            packet socket must see requests before tc ingress;
#   netns B: the endpoint end (eth0), where busybox udhcpc asks for a lease.
# Usage: test_dhcp_ns.sh PATH/TO/test_dhcp_serve
set -u
SERVE=$(realpath "${1:?usage: $0 PATH/TO/test_dhcp_serve}")
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
command -v busybox >/dev/null || { echo "SKIP: no busybox"; exit 77; }

P=td$$
A=$P-a
B=$P-b
H=${P}h
MAC=0a:58:00:00:00:07
TMP=$(mktemp -d)
SERVE_PID=
FAILED=0

cleanup() {
	[[ -n $SERVE_PID ]] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }

wait_until() { # wait_until TIMEOUT_S CMD...
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

ip netns add "$A" && ip netns add "$B" || exit 1
ip -n "$A" link add "$H" type veth peer name eth0 netns "$B" || exit 1
ip -n "$B" link set eth0 address $MAC
ip -n "$A" link set "$H" up
ip -n "$B" link set eth0 up
ip -n "$B" link set lo up
# Everything the endpoint sends is taken away at tc ingress of the host end
# (redirected into a sink veth: act_gact is not built in everywhere).
ip -n "$A" link add "${P}s" type veth peer name "${P}t"
ip -n "$A" link set "${P}s" up
ip -n "$A" link set "${P}t" up
ip netns exec "$A" tc qdisc add dev "$H" clsact || exit 1
ip netns exec "$A" tc filter add dev "$H" ingress protocol all prio 1 u32 match u32 0 0 \
	action mirred egress redirect dev "${P}s" || exit 1

ip netns exec "$A" "$SERVE" "$H" $MAC 10.77.0.7/24 10.77.0.1 1450 >"$TMP/serve.out" \
	2>"$TMP/serve.err" &
SERVE_PID=$!
wait_until 5 grep -q ready "$TMP/serve.out" || { cat "$TMP/serve.err"; echo "FAIL: server not ready"; exit 1; }

cat >"$TMP/script" <<EOF
#!/bin/sh
[ "\$1" = bound ] || exit 0
echo "ip=\$ip subnet=\$subnet router=\$router mtu=\$mtu serverid=\$serverid lease=\$lease broadcast=\$broadcast dns=\${dns:-none}" >"$TMP/lease"
EOF
chmod +x "$TMP/script"
WANT="ip=10.77.0.7 subnet=255.255.255.0 router=10.77.0.1 mtu=1450 serverid=10.77.0.1 lease=86400 broadcast=10.77.0.255 dns=none"

udhcpc() { # udhcpc ARGS...: one attempt set, ~3 s at most
	rm -f "$TMP/lease"
	timeout 10 ip netns exec "$B" busybox udhcpc -i eth0 -f -n -q -t 3 -T 1 -A 1 \
		-s "$TMP/script" "$@" >>"$TMP/udhcpc.log" 2>&1
}

if udhcpc && [[ "$(cat "$TMP/lease" 2>/dev/null)" == "$WANT" ]]; then
	ok "lease: $WANT"
else
	fail "lease: got '$(cat "$TMP/lease" 2>/dev/null)', want '$WANT'"
fi

# Asking for another address still gets the port's (OFFER .7, REQUEST .7).
if udhcpc -r 10.77.0.99 && grep -q '^ip=10.77.0.7 ' "$TMP/lease"; then
	ok "a client asking for 10.77.0.99 gets 10.77.0.7"
else
	fail "with -r 10.77.0.99: '$(cat "$TMP/lease" 2>/dev/null)'"
fi

# tc took the requests away: the packet socket is served before tc ingress.
drops=$(ip netns exec "$A" tc -s filter show dev "$H" ingress | awk '/Sent/ {print $4; exit}')
if [[ ${drops:-0} -ge 4 ]]; then
	ok "tc ingress stole $drops packets the module still answered"
else
	fail "tc ingress redirect counter: '${drops:-}'"
fi

# Another MAC on the same port gets nothing.
ip -n "$B" link set eth0 address 0a:58:00:00:00:08
if udhcpc; then
	fail "a foreign MAC got a lease: $(cat "$TMP/lease" 2>/dev/null)"
else
	ok "a foreign MAC gets no lease"
fi

# A burst of 40 DISCOVERs: DHCP_RATE (20) answered, the rest rate-limited.
ip -n "$B" link set eth0 address $MAC
ip netns exec "$B" python3 - <<'EOF'
import socket, struct
mac = bytes.fromhex("0a5800000007")
msg = bytearray(240)
msg[0:3] = b"\x01\x01\x06"
msg[28:34] = mac
msg[236:240] = bytes([99, 130, 83, 99])
msg += bytes([53, 1, 1, 255])
udp = struct.pack(">HHHH", 68, 67, 8 + len(msg), 0) + msg
ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), b"\xff" * 4)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
for i in range(40):
    s.send(b"\xff" * 6 + mac + b"\x08\x00" + ip + udp)
EOF
received_all() {
	kill -USR1 "$SERVE_PID"
	sleep 0.05
	[[ $(tail -n 1 "$TMP/serve.out") =~ received=([0-9]+) ]] && ((BASH_REMATCH[1] >= 47))
}
wait_until 5 received_all || fail "the server did not read the burst (2+2+3 frames before it)"

kill "$SERVE_PID"
wait "$SERVE_PID" || fail "the server exited with status $?"
SERVE_PID=
stats=$(tail -n 1 "$TMP/serve.out")
echo "server: $stats"
for want in "acks=2" "naks=0" "malformed=0" "send_errors=0"; do
	[[ " $stats " == *" $want "* ]] || fail "server counters: want $want"
done
stat() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$stats"; }
(($(stat ignored_mac) >= 1)) || fail "server counters: want ignored_mac >= 1"
# 2 from udhcpc, then 20 of the burst (+1 if a token came back meanwhile)
(($(stat offers) >= 22 && $(stat offers) <= 23)) || fail "server counters: want 22..23 offers"
(($(stat rate_limited) >= 17)) || fail "server counters: want rate_limited >= 17"

if ((FAILED)); then
	echo "--- udhcpc"; cat "$TMP/udhcpc.log"
	echo "--- server"; cat "$TMP/serve.err"
	exit 1
fi
exit 0
