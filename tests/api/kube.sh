# kubectl against a godwitd (sourced by the API and e2e tests that drive kubectl):
#   kube_setup DIR SERVER_HOSTPORT TOKEN [CA_FILE]  writes DIR/kubeconfig, exports KUBECONFIG
# kubectl is the one on PATH: the machine image's v1.32, or Debian's kubernetes-client
# (1.20) in a fresh root. kubectl sends no bearer token over plain HTTP
# (kubernetes/kubectl#744): without a CA (godwitd's TCP listener not yet HTTPS)
# a TLS front (tls_front.py, a self-signed certificate) stands in between.
KUBE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kube_front_pid=

kube_need() {
	KUBECTL=$(command -v kubectl) || {
		echo "kubectl missing (tools/deps.sh installs kubernetes-client): skip"
		exit 77
	}
	echo "using $KUBECTL: $("$KUBECTL" version --client 2>/dev/null | head -1)"
}

kube_cleanup() {
	if [[ -n $kube_front_pid ]]; then
		kill "$kube_front_pid" 2>/dev/null || true
		wait "$kube_front_pid" 2>/dev/null || true
		kube_front_pid=
	fi
}

# kube_front DIR UPSTREAM_PORT: a TLS front on 127.0.0.1; sets kube_server and kube_ca.
kube_front() {
	local d=$1 upstream=$2 deadline=$((SECONDS + 10))
	command -v openssl >/dev/null || { echo "openssl missing (for the TLS front): skip"; exit 77; }
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-keyout "$d/front.key" -out "$d/front.crt" -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 2>/dev/null
	python3 "$KUBE_LIB_DIR/tls_front.py" "$d/front.crt" "$d/front.key" "$upstream" \
		"$d/front.port" 2>>"$d/front.log" &
	kube_front_pid=$!
	until [[ -s $d/front.port ]]; do
		((SECONDS < deadline)) || { echo "the TLS front did not start" >&2; exit 1; }
		sleep 0.05
	done
	kube_server=https://127.0.0.1:$(cat "$d/front.port")
	kube_ca=$d/front.crt
}

kube_setup() { # DIR HOST:PORT TOKEN [CA]
	local d=$1 hostport=$2 token=$3 ca=${4:-}
	if [[ -n $ca && -s $ca ]]; then
		kube_server=https://$hostport
		kube_ca=$ca
	else
		kube_front "$d" "${hostport##*:}"
	fi
	cat >"$d/kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: godwit
  cluster:
    server: $kube_server
    certificate-authority: $kube_ca
contexts:
- name: godwit
  context: {cluster: godwit, user: admin, namespace: default}
current-context: godwit
users:
- name: admin
  user: {token: $token}
KCFG
	export KUBECONFIG=$d/kubeconfig
}
