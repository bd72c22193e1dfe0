#!/usr/bin/env bash
# The whole fault matrix (tests/faults/matrix.sh) FAULTS_RUNS times in a row
# (default 3), each run on a fresh lab; writes bench/results/<date>-<host>-faults.json
# (every cell of every run) and a markdown table next to it: one row per cell,
# one column per run (the outcome, or what broke), and the tally.
#   bench/faults.sh BUILD_DIR [CELL...]
set -uo pipefail
build=$(realpath "${1:-build}")
shift
here=$(cd "$(dirname "$0")" && pwd)
[[ $(id -u) -eq 0 ]] || { echo "faults: needs root (network namespaces, BPF, QEMU)" >&2; exit 1; }
runs=${FAULTS_RUNS:-3}
mkdir -p "$here/results"
stamp="$(date +%Y-%m-%d)-$(hostname -s)-faults"
out="$here/results/$stamp.json" md="$here/results/$stamp.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
for ((i = 1; i <= runs; i++)); do
  echo "== fault matrix, run $i of $runs"
  FAULTS_OUT=$tmp/run$i.jsonl LAB=f$$r$i "$here/../tests/faults/matrix.sh" "$build/godwit" "$@" || status=1
done

machine=$(jq -n --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
  --arg kernel "$(uname -r)" --argjson cores "$(nproc)" --arg host "$(hostname -s)" \
  --arg qemu "$(qemu-system-x86_64 --version | head -1)" \
  '{host: $host, cpu: $cpu, cores: $cores, kernel: $kernel, qemu: $qemu}')
for ((i = 1; i <= runs; i++)); do
  [[ -s $tmp/run$i.jsonl ]] || : >"$tmp/run$i.jsonl"
done
jq -n --argjson machine "$machine" --arg date "$(date -Iseconds)" \
  '{date: $date, machine: $machine, runs: [inputs]}' \
  <(for ((i = 1; i <= runs; i++)); do jq -s . "$tmp/run$i.jsonl"; done) >"$out"

{
  echo "# Fault matrix, $(date +%Y-%m-%d) ($(jq -r '.machine | "\(.cores) cores, \(.qemu), kernel \(.kernel)"' "$out"))"
  echo
  echo "Each cell: a real QEMU VM (128 MiB, TCG) migrates between node-1 and node-2 while a probe on"
  echo "node-3 sends 200 ICMP/s and a verified TCP stream; one fault hits one part at one moment"
  echo "(tests/faults/matrix.sh). ok = no two QEMUs of the VM ever ran at once, the migration ended,"
  echo "the VM runs once where the API says, answers, and its TCP stream is intact where the guest kept running."
  echo
  printf '| cell |'; for ((i = 1; i <= runs; i++)); do printf ' run %d |' "$i"; done; echo
  printf '|---|'; for ((i = 1; i <= runs; i++)); do printf -- '---|'; done; echo
  jq -r '[.runs[][].cell] | unique | .[]' "$out" | while read -r cell; do
    printf '| %s |' "$cell"
    for ((i = 0; i < runs; i++)); do
      jq -r --arg c "$cell" --argjson i "$i" '
        ([.runs[$i][] | select(.cell == $c)] | first) as $r
        | if $r == null then " — |"
          elif $r.ok then " ok: \($r.phase), on \($r.vm_node), lost \($r.probe.lost) |"
          else " **FAIL**: \($r.why) |" end' "$out" | tr -d '\n'
    done
    echo
  done
  echo
  jq -r '[.runs[][]] | "\(map(select(.ok)) | length) of \(length) cells held every invariant; \(map(select(.violations > 0)) | length) split brains, \(map(select(.phase | IN("Succeeded","Failed","Aborted") | not)) | length) stuck migrations."' "$out"
} >"$md"
cat "$md"
echo "written: $out and $md"
exit $status
