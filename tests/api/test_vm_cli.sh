#!/usr/bin/env bash
# The CLI side of VMs against a real godwitd:
#   tests/api/test_vm_cli.sh PATH/TO/godwitd PATH/TO/godwit SOURCE_ROOT
# apply of examples/testvm.yaml as it is (warnings on stderr), get/describe,
# apply again (unchanged), Halted (configured, Stopped), console through a fake
# stream to a fake agent (python playing the agent's stream service), delete.
set -euo pipefail

godwitd=${1:?usage: test_vm_cli.sh GODWITD GODWIT SOURCE_ROOT}
godwit=${2:?}
src=${3:?}
pskterm=${4:?}
command -v curl >/dev/null || { echo "curl missing: skip"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing: skip"; exit 77; }

dir=$(mktemp -d /tmp/godwit-vmcli-t$$.XXXXXX)
sock=$dir/api.sock
state=$dir/state
pid= fake= term=
cleanup() {
	[[ -n $pid ]] && { kill -9 "$pid" 2>/dev/null || true; }
	[[ -n $fake ]] && { kill "$fake" 2>/dev/null || true; }
	[[ -n $term ]] && { kill "$term" 2>/dev/null || true; }
	rm -rf "$dir"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

"$godwitd" --state-dir "$state" --listen "unix:$sock" 2>>"$dir/godwitd.log" &
pid=$!
deadline=$((SECONDS + 10))
until curl -s -o /dev/null --unix-socket "$sock" http://x/v1/healthz; do
	((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null || { cat "$dir/godwitd.log" >&2; exit 1; }
	sleep 0.05
done
export GODWIT_SERVER=unix:$sock GODWIT_TOKEN=$(cat "$state/token") GODWIT_CONFIG=$dir/none HOME=$dir

# The node's underlay address: a loopback address of this run, where the fake
# agent's stream service listens (port 7481, agent/streams.h: the agent's TLS,
# tests/tools/pskterm, in front of the python on 7482).
ul=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
report() { # JSON of the vms map
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" -X PUT \
		-H "Authorization: Bearer $GODWIT_TOKEN" -d "{\"applied_revision\":1,\"vms\":$1}" \
		http://x/v1/nodes/node-1/status | grep -q 200 || fail "report"
}
curl -s -o /dev/null --unix-socket "$sock" -X PUT -H "Authorization: Bearer $GODWIT_TOKEN" \
	-d "{\"spec\":{\"underlay_ip\":\"$ul\"}}" http://x/v1/nodes/node-1
report '{}'

# --- apply examples/testvm.yaml as it is ---------------------------------------------
out=$("$godwit" apply -f "$src/examples/testvm.yaml" 2>"$dir/err") || fail "apply testvm.yaml: $(cat "$dir/err")"
[[ $out == "vm/testvm created" ]] && ok "apply creates vm/testvm" || fail "apply said: $out"
[[ $(cat "$dir/err") == "$src/examples/testvm.yaml: warning: ignoring spec.template.metadata.labels" ]] &&
	ok "the ignored field is named on stderr" || fail "stderr: $(cat "$dir/err")"
out=$("$godwit" apply -f "$src/examples/testvm.yaml" 2>/dev/null)
[[ $out == "vm/testvm unchanged" ]] && ok "apply again: unchanged" || fail "apply again: $out"

out=$("$godwit" get vms)
grep -Eq '^testvm +Scheduled +node-1 +10\.244\.' <<<"$out" && ok "get vms" || fail "get vms: $out"
out=$("$godwit" get vm testvm -o wide)
grep -Eq '^NAME +PHASE +NODE +IP +MEMORY +MIGRATABLE +IMAGE' <<<"$out" &&
	grep -Eq 'testvm .* 128Mi +true +quay.io/kubevirt/cirros-container-disk-demo' <<<"$out" &&
	ok "get vm -o wide" || fail "get -o wide: $out"
out=$("$godwit" describe virtualmachine testvm)
grep -q "memory raised from 62 MiB to 128 MiB" <<<"$out" && ok "describe shows the notes" ||
	fail "describe: $out"

# --- console through the controller to a fake agent's stream service -----------
# (agent/streams.h: one request line, {"ok":true}, then the console's bytes)
console=$dir/console.sock
python3 - "$ul" "$GODWIT_TOKEN" "$dir/ready" <<'PY' &
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 7482)); s.listen(1)
open(sys.argv[3], "w").close()
c, _ = s.accept()
line = b""
while not line.endswith(b"\n"):
    b = c.recv(1)
    if not b: sys.exit(1)
    line += b
req = json.loads(line)
if req.get("token") != sys.argv[2] or req.get("kind") != "console" or req.get("vm") != "testvm":
    c.sendall(b'{"error":"fake agent: unexpected request"}\n'); sys.exit(1)
c.sendall(b'{"ok":true}\n')
c.sendall(b"login: ")
data = b""
while True:
    got = c.recv(4096)
    if not got:
        break
    data += got
    if data.endswith(b"\n"):
        c.sendall(b"echo:" + data.upper())
c.close()
PY
fake=$!
"$pskterm" "$ul:7481" "$ul:7482" "$state/token" "$dir/term.ready" & term=$!
deadline=$((SECONDS + 5))
until [[ -e $dir/ready && -e $dir/term.ready ]]; do ((SECONDS < deadline)) || { fail "fake console did not start"; break; }; sleep 0.05; done
out=$("$godwit" console testvm </dev/null 2>&1) && fail "console before the agent reports one: $out" ||
	{ grep -q "has no console yet (phase Scheduled" <<<"$out" && ok "no console yet" || fail "no console: $out"; }
report "{\"testvm\":{\"phase\":\"running\",\"ready\":true,\"console\":\"$console\"}}"
out=$(printf 'hello\n' | timeout 10 "$godwit" console testvm) || fail "console exited with $?"
[[ $out == *"login: "* && $out == *"echo:HELLO"* ]] && ok "console relays both ways" || fail "console: $out"
wait "$fake" || true
fake=
out=$("$godwit" get vms)
grep -Eq '^testvm +Running +node-1' <<<"$out" && ok "get vms shows Running" || fail "get vms: $out"

# --- Halted stops it --------------------------------------------------------------------
sed 's/runStrategy: Always/runStrategy: Halted/' "$src/examples/testvm.yaml" >"$dir/halted.yaml"
out=$("$godwit" apply -f "$dir/halted.yaml" 2>/dev/null)
[[ $out == "vm/testvm configured" ]] && ok "Halted: configured" || fail "Halted: $out"
grep -Eq '^testvm +Stopped' <<<"$("$godwit" get vms)" && ok "Stopped" || fail "not Stopped"
sed 's/memory: 64M/memory: 1Gi/' "$src/examples/testvm.yaml" >"$dir/mem.yaml"
"$godwit" apply -f "$dir/mem.yaml" >/dev/null 2>"$dir/err" && fail "memory change applied"
grep -q "spec.memory_mib is immutable" "$dir/err" && ok "memory change refused" || fail "$(cat "$dir/err")"
sed 's/bridge: {}/masquerade: {}/' "$src/examples/testvm.yaml" >"$dir/masq.yaml"
"$godwit" apply -f "$dir/masq.yaml" >/dev/null 2>"$dir/err" && fail "masquerade applied"
grep -q "line 26: spec.template.spec.domain.devices.interfaces.0.masquerade: not supported" "$dir/err" &&
	ok "masquerade refused with its line and path" || fail "$(cat "$dir/err")"

# --- delete --------------------------------------------------------------------------------
out=$("$godwit" delete vm testvm)
[[ $out == "vm/testvm deleted" ]] && ok "delete vm" || fail "delete: $out"
"$godwit" get port testvm >/dev/null 2>&1 && fail "the port outlived its VM" || ok "the port went with it"

if ((failures)); then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "all VM CLI tests passed"
