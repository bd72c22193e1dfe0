#!/usr/bin/env bash
# Installs the Debian packages godwit needs to build, test and run its lab.
# Idempotent: does nothing (fast) when everything is there.
#
# QEMU comes from bookworm-backports (10.x) when that suite is reachable:
# Debian 12's QEMU 7.2 loses guest-CPU writes from the migration's dirty
# bitmap under TCG (fixed in QEMU 9.0, "physmem: Fix migration dirty bitmap
# coherency with TCG memory access"), so a guest resumes with stale pages and
# loses its network at about one migration in five once the switchover is
# fast. Without backports the stable QEMU is installed, with a warning.
set -euo pipefail

pkgs=(
  gcc make pkg-config meson ninja-build clang llvm libclang-rt-14-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libgnutls28-dev libyaml-dev
  libsqlite3-dev sqlite3 libmnl-dev libcmocka-dev libnftables-dev
  iproute2 iputils-ping iperf3 tcpdump procps psmisc curl jq python3 faketime openssl
  busybox-static cpio dropbear-bin openssh-client sshpass
  debhelper dpkg-dev fakeroot help2man lintian  # make deb, man pages
  prometheus  # promtool checks the /metrics text
  etcd-server etcd-client  # the etcd store's tests start their own etcd
)
QEMU_PKG=qemu-system-x86
QEMU_MIN=1:9.0
BACKPORTS=/etc/apt/sources.list.d/godwit-backports.sources
UNREACHABLE=/var/lib/godwit/backports-unreachable # set when backports failed

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]; }
qemu_new_enough() {
  installed "$QEMU_PKG" &&
    dpkg --compare-versions "$(dpkg-query -W -f='${Version}' "$QEMU_PKG")" ge "$QEMU_MIN"
}

# kubectl for the Kubernetes-API tests: Debian's kubernetes-client (1.20)
# only where no kubectl is on PATH, since that package's /usr/bin/kubectl
# would replace a newer one installed by other means.
command -v kubectl >/dev/null || pkgs+=(kubernetes-client)

missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
# A QEMU older than QEMU_MIN is kept only when backports were tried and failed.
want_qemu=false
if ! qemu_new_enough && ! { installed "$QEMU_PKG" && [[ -e $UNREACHABLE ]]; }; then
  want_qemu=true
fi
[[ ${#missing[@]} -eq 0 && $want_qemu == false ]] && exit 0
wanted=("${missing[@]}")
[[ $want_qemu == true ]] && wanted+=("$QEMU_PKG (>= $QEMU_MIN, bookworm-backports)")

if [[ $(id -u) -ne 0 ]]; then
  echo "godwit: missing Debian packages: ${wanted[*]}" >&2
  echo "godwit: run 'make deps' as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# The backports suite, on the mirror the system already uses.
add_backports() {
  local uri
  [[ -e $BACKPORTS ]] && return 0
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n $uri ]] || uri=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n $uri ]] || uri=http://deb.debian.org/debian
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" >"$BACKPORTS"
}

if [[ $want_qemu == true ]]; then
  add_backports
fi
echo "godwit: installing ${wanted[*]}" >&2
apt-get update -qq || true
if ((${#missing[@]})); then
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's etcd-server starts a system etcd on 127.0.0.1:2379 where systemd
# runs; godwit's tests and lab start their own. One installed here just now
# is stopped and disabled (an etcd installed before is left as it was).
if [[ " ${missing[*]} " == *" etcd-server "* ]] && [[ -d /run/systemd/system ]]; then
  systemctl disable --now etcd >/dev/null 2>&1 || true
  echo "godwit: the etcd service Debian's etcd-server started is stopped and disabled" >&2
fi
if [[ $want_qemu == true ]]; then
  if apt-get install -y -qq --no-install-recommends -t bookworm-backports "$QEMU_PKG" >/dev/null 2>&1 &&
    qemu_new_enough; then
    rm -f "$UNREACHABLE"
  else
    echo "godwit: WARNING: no $QEMU_PKG >= $QEMU_MIN from bookworm-backports: installing Debian 12's" >&2
    echo "godwit: WARNING: QEMU 7.2 loses guest RAM writes at migrations under TCG (no KVM): guests" >&2
    echo "godwit: WARNING: may lose their network after a migration (docs/VM.md, \"QEMU version\")" >&2
    mkdir -p "$(dirname "$UNREACHABLE")" && touch "$UNREACHABLE"
    apt-get install -y -qq --no-install-recommends "$QEMU_PKG" >/dev/null
  fi
fi
