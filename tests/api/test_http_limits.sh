#!/usr/bin/env bash
# The API does not starve (src/controller/http.h): one address that opens many
# connections and dribbles header bytes into them holds at most its share;
# a thousand idle connections from twenty addresses leave the API answering
# other clients (heartbeats, lists) on TCP and on the unix socket. TCP is
# HTTPS (controller/tls.h): the held connections complete their TLS handshake
# first, so they reach the HTTP layer as an agent's would.
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$1" limits
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
godwitd_args=(--listen "127.0.0.1:$port")
start
ca=$state/tls/ca.crt
hold_pid=
cleanup_extra() { [[ -n $hold_pid ]] && kill "$hold_pid" 2>/dev/null; }

# hold.py: opens N TLS connections from each source address, sends half a
# request header into each and keeps them, dribbling a byte every second;
# writes how many are still open after 2 s to $dir/open.N, then holds until killed.
cat >"$dir/hold.py" <<'PY'
import resource, socket, ssl, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
port, per, out, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
sources = sys.argv[5:]
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
            s.send(b"X")
        except OSError:
            pass
    time.sleep(1)
PY

answers() { # DESCRIPTION CURL-ARGS...: a list answers 200 within 5 s
	local what=$1 code
	shift
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $token" "$@")
	[[ $code == 200 ]] && ok "$what" || fail "$what: HTTP $code"
}

# one address, 300 connections: it keeps at most 64
python3 "$dir/hold.py" "$port" 300 "$dir/open.one" "$ca" 127.0.0.1 & hold_pid=$!
for _ in $(seq 100); do [[ -s $dir/open.one ]] && break; sleep 0.1; done
held=$(cat "$dir/open.one" 2>/dev/null || echo none)
[[ $held =~ ^[0-9]+$ ]] && ((held <= 64 && held >= 32)) &&
	ok "one address holds $held of its 300 connections (cap 64)" ||
	fail "one address holds $held connections, want 32..64"
answers "another address is answered meanwhile" --interface 127.0.0.2 --cacert "$ca" "https://127.0.0.1:$port/v1/networks"
answers "the unix socket is answered meanwhile" --unix-socket "$sock" http://x/v1/networks
kill "$hold_pid"; wait "$hold_pid" 2>/dev/null; hold_pid=

# twenty addresses, 50 idle connections each: all kept, the API answers
srcs=()
for i in $(seq 1 20); do srcs+=("127.0.1.$i"); done
python3 "$dir/hold.py" "$port" 50 "$dir/open.many" "$ca" "${srcs[@]}" & hold_pid=$!
for _ in $(seq 200); do [[ -s $dir/open.many ]] && break; sleep 0.1; done
held=$(cat "$dir/open.many" 2>/dev/null || echo none)
[[ $held == 1000 ]] && ok "1000 idle connections from 20 addresses are all kept" ||
	fail "of 1000 idle connections from 20 addresses $held are kept"
answers "a list over TCP with 1000 idle connections open" --interface 127.0.0.2 --cacert "$ca" "https://127.0.0.1:$port/v1/networks"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$sock" -X PUT \
	-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"spec":{"underlay_ip":"192.0.2.10"}}' http://x/v1/nodes/n1)
[[ $code == 200 || $code == 201 ]] && ok "a node registers with 1000 idle connections open" ||
	fail "node registration: HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$sock" -X PUT \
	-H "Authorization: Bearer $token" -d '{"applied_revision":1}' http://x/v1/nodes/n1/status)
[[ $code == 200 ]] && ok "a heartbeat is answered with 1000 idle connections open" ||
	fail "heartbeat: HTTP $code"
kill -0 "$pid" && ok "godwitd still runs" || fail "godwitd died"

if ((failures)); then
	echo "$failures failure(s); godwitd log:" >&2
	tail -n 20 "$dir/godwitd.log" >&2
	exit 1
fi
echo "all limit checks passed"
