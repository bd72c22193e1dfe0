#!/usr/bin/env bash
# The API's streams end to end (docs/API.md, "Streams"), on a 3-node lab:
# `godwit port-forward` to an endpoint's TCP echo is byte-exact across drill
# migrations of the endpoint (the tunnel's far end is on a node the endpoint
# leaves alone); `godwit ssh` runs a command on an endpoint running dropbear;
# the refusals name the subject and what is missing; a stream over the
# controller's TLS listener (https://10.254.0.1:7480 with the lab's CA, from
# the underlay namespace) relays, and without the CA it is refused naming the
# server and the CA; `godwit lab status` names both of the controller's URLs.
# With TUNNEL_VM=1 (or when the guest image exists and E2E_VM is not 0): `godwit
# console` of a real VM from the CLI's namespace, outside every node.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

gw lab up --name "$LAB" --nodes 3 || die "lab up"
gw apply -f "$(dirname "$0")/../../examples/network.yaml" || die "apply network"
gw endpoint add ep --network blue --node node-1 || die "endpoint add ep"
EP=$(ep_ip ep)
ip netns exec "$LAB-ep-ep" "$GODWIT" probe --serve --port 7 >"$LAB_DIR/echo.log" 2>&1 & EXTRA_PIDS+=($!)
wait_until 5 "echo service in ep" ep ep bash -c 'ss -ltn | grep -q ":7 "'

# --- 1. port-forward: listen, one stream per connection, byte-exact ---
# (the binary itself, not the gw function: $! must be its pid, to stop it)
"$GODWIT" --lab "$LAB" port-forward port/ep 0:7 >"$LAB_DIR/pf.out" 2>"$LAB_DIR/pf.err" & PF=$!; EXTRA_PIDS+=($PF)
wait_until 10 "port-forward listening" grep -q '^Forwarding from' "$LAB_DIR/pf.out" \
  || die "port-forward did not start: $(cat "$LAB_DIR/pf.err")"
LPORT=$(sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\) .*/\1/p' "$LAB_DIR/pf.out")
[[ $LPORT =~ ^[0-9]+$ ]] || die "no local port in: $(cat "$LAB_DIR/pf.out")"

# stream_check SECONDS: a connection through the forward that sends numbered
# random blocks for SECONDS and checks every byte that comes back; JSON out.
stream_check() {
  python3 - "$LPORT" "$1" <<'PY'
import hashlib, json, os, socket, sys, threading, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sent = hashlib.sha256(); got = hashlib.sha256(); n_sent = 0; n_got = 0; err = None
def reader():
    global n_got, err
    try:
        while True:
            b = s.recv(65536)
            if not b: return
            got.update(b); n_got += len(b)
    except Exception as e:
        err = repr(e)
t = threading.Thread(target=reader); t.start()
end = time.time() + secs
try:
    while time.time() < end:
        blk = os.urandom(4096); s.sendall(blk); sent.update(blk); n_sent += len(blk)
        time.sleep(0.005)
    s.shutdown(socket.SHUT_WR)
except Exception as e:
    err = repr(e)
t.join(20)
print(json.dumps({"sent": n_sent, "received": n_got, "exact": n_sent == n_got and sent.digest() == got.digest(), "error": err}))
PY
}

stream_check 1 >"$LAB_DIR/pf-1.json"
jtrue "$LAB_DIR/pf-1.json" '.exact and .sent > 0' && ok "port-forward: echo byte-exact ($(jq -c . "$LAB_DIR/pf-1.json"))" \
  || fail "port-forward not byte-exact: $(cat "$LAB_DIR/pf-1.json") $(cat "$LAB_DIR/pf.err")"
TUN=$(gw get ports -o json | jq -r '[.items[] | select(.metadata.name | startswith("gwt-"))] | .[0].spec.locations[0] // empty')
[[ $TUN == node-2 ]] && ok "the tunnel is served by node-2 (not the endpoint's node-1)" \
  || fail "tunnel served by '$TUN', wanted node-2"

