#!/usr/bin/env bash
# Installs the Debian packages godwit needs to build, test and run its lab.
# Idempotent: does nothing (fast) when everything is there.
set -euo pipefail

pkgs=(
  gcc make pkg-config meson ninja-build clang llvm libclang-rt-14-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libyaml-dev
  libsqlite3-dev sqlite3 libmnl-dev libcmocka-dev
  iproute2 iputils-ping iperf3 tcpdump procps psmisc curl jq python3
  qemu-system-x86 busybox-static cpio
)

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "godwit: missing Debian packages: ${missing[*]}" >&2
  echo "godwit: run 'make deps' as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "godwit: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
