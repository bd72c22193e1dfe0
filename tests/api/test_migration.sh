#!/usr/bin/env bash
# The migration state machine of docs/MIGRATION.md, driven over HTTP with curl:
#   tests/api/test_migration.sh PATH/TO/godwitd
# The test plays the agents: it registers nodes and sends their status reports
# (applied revision, port states, standby drops) and plays the hypervisor with
# the actions. Covers the happy path (phases seen in order on the watch), the
# refusals (nothing stored), abort, timeout naming the lagging node, SIGKILL of
# the controller mid-migration, and migrating the same port again.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1" mig

# --- the fake agents ----------------------------------------------------------
declare -A applied=() ports=() drops=()
report() { # NODE: sends the node's current status report
	local n=$1 extra= p=${ports[$1]:-}
	[[ -n $p ]] || p='{}'
	[[ -n ${drops[$n]:-} ]] && extra=",\"drops_standby\":${drops[$n]}"
	req PUT "/v1/nodes/$n/status" \
		"{\"applied_revision\":${applied[$n]:-0},\"counters\":{\"rx_port\":7},\"ports\":$p$extra}"
	[[ $code == 200 ]] || fail "status report of $n: $code $body"
}
report_all() { for n in node-1 node-2 node-3; do report "$n"; done; }

# Like real agents (a report every 2 s), the fake ones repeat their current
# report while the test runs: a slow machine must not make them look dead
# (NODE_READY_MS is 6 s). node-4 never reports.
eval "lib_$(declare -f req)"
last_fresh=$SECONDS refreshing=
req() {
	if [[ -z $refreshing ]] && ((SECONDS - last_fresh >= 2)); then
		refreshing=1
		report_all
		refreshing= last_fresh=$SECONDS
	fi
	lib_req "$@"
}
apply_all() { # every node applies the current revision
	local r
	r=$(revision)
	for n in node-1 node-2 node-3; do applied[$n]=$r; done
	report_all
}

# mig NAME: sets $body to the migration.
mig() { req GET "/v1/migrations/$1"; }

wait_phase() { # NAME PHASE: polls until the migration is in PHASE (5 s)
	local deadline=$((SECONDS + 5)) phase=
	while :; do
		mig "$1"
		phase=$(jget 'd["status"]["phase"]')
		[[ $phase == "$2" ]] && { ok "$1 reaches $2"; return 0; }
		if ((SECONDS > deadline)); then
			fail "$1: phase $phase, want $2 (body: $body)"
			return 1
		fi
		sleep 0.05
	done
}

port_is() { # DESCRIPTION PY-EXPR-ON-PORT
	req GET /v1/ports/web
	[[ $(jget "$2") == true ]] && ok "$1" || fail "$1: $body"
}

start

req POST /v1/networks '{"metadata":{"name":"blue"},"spec":{"cidr":"10.20.0.0/24"}}'
expect 201 '' "network blue"
for i in 1 2 3 4; do
	req PUT "/v1/nodes/node-$i" "{\"spec\":{\"underlay_ip\":\"192.168.50.$i\"}}"
	[[ $code == 200 ]] || fail "register node-$i: $body"
done
req POST /v1/ports '{"metadata":{"name":"web"},"spec":{"network":"blue","locations":["node-1"]}}'
expect 201 '"strategy":"first-frame"' "port web on node-1"
ports[node-1]='{"web":{"state":"active","ifindex":7}}'
apply_all # node-4 never reports: registered but not ready
req POST /v1/migrations '{"metadata":{"name":"mtls"},"spec":{"port":"web","tls":true}}'
expect 400 "spec.tls: a port's migration has no stream to encrypt" "spec.tls on a port migration: 400"

# --- node status carries ports and drops_standby --------------------------------
drops[node-2]=3
report node-2
req GET /v1/nodes/node-1
expect 200 '"ports":{"web":{"state":"active","ifindex":7}}' "node status shows ports"
req GET /v1/nodes/node-2
expect 200 '"drops_standby":3' "node status shows drops_standby"
req PUT /v1/nodes/node-2/status '{"applied_revision":1,"ports":[1]}'
expect 400 'ports' "ports must be an object"
req PUT /v1/nodes/node-2/status '{"applied_revision":1,"drops_standby":"x"}'
expect 400 'drops_standby' "drops_standby must be an integer"

