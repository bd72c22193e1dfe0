#!/usr/bin/env bash
# TLS on the API (controller/tls.h): every TCP listener serves HTTPS with a
# certificate from the cluster CA in STATE/tls; the unix socket stays plain.
#  - curl with --cacert is answered; without it the certificate does not
#    verify; plain http:// to the TCP port gets no API answer;
#  - the certificate names the listen IP and every --tls-san;
#  - a restart keeps the CA and the certificate; another --tls-san re-issues
#    the certificate from the same CA;
#  - bad flags are refused with the flag named.
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$1" tls
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
godwitd_args=(--listen "127.0.0.1:$port" --tls-san ctrl.godwit.test)
start
ca=$state/tls/ca.crt
url=https://127.0.0.1:$port

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
	-H "Authorization: Bearer $token" "$url/v1/networks")
[[ $code == 200 ]] && ok "curl --cacert CA https://: 200" || fail "curl --cacert: HTTP $code"

out=$(curl -sS -o /dev/null --max-time 5 -H "Authorization: Bearer $token" "$url/v1/networks" 2>&1)
rc=$?
[[ $rc == 60 ]] && ok "without the CA the certificate does not verify (curl 60)" ||
	fail "curl without the CA: exit $rc: $out"

out=$(curl -s --max-time 5 -w '%{http_code}' -H "Authorization: Bearer $token" \
	"http://127.0.0.1:$port/v1/networks" 2>&1)
[[ $out != *items* && $out != *200 ]] && ok "plain http:// to the TCP port: no API answer ($out)" ||
	fail "plain http:// answered: $out"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
	--resolve "ctrl.godwit.test:$port:127.0.0.1" -H "Authorization: Bearer $token" \
	"https://ctrl.godwit.test:$port/v1/networks")
[[ $code == 200 ]] && ok "the --tls-san name verifies" || fail "--tls-san name: HTTP $code"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
	--resolve "other.godwit.test:$port:127.0.0.1" "https://other.godwit.test:$port/v1/healthz")
[[ $code == 000 ]] && ok "a name the certificate lacks does not verify" || fail "other name: HTTP $code"

code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
	-H "Authorization: Bearer $token" http://x/v1/networks)
[[ $code == 200 ]] && ok "the unix socket stays plain HTTP" || fail "unix socket: HTTP $code"

[[ $(stat -c %a "$state/tls/ca.key") == 600 && $(stat -c %a "$state/tls/server.key") == 600 ]] &&
	ok "the keys are mode 0600" || fail "key modes: $(stat -c '%n %a' "$state"/tls/*.key)"

ca_sum=$(sha256sum <"$ca") crt_sum=$(sha256sum <"$state/tls/server.crt")
stop
start
[[ $(sha256sum <"$ca") == "$ca_sum" && $(sha256sum <"$state/tls/server.crt") == "$crt_sum" ]] &&
	ok "a restart keeps the CA and the certificate" || fail "a restart changed the CA or certificate"

stop
godwitd_args=(--listen "127.0.0.1:$port" --tls-san ctrl.godwit.test --tls-san 192.0.2.7)
start
[[ $(sha256sum <"$ca") == "$ca_sum" && $(sha256sum <"$state/tls/server.crt") != "$crt_sum" ]] &&
	ok "another --tls-san: a new certificate, the same CA" || fail "SAN change: CA or certificate wrong"
grep -q "issued the server certificate .*names differ" "$dir/godwitd.log" &&
	ok "the log says why it was re-issued" || fail "no re-issue line in the log"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ca" \
	-H "Authorization: Bearer $token" "$url/v1/networks")
[[ $code == 200 ]] && ok "the re-issued certificate verifies with the kept CA" || fail "after re-issue: HTTP $code"
stop

out=$("$godwitd" --state-dir "$state" --tls-san 'a b' 2>&1)
[[ $? == 2 && $out == *'--tls-san: "a b" is neither an IP address nor a DNS name'* ]] &&
	ok "a bad --tls-san is refused: $out" || fail "bad --tls-san: $out"
out=$("$godwitd" --state-dir "$state" --tls-cert "$state/tls/server.crt" 2>&1)
[[ $? == 2 && $out == *"--tls-cert and --tls-key go together"* ]] &&
	ok "--tls-cert without --tls-key is refused" || fail "--tls-cert alone: $out"
mv "$state/tls/ca.key" "$dir/ca.key.away"
out=$(timeout 10 "$godwitd" --state-dir "$state" --listen "unix:$dir/x.sock" 2>&1)
[[ $? == 1 && $out == *"ca.crt without $state/tls/ca.key"* ]] &&
	ok "a CA without its key is refused, not replaced" || fail "CA without key: $out"
[[ $(sha256sum <"$ca") == "$ca_sum" ]] && ok "... and the CA is left as it was" || fail "CA changed"

if ((failures)); then
	echo "$failures failure(s); godwitd log:" >&2
	tail -n 20 "$dir/godwitd.log" >&2
	exit 1
fi
echo "all TLS checks passed"
