#!/usr/bin/env bash
# The API's streams (docs/API.md, "Streams"; controller/tunnel.h,
# http_stream.h) against a real godwitd and fake agents: a fake agent's
# stream service (python, on a loopback address of this run, port 7482,
# behind the agent's TLS with the stream secret: tests/tools/pskterm on
# 7481) records each request line and echoes the stream's bytes.
#  - refusals: no token (401), bad port (400), GET (405), missing VM/port (404),
#    stopped / not running VM (409), no ready node (503), agent unreachable
#    and agent refusal (502, its message passed on);
#  - a port-forward: 101, the request line the serving agent gets (kind,
#    tunnel netns, the port's IPv4 and PORT), the serving node is not the
#    port's, the system-made tunnel Port (veth, netns, one location), bytes
#    both ways with half-close;
#  - 40 streams open over TLS from one address, and an ordinary request from
#    it still answered (over TLS a stream stays in libmicrohttpd, whose TLS
#    relay it needs, and counts in the address's 64 connections).
#  - the CLI (second argument) over TCP, which is HTTPS with the cluster CA:
#    port-forward --stdio (half-close through TLS) and its errors; without
#    the CA the certificate does not verify and the error names the server
#    and the CA; plain http:// gets no API answer.
set -uo pipefail
godwit=${2:-} pskterm=${3:-}
source "$(dirname "$0")/lib.sh" "$1" streams
tcp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
godwitd_args=(--listen "127.0.0.1:$tcp")
start
ca=$state/tls/ca.crt
fake_pid= report_pid= term_pids=()
cleanup_extra() {
	[[ -n $fake_pid ]] && kill "$fake_pid" 2>/dev/null
	((${#term_pids[@]})) && kill "${term_pids[@]}" 2>/dev/null
	[[ -n $report_pid ]] && kill "$report_pid" 2>/dev/null
}

pre=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
ul1=$pre.11 ul2=$pre.12 ul3=$pre.13 # node-3: nothing listens

# open_stream PATH [TOKEN]: the head of the answer, then (on 101) "DATA:" + the
# echo of "ping\n" after a half-close.
cat >"$dir/stream.py" <<'PY'
import socket, sys
sock, path, token = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sock)
s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: Upgrade\r\n"
           "Upgrade: godwit-stream\r\nContent-Length: 0\r\n\r\n" % (path, token)).encode())
head = b""
while not head.endswith(b"\r\n\r\n"):
    b = s.recv(1)
    if not b: break
    head += b
status = head.split(b" ")[1].decode() if head else "none"
print(status)
if status == "101":
    s.sendall(b"ping\n"); s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(4096)
        if not b: break
        data += b
    print("DATA:" + data.decode())
else:
    rest = s.recv(65536)
    print(rest.decode())
PY
stream() { # PATH [TOKEN]: sets $code and $body
	local out
	out=$(python3 "$dir/stream.py" "$sock" "$1" "${2-$token}")
	code=$(head -n 1 <<<"$out")
	body=$(tail -n +2 <<<"$out")
}

# The fake agents: ADDR... each serving streams, logging request lines to $dir/lines.
cat >"$dir/agent.py" <<'PY'
import json, socket, sys, threading, time
log, addrs = sys.argv[1], sys.argv[2:]
lock = threading.Lock()
def serve(c):
    line = b""
    while not line.endswith(b"\n"):
        b = c.recv(1)
        if not b: c.close(); return
        line += b
    req = json.loads(line)
    with lock:
        with open(log, "a") as f: f.write(line.decode())
    if req.get("port") == 9:
        c.sendall(b'{"error":"10.9.9.9:9 refused the connection (fake)"}\n'); c.close(); return
    if req.get("port") == 8:
        time.sleep(1.5) # answers late: the client has left by then
    c.sendall(b'{"ok":true}\n')
    while True:
        b = c.recv(4096)
        if not b: break
        c.sendall(b"echo:" + b)
    c.shutdown(socket.SHUT_WR)
    c.close()
def listen(a):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, 7482)); s.listen(256)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
for a in addrs:
    threading.Thread(target=listen, args=(a,), daemon=True).start()
