#!/usr/bin/env bash
# Drives a real godwitd over a unix socket with curl:
#   tests/api/test_api.sh PATH/TO/godwitd
# Every bad request is followed by a check that nothing was stored (revision
# and lists unchanged). Ends with a SIGKILL and a restart on the same state.
set -euo pipefail

source "$(dirname "$0")/lib.sh" "$1" api
godwitd_args=(--event-retention 20) # small, so that the test can see a 410 resync
cleanup_extra() { [[ -n ${watch_pid:-} ]] && kill "$watch_pid" 2>/dev/null || true; }

snapshot() { # the whole desired state as one string
	local out=
	for k in networks ports nodes; do
		req GET "/v1/$k"
		out+=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])
d.pop("revision", None)  # Events move it on (stored_only_events)
for o in d["items"]: o.pop("status", None)
print(json.dumps(d, sort_keys=True))' "$body")
	done
	echo "$out"
}

unchanged() { # DESCRIPTION: nothing stored since the last `mark` (but the controller's Events)
	local now
	now=$(snapshot)
	[[ $now == "$mark_state" ]] || fail "$1: the objects changed"
	stored_only_events "$mark_rev" "$1"
}
mark() {
	mark_rev=$(revision)
	mark_state=$(snapshot)
}

start
[[ $(stat -c %a "$state/token") == 600 ]] || fail "token mode is not 0600"
[[ $(wc -c <"$state/token") -ge 64 ]] || fail "token too short"

