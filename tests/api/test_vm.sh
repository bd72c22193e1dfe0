#!/usr/bin/env bash
# The VM kind of docs/VM.md, driven over HTTP with curl:
#   tests/api/test_vm.sh PATH/TO/godwitd
# The test plays the agents (node registrations and status reports with a
# "vms" map). Covers: the default network of a fresh store (and that it stays
# deleted), creation with scheduling and the VM's Port, the refusals (nothing
# stored), status derived from the node's report, PUT rules, VM migrations
# (refused when not migratable; abort; success moves spec.node), delete.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1" vm

unchanged() { stored_only_events "$mark_rev" "$1"; } # DESCRIPTION: since `mark`
mark() { mark_rev=$(revision); }

# --- the fake agents ------------------------------------------------------------
declare -A vms=() ports=() applied=()
report() { # NODE
	local n=$1 v=${vms[$1]:-} p=${ports[$1]:-}
	[[ -n $v ]] || v='{}'
	[[ -n $p ]] || p='{}'
	req PUT "/v1/nodes/$n/status" \
		"{\"applied_revision\":${applied[$n]:-0},\"counters\":{},\"ports\":$p,\"vms\":$v}"
	[[ $code == 200 ]] || fail "status report of $n: $code $body"
}
heartbeat() { # node-1 and node-2 report again (a report counts for 6 s)
	report node-1
	report node-2
}
apply_all() { # node-1 and node-2 apply the current revision and report
	local r
	r=$(revision)
	for n in node-1 node-2; do
		applied[$n]=$r
		report "$n"
	done
}

vm_json() { # NAME [EXTRA-SPEC-FIELDS]
	echo "{\"apiVersion\":\"godwit/v1\",\"kind\":\"VM\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"running\":true,\"memory_mib\":62,\"cpus\":1,\"image\":\"quay.io/kubevirt/cirros-container-disk-demo\",\"user_data\":\"SGkuXG4=\",\"user_data_encoding\":\"base64\",\"network\":\"default\",\"migratable\":true${2:+,$2}}}"
}

wait_vm_phase() { # NAME PHASE (5 s)
	local deadline=$((SECONDS + 5)) phase=
	while :; do
		req GET "/v1/vms/$1"
		phase=$(jget 'd["status"]["phase"]')
		[[ $phase == "$2" ]] && { ok "vm $1 is $2"; return 0; }
		if ((SECONDS > deadline)); then
			fail "vm $1: phase $phase, want $2 (body: $body)"
			return 1
		fi
		sleep 0.05
	done
}

wait_mig_phase() { # NAME PHASE (5 s)
	local deadline=$((SECONDS + 5)) phase=
	while :; do
		req GET "/v1/migrations/$1"
		phase=$(jget 'd["status"]["phase"]')
		[[ $phase == "$2" ]] && { ok "migration $1 reaches $2"; return 0; }
		if ((SECONDS > deadline)); then
			fail "migration $1: phase $phase, want $2 (body: $body)"
			return 1
		fi
		sleep 0.05
	done
}

start

# --- the default network of a fresh store ---------------------------------------
req GET /v1/networks/default
expect 200 '"cidr":"10.244.0.0/16"' "a fresh store has the network default"
check "default has dhcp" 'd["spec"]["dhcp"] is True'

# --- refusals before any node: nothing stored -----------------------------------
mark
req POST /v1/vms "$(vm_json testvm)"
expect 409 'no ready node to run testvm' "no node: 409"
unchanged "no ready node"

for i in 1 2 3; do
	req PUT "/v1/nodes/node-$i" "{\"spec\":{\"underlay_ip\":\"192.168.60.$i\"}}"
	[[ $code == 200 ]] || fail "register node-$i: $body"
done
apply_all # node-3 never reports: registered but not ready

mark
req POST /v1/vms "$(vm_json testvm | sed 's#quay.io/kubevirt/cirros-container-disk-demo#x#')"
expect 422 'spec.image: unknown image \"x\"; the catalog has: godwit-demo, quay.io/kubevirt/cirros-container-disk-demo' \
	"unknown image lists the catalog"