open(log + ".ready", "w").close()
threading.Event().wait()
PY
python3 "$dir/agent.py" "$dir/lines" "$ul1" "$ul2" & fake_pid=$!
for a in "$ul1" "$ul2"; do # nodes registered without a join: the admin token is their secret
	"$pskterm" "$a:7481" "$a:7482" "$state/token" "$dir/term.$a" & term_pids+=($!)
done
deadline=$((SECONDS + 5))
until [[ -e $dir/lines.ready && -e $dir/term.$ul1 && -e $dir/term.$ul2 ]]; do
	((SECONDS < deadline)) || { fail "fake agents"; break; }; sleep 0.05
done

# --- refusals before any node ---
stream /v1/vms/nosuch/portforward/22 wrong
expect 401 "bearer token" "a stream without the token: 401"
stream /v1/vms/nosuch/portforward/0
expect 400 "is not a number in 1..65535" "port 0: 400"
stream /v1/vms/nosuch/portforward/ssh
expect 400 "is not a number" "port ssh: 400"
req GET /v1/vms/nosuch/console
expect 405 "POST opens one" "GET on a stream: 405"
stream /v1/vms/nosuch/portforward/22
expect 404 "vm/nosuch does not exist" "port-forward to a missing VM: 404"
stream /v1/ports/nosuch/portforward/22
expect 404 "port/nosuch does not exist" "port-forward to a missing port: 404"
stream /v1/vms/nosuch/console
expect 404 "vm/nosuch does not exist" "console of a missing VM: 404"

# --- nodes: node-1, node-2 (fake agents), node-3 (nothing listens) ---
for n in 1 2 3; do
	ip=$pre.1$n
	req PUT /v1/nodes/node-$n "{\"spec\":{\"underlay_ip\":\"$ip\"}}"
done
report_all() { for n in 1 2 3; do req PUT /v1/nodes/node-$n/status '{"applied_revision":1}'; done; }
report_all
( while sleep 1; do for n in 1 2 3; do
	curl -s -o /dev/null --unix-socket "$sock" -X PUT -H "Authorization: Bearer $token" \
		-d '{"applied_revision":1}' "http://x/v1/nodes/node-$n/status"; done; done ) & report_pid=$!
req POST /v1/networks '{"metadata":{"name":"blue"},"spec":{"cidr":"10.9.0.0/24"}}'
expect 201 "" "network blue"
req POST /v1/ports '{"metadata":{"name":"ep"},"spec":{"network":"blue","locations":["node-1"],"netns":"x-ep"}}'
expect 201 "" "port ep on node-1"
ep_ip=$(jget 'd["spec"]["ipv4"]')

# --- a port-forward: served by node-2, through the tunnel port ---
stream /v1/ports/ep/portforward/22
expect 101 "DATA:echo:ping" "port-forward: 101 and the bytes both ways with half-close"
line=$(tail -n 1 "$dir/lines")
python3 - "$line" "$ep_ip" "$token" <<'PY' && ok "the serving agent got kind, netns, ipv4, port and the token" || fail "request line: $line"
import json, sys
r = json.loads(sys.argv[1])
assert r["kind"] == "portforward" and r["ipv4"] == sys.argv[2] and r["port"] == 22, r
assert r["netns"].startswith("gwt-") and r["token"] == sys.argv[3], r
PY
netns=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["netns"])' "$line")
req GET "/v1/ports/$netns"
expect 200 "" "the tunnel port exists under the namespace's name"
check "tunnel port: veth in its namespace on node-2 (not the port's node-1), network blue" \
	'd["spec"]["type"] == "veth" and d["spec"]["netns"] == d["metadata"]["name"] and d["spec"]["locations"] == ["node-2"] and d["spec"]["network"] == "blue"'
stream /v1/ports/ep/portforward/9
expect 502 "refused the connection (fake)" "the agent's refusal: 502 with its message"

