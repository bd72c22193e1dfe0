#!/usr/bin/env bash
# The real kubectl against a real godwitd (docs/API.md, "Kubernetes API"); the
# test plays the agents (node registrations and status reports):
#   tests/api/test_kubectl.sh PATH/TO/godwitd SEED_MANIFEST
# Covers: discovery (api-resources, version), `kubectl apply` of the seed
# manifest unchanged (created, then unchanged), get -o json / -o yaml / the
# table, the godwit VM behind it, a malformed manifest's error with the
# field's path (nothing stored), another namespace (NotFound), the
# VirtualMachineInstance of a running VM, `get -w` printing the phase change,
# a VirtualMachineInstanceMigration (create, get, delete = cancel), who may
# do what (a node's credential reads and is refused every write with
# Forbidden, a wrong token is Unauthorized), delete. kubectl talks to
# godwitd's own HTTPS listener, verified with the cluster CA (STATE/tls/ca.crt).
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1" kubectl
source "$(dirname "$0")/kube.sh"
seed=${2:?usage: $0 GODWITD SEED_MANIFEST}
kube_need

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
godwitd_args=(--listen "127.0.0.1:$port")
start
kube_setup "$dir" "127.0.0.1:$port" "$token" "$state/tls/ca.crt"
[[ $(stat -c %a "$KUBECONFIG") == 600 ]] && ok "the kubeconfig (a token in it) is mode 0600" \
	|| fail "kubeconfig mode $(stat -c %a "$KUBECONFIG")"

report() { # NODE VMS_JSON
	req PUT "/v1/nodes/$1/status" "{\"applied_revision\":1000,\"counters\":{},\"vms\":$2}"
	[[ $code == 200 ]] || fail "status report of $1: $code $body"
}
for n in node-1 node-2; do
	req PUT "/v1/nodes/$n" "{\"spec\":{\"underlay_ip\":\"192.168.50.${n#node-}\"}}"
	report "$n" '{}'
