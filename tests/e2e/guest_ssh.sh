#!/usr/bin/env bash
# SSH into a lab VM (issue 12 item 4): the KubeVirt test VM boots the godwit
# guest with cloud-init user data holding an SSH key (#cloud-config,
# ssh_authorized_keys); from an endpoint on another node, with OpenSSH's
# client: (a) the key logs in as cirros and a command's output comes back, the
# host key ssh recorded (accept-new, a per-test known_hosts) being the one the
# guest printed on its console; (b) the password gocubsgo logs in; (c) a wrong
# password is refused and runs nothing; (d) cirros, unprivileged, pings the
# endpoint from inside the guest; (e) an SSH session printing a counter every
# 100 ms stays open across a `godwit migrate` node-1 -> node-2: every number
# arrives, in order, and the session ends with status 0; afterwards a new
# session reaches the VM on node-2 with the same host key. First, on the host,
# the guest's parser of the user data (authorized_keys.awk) on a few samples.
# Env: GODWIT_GUEST_DIR (a guest image dir; default: tools/guest/build.sh,
# which honours GODWIT_GUEST_CACHE), passed on to the lab's agents.
source "$(dirname "$0")/lib.sh"
for tool in qemu-system-x86_64 ssh ssh-keygen sshpass busybox; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (make deps)"; exit 77; }
done
OUT=$(dirname "$GODWIT_CONFIG")
here=$(cd "$(dirname "$0")" && pwd)

if [[ -z ${GODWIT_GUEST_DIR:-} ]]; then
  GODWIT_GUEST_DIR=$("$here/../../tools/guest/build.sh" 2>"$OUT/guest-build.err" | tail -n 1) ||
    die "tools/guest/build.sh failed: $(tail -n 5 "$OUT/guest-build.err")"
fi
export GODWIT_GUEST_DIR
manifest=$GODWIT_GUEST_DIR/manifest.json
[[ -f $manifest ]] || manifest=$GODWIT_GUEST_DIR/current/manifest.json
jq -e '.ssh.port == 22' "$manifest" >/dev/null 2>&1 ||
  die "the guest in $GODWIT_GUEST_DIR has no SSH server (rebuild it: tools/guest/build.sh)"
log "guest from $GODWIT_GUEST_DIR"

# --- the guest's parser of the user data (authorized_keys.awk), on the host ---
k1="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 one@x" k2="ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAB== two"
k3="ecdsa-sha2-nistp256 AAAAE2VjZHNh= three" k4="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbob bob"
akeys() { busybox awk -f "$here/../../tools/guest/authorized_keys.awk"; }
got=$(printf '%s\n' '#cloud-config' 'hostname: x  # comment' 'ssh_authorized_keys:' "  - $k1" \
  "  - \"$k2\"" '' '  - not a key' 'users:' '  - default' '  - name: bob' '    ssh_authorized_keys:' \
  "      - $k4" '  - name: cirros' "    ssh_authorized_keys: ['$k3', \"$k1\"]" '  -' \
  '    ssh_authorized_keys:' "    - $k2" '    name: "cirros"' 'runcmd:' "  - echo $k4" | akeys)
want=$(printf '%s\n' "$k1" "$k2" "$k3" "$k1" "$k2")
[[ $got == "$want" ]] && ok "authorized_keys.awk: top-level keys and cirros's under users:, not bob's" ||
  fail "authorized_keys.awk: got '$got'"
got=$(printf 'ssh_authorized_keys:\n- %s\n' "$k1" | akeys)
[[ -z $got ]] && ok "authorized_keys.awk: no #cloud-config, no keys" || fail "not #cloud-config: got '$got'"
got=$(printf '#cloud-config\r\nssh_authorized_keys:\r\n- %s\r\nfoo: [1]\r\n' "$k1" | akeys)
[[ $got == "$k1" ]] && ok "authorized_keys.awk: CRLF, items at the key's indentation" ||
  fail "CRLF: got '$got'"

# --- the VM, with an SSH key in its user data ---
ssh-keygen -q -t ed25519 -N '' -C "guest_ssh-$LAB" -f "$OUT/id" || die "ssh-keygen"
userdata=$(printf '#cloud-config\nssh_authorized_keys:\n  - %s\n' "$(cat "$OUT/id.pub")" | base64 -w 0)
sed "s|userDataBase64: .*|userDataBase64: $userdata|" "$here/../../examples/testvm.yaml" \
  >"$OUT/testvm.yaml"
grep -q "userDataBase64: $userdata" "$OUT/testvm.yaml" || die "no user data in the manifest"

