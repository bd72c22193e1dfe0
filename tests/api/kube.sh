# kubectl against a godwitd (sourced by the API and e2e tests that drive kubectl):
#   kube_setup DIR HOST:PORT TOKEN CA_FILE  writes DIR/kubeconfig (0600), exports KUBECONFIG
#   kube_config FILE SERVER_URL TOKEN CA_FILE  writes one kubeconfig
# kubectl is the one on PATH: the machine image's v1.32, or Debian's kubernetes-client
# (1.20) in a fresh root. It talks to godwitd's own HTTPS listener (every TCP
# listener is HTTPS, controller/tls.h), verified with the cluster CA
# (STATE_DIR/tls/ca.crt); kubectl sends a bearer token only over https
# (kubernetes/kubectl#744).

kube_need() {
	KUBECTL=$(command -v kubectl) || {
		echo "kubectl missing (tools/deps.sh installs kubernetes-client): skip"
		exit 77
	}
	echo "using $KUBECTL: $("$KUBECTL" version --client 2>/dev/null | head -1)"
}

kube_config() { # FILE SERVER_URL TOKEN CA
	local f=$1 server=$2 token=$3 ca=$4
	[[ -s $ca ]] || { echo "kube_config: no CA at $ca" >&2; exit 1; }
	(
		umask 077
		cat >"$f" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: godwit
  cluster:
    server: $server
    certificate-authority: $ca
contexts:
- name: godwit
  context: {cluster: godwit, user: admin, namespace: default}
current-context: godwit
users:
- name: admin
  user: {token: $token}
KCFG
	)
}

kube_setup() { # DIR HOST:PORT TOKEN CA
	local d=$1 hostport=$2 token=$3 ca=${4:?kube_setup: the cluster CA (STATE_DIR/tls/ca.crt)}
	kube_server=https://$hostport
	kube_ca=$ca
	kube_config "$d/kubeconfig" "$kube_server" "$token" "$kube_ca"
	export KUBECONFIG=$d/kubeconfig
}
