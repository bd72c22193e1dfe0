#!/usr/bin/env bash
# Fabric benchmark (issue 2):
#  - cross-node TCP throughput (iperf3) and request/response latency (ICMP echo
#    RTT) between two endpoints through godwit, against the same topology built
#    with plain kernel VXLAN + Linux bridge + static FDB, in the same run;
#  - agent resident memory with 100 ports; controller memory with 10,000 ports;
#  - time for a change to be applied on every node.
#   bench/fabric.sh BUILD_DIR OUT.json
set -uo pipefail
build=$1 out=$2
GODWIT=$build/godwit
LAB=b$$ BL=bl$$
LAB_DIR=/run/godwit/labs/$LAB
export GODWIT_CONFIG=$(mktemp -d)/config
RUNS=${BENCH_RUNS:-5} SECS=${BENCH_SECS:-3} PINGS=${BENCH_PINGS:-300}
pids=()
tmp_meas=$(mktemp -d)

cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do { wait "$p"; } 2>/dev/null; done # no "Killed" notices
  "$GODWIT" lab down --name "$LAB" >/dev/null 2>&1
  for ns in $BL-ul $BL-n1 $BL-n2 $BL-x $BL-y; do ip netns del "$ns" 2>/dev/null; done
  for i in $(seq 1 100); do ip netns del "$LAB-m$i" 2>/dev/null; done
  [[ -n ${ctl_dir:-} ]] && rm -rf "$ctl_dir"
  rm -rf "$(dirname "$GODWIT_CONFIG")" "$tmp_meas"
}
trap cleanup EXIT
gw() { "$GODWIT" --lab "$LAB" "$@"; }
say() { echo "  $*" >&2; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# --- the plain-kernel baseline: same underlay, VXLAN + bridge + static FDB ---
baseline_up() {
  ip netns add $BL-ul; ip netns add $BL-n1; ip netns add $BL-n2; ip netns add $BL-x; ip netns add $BL-y
  ip -n $BL-ul link add br0 type bridge; ip -n $BL-ul link set br0 up
  local i mac
  for i in 1 2; do
    ip -n $BL-ul link add n$i type veth peer name ul0 netns $BL-n$i
    ip -n $BL-ul link set n$i master br0 up
    ip -n $BL-n$i addr add 10.254.0.1$i/24 dev ul0
    ip -n $BL-n$i link set ul0 up; ip -n $BL-n$i link set lo up
    ip -n $BL-n$i link add vx0 type vxlan id 42 dstport 4789 local 10.254.0.1$i nolearning
    ip -n $BL-n$i link add br0 type bridge
    ip -n $BL-n$i link set vx0 master br0 up; ip -n $BL-n$i link set br0 up
  done
  ip -n $BL-n1 link add p0 type veth peer name eth0 netns $BL-x
  ip -n $BL-n2 link add p0 type veth peer name eth0 netns $BL-y
  for i in 1 2; do ip -n $BL-n$i link set p0 mtu 1450 master br0 up; done
  ip -n $BL-x link set eth0 address 0a:58:00:00:00:01 mtu 1450 up
  ip -n $BL-y link set eth0 address 0a:58:00:00:00:02 mtu 1450 up
  ip -n $BL-x addr add 10.99.0.1/24 dev eth0; ip -n $BL-y addr add 10.99.0.2/24 dev eth0
  ip -n $BL-x link set lo up; ip -n $BL-y link set lo up
  bridge -n $BL-n1 fdb append 00:00:00:00:00:00 dev vx0 dst 10.254.0.12
  bridge -n $BL-n2 fdb append 00:00:00:00:00:00 dev vx0 dst 10.254.0.11
  bridge -n $BL-n1 fdb add 0a:58:00:00:00:02 dev vx0 dst 10.254.0.12 static
  bridge -n $BL-n2 fdb add 0a:58:00:00:00:01 dev vx0 dst 10.254.0.11 static
}

# throughput NS_CLIENT NS_SERVER SERVER_IP -> Gbit/s (median of RUNS)
throughput() {
  local c=$1 s=$2 ip=$3 r
  ip netns exec "$s" iperf3 -s -p 5299 >/dev/null 2>&1 & local sp=$!
  pids+=($sp)
  for _ in $(seq 50); do ip netns exec "$s" ss -ltn | grep -q :5299 && break; sleep 0.1; done
  for r in $(seq "$RUNS"); do
    ip netns exec "$c" iperf3 -c "$ip" -p 5299 -t "$SECS" -J 2>/dev/null |
      jq '.end.sum_received.bits_per_second / 1e9'
  done | median
  kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null
}

# latency NS IP -> median RTT in µs
latency() {
  ip netns exec "$1" ping -c "$PINGS" -i 0.005 -W 1 "$2" 2>/dev/null |
    sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | awk '{print $1 * 1000}' | median
}

api() { curl -sS --unix-socket "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "${@:2}"; }
# post_many SOCKET PATH: POSTs every JSON line of stdin, all through one curl
# process (a config file with one block per request; options repeat per block).
post_many() {
  local cfg first=1 line
  cfg=$(mktemp)
  while IFS= read -r line; do
    ((first)) || echo next
    first=0
    line=${line//\\/\\\\}
    printf 'unix-socket = "%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\nurl = "http://localhost%s"\nrequest = "POST"\noutput = "/dev/null"\ndata = "%s"\n' \
      "$1" "$token" "$2" "${line//\"/\\\"}"
  done >"$cfg"
  curl -sS -K "$cfg"
  rm -f "$cfg"
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

say "godwit lab (3 nodes) and the baseline topology"
gw lab up --name "$LAB" --nodes 3 >/dev/null || { echo "lab up failed" >&2; exit 1; }
gw apply -f - >/dev/null <<YAML || exit 1
apiVersion: godwit/v1
kind: Network
metadata: {name: bench}
spec: {cidr: 10.98.0.0/16}
YAML
gw endpoint add x --network bench --node node-1 >/dev/null || exit 1
gw endpoint add y --network bench --node node-2 >/dev/null || exit 1
Y=$(gw get port y -o json | jq -r .spec.ipv4)
baseline_up || { echo "baseline topology failed" >&2; exit 1; }
ip netns exec "$LAB-ep-x" ping -c 3 -i 0.2 -W 2 "$Y" >/dev/null || { echo "godwit path broken" >&2; exit 1; }
ip netns exec $BL-x ping -c 3 -i 0.2 -W 2 10.99.0.2 >/dev/null || { echo "baseline path broken" >&2; exit 1; }

# godwit and the baseline alternate, round after round, so that whatever else
# the machine does at the time weighs on both alike; medians over all rounds.
say "throughput and latency: $RUNS alternating rounds (${SECS}s of iperf3, $PINGS echoes each)"
: >"$tmp_meas/tp_gw"; : >"$tmp_meas/tp_bl"; : >"$tmp_meas/lat_gw"; : >"$tmp_meas/lat_bl"
for r in $(seq "$RUNS"); do
  RUNS=1 throughput "$LAB-ep-x" "$LAB-ep-y" "$Y" >>"$tmp_meas/tp_gw"
  RUNS=1 throughput $BL-x $BL-y 10.99.0.2 >>"$tmp_meas/tp_bl"
  latency "$LAB-ep-x" "$Y" >>"$tmp_meas/lat_gw"
  latency $BL-x 10.99.0.2 >>"$tmp_meas/lat_bl"
done
tp_gw=$(median <"$tmp_meas/tp_gw") tp_bl=$(median <"$tmp_meas/tp_bl")
lat_gw=$(median <"$tmp_meas/lat_gw") lat_bl=$(median <"$tmp_meas/lat_bl")
say "godwit $tp_gw Gbit/s ${lat_gw} µs; baseline $tp_bl Gbit/s ${lat_bl} µs"

token=$(cat "$LAB_DIR/token")
# propagation: time from a committed change to every node having applied it
propagation() { # -> one line per sample, ms
  local i t0 rev min
  for i in $(seq 1 20); do
    t0=$(date +%s%N)
    api "$LAB_DIR/api.sock" -X POST http://localhost/v1/ports -o /dev/null \
      -d "{\"apiVersion\":\"godwit/v1\",\"kind\":\"Port\",\"metadata\":{\"name\":\"prop$1-$i\"},\"spec\":{\"network\":\"bench\",\"locations\":[\"node-1\"],\"type\":\"tap\"}}"
    rev=$(api "$LAB_DIR/api.sock" http://localhost/v1/healthz | jq .revision)
    while :; do
      min=$(api "$LAB_DIR/api.sock" http://localhost/v1/nodes | jq '[.items[].status.applied_revision // 0] | min')
      ((min >= rev)) && break
      (( $(date +%s%N) - t0 > 10000000000 )) && break
    done
    echo $(( ($(date +%s%N) - t0) / 1000000 ))
  done
}
say "time for a change to be applied on every node, 2 ports per node (20 changes)"
propagation light >"$tmp_meas/prop_light"

say "agent memory with 100 ports"
for i in $(seq 1 100); do ip netns add "$LAB-m$i"; done
for i in $(seq 1 100); do
  printf '{"apiVersion":"godwit/v1","kind":"Port","metadata":{"name":"m%d"},"spec":{"network":"bench","locations":["node-3"],"netns":"%s"}}\n' "$i" "$LAB-m$i"
done | post_many "$LAB_DIR/api.sock" /v1/ports
rev=$(api "$LAB_DIR/api.sock" http://localhost/v1/healthz | jq .revision)
for _ in $(seq 300); do
  applied=$(gw get node node-3 -o json | jq '.status.applied_revision // 0')
  ((applied >= rev)) && break; sleep 0.1
done
ports_up=$(ip -n "$LAB-node-3" -o link show | grep -cE ': gw[0-9a-f]{10}@')
agent_pid=$(jq -r '.daemons[] | select(.name == "node-3") | .pid' "$LAB_DIR/lab.json")
agent_rss=$(rss_kib "$agent_pid")
say "agent on node-3: $ports_up ports plumbed, VmRSS $agent_rss KiB"

say "the same with 100 more ports on node-3"
propagation heavy >"$tmp_meas/prop_heavy"
prop_p50=$(median <"$tmp_meas/prop_light") prop_max=$(sort -n "$tmp_meas/prop_light" | tail -1)
prop_heavy_p50=$(median <"$tmp_meas/prop_heavy") prop_heavy_max=$(sort -n "$tmp_meas/prop_heavy" | tail -1)

say "controller memory with 10,000 ports"
ctl_dir=$(mktemp -d)
"$build/godwitd" --state-dir "$ctl_dir" --listen "unix:$ctl_dir/api.sock" >"$ctl_dir/log" 2>&1 &
ctl_pid=$!; pids+=($ctl_pid)
for _ in $(seq 100); do [[ -S $ctl_dir/api.sock && -f $ctl_dir/token ]] && break; sleep 0.1; done
token=$(cat "$ctl_dir/token")
api "$ctl_dir/api.sock" -X POST http://localhost/v1/networks -o /dev/null \
  -d '{"apiVersion":"godwit/v1","kind":"Network","metadata":{"name":"big"},"spec":{"cidr":"10.0.0.0/16"}}'
t0=$(date +%s%N)
for i in $(seq 1 10000); do
  printf '{"apiVersion":"godwit/v1","kind":"Port","metadata":{"name":"p%d"},"spec":{"network":"big","locations":["node-%d"]}}\n' "$i" $((i % 3 + 1))
done | post_many "$ctl_dir/api.sock" /v1/ports
create_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
nports=$(api "$ctl_dir/api.sock" http://localhost/v1/ports | jq '.items | length')
api "$ctl_dir/api.sock" http://localhost/v1/ports -o /dev/null  # a full list, as an informer does
ctl_rss=$(rss_kib "$ctl_pid")
say "controller: $nports ports (created in $create_ms ms), VmRSS $ctl_rss KiB"

jq -n --argjson tg "$tp_gw" --argjson tb "$tp_bl" --argjson lg "$lat_gw" --argjson lb "$lat_bl" \
  --argjson secs "$SECS" --argjson runs "$RUNS" --argjson pings "$PINGS" \
  --argjson arss "$agent_rss" --argjson aports "$ports_up" \
  --argjson crss "$ctl_rss" --argjson cports "$nports" --argjson cms "$create_ms" \
  --argjson pp50 "$prop_p50" --argjson pmax "$prop_max" \
  --argjson hp50 "$prop_heavy_p50" --argjson hmax "$prop_heavy_max" '{
  throughput: {godwit_gbps: ($tg*100|round/100), baseline_gbps: ($tb*100|round/100),
               ratio: (($tg/$tb)*100|round/100), seconds: $secs, runs: $runs},
  latency: {godwit_us: $lg, baseline_us: $lb, ratio: (($lg/$lb)*100|round/100), samples: $pings},
  agent_memory: {ports: $aports, rss_kib: $arss},
  controller_memory: {ports: $cports, rss_kib: $crss, create_ms: $cms},
  propagation: {samples: 20, p50_ms: $pp50, max_ms: $pmax},
  propagation_100_ports: {samples: 20, p50_ms: $hp50, max_ms: $hmax}
}' >"$out"