req POST /v1/vms "$(vm_json testvm | sed 's/"memory_mib":62/"memory_mib":0/')"
expect 400 'spec.memory_mib: 0 is out of range 1..65536' "memory 0"
req POST /v1/vms "$(vm_json testvm | sed 's/"cpus":1/"cpus":17/')"
expect 400 '"field":"spec.cpus"' "17 cpus"
req POST /v1/vms "$(vm_json testvm | sed 's/SGkuXG4=/SGk*XG4=/')"
expect 400 'spec.user_data: not valid base64' "bad base64"
req POST /v1/vms "$(vm_json testvm | sed 's/"running":true/"running":"yes"/')"
expect 400 'spec.running: expected a boolean' "running not a bool"
req POST /v1/vms "$(vm_json testvm | sed 's/"network":"default"/"network":"nope"/')"
expect 404 'spec.network: network \"nope\" does not exist' "unknown network"
req POST /v1/vms "$(vm_json testvm '"node":"node-3"')"
expect 409 'spec.node: node node-3 is not ready' "pinned to a node that is not ready"
req POST /v1/vms "$(vm_json testvm '"target":"node-2"')"
expect 422 'spec.target is set by the controller' "target from a client"
# a Port of the VM's name that is not the VM's
req POST /v1/ports '{"metadata":{"name":"taken"},"spec":{"network":"default","locations":["node-1"]}}'
expect 201 '' "port taken"
mark
req POST /v1/vms "$(vm_json taken)"
expect 409 'port taken already exists (owner taken, type veth)' "a foreign port of that name: 409"
unchanged "refused VMs"
req GET /v1/vms
check "no VM stored" 'len(d["items"]) == 0'

# --- create, schedule, port ------------------------------------------------------
heartbeat
req POST /v1/vms "$(vm_json testvm)"
expect 201 '"node":"node-1"' "create testvm: scheduled on node-1"
check "answer has port, ipv4 and mac" \
	'd["status"]["port"] == "testvm" and d["status"]["ipv4"].startswith("10.244.") and d["status"]["mac"].startswith("0a:58:")'
check "memory raised to the guest's minimum, with a note" \
	'd["status"]["memory_mib"] == 128 and d["spec"]["memory_mib"] == 62 and "memory raised from 62 MiB to 128 MiB" in d["status"]["notes"][0]'
ip=$(jget 'd["status"]["ipv4"]')
req GET /v1/ports/testvm
check "the VM's port: owner, tap, location, address" \
	"d['spec']['owner'] == 'testvm' and d['spec']['type'] == 'tap' and d['spec']['locations'] == ['node-1'] and d['spec']['ipv4'] == '$ip' and d['spec']['network'] == 'default'"
req POST /v1/vms "$(vm_json testvm)"
expect 409 'already exists' "create testvm twice"
req POST /v1/vms "$(vm_json vm2 | sed 's/"migratable":true/"migratable":false/')"
expect 201 '"node":"node-2"' "vm2 goes to the node with fewer VMs (node-2)"
req POST /v1/vms "$(vm_json vm3 | sed 's/"memory_mib":62/"memory_mib":256/')"
expect 201 '"node":"node-1"' "vm3: a tie goes to the first by name (node-1)"
check "no note when memory is enough" 'd["status"]["notes"] == [] and d["status"]["memory_mib"] == 256'

# --- status derived from the node's report --------------------------------------
heartbeat
wait_vm_phase testvm Scheduled
vms[node-1]='{"testvm":{"phase":"starting","pid":4242}}'
report node-1
wait_vm_phase testvm Starting
vms[node-1]='{"testvm":{"phase":"running","ready":true,"pid":4242,"memory_mib":128,"console":"/run/godwit/vms/testvm/console.sock"}}'
report node-1
wait_vm_phase testvm Running
check "pid and console from the report" \
	'd["status"]["pid"] == 4242 and d["status"]["console"] == "/run/godwit/vms/testvm/console.sock"'
req GET /v1/vms
check "the list derives status too" '[i["status"]["phase"] for i in d["items"]] == ["Running", "Scheduled", "Scheduled"]'
vms[node-1]='{"testvm":{"phase":"running","ready":true,"pid":4242},"vm3":{"phase":"failed","reason":"qemu exited with status 1: boom"}}'
report node-1
wait_vm_phase vm3 Failed
check "the failure's reason" 'd["status"]["reason"] == "qemu exited with status 1: boom"'
req PUT /v1/nodes/node-1/status '{"applied_revision":1,"vms":[1]}'
expect 400 'vms' "vms must be an object"
req GET /v1/nodes/node-1
expect 200 '"vms":{"testvm"' "node status keeps the vms map"