log "lab $LAB up (3 nodes)"
gw lab up --name "$LAB" --nodes 3 >/dev/null || die "lab up"
gw apply -f "$OUT/testvm.yaml" >/dev/null 2>&1 || die "apply testvm"
t0=$SECONDS
wait_until 90 "testvm Running on node-1" vm_running_on node-1 || die "testvm did not boot"
IP=$(vm_field .status.ipv4)
CONSOLE=$(dirname "$(vm_field .status.console)")/console.log
wait_until 60 "the guest's ready line" console_has "godwit-guest: ready ipv4=$IP\$" ||
  die "no ready line: $(tr -d '\r' <"$CONSOLE" | grep godwit-guest | tail -n 5)"
log "testvm Running on node-1 at $IP, ready after $((SECONDS - t0)) s"
hostkey=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^.*godwit-guest: ssh-hostkey //p' | tail -n 1)
[[ $hostkey =~ ^ssh-ed25519\ [A-Za-z0-9+/]+=*$ ]] && ok "host key on the console: ${hostkey:0:40}..." ||
  fail "no ssh-hostkey line on the console"

gw endpoint add obs --network default --node node-3 >/dev/null || die "endpoint obs"
OBS_IP=$(ep_ip obs)
wait_until 20 "ping testvm from obs" ep obs ping -c 1 -W 1 "$IP" || die "testvm does not answer obs"

ssh_opts=(-F /dev/null -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$OUT/known_hosts"
  -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=30 -o ServerAliveInterval=5
  -o ServerAliveCountMax=6 -o LogLevel=ERROR)
ssh_key() { # ssh_key CMD: runs CMD as cirros, logged in with the key
  ep obs ssh "${ssh_opts[@]}" -i "$OUT/id" -o BatchMode=yes -o PasswordAuthentication=no \
    cirros@"$IP" "$@" </dev/null
}
ssh_pw() { # ssh_pw PASSWORD CMD: the same with a password (sshpass), never a key
  local pw=$1
  shift
  ep obs sshpass -p "$pw" ssh "${ssh_opts[@]}" -o PubkeyAuthentication=no -o IdentitiesOnly=yes \
    -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 cirros@"$IP" "$@" </dev/null
}

# --- (a) the key from the user data ---
got=$(ssh_key 'echo "user=$(id -un) uid=$(id -u) home=$HOME pwd=$(pwd)"; echo out-$((6 * 7))' 2>"$OUT/a.err")
if [[ $got == $'user=cirros uid=1000 home=/home/cirros pwd=/home/cirros\nout-42' ]]; then
  ok "(a) ssh -i KEY cirros@$IP runs a command: $(head -n 1 <<<"$got")"
else
  fail "(a) key login: got '$got', $(tr '\n' ' ' <"$OUT/a.err")"
fi
recorded=$(awk -v ip="$IP" '$1 == ip {print $2 " " $3}' "$OUT/known_hosts" 2>/dev/null)
[[ -n $hostkey && $recorded == "$hostkey" ]] && ok "(a) the host key ssh accepted is the console's" ||
  fail "(a) known_hosts has '$recorded', the console said '$hostkey'"

# --- (b) the password ---
got=$(ssh_pw gocubsgo 'echo password-ok $(id -un)' 2>"$OUT/b.err")
rc=$?
[[ $rc == 0 && $got == "password-ok cirros" ]] && ok "(b) ssh with the password gocubsgo" ||
  fail "(b) password login: rc $rc, got '$got', $(tr '\n' ' ' <"$OUT/b.err")"

# --- (c) a wrong password ---
got=$(ssh_pw gocubsgo-not 'echo must-not-run' 2>"$OUT/c.err")
rc=$?
if ((rc != 0)) && [[ $got != *must-not-run* ]]; then
  ok "(c) a wrong password is refused (rc $rc: $(tr '\n' ' ' <"$OUT/c.err" | cut -c 1-80))"
else
  fail "(c) a wrong password: rc $rc, output '$got'"
fi

# --- (d) ping from inside the guest, as cirros ---
got=$(ssh_key "id -u; ping -c 3 -W 2 $OBS_IP" 2>"$OUT/d.err")
rc=$?
if ((rc == 0)) && [[ $(head -n 1 <<<"$got") == 1000 ]] && grep -q '3 packets transmitted, 3 packets received' <<<"$got"; then
  ok "(d) cirros pings obs ($OBS_IP) from the guest: $(grep 'round-trip' <<<"$got")"
else
  fail "(d) ping as cirros: rc $rc, '$got' $(tr '\n' ' ' <"$OUT/d.err")"
