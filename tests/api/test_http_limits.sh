#!/usr/bin/env bash
# The API does not starve (src/controller/http.h, http_limits.h): one address
# that opens many connections and dribbles header bytes into them holds at
# most its share; a thousand idle connections from twenty addresses and a few
# slowloris clients leave the API answering other clients (heartbeats, lists)
# on TCP and on the unix socket, and the slowloris connections are closed at
# the header deadline however they dribble; a full watch cap leaves requests
# answered, with 503 and a message for the watch beyond it. TCP is HTTPS
# (controller/tls.h): the held connections complete their TLS handshake
# first, so they reach the HTTP layer as an agent's would.
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$1" limits
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
godwitd_args=(--listen "127.0.0.1:$port")
start
ca=$state/tls/ca.crt
hold_pid=
slow_pid= watch_pids=()
cleanup_extra() {
	for p in $hold_pid $slow_pid "${watch_pids[@]}"; do kill "$p" 2>/dev/null; done
	return 0
}

# hold.py PORT N OUT MODE CA SRC...: opens N TLS connections from each source
# address and keeps them. MODE half: sends half a request header into each,
# then a byte every second (slowloris); MODE idle: one whole request each
# (keep-alive, as an agent's connection between heartbeats), then nothing.
# Writes how many are still open after 2 s to OUT, then every second to
# OUT.now, until killed.
cat >"$dir/hold.py" <<'PY'
import os, resource, socket, ssl, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, per, out, mode, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
sources = sys.argv[6:]
tls = ssl.create_default_context(cafile=ca)
conns = []
for src in sources:
    for _ in range(per):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        try:
            s = tls.wrap_socket(s, server_hostname="127.0.0.1")
            if mode == "idle":
                s.sendall(b"GET /v1/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            else:
                s.sendall(b"GET /v1/networks HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            s.close()  # refused beyond the address's share: not open
            continue
        conns.append(s)
def still_open():
    n = 0
    for s in conns:
        s.setblocking(False)
        try:
            n += s.recv(1) != b""  # data: counts as open; b"": closed by the server
        except (BlockingIOError, ssl.SSLWantReadError):
            n += 1
        except OSError:
            pass
    return n
time.sleep(2)
open(out, "w").write("%d\n" % still_open())
while True:
    for s in conns:
        try:
            if mode == "half":
                s.send(b"X")
        except OSError:
            pass
    time.sleep(1)
    open(out + ".tmp", "w").write("%d\n" % still_open())
    os.rename(out + ".tmp", out + ".now")
PY

answers() { # DESCRIPTION CURL-ARGS...: a list answers 200 within 5 s
	local what=$1 code
	shift
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $token" "$@")
	[[ $code == 200 ]] && ok "$what" || fail "$what: HTTP $code"
}

# one address, 300 connections: it keeps at most 64
python3 "$dir/hold.py" "$port" 300 "$dir/open.one" half "$ca" 127.0.0.1 & hold_pid=$!
for _ in $(seq 100); do [[ -s $dir/open.one ]] && break; sleep 0.1; done
held=$(cat "$dir/open.one" 2>/dev/null || echo none)
[[ $held =~ ^[0-9]+$ ]] && ((held <= 64 && held >= 32)) &&
	ok "one address holds $held of its 300 connections (cap 64)" ||
	fail "one address holds $held connections, want 32..64"
answers "another address is answered meanwhile" --interface 127.0.0.2 --cacert "$ca" "https://127.0.0.1:$port/v1/networks"
answers "the unix socket is answered meanwhile" --unix-socket "$sock" http://x/v1/networks
kill "$hold_pid"; wait "$hold_pid" 2>/dev/null; hold_pid=

# twenty addresses, 50 idle connections each, and three slowloris clients:
# all idle ones kept, the API answers, the slowloris ones are closed at the
# header deadline (10 s, http_limits.h) though they send a byte every second
srcs=()
for i in $(seq 1 20); do srcs+=("127.0.1.$i"); done
python3 "$dir/hold.py" "$port" 50 "$dir/open.many" idle "$ca" "${srcs[@]}" & hold_pid=$!
python3 "$dir/hold.py" "$port" 3 "$dir/open.slow" half "$ca" 127.0.0.3 & slow_pid=$!
for _ in $(seq 200); do [[ -s $dir/open.many && -s $dir/open.slow ]] && break; sleep 0.1; done
held=$(cat "$dir/open.many" 2>/dev/null || echo none)
[[ $held == 1000 ]] && ok "1000 idle connections from 20 addresses are all kept" ||
	fail "of 1000 idle connections from 20 addresses $held are kept"
slow=$(cat "$dir/open.slow" 2>/dev/null || echo none)
[[ $slow == 3 ]] && ok "3 slowloris connections are open at first" ||
	fail "of 3 slowloris connections $slow are open at first"
answers "a list over TCP with 1000 idle and 3 slowloris connections open" \
	--interface 127.0.0.2 --cacert "$ca" "https://127.0.0.1:$port/v1/networks"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$sock" -X PUT \
	-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"spec":{"underlay_ip":"192.0.2.10"}}' http://x/v1/nodes/n1)
[[ $code == 200 || $code == 201 ]] && ok "a node registers with 1000 idle connections open" ||
	fail "node registration: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.2 -X PUT \
	-H "Authorization: Bearer $token" -d '{"applied_revision":1}' \
	--cacert "$ca" "https://127.0.0.1:$port/v1/nodes/n1/status")
[[ $code == 200 ]] && ok "a heartbeat over TCP is answered with 1000 idle and 3 slowloris open" ||
	fail "heartbeat over TCP: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$sock" -X PUT \
	-H "Authorization: Bearer $token" -d '{"applied_revision":1}' http://x/v1/nodes/n1/status)
[[ $code == 200 ]] && ok "a heartbeat is answered with 1000 idle connections open" ||
	fail "heartbeat: HTTP $code"
# the deadline: wait (up to twice it) for the slowloris connections to go
for _ in $(seq 200); do [[ $(cat "$dir/open.slow.now" 2>/dev/null) == 0 ]] && break; sleep 0.1; done
slow=$(cat "$dir/open.slow.now" 2>/dev/null || echo none)
[[ $slow == 0 ]] && ok "the slowloris connections are closed at the header deadline" ||
	fail "$slow slowloris connections still open 20 s on"
held=$(cat "$dir/open.many.now" 2>/dev/null || echo none)
[[ $held == 1000 ]] && ok "the idle keep-alive connections are kept meanwhile" ||
	fail "of 1000 idle keep-alive connections $held are kept"
grep -q 'no complete request header within 10 s' "$dir/godwitd.log" &&
	ok "the log says why they were closed" || fail "no log line for the closed connections"
kill "$slow_pid" "$hold_pid"; wait "$slow_pid" "$hold_pid" 2>/dev/null; slow_pid= hold_pid=
kill -0 "$pid" && ok "godwitd still runs" || fail "godwitd died"

# watches are capped apart from requests: with --max-watches 3 full, a fourth
# watch gets 503 and a message, requests and heartbeats are answered
stop
godwitd_args=(--listen "127.0.0.1:$port" --max-watches 3)
start
for i in 1 2 3; do
	curl -s -N -o "$dir/watch.$i" -H "Authorization: Bearer $token" \
		--cacert "$ca" "https://127.0.0.1:$port/v1/watch" & watch_pids+=($!)
done
watching() { # how many of the three watches have had their answer
	local n=0
	for i in 1 2 3; do [[ -s $dir/watch.$i ]] && n=$((n + 1)); done
	echo $n
}
# a watch's first line comes at its first bookmark (5 s) or change: make one
req POST /v1/networks '{"apiVersion":"godwit/v1","kind":"Network","metadata":{"name":"w1"},"spec":{"cidr":"10.77.0.0/24"}}'
for _ in $(seq 100); do [[ $(watching) == 3 ]] && break; sleep 0.1; done
[[ $(watching) == 3 ]] && ok "three watches are served" || fail "$(watching) of 3 watches served"
code=$(curl -s -o "$dir/body" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $token" \
	--cacert "$ca" "https://127.0.0.1:$port/v1/watch")
body=$(cat "$dir/body")
[[ $code == 503 && $body == *"too many watches"*"at most 3"* ]] &&
	ok "a fourth watch gets 503: $body" || fail "a fourth watch: HTTP $code $body"
answers "a list is answered with the watch cap full" --cacert "$ca" "https://127.0.0.1:$port/v1/networks"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT \
	-H "Authorization: Bearer $token" -d '{"applied_revision":1}' \
	--cacert "$ca" "https://127.0.0.1:$port/v1/nodes/n1/status")
[[ $code == 200 ]] && ok "a heartbeat is answered with the watch cap full" ||
	fail "heartbeat with the watch cap full: HTTP $code"
# a watch's end is seen when its stream is next written: at a change or at
# its next bookmark (5 s)
kill "${watch_pids[0]}"; wait "${watch_pids[0]}" 2>/dev/null
req POST /v1/networks '{"apiVersion":"godwit/v1","kind":"Network","metadata":{"name":"w2"},"spec":{"cidr":"10.77.1.0/24"}}'
code=
for _ in $(seq 150); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
		-H "Authorization: Bearer $token" --cacert "$ca" "https://127.0.0.1:$port/v1/watch")
	[[ $code == 200 ]] && break # cut by --max-time while streaming: 200 all the same
	sleep 0.1
done
[[ $code == 200 ]] && ok "a watch ended frees its slot" || fail "after a watch ended: HTTP $code"

if ((failures)); then
	echo "$failures failure(s); godwitd log:" >&2
	tail -n 20 "$dir/godwitd.log" >&2
	exit 1
fi
echo "all limit checks passed"