heartbeat
# --- PUT: running changes, the rest is immutable ---------------------------------
mark
req PUT /v1/vms/testvm "$(vm_json testvm | sed 's/"memory_mib":62/"memory_mib":64/')"
expect 422 'spec.memory_mib is immutable' "memory is immutable"
req PUT /v1/vms/testvm "$(vm_json testvm '"node":"node-2"')"
expect 422 'spec.node is set by the controller' "node is the controller's"
unchanged "refused PUTs"
req PUT /v1/vms/vm3 '{"spec":{"running":false,"memory_mib":256,"image":"godwit-demo"}}'
expect 422 'spec.image is immutable' "image is immutable"
req PUT /v1/vms/vm3 "$(vm_json vm3 | sed 's/"memory_mib":62/"memory_mib":256/; s/"running":true/"running":false/')"
expect 200 '"running":false' "stop vm3"
check "stopped: phase Stopped, node kept" 'd["status"]["phase"] == "Stopped" and d["spec"]["node"] == "node-1"'

# --- the port goes with its VM ----------------------------------------------------
req DELETE /v1/ports/testvm
expect 409 'port testvm belongs to vm testvm' "delete a VM's port: 409"

# --- migrations of VMs ------------------------------------------------------------
heartbeat
mark
req POST /v1/migrations '{"metadata":{"name":"m0"},"spec":{"vm":"vm2"}}'
expect 422 'vm2 is not live-migratable: the annotation kubevirt.io/allow-pod-bridge-network-live-migration is not \"true\" on its template' \
	"VM not migratable: 422"
req POST /v1/migrations '{"metadata":{"name":"m0"},"spec":{"port":"testvm"}}'
expect 422 'spec.port: port testvm belongs to vm testvm' "a VM's port is migrated through the VM"
req POST /v1/migrations '{"metadata":{"name":"m0"},"spec":{"vm":"vm3"}}'
expect 409 'vm vm3 is not running' "a stopped VM is not migrated"
req POST /v1/migrations '{"metadata":{"name":"m0"},"spec":{"vm":"nope"}}'
expect 404 'spec.vm: vm \"nope\" does not exist' "unknown VM"
req POST /v1/migrations '{"metadata":{"name":"m0"},"spec":{"vm":"testvm","port":"web"}}'
expect 400 'spec.vm' "vm and port differ"
unchanged "refused migrations"

req POST /v1/migrations '{"metadata":{"name":"m1"},"spec":{"vm":"testvm","tls":"yes"}}'
expect 400 'spec.tls: must be true or false' "spec.tls not a boolean: 400"
req POST /v1/migrations '{"metadata":{"name":"m1"},"spec":{"vm":"testvm","tls":true}}'
expect 201 '"port":"testvm"' "migrate testvm: the migration names its port"
check "target picked" 'd["spec"]["target"] == "node-2" and d["spec"]["vm"] == "testvm"'
# The stream's TLS key (lib/migtls.h), wrapped once per node: these nodes never
# joined, so both unwrap with the admin token, to the same key that neither
# stored copy is.
TOKEN=$token check "status.transport: one key, wrapped for the source and the target" '(lambda t, hm, os: (lambda k: len(t["nonce"]) == 64 and k("source") == k("target") and k("source") not in (t["source_key"], t["target_key"]) and t["source_key"] != t["target_key"])(lambda role: bytes(a ^ b for a, b in zip(bytes.fromhex(t[role + "_key"]), hm.new(os.environ["TOKEN"].encode(), ("godwit-migration/" + role + "/" + t["nonce"]).encode(), "sha256").digest())).hex()))(d["status"]["transport"], __import__("hmac"), __import__("os"))'
req GET /v1/vms/testvm
check "the VM has spec.target while migrating" 'd["spec"]["target"] == "node-2" and d["status"]["phase"] == "Migrating"'
req DELETE /v1/vms/testvm
expect 409 'vm testvm is being migrated by m1' "delete a migrating VM: 409"
req POST /v1/migrations/m1/abort
expect 200 '' "abort m1"
wait_mig_phase m1 Aborted
req GET /v1/vms/testvm
check "after the abort: no target, still on node-1" '"target" not in d["spec"] and d["spec"]["node"] == "node-1"'