done
revision() { curl -s --unix-socket "$sock" http://x/v1/healthz | python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'; }

k() { "$KUBECTL" "$@" 2>"$dir/kerr"; }

# --- discovery ---------------------------------------------------------------
out=$(k api-resources) || fail "api-resources: $(cat "$dir/kerr")"
[[ $out == *virtualmachines*vm,vms*kubevirt.io/v1*VirtualMachine* ]] && ok "api-resources lists vm" \
	|| fail "api-resources: $out"
[[ $out == *virtualmachineinstancemigrations*vmim* ]] && ok "api-resources lists vmim" \
	|| fail "api-resources: $out"
out=$(k version) && [[ $out == *"Server Version"* ]] && ok "version" || fail "version: $out $(cat "$dir/kerr")"

# --- apply of the seed manifest, unchanged -------------------------------------
out=$(k apply -f - <"$seed") || fail "apply: $(cat "$dir/kerr")"
[[ $out == "virtualmachine.kubevirt.io/testvm created" ]] && ok "apply: created" || fail "apply: $out"
grep -q "Warning: ignoring spec.template.metadata.labels" "$dir/kerr" && ok "apply warns of what it ignores" \
	|| fail "no warning: $(cat "$dir/kerr")"
out=$(k apply -f - <"$seed") || fail "apply again: $(cat "$dir/kerr")"
[[ $out == "virtualmachine.kubevirt.io/testvm unchanged" ]] && ok "apply again: unchanged" \
	|| fail "apply again: $out"
req GET /v1/vms/testvm
expect 200 '"migratable":true' "the godwit VM behind it"
[[ $(jget 'd["spec"]["memory_mib"]') == 62 ]] && ok "64M is 62 MiB" || fail "memory: $body"
rev=$(jget 'd["metadata"]["revision"]')

out=$(k get vm testvm -o json) || fail "get -o json: $(cat "$dir/kerr")"
body=$out
[[ $(jget 'd["kind"]') == VirtualMachine && $(jget 'd["metadata"]["namespace"]') == default ]] \
	&& ok "get -o json: a VirtualMachine" || fail "get -o json: $out"
[[ $(jget 'd["metadata"]["resourceVersion"]') == "$rev" ]] && ok "resourceVersion is the revision" \
	|| fail "resourceVersion: $out (revision $rev)"
[[ $(jget 'd["metadata"]["creationTimestamp"]') == 20*Z ]] && ok "creationTimestamp" \
	|| fail "no creationTimestamp: $out"
[[ $(jget 'd["spec"]["template"]["spec"]["domain"]["resources"]["requests"]["memory"]') == 64M ]] \
	&& ok "the spec as applied" || fail "spec: $out"
out=$(k get vm -o yaml) || fail "get -o yaml: $(cat "$dir/kerr")"
[[ $out == *"kind: List"* && $out == *"kind: VirtualMachine"* && $out == *"name: testvm"* ]] \
	&& ok "get -o yaml: a List" || fail "get -o yaml: $out"
out=$(k get vm) || fail "get: $(cat "$dir/kerr")"
[[ $out == NAME*AGE*STATUS*READY*testvm* ]] && ok "get: the table's columns" || fail "get: $out"
out=$(k label vm testvm tier=web) || fail "label: $(cat "$dir/kerr")"
req GET /v1/vms/testvm
[[ $(jget 'd["metadata"]["labels"]["tier"]') == web ]] && ok "kubectl label: kept on the VM" || fail "label: $body"
out=$(k describe vm testvm) || fail "describe: $(cat "$dir/kerr")"
[[ $out == *Name:*testvm* && $out == *Namespace:*default* && $out == *tier=web* &&
	$out == *"Kind:         VirtualMachine"* ]] && ok "kubectl describe vm testvm" || fail "describe: $out"

# --- errors --------------------------------------------------------------------
mark=$(revision)
if sed -e 's/bridge: {}/masquerade: {}/' -e 's/name: testvm/name: badvm/' "$seed" | k apply -f -; then
	fail "a masquerade interface was accepted"
elif grep -q 'The VirtualMachine "badvm" is invalid: spec.template.spec.domain.devices.interfaces\[0\].masquerade: not supported' "$dir/kerr"; then
	ok "malformed manifest: the field's path"
else
	fail "malformed manifest: $(cat "$dir/kerr")"
fi
stored_only_events "$mark" "malformed manifest"
if k get vm -n prod; then fail "namespace prod exists"; else
	grep -q 'NotFound' "$dir/kerr" && ok "another namespace: NotFound" || fail "namespace prod: $(cat "$dir/kerr")"
fi
if k get vm nosuch; then fail "vm nosuch exists"; else
	grep -q 'virtualmachines.kubevirt.io "nosuch" not found' "$dir/kerr" && ok "get of a missing vm: NotFound" \
		|| fail "nosuch: $(cat "$dir/kerr")"
fi

# --- the instance and the watch ---------------------------------------------------
req GET /v1/vms/testvm
node=$(jget 'd["spec"]["node"]')
"$KUBECTL" get vm -w >"$dir/watch" 2>&1 &
watch_pid=$!
for _ in $(seq 100); do grep -q testvm "$dir/watch" && break; sleep 0.05; done
sleep 0.5 # past the list: the stream is open
report "$node" '{"testvm":{"phase":"running","ready":true}}'
for _ in $(seq 50); do grep -q 'testvm.*Running' "$dir/watch" && break; sleep 0.1; done
kill "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
grep -q 'testvm.*Provisioning' "$dir/watch" && grep -q 'testvm.*Running.*true' "$dir/watch" \
	&& ok "get -w prints the phase change" || fail "get -w: $(cat "$dir/watch")"
out=$(k get vmi testvm -o json) || fail "get vmi: $(cat "$dir/kerr")"
body=$out
[[ $(jget 'd["status"]["phase"]') == Running && $(jget 'd["status"]["nodeName"]') == "$node" &&
	$(jget 'd["status"]["interfaces"][0]["ipAddress"]') == 10.* ]] \
	&& ok "vmi: phase, node, IP" || fail "vmi: $out"
out=$(k get vmi -o wide) || fail "get vmi -o wide"
[[ $out == NAME*AGE*PHASE*IP*NODENAME*testvm*Running* ]] && ok "get vmi: the table" || fail "get vmi: $out"
if k delete vmi testvm; then fail "a vmi was deleted"; else ok "vmi: read-only"; fi

# --- a migration -------------------------------------------------------------------
cat >"$dir/mig.yaml" <<EOM
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstanceMigration
metadata:
  name: mig1
spec:
  vmiName: testvm
EOM
report node-2 '{}' # ready (a report counts for 6 s)
out=$(k create -f "$dir/mig.yaml") || fail "create vmim: $(cat "$dir/kerr")"
[[ $out == "virtualmachineinstancemigration.kubevirt.io/mig1 created" ]] && ok "create vmim" \
	|| fail "create vmim: $out"
req GET /v1/migrations/mig1
expect 200 '"vm":"testvm"' "the vmim is a godwit migration of the VM"
out=$(k get vmim mig1 -o jsonpath='{.status.phase}') && [[ $out == Pending ]] && ok "vmim: Pending" \
	|| fail "vmim phase: $out $(cat "$dir/kerr")"
out=$(k delete vmim mig1) && [[ $out == *'"mig1" deleted'* ]] && ok "delete vmim" \
	|| fail "delete vmim: $out $(cat "$dir/kerr")"
req GET /v1/vms/testvm
[[ $(jget 'd["spec"].get("target")') == null ]] && ok "delete vmim cancels the migration" \
	|| fail "still migrating: $body"

# --- who may do what (controller/auth.h's table, k8s.h) --------------------------------
req POST /v1/tokens '{"node":"node-1","ttl_s":600}'
[[ $code == 201 ]] || fail "join token of node-1: $code $body"
jt=$(jget 'd["token"]')
req POST /v1/join "{\"node\":\"node-1\",\"token\":\"$jt\"}"
[[ $code == 200 ]] || fail "join of node-1: $code $body"
kube_config "$dir/node.kubeconfig" "$kube_server" "$(jget 'd["credential"]')" "$kube_ca"
kn() { "$KUBECTL" --kubeconfig "$dir/node.kubeconfig" "$@" 2>"$dir/kerr"; }
out=$(kn api-resources) && [[ $out == *virtualmachines* ]] && ok "a node's credential: discovery" \
	|| fail "node api-resources: $out $(cat "$dir/kerr")"
out=$(kn get vm testvm -o name) && [[ $out == virtualmachine.kubevirt.io/testvm ]] \
	&& ok "a node's credential: get vm" || fail "node get vm: $out $(cat "$dir/kerr")"
out=$(kn get vmi) && [[ $out == NAME*testvm* ]] && ok "a node's credential: get vmi" \
	|| fail "node get vmi: $out $(cat "$dir/kerr")"
if kn label --overwrite vm testvm tier=db; then fail "a node's credential relabelled a VM"; else
	grep -q 'Error from server (Forbidden): the credential of node node-1 may not' "$dir/kerr" \
		&& ok "a node's credential: label (a patch) is Forbidden" || fail "node label: $(cat "$dir/kerr")"
fi
if kn delete vm testvm; then fail "a node's credential deleted a VM"; else
	grep -q 'Forbidden' "$dir/kerr" && ok "a node's credential: delete vm is Forbidden" \
		|| fail "node delete: $(cat "$dir/kerr")"
fi
if sed 's/name: mig1/name: mig2/' "$dir/mig.yaml" | kn create -f -; then
	fail "a node's credential created a migration"
else
	grep -q 'Forbidden' "$dir/kerr" && ok "a node's credential: create vmim is Forbidden" \
		|| fail "node create vmim: $(cat "$dir/kerr")"
fi
req GET /v1/vms/testvm
[[ $(jget 'd["metadata"]["labels"]["tier"]') == web ]] && ok "... and the VM is as it was" \
	|| fail "the VM changed: $body"
kube_config "$dir/bad.kubeconfig" "$kube_server" "not-a-token" "$kube_ca"
if "$KUBECTL" --kubeconfig "$dir/bad.kubeconfig" get vm 2>"$dir/kerr"; then
	fail "a wrong token was let in"
else
	grep -qi 'unauthorized\|logged in' "$dir/kerr" && ok "a wrong token: Unauthorized" \
		|| fail "wrong token: $(cat "$dir/kerr")"
fi

# --- delete ------------------------------------------------------------------------
out=$(k delete vm testvm) || fail "delete: $(cat "$dir/kerr")"
[[ $out == 'virtualmachine.kubevirt.io "testvm" deleted' ]] && ok "delete vm" || fail "delete: $out"
req GET /v1/vms/testvm
expect 404 "" "the godwit VM is gone"
out=$(k get vm) && [[ -z $out && $(cat "$dir/kerr") == "No resources found in default namespace." ]] \
	&& ok "no vm left" || fail "get after delete: $out $(cat "$dir/kerr")"

echo "failures: $failures"
((failures == 0))