# --- 1b. the controller-to-agent leg on the underlay (TCP 7481): TLS with the
# node's stream secret, so neither the secret, the request line nor the
# stream's bytes are in the capture ---
if command -v tcpdump >/dev/null; then
  pcap=$LAB_DIR/streams.pcap
  ip netns exec "$LAB-ul" timeout 5 tcpdump -i br0 -U -s 0 -w "$pcap" 'tcp port 7481' \
    >"$LAB_DIR/tcpdump.log" 2>&1 & TD=$!
  wait_until 5 "tcpdump listening" grep -q "listening on" "$LAB_DIR/tcpdump.log"
  marker=godwit-stream-marker-$RANDOM$RANDOM
  echoed=$(python3 - "$LPORT" "$marker" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall((sys.argv[2] + "\n").encode() * 50); s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
print(data.decode().count(sys.argv[2]))
PY
)
  wait "$TD"
  [[ $echoed == 50 ]] && ok "a marker went through the forward and back (50 times)" \
    || fail "the marker came back $echoed times"
  payloads=$(tcpdump -r "$pcap" -nn 'tcp[tcpflags] & tcp-push != 0' 2>/dev/null | wc -l)
  ((payloads >= 4)) && ok "the capture holds $payloads stream segments with payload" \
    || fail "the capture holds only $payloads segments with payload on 7481"
  leaks=
  grep -aqF "$marker" "$pcap" && leaks+=" the-stream's-bytes"
  grep -aqF '"kind"' "$pcap" && leaks+=" the-request-line"
  while read -r f; do
    grep -aqF "$(cat "$f")" "$pcap" && leaks+=" $f"
  done < <(find "$LAB_DIR" -name stream-secret)
  [[ -n $(find "$LAB_DIR" -name stream-secret) ]] || fail "no node's stream-secret file found under $LAB_DIR"
  grep -aqF "$(cat "$LAB_DIR/token")" "$pcap" && leaks+=" the-admin-token"
  [[ -z $leaks ]] && ok "nothing in clear on the underlay's stream leg (secret, request line, bytes)" \
    || fail "in clear on 7481:$leaks"
else
  fail "no tcpdump (make deps installs it)"
fi

# --- 2. byte-exact across drill migrations of the endpoint: 1 -> 3 -> 1 ---
for to in node-3 node-1; do
  stream_check 4 >"$LAB_DIR/pf-drill-$to.json" & SC=$!
  sleep 1
  gw drill ep --to "$to" --silence-ms 20 --json >"$LAB_DIR/drill-$to.json" 2>"$LAB_DIR/drill-$to.err" \
    || fail "drill to $to: $(cat "$LAB_DIR/drill-$to.err")"
  wait "$SC"
  jtrue "$LAB_DIR/drill-$to.json" '.phase == "Succeeded"' || fail "drill to $to: $(cat "$LAB_DIR/drill-$to.json")"
  jtrue "$LAB_DIR/pf-drill-$to.json" '.exact and .sent > 100000 and .error == null' \
    && ok "port-forward byte-exact across the drill to $to ($(jq -c . "$LAB_DIR/pf-drill-$to.json"))" \
    || fail "port-forward across the drill to $to: $(cat "$LAB_DIR/pf-drill-$to.json")"
done
kill "$PF" 2>/dev/null; wait "$PF" 2>/dev/null

# --- 3. --stdio (ssh's ProxyCommand) ---
out=$(printf 'hello through stdio\n' | gw port-forward --stdio port/ep 7 2>"$LAB_DIR/stdio.err")
[[ $out == 'hello through stdio' ]] && ok "port-forward --stdio relays stdin and stdout" \
  || fail "port-forward --stdio gave '$out': $(cat "$LAB_DIR/stdio.err")"

