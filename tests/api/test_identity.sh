#!/usr/bin/env bash
# Identities (docs/API.md "Identities", controller/auth.h) against a real
# godwitd: join tokens made by the admin work once and expire; a node's
# credential writes its own Node and status only (403 otherwise, naming the
# node), creates nothing, reads what an agent reads; its status keeps only
# the ports placed on it; a revoked credential (or a deleted Node's) gets
# 401; the admin token still does everything.
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$1" identity
start
admin=$token

as() { token=$1; shift; req "$@"; token=$admin; }

# join_token NODE [TTL]: prints a new join token of NODE
join_token() {
	req POST /v1/tokens "{\"node\":\"$1\",\"ttl_s\":${2:-600}}"
	[[ $code == 201 ]] || fail "token create for $1: $code $body"
	jget 'd["token"]'
}

t1=$(join_token node-1)
t2=$(join_token node-2)
[[ ${#t1} == 64 && $t1 != "$t2" ]] && ok "join tokens: 64 hex digits, each its own" || fail "tokens '$t1' '$t2'"
grep -rqs -- "$t1" "$state" && fail "a join token is stored in the clear" || ok "the store keeps no join token in the clear"

as "" POST /v1/join "{\"node\":\"node-2\",\"token\":\"$t1\"}"
expect 401 "another node" "a join token of node-1 does not join node-2"
as "" POST /v1/join "{\"node\":\"node-1\",\"token\":\"$t1\"}"
expect 200 '"credential"' "node-1 joins with its join token"
c1=$(jget 'd["credential"]')
check "the join answers a stream secret and the cluster" '"stream_secret" in d and len(d["cluster"]) == 32'
as "" POST /v1/join "{\"node\":\"node-1\",\"token\":\"$t1\"}"
expect 401 "used already" "the same join token a second time is refused"
as "" POST /v1/join "{\"node\":\"node-1\",\"token\":\"nonsense\"}"
expect 401 "not a join token" "an unknown join token is refused"
as "" POST /v1/join '{"node":"node-1","token":7}'
expect 400 "token" "a join body with a bad token field: 400"
as "" POST /v1/join "{\"node\":\"node-2\",\"token\":\"$t2\"}"
expect 200 '"credential"' "node-2 joins"
c2=$(jget 'd["credential"]')
grep -rqs -- "$c1" "$state" && fail "a credential is stored in the clear" || ok "the store keeps no credential in the clear"

# an expired join token: ttl 1 s, used only once the clock is past its expiry
req POST /v1/tokens '{"node":"node-3","ttl_s":1}'
t3=$(jget 'd["token"]') expires=$(jget 'd["expires_ms"]')
until (($(date +%s%3N) > expires + 100)); do sleep 0.1; done
as "" POST /v1/join "{\"node\":\"node-3\",\"token\":\"$t3\"}"
expect 401 "expired" "an expired join token is refused, saying so"

# what a node may do
as "$c1" PUT /v1/nodes/node-1 '{"spec":{"underlay_ip":"192.168.60.1"}}'
expect 200 "" "node-1 registers its own Node"
as "$c2" PUT /v1/nodes/node-2 '{"spec":{"underlay_ip":"192.168.60.2"}}'
expect 200 "" "node-2 registers its own Node"
as "$c1" PUT /v1/nodes/node-1/status '{"applied_revision":1}'
expect 200 "" "node-1 writes its own status"
as "$c1" PUT /v1/nodes/node-2/status '{"applied_revision":1}'
expect 403 "node node-1 may not report the status of a node other than its own" \
	"node-1 cannot write node-2's status (403 naming node-1)"
as "$c1" PUT /v1/nodes/node-2 '{"spec":{"underlay_ip":"192.168.60.9"}}'
expect 403 "node-1" "node-1 cannot rewrite node-2's Node (underlay IP)"
as "$c1" POST /v1/networks '{"metadata":{"name":"evil"},"spec":{"cidr":"10.66.0.0/24"}}'
expect 403 "only an admin" "node-1 cannot create a network"
as "$c1" POST /v1/vms '{"metadata":{"name":"evil"},"spec":{"network":"default"}}'
expect 403 "only an admin" "node-1 cannot create a VM"
as "$c1" DELETE /v1/nodes/node-2
expect 403 "node-1" "node-1 cannot delete node-2"
as "$c1" POST /v1/tokens '{"node":"node-9"}'
expect 403 "node-1" "node-1 cannot make join tokens"
as "$c1" GET /v1/networks
expect 200 '"items"' "node-1 lists networks"
as "$c1" GET /v1/nodes/node-2
expect 200 '"node-2"' "node-1 reads node-2"
as "$c1" POST /v1/migrations/nope/complete
expect 404 "" "an action on a missing migration: 404 (not a 403)"

# the status keeps only the ports placed on the node
req POST /v1/networks '{"metadata":{"name":"blue"},"spec":{"cidr":"10.20.0.0/24"}}'
expect 201 "" "the admin creates a network"
req POST /v1/ports '{"metadata":{"name":"p2"},"spec":{"network":"blue","locations":["node-2"]}}'
expect 201 "" "the admin creates a port on node-2"
as "$c1" PUT /v1/nodes/node-1/status '{"applied_revision":1,"ports":{"p2":{"state":"active"}}}'
expect 200 "" "node-1 reports a port of node-2"
check "... which is dropped from node-1's status" '"p2" not in d["status"].get("ports", {})'
as "$c2" PUT /v1/nodes/node-2/status '{"applied_revision":1,"ports":{"p2":{"state":"active"}}}'
check "node-2's report of its own port is kept" '"p2" in d["status"]["ports"]'

# revocation
req DELETE /v1/tokens/node-1
expect 200 '"revoked"' "the admin revokes node-1"
as "$c1" GET /v1/networks
expect 401 "revoked" "a revoked credential gets 401"
req DELETE /v1/tokens/node-1
expect 404 "no credential" "revoking again: 404"
req DELETE /v1/nodes/node-2
expect 200 "" "the admin deletes Node node-2"
as "$c2" GET /v1/networks
expect 401 "" "a deleted Node's credential gets 401"

# no token, a join token as a bearer, the admin
as "" GET /v1/networks
expect 401 "missing bearer token" "no token: 401"
t4=$(join_token node-4)
as "$t4" GET /v1/networks
expect 401 "not a credential" "a join token is no bearer credential"
req POST /v1/vms '{"metadata":{"name":"v1"},"spec":{"network":"blue"}}'
[[ $code != 403 && $code != 401 ]] && ok "the admin may create a VM (status $code)" || fail "admin VM create: $code $body"
req GET /metrics
expect 200 "" "the admin reads the metrics"

((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
echo "all identity checks passed"
