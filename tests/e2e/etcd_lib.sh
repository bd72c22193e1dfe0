# The etcd cluster and the godwitd of tests/e2e/etcd.sh and bench/controllers.sh
# (sourced): the caller sets NS (its network namespace), DIR (its files),
# GODWIT, GODWITD, and `declare -A PID` (every process, stopped by PID).
STORE=etcd://127.0.0.1:12371,127.0.0.1:12372,127.0.0.1:12373

# A 3-member etcd on the namespace's loopback.
cluster=m1=http://127.0.0.1:12381,m2=http://127.0.0.1:12382,m3=http://127.0.0.1:12383
start_etcd() { # start_etcd N
  ip netns exec "$NS" etcd --name "m$1" --data-dir "$DIR/m$1" --initial-cluster "$cluster" \
    --initial-cluster-state new --initial-cluster-token "$NS" \
    --listen-peer-urls "http://127.0.0.1:1238$1" --initial-advertise-peer-urls "http://127.0.0.1:1238$1" \
    --listen-client-urls "http://127.0.0.1:1237$1" --advertise-client-urls "http://127.0.0.1:1237$1" \
    --log-level error >>"$DIR/etcd-m$1.log" 2>&1 &
  PID[etcd$1]=$!
}
# godwitd number N on it (one token for all, DIR/token; each its own socket).
start_ctl() { # start_ctl N
  mkdir -p "$DIR/c$1"
  ip netns exec "$NS" "$GODWITD" --state-dir "$DIR/c$1" --store "$STORE" --name "c$1" \
    --token-file "$DIR/token" --listen "unix:$DIR/c$1.sock" >>"$DIR/c$1.log" 2>&1 &
  PID[c$1]=$!
}
health() { curl -sf --unix-socket "$DIR/c$1.sock" http://x/v1/healthz; }
gwc() { local c=$1; shift; GODWIT_SERVER=unix:$DIR/$c.sock GODWIT_TOKEN=$(cat "$DIR/token") "$GODWIT" "$@"; }
leaders() { # the names of the controllers that say they lead, among the given ones
  local c
  for c in "$@"; do health "${c#c}" 2>/dev/null | jq -r 'select(.leading) | .name'; done
}
one_leader() { [[ $(leaders "$@" | wc -l) == 1 ]]; }
