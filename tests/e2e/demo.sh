#!/usr/bin/env bash
# `godwit lab demo`: from nothing to a measured live migration and back to
# nothing. With an endpoint subject: exit 0, a report with every figure (no
# duplicates, TCP byte-exact, counts that agree with the probe's record), a
# well-formed timeline, no lab left behind. Then the same with a VM, when VMs,
# VM migration and the guest image are available here.
source "$(dirname "$0")/lib.sh"
OUT=$(dirname "$GODWIT_CONFIG")/out   # removed by lib.sh's cleanup

# check_demo SUBJECT DIR: the outputs of one demo run
check_demo() {
  local subject=$1 dir=$2 r=$2/report.json svg=$2/timeline.svg field
  jtrue "$r" '.' || { fail "$subject: no report.json"; return; }
  for field in subject vm_blackout_ms loss_window_ms network_added_loss duplicates \
      early_deliveries tcp.reset tcp.bytes_sent tcp.bytes_verified tcp.retransmits \
      probe.rate_hz probe.sent probe.lost phases first_frame_to_activation_us \
      machine.cores machine.kernel generated_at; do
    jq -e "getpath(\"$field\" | split(\".\")) | . != null" "$r" >/dev/null \
      || fail "$subject: report.json lacks $field"
  done
  log "$subject: $(jq -c '{verdict, vm_blackout_ms, loss_window_ms, network_added_loss, duplicates, early_deliveries, tcp, probe}' "$r")"
  jtrue "$r" ".subject == \"$subject\"" || fail "$subject: subject is $(jq .subject "$r")"
  jtrue "$r" '.duplicates == 0' && ok "$subject: no duplicates" || fail "$subject: duplicates"
  jtrue "$r" '.tcp.reset == false and .tcp.bytes_sent > 0 and .tcp.bytes_verified == .tcp.bytes_sent' \
    && ok "$subject: TCP byte-exact through the migration" || fail "$subject: TCP $(jq -c .tcp "$r")"
  jtrue "$r" 'any(.phases[]; .name == "Succeeded") and .phases[0].t_ms == 0' \
    && ok "$subject: phases from creation to Succeeded" || fail "$subject: phases $(jq -c .phases "$r")"
  jtrue "$r" '.vm_blackout_ms > 0 and .network_added_loss >= 0 and .loss_window_ms >= 0' \
    || fail "$subject: figures out of range"
  # the figures agree with the probe's own record
  local rows lost
  rows=$(($(wc -l <"$dir/probe.csv") - 1))
  lost=$(awk -F, 'NR > 1 && $3 == ""' "$dir/probe.csv" | wc -l)
  jtrue "$r" ".probe.sent == $rows and .probe.lost == $lost" \
    && ok "$subject: $rows probes sent, $lost lost, as recorded" \
    || fail "$subject: report says $(jq -c .probe "$r"), the record $rows sent / $lost lost"
  jtrue "$dir/probe.json" ".sent == $rows and .duplicates == $(jq .duplicates "$r")" \
    || fail "$subject: report and probe.json disagree"
  jtrue "$r" '.notes | length == 0 or all(.[]; test("away from the switchover"))' \
    || fail "$subject: notes: $(jq -c .notes "$r")"
  # a well-formed picture (no xmllint here: structure by counting)
  [[ -s $svg ]] || { fail "$subject: no timeline.svg"; return; }
  head -c 5 "$svg" | grep -q '<?xml' || fail "$subject: timeline.svg does not start with <?xml"
  [[ $(grep -c '<svg ' "$svg") == 1 && $(grep -c '</svg>' "$svg") == 1 ]] \
    || fail "$subject: timeline.svg: not one <svg> element"
  [[ $(grep -o '<g[ >]' "$svg" | wc -l) == $(grep -o '</g>' "$svg" | wc -l) ]] \
    || fail "$subject: timeline.svg: unbalanced groups"
  [[ $(grep -o '<text' "$svg" | wc -l) == $(grep -o '</text>' "$svg" | wc -l) ]] \
    || fail "$subject: timeline.svg: unbalanced text"
  local phases marks
  phases=$(jq '(.phases | length) + (.events | length)' "$r")
  marks=$(grep -c 'class="phase"' "$svg")
  [[ $marks == "$phases" ]] && ok "$subject: timeline.svg well-formed, $marks phase lines" \
    || fail "$subject: timeline.svg has $marks phase lines for $phases phases and events"
  grep -q 'font-size="[0-9]"' "$svg" && fail "$subject: a font smaller than 10 px"
  no_lab_left
}