# --- refusals: nothing stored ---------------------------------------------------
rev0=$(revision)
req POST /v1/migrations '{"metadata":{"name":"bad"},"spec":{"port":"nope","target":"node-2"}}'
expect 404 'spec.port: port \"nope\" does not exist' "migration of an unknown port"
req POST /v1/migrations '{"metadata":{"name":"bad"},"spec":{"port":"web","target":"node-1"}}'
expect 422 "node node-1 is the port's current location" "target == source"
req POST /v1/migrations '{"metadata":{"name":"bad"},"spec":{"port":"web","target":"node-9"}}'
expect 404 'spec.target: node \"node-9\" does not exist' "unknown target"
req POST /v1/migrations '{"metadata":{"name":"bad"},"spec":{"port":"web","target":"node-4"}}'
expect 422 'node node-4 is not ready (no status report yet)' "target not ready"
req POST /v1/migrations '{"metadata":{"name":"bad"},"spec":{"port":"web","timeout_s":0}}'
expect 400 'spec.timeout_s: 0 is out of range 1..3600' "timeout_s out of range"
req POST /v1/migrations '{"metadata":{"name":"bad"},"spec":{"port":"web","strategy":"teleport"}}'
expect 400 'spec.strategy' "unknown strategy"
req POST /v1/migrations '{"metadata":{"name":"bad"},"spec":{"port":"web","vmm":"x"}}'
expect 400 'unknown field \"spec.vmm\"' "unknown field"
req POST /v1/ports '{"metadata":{"name":"sneaky"},"spec":{"network":"blue","locations":["node-1"],"target":"node-2"}}'
expect 422 'spec.target is set by the controller' "POST port with spec.target"
req PUT /v1/ports/web '{"spec":{"network":"blue","locations":["node-1"],"target":"node-2"}}'
expect 422 'spec.target is set by the controller' "PUT port setting spec.target"
stored_only_events "$rev0" "refusals"
req GET /v1/migrations
[[ $(jget 'len(d["items"])') == 0 ]] || fail "refused migrations were stored: $body"

# --- happy path: node-1 -> node-2 -----------------------------------------------
rev_start=$(revision)
req POST /v1/migrations '{"apiVersion":"godwit/v1","kind":"Migration","metadata":{"name":"m1"},"spec":{"port":"web","target":"node-2","timeout_s":60}}'
expect 201 '"phase":"Pending"' "create migration m1"
[[ $(jget 'd["status"]["source"]') == node-1 && $(jget 'd["spec"]["strategy"]') == first-frame &&
	$(jget 'd["status"]["phases"][0]["name"]') == Pending ]] || fail "m1 at creation: $body"
port_is "Pending: port has spec.target, status.migration" \
	'd["spec"]["target"] == "node-2" and d["status"]["migration"] == "m1" and d["spec"]["locations"] == ["node-1"]'

rev1=$(revision)
req POST /v1/migrations '{"metadata":{"name":"dup"},"spec":{"port":"web","target":"node-3"}}'
expect 409 'port web already has an unfinished migration m1 (phase Pending)' "duplicate unfinished migration"
req POST /v1/migrations/m1/complete
expect 409 'is in phase Pending: complete needs' "complete in Pending"
req DELETE /v1/migrations/m1
expect 409 'unfinished (phase Pending)' "delete an unfinished migration"
req PUT /v1/ports/web '{"spec":{"network":"blue","locations":["node-3"]}}'
expect 409 'being migrated by m1' "PUT port locations during a migration"
req DELETE /v1/ports/web
expect 409 'being migrated by m1' "DELETE port during a migration"
req PUT /v1/ports/web '{"spec":{"network":"blue","locations":["node-1"],"security":true}}'
expect 200 '"target":"node-2"' "PUT port leaving spec.target out keeps it"
req POST /v1/migrations/m1/teleport
expect 404 'unknown action' "unknown action"
req PUT /v1/migrations/m1 '{"spec":{"port":"web"}}'
expect 405 'actions' "PUT a migration"
stored_only_events "$rev1" "refusals during m1"

# The target agent prepares the port in standby after it applied spec.target.
applied[node-2]=$(revision)
ports[node-2]='{"web":{"state":"standby","ifindex":9}}'
drops[node-2]=5
report node-2
wait_phase m1 TargetReady
R=$(jget 'd["status"]["replication_revision"]')
port_is "TargetReady: locations [source, target]" 'd["spec"]["locations"] == ["node-1", "node-2"]'

# node-1 and node-2 apply R; node-3 lags: still TargetReady.
applied[node-1]=$R applied[node-2]=$R
report node-1
report node-2
sleep 0.3 # a negative check: give the migrator (50 ms rounds) time to act wrongly
mig m1
[[ $(jget 'd["status"]["phase"]') == TargetReady ]] && ok "waits for the lagging node-3" ||
	fail "m1 left TargetReady before node-3 applied: $body"