heartbeat
req POST /v1/migrations '{"metadata":{"name":"m2"},"spec":{"vm":"testvm","target":"node-2"}}'
expect 201 '' "migrate testvm again"
check "no spec.tls: the controller's default (off), no transport key" 'd["spec"]["tls"] is False and "transport" not in d["status"]'
ports[node-2]='{"testvm":{"state":"standby"}}'
apply_all
wait_mig_phase m2 TargetReady
apply_all # the nodes apply the replication revision
wait_mig_phase m2 Replicating
req POST /v1/migrations/m2/complete
expect 409 'moves a VM' "a VM's transfer follows the agents' reports: POST complete is refused"
vms[node-1]='{"testvm":{"phase":"running","migration":{"name":"m2","status":"active","remaining":9}}}'
heartbeat
wait_mig_phase m2 Running
vms[node-1]='{"testvm":{"phase":"stopped","migration":{"name":"m2","status":"completed","downtime_ms":3}}}'
heartbeat
wait_mig_phase m2 Switched
req GET /v1/vms/testvm
check "switched, unconfirmed: the VM stays on node-1 (its QEMU is kept)" 'd["spec"]["node"] == "node-1"'
vms[node-2]='{"testvm":{"phase":"running","ready":true,"incoming":{"migration":"m2","state":"completed","ran":true}}}'
heartbeat
wait_mig_phase m2 Succeeded
req GET /v1/vms/testvm
check "after success: spec.node is the target, no target" '"target" not in d["spec"] and d["spec"]["node"] == "node-2"'
req GET /v1/ports/testvm
check "the port moved with the same address" "d['spec']['locations'] == ['node-2'] and d['spec']['ipv4'] == '$ip'"

# --- an abort while the transfer runs is a request: the source confirms --------------
vms[node-1]='{}' vms[node-2]='{"testvm":{"phase":"running","ready":true}}'
heartbeat
req POST /v1/migrations '{"metadata":{"name":"m3"},"spec":{"vm":"testvm","target":"node-1"}}'
expect 201 '' "migrate testvm back"
ports[node-1]='{"testvm":{"state":"standby"}}'
apply_all
wait_mig_phase m3 TargetReady
apply_all
wait_mig_phase m3 Replicating
vms[node-2]='{"testvm":{"phase":"running","migration":{"name":"m3","status":"active"}}}'
heartbeat
wait_mig_phase m3 Running
req POST /v1/migrations/m3/abort
expect 200 '"cancel"' "abort while Running: recorded as a cancel"
check "the phase waits for the source" 'd["status"]["phase"] == "Running" and d["status"]["cancel"]["phase"] == "Aborted"'
vms[node-2]='{"testvm":{"phase":"running","migration":{"name":"m3","status":"failed","error":"Unable to write to socket: Broken pipe"}}}'
heartbeat
wait_mig_phase m3 Aborted
req GET /v1/vms/testvm
check "aborted: the VM stays on node-2" '"target" not in d["spec"] and d["spec"]["node"] == "node-2"'
ports[node-1]='{}'

# --- delete ---------------------------------------------------------------------------
for v in testvm vm2 vm3; do
	req DELETE "/v1/vms/$v"
	expect 200 '' "delete $v"
	req GET "/v1/ports/$v"
	expect 404 '' "port $v is gone with its VM"
done
req POST /v1/vms "$(vm_json testvm)"
expect 201 "\"ipv4\":\"$ip\"" "a VM created again gets its address back"
req DELETE /v1/vms/testvm
expect 200 '' "delete testvm again"

# --- the default network is created once in the life of a store ------------------------
req DELETE /v1/ports/taken
expect 200 '' "delete port taken"
req DELETE /v1/networks/default
expect 200 '' "delete the network default"
stop
start
req GET /v1/networks/default
expect 404 '' "a deleted default network stays deleted after a restart"

if ((failures)); then
	echo "$failures failure(s); godwitd log:" >&2
	tail -n 30 "$dir/godwitd.log" >&2
	exit 1
fi
echo "all VM API tests passed"