# --- authentication -----------------------------------------------------------
code=$(curl -s -o "$dir/body" -w '%{http_code}' --unix-socket "$sock" http://x/v1/healthz)
body=$(cat "$dir/body")
expect 200 '"ok":true' "healthz needs no token"
mark
code=$(curl -s -o "$dir/body" -w '%{http_code}' --unix-socket "$sock" http://x/v1/networks)
body=$(cat "$dir/body")
expect 401 '"error"' "missing token"
code=$(curl -s -o "$dir/body" -w '%{http_code}' --unix-socket "$sock" -X POST \
	-H "Authorization: Bearer ${token}x" -d '{"metadata":{"name":"evil"},"spec":{"cidr":"10.9.0.0/24"}}' \
	http://x/v1/networks)
body=$(cat "$dir/body")
expect 401 '"error"' "wrong token"
unchanged "after 401s"

# --- networks -------------------------------------------------------------------
req POST /v1/networks '{"apiVersion":"godwit/v1","kind":"Network","metadata":{"name":"blue"},"spec":{"cidr":"10.20.0.0/30"}}'
expect 201 '"vni":100' "create network blue"
rev_blue=$(jget 'd["metadata"]["revision"]')
req POST /v1/networks '{"metadata":{"name":"red"},"spec":{"cidr":"10.30.0.0/24","vni":500,"dhcp":true}}'
expect 201 '"gateway":"10.30.0.1"' "create network red"
req GET /v1/networks/red
expect 200 '"vni":500' "get network red"
req GET /v1/networks
# "default" is the network godwitd creates at its first start (docs/VM.md).
[[ $(jget '[i["metadata"]["name"] for i in d["items"]]') == '["blue", "default", "red"]' ]] ||
	fail "list networks: $body"

mark
req POST /v1/networks '{"metadata":{"name":"green",}'
expect 400 'line 1 column' "malformed JSON"
unchanged "malformed JSON"
req POST /v1/networks '[1,2]'
expect 400 'not a JSON object' "JSON array body"
req POST /v1/widgets '{"metadata":{"name":"w"},"spec":{}}'
expect 404 'unknown kind \"widgets\"' "unknown kind"
req POST /v1/networks '{"metadata":{"name":"green"},"spec":{"cidr":"10.0.0.0/33"}}'
expect 400 'spec.cidr: \"10.0.0.0/33\" is not an IPv4 CIDR' "invalid CIDR"
req POST /v1/networks '{"metadata":{"name":"green"},"spec":{"cidr":"10.0.0.1/24"}}'
expect 400 'host bits' "CIDR with host bits"
req POST /v1/networks '{"metadata":{"name":"green"},"spec":{"cidrr":"10.0.0.0/24"}}'
expect 400 'unknown field \"spec.cidrr\"' "unknown field"
req POST /v1/networks '{"metadata":{"name":"green"},"spec":{"cidr":"10.0.0.0/24","gateway":"10.0.1.1"}}'
expect 400 'spec.gateway' "gateway outside"
req POST /v1/networks '{"metadata":{"name":"green"},"spec":{"cidr":"10.0.0.0/24","vni":"x"}}'
expect 400 'spec.vni: expected an integer' "vni wrong type"
req POST /v1/networks '{"kind":"Port","metadata":{"name":"green"},"spec":{"cidr":"10.0.0.0/24"}}'
expect 400 'does not match the path' "kind mismatch"
req POST /v1/networks '{"metadata":{"name":"blue"},"spec":{"cidr":"10.21.0.0/24"}}'
expect 409 'already exists' "duplicate name"
req POST /v1/networks '{"metadata":{"name":"green"},"spec":{"cidr":"10.0.0.0/24","vni":500}}'
expect 409 'spec.vni: 500 is in use by network red' "duplicate VNI"
python3 -c 'import sys; sys.stdout.write("{\"metadata\":{\"name\":\"big\"},\"spec\":{\"cidr\":\"10.0.0.0/24\"},\"x\":\"" + "a"*(1100*1024) + "\"}")' >"$dir/big.json"
req POST /v1/networks "@$dir/big.json"
expect 413 'larger than' "body over 1 MiB"
req GET /v1/networks/green
expect 404 'not found' "get missing network"
req DELETE /v1/networks/green
expect 404 'not found' "delete missing network"
req PATCH /v1/networks/blue
expect 405 'not allowed' "unsupported method"
unchanged "after the bad network requests"

# --- ports ------------------------------------------------------------------------
req POST /v1/ports '{"metadata":{"name":"p1"},"spec":{"network":"blue","locations":["n1"]}}'
expect 201 '"ipv4":"10.20.0.2"' "create port p1"
[[ $(jget 'd["spec"]["mac"]') == 0a:58:* ]] || fail "p1 mac: $body"
[[ $(jget 'd["spec"]["ifname"]') =~ ^gw[0-9a-f]{10}$ ]] || fail "p1 ifname: $body"
mark
req POST /v1/ports '{"metadata":{"name":"p2"},"spec":{"network":"blue","locations":["n1"]}}'
expect 507 'network blue: no free IPv4 address in 10.20.0.0/30' "address exhaustion"
req POST /v1/ports '{"metadata":{"name":"p2"},"spec":{"network":"nope","locations":["n1"]}}'
expect 404 'spec.network' "port on a missing network"
req POST /v1/ports '{"metadata":{"name":"p2"},"spec":{"network":"red","locations":["n1"],"ipv4":"10.30.0.1"}}'
expect 400 'spec.ipv4' "requested gateway address"
req POST /v1/ports '{"metadata":{"name":"p2"},"spec":{"network":"red","locations":["n1","n2","n3"]}}'
expect 400 'spec.locations' "three locations"
req DELETE /v1/networks/blue
expect 409 'still has ports' "delete network with ports"
unchanged "after the bad port requests"

declare -a red_ips=()
req POST /v1/ports '{"metadata":{"name":"vm1"},"spec":{"network":"red","locations":["n1","n2"],"type":"tap","strategy":"rarp"}}'
expect 201 '"ipv4":"10.30.0.2"' "create port vm1"
vm1_mac=$(jget 'd["spec"]["mac"]')
red_ips+=(10.30.0.2)
req PUT /v1/ports/vm1 '{"spec":{"network":"red","locations":["n2"],"type":"tap","strategy":"rarp"}}'
expect 200 '"locations":["n2"]' "update port locations"
[[ $(jget 'd["spec"]["mac"]') == "$vm1_mac" ]] || fail "update changed the MAC"
req PUT /v1/ports/vm1 '{"spec":{"network":"red","locations":["n2"],"ipv4":"10.30.0.9"}}'
expect 422 'immutable' "update of an immutable field"

# --- nodes ------------------------------------------------------------------------
req PUT /v1/nodes/n1 '{"spec":{"underlay_ip":"192.168.50.1"}}'
expect 200 '"ready":false' "register node n1"
req PUT /v1/nodes/n1/status '{"applied_revision":3,"counters":{"rx_packets":7}}'
expect 200 '"ready":true' "node status"
req GET /v1/nodes/n1
expect 200 '"applied_revision":3' "get node with status"
req POST /v1/nodes '{"metadata":{"name":"n2"},"spec":{"underlay_ip":"192.168.50.2"}}'
expect 201 '' "create node n2"
req PUT /v1/nodes/n2/status '{"applied_revision":"x"}'
expect 400 'applied_revision' "bad node status"
req PUT /v1/nodes/zz/status '{"applied_revision":1}'
expect 404 '' "status of a missing node"
req DELETE /v1/nodes/n2
expect 200 '"n2"' "delete node n2"
req GET /v1/nodes
[[ $(jget 'len(d["items"])') == 1 ]] || fail "list nodes: $body"

# --- watch ------------------------------------------------------------------------
curl -s -N --max-time 1 --unix-socket "$sock" -H "Authorization: Bearer $token" \
	"http://x/v1/watch?since=$rev_blue" >"$dir/watch1" || true
first=$(head -1 "$dir/watch1" | python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["type"], e["revision"], e["object"]["metadata"]["name"])')
[[ $first == "ADDED $((rev_blue + 1)) red" ]] || fail "watch since $rev_blue starts with '$first'"
[[ $(wc -l <"$dir/watch1") == $(($(revision) - rev_blue)) ]] ||
	fail "watch since $rev_blue: $(wc -l <"$dir/watch1") events, want $(($(revision) - rev_blue))"
grep -q '"type":"DELETED","revision":[0-9]*,"object":{[^}]*"kind":"Node","metadata":{"name":"n2"' "$dir/watch1" ||
	fail "watch lacks the DELETED node n2"
ok "watch replays the events since R"
req GET "/v1/watch?since=abc"
expect 400 'since' "watch since not a number"

# A live watch sees a new commit.
curl -s -N --unix-socket "$sock" -H "Authorization: Bearer $token" \
	"http://x/v1/watch?since=$(revision)" >"$dir/watch2" &
watch_pid=$!
sleep 0.2
req POST /v1/ports '{"metadata":{"name":"live"},"spec":{"network":"red","locations":["n1"]}}'
red_ips+=("$(jget 'd["spec"]["ipv4"]')")
deadline=$((SECONDS + 5))
until grep -q '"name":"live"' "$dir/watch2"; do
	((SECONDS < deadline)) || { fail "live watch did not see the new port"; break; }
	sleep 0.05
done
ok "live watch"

# Churn past the retention (20 events) so that early revisions are compacted.
for i in $(seq 1 12); do
	req POST /v1/ports "{\"metadata\":{\"name\":\"c$i\"},\"spec\":{\"network\":\"red\",\"locations\":[\"n1\"]}}"
	[[ $code == 201 ]] || fail "churn create c$i: $body"
	red_ips+=("$(jget 'd["spec"]["ipv4"]')")
	req DELETE "/v1/ports/c$i"
done
req GET "/v1/watch?since=1"
expect 410 'resync: revision 1 is compacted' "watch of a compacted revision"

# Many watchers during a burst (watch.h: the hub's ring): the same events to
# each, in revision order, none missing, none twice; one that starts in the
# middle of the burst gets exactly the rest.
r0=$(revision)
wpids=()
for w in 1 2 3 4; do
	curl -s -N --unix-socket "$sock" -H "Authorization: Bearer $token" \
		"http://x/v1/watch?since=$r0" >"$dir/burst$w" &
	wpids+=($!)
done
sleep 0.2
for i in $(seq 1 8); do
	req POST /v1/ports "{\"metadata\":{\"name\":\"b$i\"},\"spec\":{\"network\":\"red\",\"locations\":[\"n1\"]}}"
	red_ips+=("$(jget 'd["spec"]["ipv4"]')")
	if ((i == 4)); then
		rmid=$(revision)
		curl -s -N --unix-socket "$sock" -H "Authorization: Bearer $token" \
			"http://x/v1/watch?since=$rmid" >"$dir/burstmid" &
		wpids+=($!)
	fi
	req DELETE "/v1/ports/b$i"
done
rend=$(revision)
deadline=$((SECONDS + 5))
reached() { for f in "$dir"/burst*; do grep -q "\"revision\":$rend," "$f" || return 1; done; }
until reached; do
	((SECONDS < deadline)) || { fail "burst watchers did not reach revision $rend"; break; }
	sleep 0.05
done
kill "${wpids[@]}" 2>/dev/null
wait "${wpids[@]}" 2>/dev/null || true
python3 - "$dir" "$r0" "$rmid" "$rend" <<'PY' && ok "burst: every watcher got every event once, in order" || fail "burst watchers differ"
import json, sys
d, r0, rmid, rend = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def events(name):
    out = []
    for line in open(f"{d}/{name}"):
        e = json.loads(line)
        # the controller's own Events may come after rend, at any time
        if e["type"] != "BOOKMARK" and e["revision"] <= rend:
            out.append((e["revision"], e["type"], e["object"]["metadata"]["name"]))
    return out
ref = events("burst1")
revs = [r for r, _, _ in ref]
assert revs == sorted(revs) and sorted(set(revs)) == list(range(r0 + 1, rend + 1)), revs
assert len(ref) == len(set(ref)), "an event twice"
for w in ("burst2", "burst3", "burst4"):
    assert events(w) == ref, w
assert events("burstmid") == [e for e in ref if e[0] > rmid], "the watcher from the middle"
PY

# SIGTERM with a watch open: a clean and prompt exit.
kill -TERM "$pid"
deadline=$((SECONDS + 5))
while kill -0 "$pid" 2>/dev/null; do
	((SECONDS < deadline)) || { fail "godwitd hangs on SIGTERM with an open watch"; break; }
	sleep 0.05
done
wait "$pid" && ok "clean shutdown with an open watch" || fail "godwitd exit status $?"
wait "$watch_pid" 2>/dev/null || true
watch_pid=
pid=

# --- crash safety -----------------------------------------------------------------
start
mark
req GET /v1/networks
cluster_before=$(jget 'd["cluster"]')
[[ $cluster_before =~ ^[0-9a-f]{32}$ ]] && ok "a list names the store's cluster" ||
	fail "list reply's cluster: \"$cluster_before\""
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
start
before_rev=$mark_rev before_state=$mark_state
[[ $(revision) == "$before_rev" ]] || fail "revision after SIGKILL: $(revision), want $before_rev"
[[ $(snapshot) == "$before_state" ]] || fail "objects differ after SIGKILL"
ok "every object and the revision survive SIGKILL"
req GET /v1/ports
[[ $(jget 'd["cluster"]') == "$cluster_before" ]] && ok "the cluster id survives SIGKILL" ||
	fail "cluster after SIGKILL: $(jget 'd["cluster"]'), want $cluster_before"
req POST /v1/ports '{"metadata":{"name":"after"},"spec":{"network":"red","locations":["n1"]}}'
expect 201 '' "create a port after the restart"
new_ip=$(jget 'd["spec"]["ipv4"]')
for ip in "${red_ips[@]}"; do
	[[ $ip != "$new_ip" ]] || fail "address $new_ip was handed out before the restart"
done
ok "no address handed out twice across the restart ($new_ip)"
req DELETE /v1/ports/p1
expect 200 '"p1"' "delete port p1"
req DELETE /v1/networks/blue
expect 200 '"blue"' "delete network blue once empty"

# --- flood lists: what the datapath cannot hold is refused ------------------------
# bpf/abi.h: a node's flood list holds 32 local ports of a network and reaches
# 32 other nodes; the agents would cut a longer list and broadcasts would miss ports.
req POST /v1/networks '{"metadata":{"name":"wide"},"spec":{"cidr":"10.40.0.0/24","vni":4000}}'
expect 201 '' "create network wide"
for i in $(seq 32); do
	req POST /v1/ports "{\"metadata\":{\"name\":\"w$i\"},\"spec\":{\"network\":\"wide\",\"locations\":[\"n1\"]}}"
	[[ $code == 201 ]] || fail "port w$i on n1: $code $body"
done
mark
req POST /v1/ports '{"metadata":{"name":"w33"},"spec":{"network":"wide","locations":["n1"]}}'
expect 507 'network wide would have 33 ports on node n1' "a 33rd port of a network on one node"
[[ $body == *'flood list holds at most 32 of'* ]] || fail "the 507 names the limit: $body"
for i in $(seq 2 32); do
	req PUT /v1/ports/w$i "{\"spec\":{\"network\":\"wide\",\"locations\":[\"m$i\"]}}"
	[[ $code == 200 ]] || fail "port w$i moved to m$i: $code $body"
done
req POST /v1/ports '{"metadata":{"name":"w33"},"spec":{"network":"wide","locations":["m33"]}}'
expect 201 '' "a port on the 33rd node of a network"
mark
req POST /v1/ports '{"metadata":{"name":"w34"},"spec":{"network":"wide","locations":["m34"]}}'
expect 507 'network wide would have ports on 34 nodes' "a port on a 34th node of a network"
req PUT /v1/ports/w2 '{"spec":{"network":"wide","locations":["m2","m34"]}}'
expect 507 'reaches at most 32 other nodes' "a second location on a 34th node"
unchanged "after the refused flood lists"
req POST /v1/ports '{"metadata":{"name":"w34"},"spec":{"network":"wide","locations":["m2"]}}'
expect 201 '' "another port on a node the network already has"
for i in $(seq 34); do req DELETE /v1/ports/w$i; done
req DELETE /v1/networks/wide
expect 200 '' "delete network wide"

if ((failures)); then
	echo "$failures failure(s); godwitd log:" >&2
	cat "$dir/godwitd.log" >&2
	exit 1
fi
echo "all API checks passed"