applied[node-3]=$R
report node-3
wait_phase m1 Replicating
[[ $(jget '"replication_confirm_ms" in d["status"]["figures"]') == true ]] ||
	fail "no replication_confirm_ms: $body"

req POST /v1/migrations/m1/running
expect 200 '"phase":"Running"' "running"
req POST /v1/migrations/m1/running
expect 200 '"phase":"Running"' "running again is harmless"

ports[node-2]='{"web":{"state":"active","ifindex":9,"activated_unix_ns":1764000000123456789,"activated_mono_ns":42}}'
drops[node-2]=6
report node-2
wait_phase m1 Switched
req POST /v1/migrations/m1/abort
expect 409 'the VM already runs on the target' "abort after Switched"
drops[node-2]=8
report node-2
req POST /v1/migrations/m1/complete
expect 200 '"phase":"Succeeded"' "complete"
python3 -c '
import json, sys
d = json.loads(sys.argv[1]); s = d["status"]; f = s["figures"]
names = [p["name"] for p in s["phases"]]
assert names == ["Pending", "TargetReady", "Replicating", "Running", "Switched", "Succeeded"], names
times = [p["unix_ms"] for p in s["phases"]]
assert times == sorted(times), times
assert f["activation_unix_ns"] == 1764000000123456789, f
assert f["total_ms"] >= 0 and f["replication_confirm_ms"] >= 0, f
assert f["drops_standby_at_switch"] == 6 and f["standby_drops_after_switch"] == 2, f
assert "reason" not in s, s
' "$body" && ok "m1 phases and figures" || fail "m1 after complete: $body"
port_is "Succeeded: locations [target], no spec.target, no status.migration" \
	'd["spec"]["locations"] == ["node-2"] and "target" not in d["spec"] and "migration" not in d["status"]'

# The watch saw every phase, in order, each together with its port change.
curl -s -N --max-time 1 --unix-socket "$sock" -H "Authorization: Bearer $token" \
	"http://x/v1/watch?since=$rev_start" >"$dir/watch" || true
