# Sourced by the VM benches (vm_migration.sh, tb_cache.sh): testvm
# (examples/testvm.yaml) in a 3-node lab named $LAB, watched from an
# endpoint `obs` on node-3. Needs GODWIT (the CLI) and LAB set.
gw() { "$GODWIT" --lab "$LAB" "$@"; }
vm_field() { gw get vm testvm -o json 2>/dev/null | jq -r "$1"; }
# Running and ready on one node, no migration under way.
settled() {
  gw get vm testvm -o json 2>/dev/null | jq -e '.status.phase == "Running" and .status.ready
    and .spec.target == null and .status.node == .spec.node' >/dev/null
}
# vmlab_up REPO_ROOT: the lab, testvm settled (2 min at most), the observer
# endpoint; sets IP to the guest's address. Returns 1 when a step fails.
vmlab_up() {
  gw lab up --name "$LAB" --nodes 3 >/dev/null || { echo "lab up failed" >&2; return 1; }
  gw apply -f "$1/examples/testvm.yaml" >/dev/null 2>&1 || return 1
  for _ in $(seq 240); do settled && break; sleep 0.5; done
  IP=$(vm_field .status.ipv4)
  gw endpoint add obs --network default --node node-3 >/dev/null || return 1
}
