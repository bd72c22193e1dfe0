#!/usr/bin/env bash
# A representative subset of the fault matrix (tests/faults/matrix.sh; the
# whole matrix is `make faults`): an agent killed at the completion boundary
# and mid-transfer, an agent stopped past the readiness bound, the controller
# killed mid-transfer, the target QEMU killed after RESUME, the underlay cut
# mid-transfer, and a wall-clock step on the controller.
exec "$(dirname "$0")/../faults/matrix.sh" "$1" \
  source-kill-boundary target-kill-mid source-stop-mid controller-kill-mid \
  tqemu-kill-resumed underlay-cut-mid clock-plus30-mid
