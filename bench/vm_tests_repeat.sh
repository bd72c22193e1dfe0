#!/usr/bin/env bash
# Every test of `make check` that runs a real QEMU guest, ROUNDS times in a
# row (issue 10: "stays green 10 runs in a row"). Stops at the first round
# with a failure and keeps its log. Prints one line per round and, last,
# "N passed, N failed" over the rounds.
#   bench/vm_tests_repeat.sh BUILD_DIR [ROUNDS (default 10)] [LOG_DIR]
set -uo pipefail
build=$1 rounds=${2:-10} logs=${3:-$(mktemp -d)}
# the QEMU unit test and every e2e test that boots a guest (tests/e2e/*.sh
# that apply examples/testvm.yaml, and faults.sh through tests/faults/)
tests=(agent-vm-qemu e2e_tunnel e2e_guest_boot e2e_guest_ssh e2e_demo e2e_vm_migrate e2e_gateway_vm
       e2e_faults e2e_seed e2e_kubectl)
passed=0 failed=0
mkdir -p "$logs"
for i in $(seq 1 "$rounds"); do
  start=$(date +%s)
  if meson test -C "$build" --no-rebuild "${tests[@]}" >"$logs/round-$i.log" 2>&1; then
    passed=$((passed + 1))
    echo "round $i/$rounds: ${#tests[@]} VM tests passed ($(($(date +%s) - start)) s)"
    cp "$build/meson-logs/testlog.txt" "$logs/round-$i.testlog.txt"
  else
    failed=$((failed + 1))
    cp "$build/meson-logs/testlog.txt" "$logs/round-$i.testlog.txt"
    echo "round $i/$rounds: FAILED: $(grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT)' "$logs/round-$i.log" | tr -s ' ' | tr '\n' ';')"
    echo "log: $logs/round-$i.testlog.txt"
    break
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