# port on node-2: served by node-1
req POST /v1/ports '{"metadata":{"name":"ep2"},"spec":{"network":"blue","locations":["node-2"],"netns":"x-ep2"}}'
stream /v1/ports/ep2/portforward/7
expect 101 "DATA:echo:ping" "a port on node-2: served by node-1"
# port on node-1 and node-2 (both live: a migration's pair) leaves node-3: unreachable
req PUT /v1/ports/ep '{"metadata":{"name":"ep"},"spec":{"network":"blue","locations":["node-1","node-2"],"netns":"x-ep"}}'
expect 200 "" "port ep on two nodes"
stream /v1/ports/ep/portforward/22
expect 502 "cannot reach the stream service of node node-3" "serving agent unreachable: 502"

# a client that leaves while the agent is being asked (port 8: the fake answers
# after 1.5 s): the far end opened for it is closed again, nothing leaks.
python3 - "$sock" "$token" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
s.sendall(("POST /v1/ports/ep2/portforward/8 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Connection: Upgrade\r\nUpgrade: godwit-stream\r\nContent-Length: 0\r\n\r\n" % sys.argv[2]).encode())
time.sleep(0.3)
s.close()
PY
deadline=$((SECONDS + 10))
until grep -q "ep2:8: the 101 was not delivered" "$dir/godwitd.log"; do
	((SECONDS < deadline)) || break; sleep 0.1
done
grep -q "ep2:8: the 101 was not delivered" "$dir/godwitd.log" &&
	ok "a client gone before the 101: its far end is closed" ||
	{ fail "no abandon of a stream whose client left"; tail -n 20 "$dir/godwitd.log" >&2; }

