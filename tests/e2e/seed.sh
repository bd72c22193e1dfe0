#!/usr/bin/env bash
# The seed's scenario, as its user types it (issue 12): the KubeVirt manifest
# examples/testvm.yaml applied unchanged; `godwit ssh cirros@testvm -- ping -c
# 1500 -i 0.01 203.0.113.8` with the password given at ssh's prompt (sshpass);
# while it runs, in two more sessions an outbound TCP stream from the VM
# through the gateway's SNAT to the outside host's echo (a numbered line every
# 10 ms, every one checked on its way back) and `godwit port-forward` to the
# guest's own TCP echo under `godwit probe` (byte-exact); three live
# migrations (node-1 -> node-2 -> node-3 -> node-1). The sessions end with
# status 0, the in-guest ping loses at most 2 probes per migration, both
# streams are whole. As a measurement (issue 12's goal: 20 migrations):
#   SEED_MIGRATIONS=20 SEED_PINGS=6000 tests/e2e/seed.sh build/godwit
#   SEED_PINGS (default 1500), SEED_MIGRATIONS (default 3),
#   SEED_MAX_LOST_PER_MIGRATION (default 2)
source "$(dirname "$0")/lib.sh"
for tool in qemu-system-x86_64 ssh sshpass; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (make deps)"; exit 77; }
done
PINGS=${SEED_PINGS:-1500}
MIGRATIONS=${SEED_MIGRATIONS:-3}
MAX_LOST=${SEED_MAX_LOST_PER_MIGRATION:-2}
OUT=$(dirname "$GODWIT_CONFIG")
here=$(cd "$(dirname "$0")" && pwd)

# gssh ARGS...: `godwit ssh` as the seed's user runs it, the password at the prompt
gssh() {
  sshpass -p gocubsgo "$GODWIT" --lab "$LAB" ssh -o ConnectTimeout=30 -o ServerAliveInterval=5 \
    -o ServerAliveCountMax=12 -o LogLevel=ERROR "$@"
}

log "lab $LAB up (3 nodes, the outside host 203.0.113.8 behind node-1)"
gw lab up --name "$LAB" --nodes 3 >/dev/null || die "lab up"
gw apply -f "$here/../../examples/testvm.yaml" >/dev/null || die "apply the seed manifest"
wait_until 120 "testvm Running on node-1" vm_running_on node-1 || die "testvm did not start"
IP=$(vm_json | jq -r .status.ipv4)
CONSOLE=$(dirname "$(vm_json | jq -r .status.console)")/console.log
wait_until 90 "the guest's ready line" console_has "godwit-guest: ready ipv4=$IP\$" ||
  die "no ready line: $(tr -d '\r' <"$CONSOLE" | grep godwit-guest | tail -n 3)"

# First contact: no host-key question (godwit's known_hosts, accept-new).
got=$(gssh cirros@testvm -- 'echo hello from $(hostname) as $(id -un)' </dev/null 2>"$OUT/first.err")
[[ $got == "hello from "*" as cirros" ]] && ok "godwit ssh cirros@testvm: '$got'" ||
  die "godwit ssh: '$got' $(tr '\n' ' ' <"$OUT/first.err")"

# --- the three sessions ---
gssh cirros@testvm -- ping -c "$PINGS" -i 0.01 203.0.113.8 </dev/null >"$OUT/ping.txt" 2>"$OUT/ping.err" &
PING=$!
EXTRA_PIDS+=($PING)
lines=$PINGS # a numbered line every 10 ms (slower under TCG): it outlasts the migrations
outbound="i=0; (while [ \$i -lt $lines ]; do echo n=\$i; i=\$((i + 1)); sleep 0.01; done; sleep 3) | nc 203.0.113.8 7"
{ gssh cirros@testvm -- "$outbound" </dev/null 2>"$OUT/tcp.err"; echo "exit=$?"; } | stamp >"$OUT/tcp.txt" &
TCP=$!
EXTRA_PIDS+=($TCP)
gw port-forward testvm 0:7 >"$OUT/pf.out" 2>&1 & # 0: a free port (parallel runs share 127.0.0.1)
EXTRA_PIDS+=($!)
wait_until 10 "port-forward listening" grep -q '^Forwarding from' "$OUT/pf.out" || die "port-forward: $(cat "$OUT/pf.out")"
PF_PORT=$(sed -n 's/^Forwarding from [0-9.]*:\([0-9]*\) .*/\1/p' "$OUT/pf.out" | head -n 1)
[[ -n $PF_PORT ]] || die "no port in: $(cat "$OUT/pf.out")"
"$GODWIT" probe 127.0.0.1 --rate 100 --duration $((PINGS / 100 + 25)) --tcp "$PF_PORT" --json \
  >"$OUT/pf-probe.json" 2>"$OUT/pf-probe.err" &
