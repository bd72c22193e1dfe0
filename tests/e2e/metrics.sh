#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes the lab's controller with the cluster's
# token: the target is up, the three nodes are counted ready, a drill's
# migration is counted once as Succeeded with its phases, and the datapath
# counters of the nodes that forwarded between two endpoints have moved.
# The scrape and the agents go over TLS (the lab's CA): a capture on the
# underlay shows neither the bearer token nor "GET /v1" in plaintext.
source "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || { echo "SKIP: no prometheus (make deps installs it)"; exit 77; }

gw lab up --name "$LAB" --nodes 3 || die "lab up"
gw apply -f "$(dirname "$0")/../../examples/network.yaml" || die "apply network"
gw endpoint add a --network blue --node node-1 || die "endpoint add a"
gw endpoint add b --network blue --node node-2 || die "endpoint add b"
ep a ping -c 3 -i 0.2 -W 2 "$(ep_ip b)" >/dev/null || fail "ping a -> b"
gw drill a --to node-3 >"$LAB_DIR/drill.out" 2>&1 || die "drill: $(tail -n 5 "$LAB_DIR/drill.out")"
ep a ping -c 3 -i 0.2 -W 2 "$(ep_ip b)" >/dev/null || fail "ping a -> b after the drill"

prom=$LAB_DIR/prometheus
mkdir -p "$prom/data"
cat >"$prom/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: godwitd
    metrics_path: /metrics
    scheme: https
    tls_config: {ca_file: $LAB_DIR/ca.crt}
    authorization: {credentials_file: $LAB_DIR/token}
    static_configs: [{targets: ['10.254.0.1:7480']}]
  - job_name: agents
    static_configs: [{targets: ['10.254.0.11:7482', '10.254.0.12:7482', '10.254.0.13:7482']}]
YAML
# In the lab's underlay namespace, where the controller listens; its own loopback.
ip netns exec "$LAB-ul" prometheus --config.file="$prom/prometheus.yml" \
  --storage.tsdb.path="$prom/data" --web.listen-address=127.0.0.1:9090 \
  >"$prom/prometheus.log" 2>&1 &
EXTRA_PIDS+=($!)

# query EXPR: the value of an instant query's single result ("" when none)
query() {
  ip netns exec "$LAB-ul" curl -s -G --data-urlencode "query=$1" \
    http://127.0.0.1:9090/api/v1/query 2>/dev/null |
    jq -r 'if .data.result | length == 1 then .data.result[0].value[1] else "" end'
}
equals() { [[ $(query "$1") == "$2" ]]; }
above() { local v; v=$(query "$1"); [[ -n $v ]] && (( ${v%.*} > $2 )); }

wait_until 30 "Prometheus scrapes godwitd" equals 'up{job="godwitd"}' 1 \
  && ok "the controller's target is up (token accepted)" \
  || { tail -n 20 "$prom/prometheus.log"; die "no scrape"; }
equals 'godwit_nodes{ready="true"}' 3 && ok "3 nodes ready" \
  || fail "ready nodes: $(query 'godwit_nodes{ready="true"}')"
equals 'godwit_migrations_finished_total{outcome="Succeeded"}' 1 && ok "the drill's migration counted once" \
  || fail "succeeded: $(query 'godwit_migrations_finished_total{outcome="Succeeded"}')"
equals 'godwit_migration_phase_duration_seconds_count{phase="Replicating"}' 1 \
  && ok "its phases observed" || fail "phase histogram: $(query 'godwit_migration_phase_duration_seconds_count{phase="Replicating"}')"
above 'godwit_datapath_packets_total{node="node-1",counter="fwd_remote"}' 0 \
  && ok "node-1's datapath sent frames to another node" || fail "fwd_remote of node-1"
equals 'sum(godwit_migrations)' 0 && ok "no unfinished migration" || fail "unfinished: $(query 'sum(godwit_migrations)')"

# Each agent's own /metrics: Prometheus's text format, scraped from all three.
ip netns exec "$LAB-ul" curl -sf http://10.254.0.11:7482/metrics >"$LAB_DIR/agent.txt" \
  || fail "GET /metrics of node-1's agent"
promtool check metrics <"$LAB_DIR/agent.txt" >"$LAB_DIR/promtool.out" 2>&1 \
  && ok "promtool check metrics (agent)" || fail "promtool (agent): $(cat "$LAB_DIR/promtool.out")"
wait_until 30 "Prometheus scrapes the agents" equals 'sum(up{job="agents"})' 3 \
  && ok "the three agents' targets are up" || fail "agents up: $(query 'sum(up{job="agents"})')"
above 'godwit_agent_datapath_packets_total{instance="10.254.0.11:7482",counter="fwd_remote"}' 0 \
  && ok "node-1's agent counts the frames it sent to another node" \
  || fail "agent fwd_remote of node-1: $(query 'godwit_agent_datapath_packets_total{instance="10.254.0.11:7482",counter="fwd_remote"}')"
# endpoint a now on node-3 (the drill), b on node-2: one active port each
wait_until 10 "agents report their ports" equals 'sum(godwit_agent_ports{state="active"})' 2 \
  && ok "two active ports across the agents" \
  || fail "active ports: $(query 'sum(godwit_agent_ports{state="active"})')"
equals 'godwit_agent_port_state{instance="10.254.0.13:7482",port="a",state="active"}' 1 \
  && ok "node-3's agent has port a active" || fail "port a on node-3"
# The underlay while agents heartbeat and watch and Prometheus scrapes: 4 s
# of the API port on the bridge, with payloads, then the endpoint moved (a
# drill: migration writes from the agents) inside the capture.
if command -v tcpdump >/dev/null; then
  pcap=$LAB_DIR/underlay.pcap
  ip netns exec "$LAB-ul" timeout 6 tcpdump -i br0 -U -s 0 -w "$pcap" 'tcp port 7480' \
    >"$LAB_DIR/tcpdump.log" 2>&1 & TD=$!
  wait_until 5 "tcpdump listening" grep -q "listening on" "$LAB_DIR/tcpdump.log"
  gw drill a --to node-2 >"$LAB_DIR/drill2.out" 2>&1 || fail "drill during the capture"
  wait "$TD"
  payloads=$(tcpdump -r "$pcap" -nn 'tcp[tcpflags] & tcp-push != 0' 2>/dev/null | wc -l)
  ((payloads > 20)) && ok "the capture holds $payloads API segments with payload" \
    || fail "the capture holds only $payloads segments with payload"
  token=$(cat "$LAB_DIR/token")
  if grep -aqF "$token" "$pcap"; then fail "the bearer token is in plaintext on the underlay"
  else ok "no bearer token in plaintext on the underlay"; fi
  if grep -aqF "GET /v1" "$pcap" || grep -aqF "PUT /v1" "$pcap"; then
    fail "plaintext API requests on the underlay"
  else ok "no plaintext \"GET /v1\" (nor PUT) on the underlay"; fi
else
  fail "no tcpdump (make deps installs it)"
fi
finish
