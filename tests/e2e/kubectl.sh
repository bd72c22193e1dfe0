#!/usr/bin/env bash
# A KubeVirt user's kubectl against the lab (issue 15): the seed manifest
# (examples/testvm.yaml, unchanged) applied with `kubectl apply`, the
# VirtualMachineInstance Running with the VM's node and address, a
# VirtualMachineInstanceMigration created with `kubectl create -f` that
# Succeeds with the vmi on another node and the guest still answering,
# `kubectl get vm -w` printing the phase changes, a malformed manifest
# refused with the field's path, `kubectl delete vm`. kubectl reads the
# kubeconfig `godwit lab up` writes (LAB/kubeconfig: the controller's https://
# URL on the underlay, the lab's CA, the admin token) and runs in the
# underlay's namespace, where that URL is reachable.
source "$(dirname "$0")/lib.sh"
command -v kubectl >/dev/null || { echo "SKIP: kubectl missing (tools/deps.sh installs kubernetes-client)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
guest=${GODWIT_GUEST_DIR:-/var/cache/godwit/guest}
[[ -s $guest/current/vmlinuz || -n $(ls "$guest"/*/vmlinuz 2>/dev/null) ]] ||
  { echo "SKIP: no guest image under $guest (make guest)"; exit 77; }
OUT=$(dirname "$GODWIT_CONFIG")
SEED=$(dirname "$0")/../../examples/testvm.yaml
KCFG=$LAB_DIR/kubeconfig

kc() { ip netns exec "$LAB-ul" kubectl --kubeconfig "$KCFG" "$@"; }
vmi_field() { kc get vmi testvm -o jsonpath="{$1}" 2>/dev/null; }
vmi_is() { [[ $(vmi_field .status.phase) == "$1" ]]; }
vmim_is() { [[ $(kc get vmim "$1" -o jsonpath='{.status.phase}' 2>/dev/null) == "$2" ]]; }
pings() { ep obs ping -c 2 -i 0.2 -W 1 "$1" >/dev/null; }
vm_gone() { ! gw get vm testvm >/dev/null 2>&1; }

log "lab $LAB up (3 nodes)"
out=$(gw lab up --name "$LAB" --nodes 3) || die "lab up"
[[ $out == *"kubeconfig: $KCFG"* ]] && ok "lab up names the kubeconfig" || fail "lab up: $out"
[[ $(stat -c %a "$KCFG") == 600 ]] && ok "the kubeconfig (a token in it) is mode 0600" ||
  fail "kubeconfig mode $(stat -c %a "$KCFG" 2>&1)"
log "kubectl: $(kubectl version --client 2>/dev/null | head -1)"

# --- the watch, then the seed's apply ---
ip netns exec "$LAB-ul" kubectl --kubeconfig "$KCFG" get vm -w >"$OUT/watch" 2>&1 &
WATCH=$!
EXTRA_PIDS+=("$WATCH")
out=$(kc apply -f - <"$SEED" 2>"$OUT/kerr")
[[ $out == "virtualmachine.kubevirt.io/testvm created" ]] && ok "kubectl apply of the seed manifest: $out ($(cat "$OUT/kerr"))" ||
  die "apply: $out $(cat "$OUT/kerr")"
t0=$SECONDS
wait_until 120 "vmi testvm Running" vmi_is Running || die "the vmi did not run"
node1=$(vmi_field .status.nodeName)
ip=$(vmi_field '.status.interfaces[0].ipAddress')
log "vmi testvm Running on $node1 ($ip) after $((SECONDS - t0)) s"
[[ $ip == "$(gw get vm testvm -o json | jq -r .status.ipv4)" && -n $ip ]] &&
  ok "vmi: node $node1, address $ip as godwit has them" || fail "vmi address '$ip'"
out=$(kc apply -f - <"$SEED" 2>/dev/null)
[[ $out == "virtualmachine.kubevirt.io/testvm unchanged" ]] && ok "applied again: $out" || fail "apply again: $out"
out=$(kc get vm,vmi -o wide 2>&1)
[[ $out == *testvm*Running*testvm*Running*"$ip"*"$node1"* ]] && ok "kubectl get vm,vmi -o wide" ||
  fail "get vm,vmi: $out"

gw endpoint add obs --network default --node node-3 >/dev/null || die "endpoint obs"
wait_until 30 "ping testvm from obs" pings "$ip" || die "testvm does not answer"

# --- a migration with kubectl create -f ---
cat >"$OUT/migration.yaml" <<EOM
apiVersion: kubevirt.io/v1
kind: VirtualMachineInstanceMigration
metadata:
  name: testvm-mig
spec:
  vmiName: testvm
EOM
out=$(kc create -f "$OUT/migration.yaml" 2>&1)
[[ $out == "virtualmachineinstancemigration.kubevirt.io/testvm-mig created" ]] && ok "kubectl create -f: $out" ||
  die "create vmim: $out"
wait_until 180 "vmim testvm-mig Succeeded" vmim_is testvm-mig Succeeded ||
  die "migration: $(kc get vmim testvm-mig -o yaml 2>&1 | tail -20)"
node2=$(vmi_field .status.nodeName)
[[ -n $node2 && $node2 != "$node1" ]] && ok "vmim Succeeded: the vmi moved $node1 -> $node2" ||
  fail "the vmi is on '$node2' (was $node1)"
wait_until 30 "ping testvm after the migration" pings "$ip" && ok "the guest answers at $ip after the migration"
out=$(kc get vmim 2>&1)
[[ $out == *testvm-mig*Succeeded* ]] && ok "kubectl get vmim: $(tail -n 1 <<<"$out")" || fail "get vmim: $out"

kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null
phases=$(awk '$1 == "testvm" {print $3}' "$OUT/watch" | uniq | paste -sd' ')
[[ $phases == *Running* && $phases == *Migrating* && $(wc -w <<<"$phases") -ge 3 ]] &&
  ok "kubectl get vm -w printed the phase changes: $phases" || fail "get -w: $(cat "$OUT/watch")"

# --- a malformed manifest, then delete ---
out=$(sed -e 's/bridge: {}/masquerade: {}/' -e 's/name: testvm/name: badvm/' "$SEED" | kc apply -f - 2>&1)
[[ $out == *'The VirtualMachine "badvm" is invalid: spec.template.spec.domain.devices.interfaces[0].masquerade: not supported'* ]] &&
  ok "a malformed manifest: kubectl's error with the field's path" || fail "malformed: $out"
gw get vm badvm >/dev/null 2>&1 && fail "badvm was stored"
out=$(kc delete vm testvm 2>&1)
[[ $out == *'"testvm" deleted'* ]] && ok "kubectl delete vm testvm" || fail "delete: $out"
wait_until 60 "vm testvm gone" vm_gone && ok "the VM is gone from godwit"

((FAILED == 0)) || { dump_state; exit 1; }
log "RESULT: PASS"