# --- 3b. --stdio over TLS: the controller's TCP listener, verified with the lab's CA ---
tls_gw() { GODWIT_TOKEN=$(cat "$LAB_DIR/token") ip netns exec "$LAB-ul" "$GODWIT" --server https://10.254.0.1:7480 "$@"; }
out=$(printf 'hello through tls\n' | tls_gw --ca "$LAB_DIR/ca.crt" port-forward --stdio port/ep 7 2>"$LAB_DIR/tls.err")
[[ $out == 'hello through tls' ]] && ok "port-forward --stdio over https:// with the lab's CA" \
  || fail "port-forward over TLS gave '$out': $(cat "$LAB_DIR/tls.err")"
out=$(tls_gw --ca "$LAB_DIR/ca.crt" get nodes 2>&1)
[[ $out == *node-3* ]] && ok "godwit get nodes over https://" || fail "get nodes over TLS: '$out'"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other \
  -keyout "$LAB_DIR/other.key" -out "$LAB_DIR/other.crt" -days 1 2>/dev/null || fail "openssl req"
err=$(tls_gw --ca "$LAB_DIR/other.crt" port-forward --stdio port/ep 7 </dev/null 2>&1); rc=$?
[[ $rc != 0 && $err == *"certificate of 10.254.0.1 does not verify against the CA"* ]] \
  && ok "a stream with the wrong CA is refused: ${err:0:120}..." || fail "wrong CA: rc=$rc '$err'"
out=$("$GODWIT" lab status --name "$LAB" 2>&1)
[[ $out == *"https://10.254.0.1:7480"* && $out == *"unix:$LAB_DIR/api.sock"* ]] \
  && ok "lab status names the controller's URLs" || fail "lab status: $(head -n 4 <<<"$out")"

# --- 4. ssh to an endpoint running dropbear ---
if command -v dropbear >/dev/null && command -v ssh >/dev/null; then
  KEYDIR=$LAB_DIR/ssh; mkdir -p "$KEYDIR"; chmod 700 "$KEYDIR"
  ssh-keygen -q -t ed25519 -N '' -f "$KEYDIR/id" >/dev/null || die "ssh-keygen"
  dropbearkey -t ed25519 -f "$KEYDIR/host" >/dev/null 2>&1 || die "dropbearkey"
  mkdir -p "$KEYDIR/home/.ssh"; cp "$KEYDIR/id.pub" "$KEYDIR/home/.ssh/authorized_keys"
  chmod 700 "$KEYDIR/home" "$KEYDIR/home/.ssh"; chmod 600 "$KEYDIR/home/.ssh/authorized_keys"
  # dropbear reads the account's ~/.ssh/authorized_keys: it runs in a mount
  # namespace of its own where root's home is the test's (nothing of the host's
  # root account is touched).
  ROOT_HOME=$(getent passwd root | cut -d: -f6)
  ip netns exec "$LAB-ep-ep" unshare -m --propagation private sh -c \
    "mount --bind '$KEYDIR/home' '$ROOT_HOME' && exec dropbear -F -E -s -r '$KEYDIR/host' -p 22" \
    >"$LAB_DIR/dropbear.log" 2>&1 & DB=$!; EXTRA_PIDS+=($DB)
  wait_until 5 "dropbear listening in ep" ep ep bash -c 'ss -ltn | grep -q ":22 "'
  out=$(gw ssh -i "$KEYDIR/id" -o BatchMode=yes root@port/ep -- echo ssh-works-\$\(hostname\) 2>"$LAB_DIR/ssh.err")
  [[ $out == ssh-works-* ]] && ok "godwit ssh ran a command: $out" \
    || fail "godwit ssh: '$out': $(tail -n 5 "$LAB_DIR/ssh.err")"
  # kept under the port's incarnation: name, creating revision, cluster id
  alias="port.ep.$(gw get port ep -o json | jq -r .metadata.created).$(curl -s --unix-socket \
    "$LAB_DIR/api.sock" http://x/v1/healthz | jq -r .cluster | cut -c 1-12)"
  ssh-keygen -F "$alias" -f "$(dirname "$GODWIT_CONFIG")/known_hosts" >/dev/null 2>&1 \
    && ok "the host key was accepted into godwit's known_hosts (alias $alias)" \
    || fail "no $alias entry in $(dirname "$GODWIT_CONFIG")/known_hosts"
  out=$(gw ssh -i "$KEYDIR/id" -o BatchMode=yes root@port/ep -- echo again 2>"$LAB_DIR/ssh2.err")
  [[ $out == again ]] && ok "a second ssh uses the kept host key" || fail "second ssh: '$out' $(tail -n 3 "$LAB_DIR/ssh2.err")"
  kill "$DB" 2>/dev/null; wait "$DB" 2>/dev/null
  # the same port answering with another host key is refused (accept-new accepts new hosts only)
  dropbearkey -t ed25519 -f "$KEYDIR/host2" >/dev/null 2>&1 || die "dropbearkey"
  ip netns exec "$LAB-ep-ep" unshare -m --propagation private sh -c \
    "mount --bind '$KEYDIR/home' '$ROOT_HOME' && exec dropbear -F -E -s -r '$KEYDIR/host2' -p 22" \
    >"$LAB_DIR/dropbear2.log" 2>&1 & DB=$!; EXTRA_PIDS+=($DB)
  wait_until 5 "dropbear listening in ep again" ep ep bash -c 'ss -ltn | grep -q ":22 "'
  out=$(gw ssh -i "$KEYDIR/id" -o BatchMode=yes root@port/ep -- echo must-not-run 2>"$LAB_DIR/ssh3.err")
  [[ $out != *must-not-run* ]] && grep -qi "host key" "$LAB_DIR/ssh3.err" \
    && ok "a changed host key on the same port is refused" \
    || fail "changed host key: '$out' $(tail -n 3 "$LAB_DIR/ssh3.err")"
  kill "$DB" 2>/dev/null; wait "$DB" 2>/dev/null
else
  log "skip: ssh or dropbear missing (make deps)"
fi

# --- 5. refusals name the subject and what is missing ---
err=$(gw port-forward --stdio vm/nosuchvm 22 </dev/null 2>&1); rc=$?
[[ $rc != 0 && $err == *"vm/nosuchvm does not exist"* ]] && ok "missing VM: $err" || fail "missing VM: rc=$rc '$err'"
err=$(gw port-forward --stdio port/ep 9 </dev/null 2>&1); rc=$?
[[ $rc != 0 && $err == *"refused"* ]] && ok "nothing listening: $err" || fail "closed port: rc=$rc '$err'"
err=$(gw ssh nosuchvm -- true 2>&1); rc=$?
[[ $rc != 0 && $err == *"vm/nosuchvm does not exist"* ]] && ok "ssh to a missing VM: $err" || fail "ssh to a missing VM: rc=$rc '$err'"
err=$(gw console nosuchvm </dev/null 2>&1); rc=$?
[[ $rc != 0 && $err == *"vm/nosuchvm does not exist"* ]] && ok "console of a missing VM: $err" || fail "console of a missing VM: rc=$rc '$err'"

# tunnels_down: `lab down` deletes the tunnel namespaces the agents made.
tunnels_down() {
  local names n left=""
  names=$(gw get ports -o json | jq -r '.items[] | select(.metadata.name | startswith("gwt-")) | .spec.netns')
  [[ -n $names ]] || { fail "no tunnel ports to check"; return; }
  for n in $names; do [[ -e /run/netns/$n ]] || fail "tunnel netns $n missing while the lab is up"; done
  "$GODWIT" lab down --name "$LAB" >/dev/null 2>&1 || fail "lab down"
  for n in $names; do [[ -e /run/netns/$n ]] && left+=" $n"; done
  [[ -z $left ]] && ok "lab down deleted the tunnel namespaces ($(echo $names))" \
    || fail "tunnel namespaces left after lab down:$left"
}

# --- 6. a real VM: port-forward across a live migration, console from outside
# every node, stop/start/restart and their refusals ---
guest=/var/cache/godwit/guest
if ! command -v qemu-system-x86_64 >/dev/null || ! [[ -s $guest/current/vmlinuz || -n $(ls "$guest"/*/vmlinuz 2>/dev/null) ]]; then
  log "skip: the VM part (no QEMU or no guest image; make guest)"
  tunnels_down
  finish
fi
vm_phase() { gw get vm testvm -o json | jq -r '.status.phase'; }
vm_is() { [[ $(vm_phase) == "$1" ]]; }
# Stopped on the node, not only by spec (no "stopping ..." reason).
vm_stopped() { gw get vm testvm -o json | jq -e '.status.phase == "Stopped" and (.status.reason == null)' >/dev/null; }
gw apply -f "$(dirname "$0")/../../examples/testvm.yaml" 2>/dev/null || die "apply testvm"
wait_until 120 "testvm Running" vm_is Running || die "testvm did not boot"
VM_NODE=$(gw get vm testvm -o json | jq -r .status.node)
log "testvm Running on $VM_NODE"
# The guest's echo (nc -e cat) starts with its userspace: wait for it through the tunnel.
echo_ok() { [[ $(printf 'x\n' | timeout 5 "$GODWIT" --lab "$LAB" port-forward --stdio testvm 7 2>/dev/null) == x ]]; }
wait_until 60 "the guest's TCP echo through port-forward" echo_ok \
  && ok "port-forward --stdio to testvm:7" || fail "no echo from testvm:7 through the tunnel"

"$GODWIT" --lab "$LAB" port-forward testvm 0:7 >"$LAB_DIR/pfvm.out" 2>"$LAB_DIR/pfvm.err" & PF=$!; EXTRA_PIDS+=($PF)
wait_until 10 "port-forward to testvm listening" grep -q '^Forwarding from' "$LAB_DIR/pfvm.out"
LPORT=$(sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\) .*/\1/p' "$LAB_DIR/pfvm.out")
to=$([[ $VM_NODE == node-3 ]] && echo node-1 || echo node-3)
stream_check 12 >"$LAB_DIR/pfvm-mig.json" & SC=$!
sleep 2
gw migrate testvm --to "$to" --wait >"$LAB_DIR/migrate.out" 2>&1 || fail "migrate testvm to $to: $(tail -n 5 "$LAB_DIR/migrate.out")"
wait "$SC"
jtrue "$LAB_DIR/pfvm-mig.json" '.exact and .sent > 0 and .error == null' \
  && ok "port-forward to the VM byte-exact across its live migration to $to ($(jq -c . "$LAB_DIR/pfvm-mig.json"))" \
  || fail "port-forward across the VM's migration: $(cat "$LAB_DIR/pfvm-mig.json") $(tail -n 3 "$LAB_DIR/pfvm.err")"
kill "$PF" 2>/dev/null; wait "$PF" 2>/dev/null

# godwit ssh into the guest (when the guest image has its SSH server: cirros /
# gocubsgo, tools/guest): a command, then a session that prints a counter
# across a live migration, every number in order, status 0.
manifest=$guest/current/manifest.json
if jq -e '.ssh.port == 22' "$manifest" >/dev/null 2>&1 && command -v sshpass >/dev/null; then
  got=$(sshpass -p gocubsgo "$GODWIT" --lab "$LAB" ssh -o PubkeyAuthentication=no cirros@testvm -- \
    'echo ssh-as-$(id -un)' 2>"$LAB_DIR/vmssh.err")
  [[ $got == ssh-as-cirros ]] && ok "godwit ssh cirros@testvm with the password runs a command" \
    || fail "godwit ssh cirros@testvm: '$got' $(tail -n 3 "$LAB_DIR/vmssh.err")"
  sshpass -p gocubsgo "$GODWIT" --lab "$LAB" ssh -o PubkeyAuthentication=no cirros@testvm -- \
    'i=0; while [ $i -lt 80 ]; do echo $i; i=$((i+1)); sleep 0.1; done' \
    >"$LAB_DIR/vmssh.out" 2>"$LAB_DIR/vmssh2.err" & SSHP=$!; EXTRA_PIDS+=($SSHP)
  sleep 2
  from=$(gw get vm testvm -o json | jq -r .status.node)
  to=$([[ $from == node-2 ]] && echo node-1 || echo node-2)
  gw migrate testvm --to "$to" --wait >"$LAB_DIR/migrate2.out" 2>&1 || fail "migrate testvm to $to: $(tail -n 3 "$LAB_DIR/migrate2.out")"
  wait "$SSHP"; rc=$?
  [[ $rc == 0 && $(tr -d '\r' <"$LAB_DIR/vmssh.out") == "$(seq 0 79)" ]] \
    && ok "a godwit ssh session stayed up across the live migration $from -> $to (80 numbers in order, status 0)" \
    || fail "ssh session across the migration: rc=$rc, $(wc -l <"$LAB_DIR/vmssh.out") lines; $(tail -n 3 "$LAB_DIR/vmssh2.err")"
else
  log "skip: godwit ssh into the guest (its image has no SSH server, or no sshpass)"
fi

PID0=$(gw get vm testvm -o json | jq -r .status.pid)
gw stop testvm >/dev/null || fail "godwit stop"
wait_until 60 "testvm Stopped on its node" vm_stopped && ok "godwit stop: Stopped"
err=$(gw port-forward --stdio testvm 7 </dev/null 2>&1); rc=$?
[[ $rc != 0 && $err == *"vm/testvm is stopped"* ]] && ok "port-forward to a stopped VM: $err" || fail "stopped VM: rc=$rc '$err'"
err=$(gw ssh testvm -- true 2>&1 </dev/null); rc=$?
[[ $rc != 0 && $err == *"vm/testvm is stopped"* ]] && ok "ssh to a stopped VM: $err" || fail "ssh to a stopped VM: rc=$rc '$err'"
err=$(gw console testvm </dev/null 2>&1); rc=$?
[[ $rc != 0 && $err == *"vm/testvm is stopped"* ]] && ok "console of a stopped VM: $err" || fail "console of a stopped VM: rc=$rc '$err'"
gw start testvm >/dev/null || fail "godwit start"
# The console from the root namespace (the CLI's; no node's), attached while the
# guest boots: its boot lines come through the controller and the agent. (The
# demo guest has no shell on its console; its init announces itself there.)
# (a new QEMU: its pid differs from the one stopped)
new_qemu() { gw get vm testvm -o json | jq -e --arg p "$PID0" '.status.console and .status.pid and (.status.pid | tostring) != $p' >/dev/null; }
wait_until 60 "testvm's new QEMU reports a console" new_qemu
mkfifo "$LAB_DIR/console.in"
"$GODWIT" --lab "$LAB" console testvm <"$LAB_DIR/console.in" >"$LAB_DIR/console.out" 2>&1 & CON=$!
EXTRA_PIDS+=($CON)
exec 7>"$LAB_DIR/console.in"
wait_until 90 "the boot's ready line through the console" grep -q 'godwit-guest: ready ipv4=' "$LAB_DIR/console.out" \
  && ok "godwit console testvm from outside every node: $(tr -d '\r' <"$LAB_DIR/console.out" | grep -m1 'godwit-guest: ready')" \
  || fail "console: $(tail -n 5 "$LAB_DIR/console.out")"
exec 7>&- # stdin's end: the console drains and leaves
wait_until 10 "the console left at stdin's end" bash -c "! kill -0 $CON 2>/dev/null" && ok "console: left at stdin's end"
wait_until 120 "testvm Running again" vm_is Running && ok "godwit start: Running"
pid1=$(gw get vm testvm -o json | jq -r .status.pid)
gw restart testvm >"$LAB_DIR/restart.out" 2>&1 || fail "godwit restart: $(cat "$LAB_DIR/restart.out")"
wait_until 120 "testvm Running after restart" vm_is Running
pid2=$(gw get vm testvm -o json | jq -r .status.pid)
[[ $pid2 =~ ^[0-9]+$ && $pid2 != "$pid1" ]] && ok "godwit restart: a new QEMU (pid $pid1 -> $pid2)" \
  || fail "restart: pid $pid1 -> $pid2 ($(vm_phase))"
err=$(gw migrate-cancel testvm 2>&1); rc=$?
[[ $rc != 0 && $err == *"testvm"* ]] && ok "migrate-cancel without a migration: $err" || fail "migrate-cancel: rc=$rc '$err'"

tunnels_down
finish
