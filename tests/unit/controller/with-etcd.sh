#!/usr/bin/env bash
# Runs a unit test (its command line: "$@") against a one-member etcd of its
# own on loopback, started here and stopped by PID: the test's stores are
# the etcd backend (GODWIT_TEST_ETCD, tmpstore.h). Skips (77) without etcd.
set -uo pipefail
command -v etcd >/dev/null || { echo "etcd missing (make deps)"; exit 77; }
dir=$(mktemp -d /tmp/godwit-etcd-XXXXXX)
pid=
cleanup() { [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
trap "exit 143" TERM INT # the clean-up runs on a timeout's SIGTERM too
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for attempt in 1 2 3; do
  client=$(free_port) peer=$(free_port)
  etcd --name unit --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "unit=http://127.0.0.1:$peer" --max-txn-ops 10000 \
    --log-level error >"$dir/etcd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$client/health" >/dev/null 2>&1 && break 2
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; rm -rf "$dir/data"
done
[[ -n $pid ]] || { echo "etcd did not start:"; cat "$dir/etcd.log"; exit 1; }
GODWIT_TEST_ETCD=http://127.0.0.1:$client "$@"