python3 - "$dir/watch" <<'EOF' && ok "watch shows the phases in order" || fail "watch: $(cat "$dir/watch")"
import json, sys
phases, locs = [], {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    o = e.get("object", {})
    if o.get("kind") == "Migration" and o["metadata"]["name"] == "m1":
        if not phases or phases[-1][0] != o["status"]["phase"]:
            phases.append((o["status"]["phase"], e["revision"]))
    if o.get("kind") == "Port":
        locs[e["revision"]] = o["spec"]["locations"]
names = [p for p, _ in phases]
assert names == ["Pending", "TargetReady", "Replicating", "Running", "Switched", "Succeeded"], names
rev = dict(phases)
assert locs[rev["TargetReady"]] == ["node-1", "node-2"], locs
assert locs[rev["Succeeded"]] == ["node-2"], locs
EOF

# The controller recorded an Event for each phase m1 entered, in order.
for _ in $(seq 50); do
	req GET /v1/events
	[[ $body == *'"reason":"MigrationSucceeded"'* ]] && break
	sleep 0.1
done
python3 - "$body" <<'EOF' && ok "events: every phase of m1, in order" || fail "events: $body"
import json, sys
items = json.loads(sys.argv[1])["items"]
m1 = [e["spec"] for e in items if e["spec"]["object"] == {"kind": "Migration", "name": "m1"}]
assert [e["reason"] for e in m1] == ["Migration" + p for p in
    ["Pending", "TargetReady", "Replicating", "Running", "Switched", "Succeeded"]], m1
assert all(e["type"] == "Normal" and e["node"] == "node-2" for e in m1), m1
assert "migration m1 of web to node-2: completed" == m1[-1]["message"], m1[-1]
names = [e["metadata"]["name"] for e in items]
assert names == sorted(names), names
EOF
req POST /v1/events '{"metadata":{"name":"x"},"spec":{}}'
expect 405 'recorded by the controller' "events are not written by clients"

# --- again after a success: node-2 -> (chosen) node-1, aborted in Replicating ----
ports[node-1]='{}'
apply_all
req POST /v1/migrations '{"metadata":{"name":"m2"},"spec":{"port":"web","strategy":"rarp"}}'
expect 201 '"target":"node-1"' "m2: the controller picks the lowest ready node but the source"
port_is "m2 sets the port's strategy" 'd["spec"]["strategy"] == "rarp" and d["spec"]["target"] == "node-1"'
applied[node-1]=$(revision)
ports[node-1]='{"web":{"state":"standby"}}'
report node-1
wait_phase m2 TargetReady
apply_all
wait_phase m2 Replicating
req POST /v1/migrations/m2/abort
expect 200 '"phase":"Aborted"' "abort in Replicating"
[[ $(jget 'd["status"]["reason"]') == *aborted* ]] || fail "m2 reason: $body"
port_is "Aborted: locations back to [source], no spec.target" \
	'd["spec"]["locations"] == ["node-2"] and "target" not in d["spec"] and "migration" not in d["status"]'
req POST /v1/migrations/m2/running
expect 409 'already finished (phase Aborted)' "action on a finished migration"
req DELETE /v1/migrations/m2
expect 200 '"m2"' "delete a finished migration"

# --- again after an abort; "running" before Replicating is remembered -----------
ports[node-1]='{}'
apply_all
req POST /v1/migrations '{"metadata":{"name":"m3"},"spec":{"port":"web","target":"node-3"}}'
expect 201 '"phase":"Pending"' "m3 after an abort"
req POST /v1/migrations/m3/running
expect 200 '"running":' "running in Pending is remembered"
[[ $(jget 'd["status"]["phase"]') == Pending ]] || fail "m3 moved on at running: $body"
applied[node-3]=$(revision)
ports[node-3]='{"web":{"state":"standby"}}'
report node-3
wait_phase m3 TargetReady
apply_all
wait_phase m3 Running
req POST /v1/migrations/m3/complete # a silent guest: no activation report
expect 200 '"phase":"Succeeded"' "complete without an activation report"
port_is "m3: locations [node-3]" 'd["spec"]["locations"] == ["node-3"] and "target" not in d["spec"]'

# --- failure reported by the hypervisor ------------------------------------------
ports[node-1]='{}'
apply_all
req POST /v1/migrations '{"metadata":{"name":"m4"},"spec":{"port":"web","target":"node-1"}}'
expect 201 '' "m4"
req POST /v1/migrations/m4/fail '{}'
expect 400 'reason is required' "fail needs a reason"
req POST /v1/migrations/m4/fail '{"reason":"qemu: migration stream broken"}'
expect 200 '"reason":"reported by hypervisor: qemu: migration stream broken"' "fail"
port_is "Failed: locations back to [node-3]" 'd["spec"]["locations"] == ["node-3"] and "target" not in d["spec"]'
for _ in $(seq 50); do
	req GET /v1/events
	[[ $body == *'"reason":"MigrationFailed"'* ]] && break
	sleep 0.1
done
check "events: m4's failure is a Warning with its reason" '([e["spec"]["type"] + " " + e["spec"]["message"]
    for e in d["items"] if e["spec"]["reason"] == "MigrationFailed"] ==
    ["Warning migration m4 of web to node-1: failed: reported by hypervisor: qemu: migration stream broken"])'

# --- timeout names the lagging node ------------------------------------------------
apply_all
req POST /v1/migrations '{"metadata":{"name":"m5"},"spec":{"port":"web","target":"node-1","timeout_s":1}}'
expect 201 '' "m5 with a 1 s timeout"
# node-1 and node-3 report a revision ahead of any the migration will wait for
# (the controller's Events move the revision on meanwhile), so that only
# node-2 lags, however slowly this script runs.
ahead=$(($(revision) + 1000))
applied[node-1]=$ahead applied[node-3]=$ahead
ports[node-1]='{"web":{"state":"standby"}}'
report_all # node-2 stays behind but ready
wait_phase m5 TargetReady
R=$(jget 'd["status"]["replication_revision"]')
lag=${applied[node-2]}
wait_phase m5 Failed
[[ $(jget 'd["status"]["reason"]') == "timeout after 1 s in phase TargetReady: node node-2 has applied revision $lag < $R" ]] &&
	ok "timeout message names the lagging node" || fail "m5 reason: $body"
port_is "timeout: locations back to [node-3]" 'd["spec"]["locations"] == ["node-3"] and "target" not in d["spec"]'

# --- SIGKILL of the controller mid-migration ---------------------------------------
ports[node-1]='{}'
apply_all
req POST /v1/migrations '{"metadata":{"name":"m6"},"spec":{"port":"web","target":"node-1"}}'
expect 201 '' "m6"
applied[node-1]=$(revision)
ports[node-1]='{"web":{"state":"standby"}}'
report node-1
wait_phase m6 TargetReady
crash # in TargetReady: the restarted migrator sees the applied revisions
apply_all
wait_phase m6 Replicating
crash # in Replicating
mig m6
[[ $(jget 'd["status"]["phase"]') == Replicating ]] || fail "m6 after the restart: $body"
port_is "after restarts: locations [node-3, node-1]" 'd["spec"]["locations"] == ["node-3", "node-1"]'
req POST /v1/migrations/m6/running
expect 200 '"phase":"Running"' "running after the restart"
ports[node-1]='{"web":{"state":"active","activated_unix_ns":1764000000999}}'
report node-1
wait_phase m6 Switched
req POST /v1/migrations/m6/complete
expect 200 '"phase":"Succeeded"' "m6 completes after two controller crashes"
[[ $(jget 'd["status"]["figures"]["activation_unix_ns"]') == 1764000000999 ]] || fail "m6 figures: $body"
port_is "m6: locations [node-1]" 'd["spec"]["locations"] == ["node-1"] and "target" not in d["spec"] and "migration" not in d["status"]'