fi
# issue 12's scenario pings at 100/s: an interval below 0.2 s is allowed to cirros
got=$(ssh_key "ping -q -c 20 -i 0.01 -W 2 $OBS_IP" 2>"$OUT/d2.err")
rc=$?
((rc == 0)) && grep -q '^20 packets transmitted' <<<"$got" &&
  ok "(d) and at 100/s: $(grep 'packets transmitted' <<<"$got")" ||
  fail "(d) ping -i 0.01 as cirros: rc $rc, '$got' $(tr '\n' ' ' <"$OUT/d2.err")"

# --- (e) a session open across a migration ---
# The guest prints n=0, n=1, ... every 100 ms until told to stop (a file a
# later session makes; at most 120 s); the client stamps each line on arrival.
stopfile=/tmp/guest_ssh-stop-$LAB
loop='i=0; while [ ! -e '"$stopfile"' ] && [ $i -lt 1200 ]; do echo "n=$i"; i=$((i + 1)); sleep 0.1; done; echo "end=$i"'
{
  ssh_key "$loop" 2>"$OUT/e.err"
  echo "exit=$?"
} | stamp >"$OUT/loop.txt" &
LOOP=$!
EXTRA_PIDS+=("$LOOP")
lines() { wc -l <"$OUT/loop.txt"; }
lines_above() { (($(lines) > $1)); }
wait_until 60 "the counter's first 20 lines" lines_above 20 || die "the session printed $(lines) lines: $(cat "$OUT/e.err")"
before=$(lines)
t_mig=$EPOCHREALTIME
if gw migrate testvm --to node-2 --wait --json >"$OUT/m.json" 2>"$OUT/m.err" &&
  jtrue "$OUT/m.json" '.status.phase == "Succeeded"'; then
  ok "migrated node-1 -> node-2 with the session open ($before lines before): $(jq -c '.status.figures | {vm_blackout_ms, qemu_downtime_ms, total_ms}' "$OUT/m.json")"
else
  fail "migrate: $(cat "$OUT/m.err") $(jq -c .status "$OUT/m.json" 2>/dev/null)"
fi
t_done=$EPOCHREALTIME
wait_until 20 "testvm Running on node-2" vm_running_on node-2
after_mig=$(lines)
wait_until 20 "20 more lines after the migration" lines_above $((after_mig + 20)) ||
  fail "the session stopped printing after the migration ($(lines) lines)"
# a new session, on node-2 now, ends the loop (and sees the same host key)
got=$(ssh_key "touch $stopfile && echo stopped" 2>"$OUT/stop.err")
[[ $got == stopped ]] && ok "a new session after the migration, same host key (accept-new kept it)" ||
  fail "new session after the migration: '$got' $(tr '\n' ' ' <"$OUT/stop.err")"
wait_until 20 "the session's end" grep -q ' exit=' "$OUT/loop.txt"
kill "$LOOP" 2>/dev/null
status=$(sed -n 's/^[0-9.]* exit=//p' "$OUT/loop.txt")
[[ $status == 0 ]] && ok "(e) the session ended with status 0" ||
  fail "(e) the session's status: '$status', $(tr '\n' ' ' <"$OUT/e.err")"
# every number, in order, then end=N
if awk '$2 ~ /^n=/ { n = substr($2, 3); if (n != expect) { print "expected n=" expect ", got " $2; bad = 1; exit } expect++ }
    $2 ~ /^end=/ { if (substr($2, 5) != expect) { print "end=" substr($2, 5) " after " expect " numbers"; bad = 1 }; ended = 1 }
    END { if (!ended && !bad) print "no end line"; exit (bad || !ended) }' expect=0 "$OUT/loop.txt" >"$OUT/seq.txt"; then
  ok "(e) no gap in the counter: $(grep -c ' n=' "$OUT/loop.txt") numbers in order across the migration"
else
  fail "(e) counter: $(cat "$OUT/seq.txt")"
fi
# the longest wait between two lines, and where it fell
gap=$(awk '$2 ~ /^n=/ { if (prev != "" && $1 - prev > max) { max = $1 - prev; at = $1 } prev = $1 }
  END { printf "%.0f %.3f", max * 1000, at }' "$OUT/loop.txt")
gap_ms=${gap% *} gap_at=${gap#* }
log "(e) longest gap between lines: $gap_ms ms ($(awk -v a="$gap_at" -v s="$t_mig" -v d="$t_done" \
  'BEGIN { printf "%s the migration", (a >= s && a <= d + 1) ? "during" : "outside" }'))"
((gap_ms < 5000)) || fail "(e) the session stalled for $gap_ms ms"
finish