no_lab_left() {
  if ip netns list | grep -q "^$LAB-"; then
    fail "namespaces left behind: $(ip netns list | grep "^$LAB-" | tr '\n' ' ')"
  elif [[ -e /run/godwit/labs/$LAB ]]; then
    fail "lab directory /run/godwit/labs/$LAB left behind"
  else
    ok "no lab left behind"
  fi
}

"$GODWIT" lab demo --subject endpoint --name "$LAB" --out "$OUT/endpoint" >"$OUT.endpoint.log" 2>&1
rc=$?
sed 's/^/    /' "$OUT.endpoint.log" | tail -n 16
[[ $rc == 0 ]] && ok "lab demo --subject endpoint exits 0" || fail "lab demo --subject endpoint: exit $rc"
check_demo endpoint "$OUT/endpoint"
rm -f "$OUT.endpoint.log"

# A second run over a leftover lab takes it down first (and says so).
"$GODWIT" lab up --name "$LAB" --nodes 1 >/dev/null 2>&1 || fail "lab up for the leftover check"
"$GODWIT" lab demo --subject endpoint --name "$LAB" --out "$OUT/again" >"$OUT.again.log" 2>&1
rc=$?
grep -q "left over from an earlier run" "$OUT.again.log" && [[ $rc == 0 ]] \
  && ok "a leftover lab is taken down first" || fail "leftover lab: exit $rc: $(tail -n 5 "$OUT.again.log")"
rm -f "$OUT.again.log"
no_lab_left

# Bad flags are refused before anything starts.
"$GODWIT" lab demo --subject container >/dev/null 2>&1; [[ $? == 2 ]] || fail "--subject container not refused"
"$GODWIT" lab demo --rate 0 >/dev/null 2>&1; [[ $? == 2 ]] || fail "--rate 0 not refused"

# The VM subject, when this build and machine can run one.
why=""
"$GODWIT" help migrate >/dev/null 2>&1 || why="no \`godwit migrate\` (VM migration) in this build"
[[ -z $why ]] && { "$GODWIT" --server unix:/nonexistent get vms 2>&1 | grep -qi "unknown kind" && why="no VM kind"; }
[[ -z $why ]] && ! compgen -G "/var/cache/godwit/guest/*vmlinuz*" >/dev/null \
  && ! compgen -G "/var/cache/godwit/guest/*/vmlinuz*" >/dev/null && why="no guest image in /var/cache/godwit/guest (tools/guest/build.sh)"
[[ -z $why ]] && ! command -v qemu-system-x86_64 >/dev/null && why="qemu-system-x86_64 not installed"
if [[ -n $why ]]; then
  log "skipping --subject vm: $why"
else
  (cd "$(dirname "$0")/../.." && "$GODWIT" lab demo --subject vm --name "$LAB" --out "$OUT/vm") \
    >"$OUT.vm.log" 2>&1
  rc=$?
  sed 's/^/    /' "$OUT.vm.log" | tail -n 16
  [[ $rc == 0 ]] && ok "lab demo --subject vm exits 0" || fail "lab demo --subject vm: exit $rc"
  check_demo vm "$OUT/vm"
  # The seed's scenario inside the demo: SSH sessions across the migration.
  r=$OUT/vm/report.json
  # (the in-guest ping's loss is logged, not bounded here: busybox ping's raw
  # socket also queues the observer's 1,000/s probes; tests/e2e/seed.sh bounds it)
  jtrue "$r" '.sessions.survived and .sessions.ping.sent == .sessions.ping.wanted' \
    && ok "vm: godwit ssh sessions survived; in-guest ping to 203.0.113.8: $(jq -c .sessions.ping "$r")" \
    || fail "vm: sessions $(jq -c .sessions "$r")"
  jtrue "$r" '.sessions.outbound_tcp.in_order and .sessions.outbound_tcp.lines_back == .sessions.outbound_tcp.lines_sent' \
    && ok "vm: outbound TCP through SNAT whole: $(jq -c .sessions.outbound_tcp "$r")" \
    || fail "vm: outbound TCP $(jq -c .sessions.outbound_tcp "$r")"
  grep -q 'SSH sessions (godwit ssh)' "$OUT.vm.log" && ok "vm: the summary names the SSH sessions" \
    || fail "vm: no SSH line in the summary"
fi

finish
