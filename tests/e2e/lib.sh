# Shared helpers of the end-to-end tests (sourced). Each test runs its own lab
# named after the test and its PID, and tears it down on exit whatever happens.
#   GODWIT: path of the godwit CLI (first argument of every test)
set -uo pipefail

GODWIT=$(realpath "${1:?usage: $0 PATH/TO/godwit}")
BUILD_DIR=$(dirname "$GODWIT")
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }

LAB=${LAB:-t$$}
LAB_DIR=/run/godwit/labs/$LAB
export GODWIT_CONFIG=$(mktemp -d)/config  # never touch the user's ~/.godwit/config
EXTRA_PIDS=()
FAILED=0

gw() { "$GODWIT" --lab "$LAB" "$@"; }

# GODWIT_E2E_KEEP=DIR: a failed test leaves its files and the lab's logs in
# DIR/LAB for diagnosis.
cleanup() {
  local rc=$? p
  for p in "${EXTRA_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [[ -n ${GODWIT_E2E_KEEP:-} && $rc -ne 0 ]]; then
    mkdir -p "$GODWIT_E2E_KEEP/$LAB" &&
      cp -a "$(dirname "$GODWIT_CONFIG")/." "$LAB_DIR"/*.log "$GODWIT_E2E_KEEP/$LAB/" 2>/dev/null
  fi
  "$GODWIT" lab down --name "$LAB" >/dev/null 2>&1
  rm -rf "$(dirname "$GODWIT_CONFIG")"
}
trap cleanup EXIT

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { log "FAIL: $*"; FAILED=1; }
die() { log "FAIL: $*"; dump_state; exit 1; }
ok() { log "ok: $*"; }

dump_state() {
  log "--- lab state for diagnosis ---"
  gw get nodes -o wide 2>&1 | sed 's/^/  /'
  gw get ports 2>&1 | sed 's/^/  /'
  for f in "$LAB_DIR"/*.log; do
    [[ -f $f ]] || continue
    echo "  --- tail $f"; tail -n 15 "$f" | sed 's/^/    /'
  done
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: polls CMD every 100 ms.
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { fail "timed out after ${timeout}s waiting for: $what"; return 1; }
    sleep 0.1
  done
}

ep() { # ep NAME CMD... : run CMD inside endpoint NAME
  local name=$1; shift
  ip netns exec "$LAB-ep-$name" "$@"
}

ep_ip() { # the endpoint's IPv4 as allocated by the controller
  gw get port "$1" -o json | jq -r '.spec.ipv4'
}

ep_mac() { gw get port "$1" -o json | jq -r '.spec.mac'; }

node_counter() { # node_counter NODE NAME: datapath counter from the node's status
  gw get node "$1" -o json | jq -r ".status.counters.$2 // 0"
}

# fdb_has NODE MAC: true when the node's datapath fdb holds MAC (any VNI).
fdb_has() {
  local bytes="" b
  for b in ${2//:/ }; do bytes+="${bytes:+,}$((16#$b))"; done
  bpftool -j map dump pinned "/sys/fs/bpf/godwit/$LAB-$1/gw_fdb" |
    jq -e --argjson m "[$bytes]" 'any(.[]; .formatted.key.mac == $m)' >/dev/null
}

# jtrue FILE JQ_EXPR: FILE holds one JSON document for which JQ_EXPR is true
# (an empty or broken file is false, never a vacuous pass).
jtrue() {
  [[ -s $1 ]] && jq -se --arg _ _ "length == 1 and (.[0] | $2)" "$1" >/dev/null 2>&1
}

fdb_lacks() { ! fdb_has "$@"; }

counter_above() { # counter_above NODE NAME VALUE: true when the counter exceeds VALUE
  (( $(node_counter "$1" "$2") > $3 ))
}

# The VM testvm (examples/testvm.yaml) and its serial console log ($CONSOLE).
vm_json() { gw get vm testvm -o json; }
vm_field() { vm_json | jq -r "$1"; }
vm_running_on() { # vm_running_on NODE: phase Running on NODE, no migration target
  vm_json | jq -e --arg n "$1" '.status.phase == "Running" and .status.node == $n
    and .spec.node == $n and (.spec.target == null)' >/dev/null
}
console_has() { tr -d '\r' <"$CONSOLE" | grep -q "$1"; }

# stamp: each line of stdin with the time it arrived ($EPOCHREALTIME) before it.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }

# Daemons of the lab, as lab.json records them: "godwitd", "node-1", ...
pid_of() {
  local pid
  pid=$(jq -r --arg n "$1" '.daemons[] | select(.name == $n) | .pid' "$LAB_DIR/lab.json" | tail -n 1)
  [[ $pid =~ ^[0-9]+$ ]] || die "no pid recorded for daemon $1 in $LAB_DIR/lab.json"
  echo "$pid"
}

daemon_netns() { [[ $1 == godwitd ]] && echo "$LAB-ul" || echo "$LAB-$1"; }

# kill_daemon NAME: SIGKILL it (remembering its command line for start_daemon).
kill_daemon() {
  local name=$1 pid
  pid=$(pid_of "$name") || exit 1
  kill -0 "$pid" 2>/dev/null || die "daemon $name (pid $pid) is not running"
  tr '\0' '\n' <"/proc/$pid/cmdline" >"$LAB_DIR/$name.cmdline"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

# start_daemon NAME: start it again with the same command line in its network
# namespace only, as `lab up` does (not `ip netns exec`: its private /sys has no
# bpffs, and the agent refuses to pin there), and record the new pid in lab.json
# so that `lab down` stops it. nsenter execs the daemon: $! is the daemon's pid.
start_daemon() {
  local name=$1 args=() pid
  mapfile -t args <"$LAB_DIR/$name.cmdline"
  nsenter --net="/run/netns/$(daemon_netns "$name")" "${args[@]}" >>"$LAB_DIR/$name.log" 2>&1 &
  pid=$!
  jq --arg n "$name" --argjson p "$pid" '(.daemons[] | select(.name == $n) | .pid) = $p' \
    "$LAB_DIR/lab.json" >"$LAB_DIR/lab.json.new" && mv "$LAB_DIR/lab.json.new" "$LAB_DIR/lab.json"
}

finish() {
  if ((FAILED)); then dump_state; log "RESULT: FAIL"; exit 1; fi
  log "RESULT: PASS"; exit 0
}
