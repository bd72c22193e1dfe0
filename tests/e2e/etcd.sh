#!/usr/bin/env bash
# Controllers on etcd (issue 14, first steps): a 3-member etcd cluster and
# three godwitd on it, in a network namespace of this test (loopback only).
# Exactly one leads; writes through any controller are one store (no VNI or
# address twice when all three take them at once); a watch on one hears the
# commits of another; SIGKILL of the leader hands the lead to another and the
# API answers; SIGKILL of a second one, again; a client given all three
# controllers skips the dead ones; SIGKILL of an etcd member stops nothing.
# Every process is started here and stopped by PID.
set -uo pipefail
GODWIT=$(realpath "${1:?usage: $0 PATH/TO/godwit}")
BUILD_DIR=$(dirname "$GODWIT")
GODWITD=$BUILD_DIR/src/controller/godwitd
[[ -x $GODWITD ]] || GODWITD=$BUILD_DIR/godwitd
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
command -v etcd >/dev/null || { echo "SKIP: etcd missing (make deps)"; exit 77; }
NS=etcd-t$$
DIR=$(mktemp -d /tmp/godwit-e2e-etcd-XXXXXX)
declare -A PID
FAILED=0
cleanup() {
  local rc=$? p
  for p in "${PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [[ -n ${GODWIT_E2E_KEEP:-} && $rc -ne 0 ]]; then mkdir -p "$GODWIT_E2E_KEEP/$NS" && cp "$DIR"/*.log "$GODWIT_E2E_KEEP/$NS/"; fi
  ip netns del "$NS" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap "exit 143" TERM INT # the clean-up runs on a timeout's SIGTERM too
log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { log "FAIL: $*"; FAILED=1; }
die() { log "FAIL: $*"; for f in "$DIR"/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
ok() { log "ok: $*"; }
in_ns() { ip netns exec "$NS" "$@"; }
wait_until() { # TIMEOUT_S WHAT CMD...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { fail "timed out waiting for: $what"; return 1; }
    sleep 0.1
  done
}

ip netns add "$NS" && in_ns ip link set lo up || die "netns"

source "$(dirname "$0")/etcd_lib.sh"

# --- a 3-member etcd on the namespace's loopback ---
for i in 1 2 3; do start_etcd "$i"; done
wait_until 30 "etcd cluster healthy" in_ns curl -sf http://127.0.0.1:12371/health || die "etcd"
ok "3-member etcd up"

# --- three godwitd on it: one token, each its own socket ---
openssl rand -hex 16 >"$DIR/token"
for i in 1 2 3; do start_ctl "$i"; done
for i in 1 2 3; do wait_until 20 "c$i answers" health "$i" || die "c$i"; done
wait_until 10 "one leader" one_leader c1 c2 c3 || die "leader"
LEADER=$(leaders c1 c2 c3)
[[ $(health 1 | jq -r .leader) == "$LEADER" && $(health 3 | jq -r .leader) == "$LEADER" ]] &&
  ok "exactly one controller leads ($LEADER), and every one names it" ||
  fail "leader as named: c1 says $(health 1 | jq -r .leader), c3 $(health 3 | jq -r .leader), leading: $LEADER"
[[ $(health 1 | jq -r .cluster) == "$(health 2 | jq -r .cluster)" ]] &&
  ok "one cluster id across the controllers" || fail "cluster ids differ"
[[ $(gwc c2 get networks -o json | jq '[.items[] | select(.metadata.name == "default")] | length') == 1 ]] &&
  ok "one default network, made once for all three" || fail "default network: $(gwc c2 get networks)"

# --- a watch on c3 hears what c1 commits ---
rev=$(health 3 | jq -r .revision)
in_ns timeout 10 curl -sN --unix-socket "$DIR/c3.sock" -H "Authorization: Bearer $(cat "$DIR/token")" \
  "http://x/v1/watch?since=$rev" >"$DIR/watch.out" 2>/dev/null &
watch_pid=$!
PID[watch]=$watch_pid
sleep 0.5
gwc c1 apply -f - >/dev/null <<YAML || fail "apply through c1"
apiVersion: godwit/v1
kind: Network
metadata: {name: heard}
spec: {cidr: 10.30.0.0/24}
YAML
wait_until 5 "c3's watch has the network made through c1" grep -q '"name":"heard"' "$DIR/watch.out" &&
  ok "a watch on c3 hears a commit of c1's"
kill "$watch_pid" 2>/dev/null

# --- all three write at once: one store, no VNI twice ---
appliers=()
for i in $(seq 0 29); do
  c=c$((i % 3 + 1))
  gwc "$c" apply -f - >"$DIR/apply-$i.out" 2>&1 <<YAML &
apiVersion: godwit/v1
kind: Network
metadata: {name: n$i}
spec: {cidr: 10.31.$i.0/24}
YAML
  appliers+=($!)
done
wait "${appliers[@]}"
vnis=$(gwc c2 get networks -o json | jq '[.items[] | select(.metadata.name | test("^n[0-9]+$")) | .spec.vni]')
n=$(jq length <<<"$vnis") distinct=$(jq 'unique | length' <<<"$vnis")
[[ $n == 30 && $distinct == 30 ]] && ok "30 networks written through three controllers at once: 30 distinct VNIs" ||
  fail "networks: $n stored, $distinct distinct VNIs; $(cat "$DIR"/apply-*.out | grep -iv created | head -3)"

# --- SIGKILL of the leader, then of the next one: the API answers each time ---
alive=(c1 c2 c3) killed=()
for round in 1 2; do
  LEADER=$(leaders "${alive[@]}")
  kill -KILL "${PID[$LEADER]}"; unset "PID[$LEADER]"
  killed+=("$LEADER")
  t0=$(date +%s%N)
  mapfile -t alive < <(printf '%s\n' "${alive[@]}" | grep -vx "$LEADER")
  wait_until 10 "a new leader among ${alive[*]}" one_leader "${alive[@]}"
  ms=$((($(date +%s%N) - t0) / 1000000))
  NEW=$(leaders "${alive[@]}")
  [[ -n $NEW && $NEW != "$LEADER" ]] && ok "leader $LEADER SIGKILLed: $NEW leads after $ms ms" ||
    fail "after $LEADER's SIGKILL: leading ${NEW:-nobody}"
  gwc "${alive[0]}" get networks >/dev/null && ok "the API answers on ${alive[0]} ($round of 2 killed)" ||
    fail "the API on ${alive[0]} after $LEADER's SIGKILL"
done

# --- a client given every controller skips the dead ones, with a log line ---
all="unix:$DIR/${killed[0]}.sock,unix:$DIR/${killed[1]}.sock,unix:$DIR/${alive[0]}.sock"
if GODWIT_SERVER=$all GODWIT_TOKEN=$(cat "$DIR/token") "$GODWIT" get network heard >"$DIR/failover.out" 2>&1 &&
  grep -q "unreachable" "$DIR/failover.out" && grep -q heard "$DIR/failover.out"; then
  ok "the CLI given three controllers, the first two dead, answers through the third and says so"
else
  fail "CLI over $all: $(cat "$DIR/failover.out")"
fi

# --- SIGKILL of one etcd member: nothing stops ---
kill -KILL "${PID[etcd1]}"; unset "PID[etcd1]"
gwc "${alive[0]}" apply -f - >/dev/null <<YAML && ok "a write after etcd member m1's SIGKILL" || fail "write after m1's SIGKILL"
apiVersion: godwit/v1
kind: Network
metadata: {name: after-member-loss}
spec: {cidr: 10.32.0.0/24}
YAML
one_leader "${alive[@]}" && ok "still one leader (${alive[0]}) with two of three etcd members" ||
  fail "leaders with two etcd members: $(leaders "${alive[@]}")"
back=${killed[0]}
start_ctl "${back#c}"
wait_until 20 "$back restarted answers" health "${back#c}" &&
  [[ $(gwc "$back" get network after-member-loss -o json | jq -r .metadata.name) == after-member-loss ]] &&
  ok "$back, started again on the surviving etcd members, sees every write" || fail "restarted $back"
[[ $(leaders "$back" "${alive[@]}" | wc -l) == 1 ]] && ok "the restarted one follows: still one leader" ||
  fail "leaders after $back's restart: $(leaders "$back" "${alive[@]}")"

((FAILED == 0)) && log "PASS" || log "FAILED"
exit $FAILED