# --- the CLI over TCP (https://HOST:PORT with the cluster CA) ---
if [[ -n $godwit ]]; then
	export GODWIT_CONFIG=$dir/none GODWIT_CA=$ca
	out=$(printf 'over tls\n' | GODWIT_SERVER=https://127.0.0.1:$tcp GODWIT_TOKEN=$token \
		timeout 20 "$godwit" port-forward --stdio port/ep2 7 2>&1)
	[[ $out == echo:* && ${out//echo:/} == "over tls" ]] && ok "godwit port-forward --stdio over TLS (half-close)" || fail "CLI over TLS: '$out'"
	big=$(head -c 100000 /dev/zero | tr '\0' x)
	out=$(printf '%s\n' "$big" | GODWIT_SERVER=https://127.0.0.1:$tcp GODWIT_TOKEN=$token \
		timeout 20 "$godwit" port-forward --stdio port/ep2 7 2>&1)
	out=${out//echo:/} # the fake agent prefixes every chunk it echoes
	[[ $out == "$big" ]] && ok "100 kB through a TLS stream and back" || fail "big TLS stream: ${#out} bytes back: ${out:0:80}...${out: -200}"
	out=$(GODWIT_SERVER=https://127.0.0.1:$tcp GODWIT_TOKEN=$token \
		timeout 20 "$godwit" port-forward --stdio vm/nosuch 22 </dev/null 2>&1)
	[[ $out == "Error: vm/nosuch does not exist" ]] && ok "the CLI prints the refusal: $out" || fail "CLI refusal: '$out'"
	out=$(GODWIT_SERVER=https://127.0.0.1:$tcp GODWIT_TOKEN=wrong \
		timeout 20 "$godwit" port-forward --stdio port/ep2 7 </dev/null 2>&1)
	[[ $out == *"bearer token"* ]] && ok "the CLI with a wrong token: $out" || fail "CLI wrong token: '$out'"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other \
		-keyout "$dir/other.key" -out "$dir/other.crt" -days 1 2>/dev/null
	out=$(GODWIT_SERVER=https://127.0.0.1:$tcp GODWIT_TOKEN=$token GODWIT_CA=$dir/other.crt \
		timeout 20 "$godwit" port-forward --stdio port/ep2 7 </dev/null 2>&1)
	[[ $out == *"certificate of 127.0.0.1 does not verify against the CA $dir/other.crt"* ]] &&
		ok "a stream with another CA: $out" || fail "stream with another CA: '$out'"
	out=$(GODWIT_SERVER=https://127.0.0.1:$tcp GODWIT_TOKEN=$token GODWIT_CA=$dir/other.crt \
		timeout 20 "$godwit" get networks 2>&1)
	[[ $out == *"cannot trust the controller at https://127.0.0.1:$tcp"*"does not verify against $dir/other.crt"* ]] &&
		ok "a request with another CA: $(head -n1 <<<"$out")" || fail "request with another CA: '$out'"
	out=$(GODWIT_SERVER=https://127.0.0.1:$tcp GODWIT_TOKEN=$token timeout 20 "$godwit" get networks 2>&1)
	[[ $out == *blue* ]] && ok "godwit get over TLS" || fail "get over TLS: '$out'"
	out=$(GODWIT_SERVER=http://127.0.0.1:$tcp GODWIT_TOKEN=$token timeout 20 "$godwit" get networks 2>&1)
	[[ $out != *blue* ]] && ok "plain http:// to the TCP port gets no API answer" || fail "plain http answered: '$out'"
	unset GODWIT_CA
fi

# --- VMs: not running yet, stopped ---
req POST /v1/vms '{"metadata":{"name":"vm1"},"spec":{"memory_mib":128,"image":"godwit-demo","network":"blue","node":"node-1"}}'
expect 201 "" "vm1 created"
stream /v1/vms/vm1/portforward/22
expect 409 "vm/vm1 is not running yet (phase" "VM not running yet: 409"
stream /v1/vms/vm1/console
expect 409 "vm/vm1 has no console yet" "console before one is reported: 409"
req PUT /v1/vms/vm1 '{"metadata":{"name":"vm1"},"spec":{"memory_mib":128,"image":"godwit-demo","network":"blue","running":false}}'
expect 200 "" "vm1 stopped"
stream /v1/vms/vm1/portforward/22
expect 409 "vm/vm1 is stopped" "port-forward to a stopped VM: 409"

# --- no ready node: the reports stop ---
kill "$report_pid"; report_pid=
req POST /v1/ports '{"metadata":{"name":"ep3"},"spec":{"network":"blue","locations":["node-1"],"netns":"x-ep3"}}'
sleep 7 # NODE_READY_MS (6 s) without a report
stream /v1/ports/ep3/portforward/22
expect 503 "no node can serve the tunnel to port/ep3" "no ready node: 503"
report_all
( while sleep 1; do for n in 1 2 3; do
	curl -s -o /dev/null --unix-socket "$sock" -X PUT -H "Authorization: Bearer $token" \
		-d '{"applied_revision":1}' "http://x/v1/nodes/node-$n/status"; done; done ) & report_pid=$!

# --- 40 streams from one address over TLS; ordinary requests still answered ---
python3 - "$tcp" "$token" 40 "$ca" >"$dir/many.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
tls = ssl.create_default_context(cafile=sys.argv[4])
conns = []
for i in range(n):
    s = tls.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                        server_hostname="127.0.0.1")
    s.sendall(("POST /v1/ports/ep3/portforward/7 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Connection: Upgrade\r\nUpgrade: godwit-stream\r\nContent-Length: 0\r\n\r\n" % token).encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)
        if not b: break
        head += b
    if not head.startswith(b"HTTP/1.1 101"):
        print("stream %d: %r" % (i, head[:60])); sys.exit(1)
    conns.append(s)
print("open", len(conns), flush=True)
time.sleep(30)
PY
many=$!
deadline=$((SECONDS + 30))
until grep -q '^open\|stream' "$dir/many.out"; do ((SECONDS < deadline)) && kill -0 "$many" 2>/dev/null || break; sleep 0.1; done
grep -q '^open 40' "$dir/many.out" && ok "40 TLS streams open from one address" || fail "streams: $(cat "$dir/many.out")"
got=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $token" "https://127.0.0.1:$tcp/v1/networks")
[[ $got == 200 ]] && ok "an ordinary request from that address while 40 streams are open: 200" ||
	fail "ordinary request while streams are open: $got"
kill "$many" 2>/dev/null

# --- the network goes with its tunnel ports ---
for p in ep ep2 ep3; do req DELETE /v1/ports/$p; done
req DELETE /v1/vms/vm1
req DELETE /v1/networks/blue
expect 200 "" "a network whose only ports are tunnel ports is deleted"
req GET "/v1/ports/$netns"
expect 404 "" "its tunnel port went with it"

if ((failures)); then
	echo "$failures failure(s); godwitd log:" >&2
	tail -n 20 "$dir/godwitd.log" >&2
	exit 1
fi
echo "all stream tests passed"