PROBE=$!
EXTRA_PIDS+=($PROBE)
numbers() { grep -c ' n=' "$OUT/tcp.txt"; }
above() { (($(numbers) > $1)); }
wait_until 30 "the outbound stream's first lines back" above 100 || die "outbound stream: $(cat "$OUT/tcp.err")"

# --- the live migrations while all of it runs: node-2, node-3, node-1, ... ---
n=0 nodes=(node-2 node-3 node-1)
for ((k = 0; k < MIGRATIONS; k++)); do
  to=${nodes[k % 3]}
  if gw migrate testvm --to "$to" --wait --json >"$OUT/m-$to.json" 2>"$OUT/m-$to.err" &&
    jq -e '.status.phase == "Succeeded"' "$OUT/m-$to.json" >/dev/null; then
    n=$((n + 1))
    ok "migration $n to $to with three sessions open: $(jq -c '.status.figures | {vm_blackout_ms, qemu_downtime_ms}' "$OUT/m-$to.json")"
  else
    fail "migrate to $to: $(cat "$OUT/m-$to.err")"
  fi
  wait_until 30 "testvm Running on $to" vm_running_on "$to"
done
kill -0 "$PING" 2>/dev/null && ok "the ping was still running after the $n migrations" ||
  fail "the ping ended before the last migration: raise SEED_PINGS on this machine"

# --- the results ---
wait "$PING"
rc=$?
summary=$(grep 'packets transmitted' "$OUT/ping.txt")
tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' <<<"$summary")
rx=$(sed -n 's/.*, \([0-9]*\) packets received.*/\1/p' <<<"$summary")
((rc == 0)) && ok "the SSH session of the ping ended with status 0" || fail "ping session: status $rc, $(cat "$OUT/ping.err")"
if [[ -n $tx && -n $rx ]] && ((tx == PINGS && tx - rx <= MAX_LOST * n)); then
  ok "in-guest ping to 203.0.113.8: $summary ($((tx - rx)) lost in $n migrations)"
else
  fail "in-guest ping: '$summary' (at most $((MAX_LOST * n)) lost allowed)"
fi
wait_until $((PINGS / 10 + 60)) "the outbound stream's end" grep -q ' exit=' "$OUT/tcp.txt"
status=$(sed -n 's/^[0-9.]* exit=//p' "$OUT/tcp.txt")
[[ $status == 0 ]] && ok "the outbound session ended with status 0" || fail "outbound session: '$status' $(cat "$OUT/tcp.err")"
if awk '$2 ~ /^n=/ { if (substr($2, 3) != expect) { print "expected n=" expect ", got " $2; exit 1 } expect++ }
    END { if (expect != want) { print expect " of " want " lines came back"; exit 1 } }' \
    expect=0 want="$lines" "$OUT/tcp.txt" >"$OUT/tcp-check.txt"; then
  gap=$(awk '$2 ~ /^n=/ { if (p != "" && $1 - p > m) m = $1 - p; p = $1 } END { printf "%.0f", m * 1000 }' "$OUT/tcp.txt")
  ok "outbound TCP through SNAT: all $lines lines back, in order, across $n migrations (longest wait $gap ms)"
else
  fail "outbound TCP: $(cat "$OUT/tcp-check.txt")"
fi
wait "$PROBE"
if jq -e '.tcp.connected and (.tcp.reset | not) and .tcp.bytes_verified > 0 and
    .tcp.bytes_verified == .tcp.bytes_sent' "$OUT/pf-probe.json" >/dev/null 2>&1; then
  ok "godwit port-forward to the guest's echo: $(jq -r '"\(.tcp.bytes_verified) bytes verified, longest stall \(.tcp.longest_stall_ms) ms"' "$OUT/pf-probe.json")"
else
  fail "port-forward stream: $(jq -c .tcp "$OUT/pf-probe.json" 2>/dev/null) $(cat "$OUT/pf-probe.err")"
fi
vm_running_on "$to" && got=$(gssh cirros@testvm -- 'echo still here' </dev/null 2>&1) &&
  [[ $got == "still here" ]] && ok "the VM answers on $to" || fail "after the migrations: '$got'"
finish