req GET /v1/migrations
[[ $(jget '[m["metadata"]["name"] + ":" + m["status"]["phase"] for m in d["items"]]') == \
	'["m1:Succeeded", "m3:Succeeded", "m4:Failed", "m5:Failed", "m6:Succeeded"]' ]] &&
	ok "list of migrations" || fail "list: $body"

# --- /metrics: what finished since the last restart (m6), the store's gauges ---
req GET /metrics
expect 200 'godwit_migrations_finished_total{outcome="Succeeded"} 1' "metrics: m6 counted once since the restart"
printf '%s\n' "$body" >"$dir/metrics.txt"
if python3 - "$dir/metrics.txt" <<'PY'; then ok "metrics: text format, histograms cumulative"; else fail "metrics format: $body"; fi
import re, sys
typed, last, fails = {}, {}, []
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3)
        typed[name] = kind
        continue
    if not line or line.startswith("#"):
        continue
    m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)', line)
    if not m:
        fails.append("bad line: " + line); continue
    name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    if name not in typed and base not in typed:
        fails.append("no TYPE for " + name)
    if name.endswith("_bucket"):
        key = (base, re.sub(r',?le="[^"]*"', "", labels))
        if value < last.get(key, 0):
            fails.append("bucket not cumulative: " + line)
        last[key] = value
want = {
    'godwit_migrations_finished_total{outcome="Failed"} 0',
    'godwit_migrations{phase="Running"} 0',
    'godwit_migration_phase_duration_seconds_count{phase="Replicating"} 1',
    'godwit_migration_blackout_seconds_count 0',
}
text = open(sys.argv[1]).read()
fails += ["missing: " + w for w in want if w not in text]
if not re.search(r'^godwit_nodes\{ready="true"\} [1-3]$', text, re.M):
    fails.append("no ready nodes counted")
if not re.search(r'^godwit_datapath_packets_total\{node="node-1",counter="rx_port"\} 7$', text, re.M):
    fails.append("no datapath counter of node-1")
if not re.search(r'^godwit_node_apply_lag_revisions\{node="node-1"\} \d+$', text, re.M):
    fails.append("no apply lag of node-1")
print("\n".join(fails), file=sys.stderr)
sys.exit(1 if fails else 0)
PY
if command -v promtool >/dev/null; then
	promtool check metrics <"$dir/metrics.txt" >"$dir/promtool.out" 2>&1 &&
		ok "promtool check metrics" || fail "promtool: $(cat "$dir/promtool.out")"
fi
req POST /metrics
expect 405 '' "POST /metrics refused"

# --- finished migrations beyond the newest N of a port are deleted ------------------
stop
godwitd_args=(--keep-finished-migrations 2)
start
listed=
for _ in $(seq 100); do
	req GET /v1/migrations
	listed=$(jget '[m["metadata"]["name"] for m in d["items"]]')
	[[ $listed == '["m5", "m6"]' ]] && break
	sleep 0.05
done
[[ $listed == '["m5", "m6"]' ]] && ok "--keep-finished-migrations 2: the two newest kept" ||
	fail "after the collection: $listed"
grep -q '3 finished migrations deleted' "$dir/godwitd.log" && ok "the deletion is logged" ||
	fail "no log line of the deletion"
if out=$("$godwitd" --state-dir "$dir/other" --keep-finished-migrations 0 2>&1); then
	fail "--keep-finished-migrations 0 accepted"
else
	[[ $out == *"--keep-finished-migrations: '0' is not a number in 1..100000"* ]] &&
		ok "--keep-finished-migrations 0 refused" || fail "refusal: $out"
fi

# A clean shutdown stops the migrator thread (with sanitizers: no leak reports).
kill -TERM "$pid"
if wait "$pid"; then ok "clean shutdown"; else fail "godwitd exit status $?"; fi
pid=

if ((failures)); then
	echo "$failures failure(s); godwitd log:" >&2
	cat "$dir/godwitd.log" >&2
	exit 1
fi
echo "all migration API checks passed"
