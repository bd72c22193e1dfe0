#!/usr/bin/env bash
# The control plane at scale (issue 13): BENCH_AGENTS (default 1000) simulated
# agents (bench/agents_sim.py: each registers, lists every kind, watches and
# heartbeats every 2 s like godwit-agent, from its own 127.1.x.y address)
# against one godwitd on loopback; then BENCH_CHANGES (default 20) changes,
# each timed until every agent's watch delivered it. Reports propagation,
# heartbeat round trips (while the agents join, and after), node readiness,
# and godwitd's resident memory and CPU time. The simulator shares the two
# cores with godwitd, so the figures include its own delay.
# BENCH_FINISHED (default 0): that many finished Migrations are written into
# the store first (bench/seed_finished.py, 20 per port, kept by
# --keep-finished-migrations 20), and the agents do not list the migrations
# (a real agent would copy them all: the figure for one list is reported).
#   bench/control_plane.sh BUILD_DIR OUT.json
set -uo pipefail
build=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
AGENTS=${BENCH_AGENTS:-1000} CHANGES=${BENCH_CHANGES:-20} FINISHED=${BENCH_FINISHED:-0}
tmp=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_godwitd() {
  "$build/godwitd" --state-dir "$tmp/state" --listen "127.0.0.1:$port" \
    --keep-finished-migrations 20 >>"$tmp/godwitd.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do [[ -f $tmp/state/token ]] && curl -s -o /dev/null --cacert "$tmp/state/tls/ca.crt" "https://127.0.0.1:$port/v1/healthz" && break; sleep 0.1; done
}
start_godwitd
list_ms=null
if ((FINISHED > 0)); then
  kill "$pid"; wait "$pid" 2>/dev/null
  python3 "$here/seed_finished.py" "$tmp/state" "$FINISHED" 20 || { echo "seeding failed" >&2; exit 1; }
  start_godwitd
  n=$(curl -s --cacert "$tmp/state/tls/ca.crt" -H "Authorization: Bearer $(cat "$tmp/state/token")" "https://127.0.0.1:$port/v1/migrations" |
    jq '.items | length')
  [[ $n == "$FINISHED" ]] || { echo "the store holds $n migrations, want $FINISHED" >&2; exit 1; }
  list_ms=$(curl -s -o /dev/null --cacert "$tmp/state/tls/ca.crt" -w '%{time_total}' -H "Authorization: Bearer $(cat "$tmp/state/token")" \
    "https://127.0.0.1:$port/v1/migrations" | awk '{printf "%.1f", $1 * 1000}')
  export SIM_SKIP_LIST=migrations
fi
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
echo "  control plane: $AGENTS simulated agents, $CHANGES changes, $FINISHED finished migrations" >&2
t0=$(ticks)
python3 "$here/agents_sim.py" "$port" "$(cat "$tmp/state/token")" "$AGENTS" "$CHANGES" "$tmp/sim.json" \
  "$tmp/state/tls/ca.crt" ||
  { echo "agents_sim failed" >&2; exit 1; }
cpu_s=$(awk -v a="$t0" -v b="$(ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) / hz}')
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
threads=$(awk '/Threads/ {print $2}' "/proc/$pid/status")
stalls=$(grep -c 'was stalled' "$tmp/godwitd.log" || true)
jq --argjson rss "$rss" --argjson cpu "$cpu_s" --argjson threads "$threads" --argjson stalls "$stalls" \
  --argjson finished "$FINISHED" --argjson list_ms "$list_ms" \
  '. + {finished_migrations: $finished, list_finished_ms: $list_ms,
        controller: {rss_kib: $rss, cpu_s: $cpu, threads: $threads, stalls_logged: $stalls}}' \
  "$tmp/sim.json" >"$out"
echo "  control plane: $(jq -c '{ready_after, propagation_ms, heartbeat_rtt_ms, controller}' "$out")" >&2
