#!/usr/bin/env bash
# Controllers on etcd (issue 14): a 3-member etcd and three godwitd in a
# network namespace of this bench (loopback only), as tests/e2e/etcd.sh.
#   failover: BENCH_KILLS (default 20) times, SIGKILL of the leading godwitd,
#     then the time until another one says it leads (its migrator runs from
#     then on; /v1/healthz polled every 20 ms), and the killed one restarted.
#   writes: BENCH_WRITES (default 200) Networks created one after another
#     through the API (curl over the unix socket: its time_total), on etcd
#     and on an embedded SQLite godwitd, side by side.
#   propagation: for each write on etcd through one controller, the time
#     until a watch on another controller delivers its event.
#   bench/controllers.sh BUILD_DIR OUT.json
set -uo pipefail
build=$(realpath "$1") out=$2
GODWIT=$build/godwit GODWITD=$build/godwitd
KILLS=${BENCH_KILLS:-20} WRITES=${BENCH_WRITES:-200}
command -v etcd >/dev/null || { echo "etcd missing (make deps)" >&2; exit 1; }
NS=bctl$$
DIR=$(mktemp -d /tmp/godwit-bench-ctl-XXXXXX)
declare -A PID
cleanup() {
  local p
  for p in "${PID[@]}"; do kill -KILL "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap "exit 143" TERM INT # the clean-up runs on a timeout's SIGTERM too
say() { echo "  $*" >&2; }
until_ok() { local n=$1; shift; for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.02; done; return 1; }
source "$(dirname "$0")/../tests/e2e/etcd_lib.sh"

ip netns add "$NS" && ip netns exec "$NS" ip link set lo up || exit 1
for i in 1 2 3; do start_etcd "$i"; done
until_ok 1500 ip netns exec "$NS" curl -sf http://127.0.0.1:12371/health || { echo "etcd did not start" >&2; exit 1; }
openssl rand -hex 16 >"$DIR/token"
TOKEN=$(cat "$DIR/token")
for i in 1 2 3; do start_ctl "$i"; done
for i in 1 2 3; do until_ok 1000 health "$i" || { echo "c$i did not start" >&2; exit 1; }; done
until_ok 500 one_leader c1 c2 c3 || { echo "no leader" >&2; exit 1; }

# --- failover ---
say "failover: $KILLS SIGKILLs of the leader"
: >"$DIR/failover"
for ((k = 1; k <= KILLS; k++)); do
  leader=$(leaders c1 c2 c3)
  others=$(printf '%s\n' c1 c2 c3 | grep -vx "$leader" | tr '\n' ' ')
  t0=$(date +%s%N)
  kill -KILL "${PID[$leader]}"; wait "${PID[$leader]}" 2>/dev/null
  # shellcheck disable=SC2086
  until_ok 1000 one_leader $others || { echo "no new leader after killing $leader" >&2; exit 1; }
  echo $((($(date +%s%N) - t0) / 1000)) >>"$DIR/failover"
  start_ctl "${leader#c}"
  until_ok 1000 health "${leader#c}" || { echo "$leader did not come back" >&2; exit 1; }
  ((k % 5 == 0)) && say "failover: $k/$KILLS"
done

# --- writes: etcd (through c1) and SQLite, one after another ---
mkdir -p "$DIR/sq"
ip netns exec "$NS" "$GODWITD" --state-dir "$DIR/sq" --token-file "$DIR/token" \
  --listen "unix:$DIR/sq.sock" >>"$DIR/sq.log" 2>&1 &
PID[sq]=$!
until_ok 1000 curl -sf --unix-socket "$DIR/sq.sock" http://x/v1/healthz || { echo "sqlite godwitd did not start" >&2; exit 1; }
writes() { # SOCKET PREFIX: one time_total (s) per line
  local i
  for ((i = 0; i < WRITES; i++)); do
    curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$1" -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' -X POST http://x/v1/networks \
      -d "{\"metadata\":{\"name\":\"$2$i\"},\"spec\":{\"cidr\":\"10.$((40 + i / 250)).$((i % 250)).0/24\"}}"
  done
}
say "writes: $WRITES on etcd, $WRITES on SQLite"
writes "$DIR/c1.sock" w >"$DIR/w-etcd"
writes "$DIR/sq.sock" w >"$DIR/w-sqlite"

# --- propagation: a write through c1, its event on a watch of c2 ---
say "propagation: $WRITES writes through c1 watched on c2"
python3 - "$DIR" "$TOKEN" "$WRITES" >"$DIR/prop" <<'PY'
import http.client, json, socket, sys, time
d, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Unix(http.client.HTTPConnection):
    def __init__(self, path): super().__init__("x"); self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(self.path)
hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
h = Unix(d + "/c2.sock"); h.request("GET", "/v1/healthz"); rev = json.load(h.getresponse())["revision"]
w = Unix(d + "/c2.sock"); w.request("GET", "/v1/watch?since=%d" % rev, headers=hdr); stream = w.getresponse()
post = Unix(d + "/c1.sock")
for i in range(n):
    name = "p%d" % i
    t0 = time.monotonic()
    post.request("POST", "/v1/networks", body=json.dumps({"metadata": {"name": name},
                 "spec": {"cidr": "10.%d.%d.0/24" % (60 + i // 250, i % 250)}}), headers=hdr)
    post.getresponse().read()
    while True:
        line = stream.readline()
        if not line: sys.exit("the watch ended")
        ev = json.loads(line)
        if ev.get("object", {}).get("metadata", {}).get("name") == name: break
    print("%.6f" % (time.monotonic() - t0))
PY
[[ $(wc -l <"$DIR/prop") == "$WRITES" ]] || { echo "propagation: $(wc -l <"$DIR/prop") of $WRITES" >&2; exit 1; }

stats() { # FILE SCALE: p50/p99/max in ms
  sort -g "$1" | awk -v s="$2" '{v[NR] = $1 * s} END {
    p50 = v[int((NR + 1) * 0.50)]; i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR
    printf "{\"n\": %d, \"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}", NR, p50, v[i], v[NR] }'
}
jq -n --argjson failover "$(stats "$DIR/failover" 0.001)" --argjson etcd "$(stats "$DIR/w-etcd" 1000)" \
  --argjson sqlite "$(stats "$DIR/w-sqlite" 1000)" --argjson prop "$(stats "$DIR/prop" 1000)" \
  --arg etcdv "$(etcd --version | head -1)" \
  '{etcd: $etcdv, members: 3, controllers: 3, failover_ms: $failover,
    write_ms: {etcd: $etcd, sqlite: $sqlite}, watch_propagation_ms: $prop}' | tee "$out"
