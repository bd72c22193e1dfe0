#!/usr/bin/env bash
# The godwit guest (tools/guest) boots under QEMU on a tap in a namespace:
# it takes its address and MTU by DHCP (busybox udhcpd as the server), prints
# the user data it was given between the markers, says it is ready, answers
# ping and echoes a TCP byte stream on port 7 exactly (several connections at
# once), prints its SSH host key and serves SSH on port 22 (with ssh and sshpass:
# the cirros account logs in with its password, the host key checked against
# the console's, and pings as that unprivileged user). A second boot without a DHCP server says "dhcp failed" and
# "ready ipv4=none" after ~10 s and takes the lease once a server appears.
#   guest_boot.sh [PATH/TO/godwit]   (the CLI is used for `godwit probe` if given)
# Env: GODWIT_QEMU_ACCEL (default tcg; kvm:tcg on hosts whose KVM runs guests),
#      GUEST_BOOT_QUICK=1 skips the second boot.
set -uo pipefail

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
GODWIT=""
[[ -n ${1:-} && -x ${1:-} ]] && GODWIT=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
build_guest=$here/../../tools/guest/build.sh

P=t$$g
NS=$P-a    # tap + bridge + DHCP server + QEMU
NSB=$P-b   # a client behind the bridge (veth)
DIR=$(mktemp -d /tmp/godwit-guest-test.XXXXXX)
GUEST_IP=10.99.0.50
MAC=0a:58:0a:63:00:32
ACCEL=${GODWIT_QEMU_ACCEL:-tcg}
QEMU_PID="" DHCPD_PID=""
FAILED=0

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { log "FAIL: $*"; FAILED=1; }
ok() { log "ok: $*"; }
die() {
	log "FAIL: $*"
	[[ -f $DIR/console.log ]] && { log "--- console"; tr -d '\r' <"$DIR/console.log" | tail -n 30; }
	[[ -s $DIR/qemu.err ]] && { log "--- qemu stderr"; tail -n 10 "$DIR/qemu.err"; }
	exit 1
}

stop_pid() { # stop_pid PID: TERM, then KILL after 2 s
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
}
cleanup() {
	stop_pid "$QEMU_PID"
	stop_pid "$DHCPD_PID"
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

# wait_for TIMEOUT_S FILE REGEX: polls the console log every 50 ms.
wait_for() {
	local deadline=$((SECONDS + $1))
	until tr -d '\r' <"$2" 2>/dev/null | grep -qE "$3"; do
		((SECONDS < deadline)) || return 1
		[[ -n $QEMU_PID ]] && ! kill -0 "$QEMU_PID" 2>/dev/null && return 1
		sleep 0.05
	done
}

guest_dir=$("$build_guest" | tail -n 1) || die "tools/guest/build.sh failed"
[[ -s $guest_dir/vmlinuz && -s $guest_dir/initramfs.cpio.gz ]] || die "no guest in '$guest_dir'"
log "guest from $guest_dir"

# --- namespaces: A holds bridge br0 (10.99.0.1/24) with the tap and a veth to B ---
ip netns add "$NS" || die "ip netns add $NS"
ip netns add "$NSB" || die "ip netns add $NSB"
ip -n "$NS" link set lo up
ip -n "$NSB" link set lo up
ip -n "$NS" link add br0 type bridge
ip -n "$NS" addr add 10.99.0.1/24 dev br0
ip -n "$NS" link set br0 up
ip netns exec "$NS" ip tuntap add dev tap0 mode tap || die "tuntap add"
ip -n "$NS" link set tap0 master br0 up
ip -n "$NS" link add vb type veth peer name eth0 netns "$NSB"
ip -n "$NS" link set vb master br0 up
ip -n "$NSB" addr add 10.99.0.2/24 dev eth0
ip -n "$NSB" link set eth0 up

start_dhcpd() {
	cat >"$DIR/udhcpd.conf" <<-EOF
		start $GUEST_IP
		end $GUEST_IP
		interface br0
		max_leases 1
		lease_file $DIR/udhcpd.leases
		pidfile $DIR/udhcpd.pid
		option subnet 255.255.255.0
		option router 10.99.0.1
		option mtu 1450
		option lease 600
	EOF
	: >"$DIR/udhcpd.leases"
	ip netns exec "$NS" busybox udhcpd -f "$DIR/udhcpd.conf" >"$DIR/udhcpd.log" 2>&1 &
	DHCPD_PID=$!
}

# boot_guest USERDATA_TEXT: starts QEMU in namespace A on tap0.
boot_guest() {
	local ud accel_opt
	ud=$(printf '%s' "$1" | base64 -w 0)
	case $ACCEL in
	*:*) accel_opt=(-machine "pc,accel=$ACCEL") ;;
	*) accel_opt=(-accel "$ACCEL" -machine pc) ;;
	esac
	: >"$DIR/console.log"
	BOOT_START=$(date +%s%N)
	# `ip netns exec` execs QEMU: $! is QEMU's PID
	ip netns exec "$NS" qemu-system-x86_64 "${accel_opt[@]}" -cpu qemu64 -m 128 -smp 1 \
		-nographic -no-reboot -monitor none \
		-kernel "$guest_dir/vmlinuz" -initrd "$guest_dir/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet loglevel=4 panic=-1 ipv6.disable=1 godwit.userdata=$ud" \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac=$MAC \
		-serial "file:$DIR/console.log" </dev/null >"$DIR/qemu.out" 2>"$DIR/qemu.err" &
	QEMU_PID=$!
}

# --- boot 1: with a DHCP server ---
start_dhcpd
userdata=$(printf '#cloud-config\nhello from guest_boot %s: spaces  and\ttab' "$P")
boot_guest "$userdata"
log "qemu pid $QEMU_PID (accel $ACCEL)"
wait_for 60 "$DIR/console.log" 'godwit-guest: ready ipv4=' || die "no ready line within 60 s"
boot_ms=$((($(date +%s%N) - BOOT_START) / 1000000))
log "boot time (QEMU start -> ready line): ${boot_ms} ms"
console=$(tr -d '\r' <"$DIR/console.log")

grep -q "godwit-guest: ready ipv4=$GUEST_IP\$" <<<"$console" && ok "ready ipv4=$GUEST_IP" ||
	fail "ready line: $(grep 'ready ipv4' <<<"$console")"
grep -q "godwit-guest: dhcp ipv4=$GUEST_IP/24 mtu=1450\$" <<<"$console" &&
	ok "dhcp line shows $GUEST_IP/24 mtu=1450" || fail "dhcp line: $(grep 'dhcp' <<<"$console")"
got_ud=$(sed -n '/godwit-guest: user-data begin$/,/godwit-guest: user-data end$/p' <<<"$console" |
	sed '1d;$d')
[[ $got_ud == "$userdata" ]] && ok "user data printed between the markers" ||
	fail "user data: expected '$userdata', got '$got_ud'"
# the markers come before the ready line
ud_line=$(grep -n 'godwit-guest: user-data end' <<<"$console" | cut -d: -f1)
rd_line=$(grep -n 'godwit-guest: ready' <<<"$console" | cut -d: -f1)
[[ -n $ud_line && -n $rd_line && $ud_line -lt $rd_line ]] || fail "user data after the ready line"
# nothing else on the console: only our lines (and firmware noise before them)
noise=$(sed -n '/godwit-guest:/,$p' <<<"$console" | sed '/user-data begin/,/user-data end/d' |
	grep -v '^godwit-guest: ' | grep -v '^$' || true)
[[ -z $noise ]] && ok "console quiet" || fail "unexpected console output: $noise"

ip netns exec "$NS" ping -c 3 -i 0.2 -W 2 "$GUEST_IP" >/dev/null && ok "ping from A" || fail "ping from A"
ip netns exec "$NSB" ping -c 3 -i 0.2 -W 2 "$GUEST_IP" >/dev/null && ok "ping from B" ||
	fail "ping from B"

# TCP echo: three connections at once, each a distinct 20 KB byte stream
head -c 60000 /dev/urandom >"$DIR/rand"
echo_once() { # echo_once N: stream N through the guest's port 7, compare
	local n=$1
	dd if="$DIR/rand" of="$DIR/in$n" bs=20000 skip=$((n - 1)) count=1 status=none
	ip netns exec "$NSB" timeout 20 bash -c '
		exec 3<>/dev/tcp/'"$GUEST_IP"'/7 || exit 1
		cat "$1" >&3 &
		head -c 20000 <&3 >"$2"' _ "$DIR/in$n" "$DIR/out$n"
	cmp -s "$DIR/in$n" "$DIR/out$n"
}
pids=()
for n in 1 2 3; do echo_once "$n" & pids+=($!); done
echo_ok=0
for p in "${pids[@]}"; do wait "$p" && echo_ok=$((echo_ok + 1)); done
[[ $echo_ok == 3 ]] && ok "tcp echo: 3 concurrent 20 KB streams echoed exactly" ||
	fail "tcp echo: $echo_ok of 3 streams echoed exactly"
seq_ok=0
for n in 1 2 3 4 5; do
	got=$(ip netns exec "$NSB" timeout 5 bash -c \
		'exec 3<>/dev/tcp/'"$GUEST_IP"'/7 && printf "ping-%s\n" "$1" >&3 && head -n 1 <&3' _ "$n")
	[[ $got == "ping-$n" ]] || { fail "sequential echo $n: got '$got'"; break; }
	seq_ok=$((seq_ok + 1))
done
[[ $seq_ok == 5 ]] && ok "tcp echo: 5 sequential connections"

if [[ -n $GODWIT ]]; then
	ip netns exec "$NSB" "$GODWIT" probe "$GUEST_IP" --rate 50 --duration 2 --tcp 7 --json \
		>"$DIR/probe.json" 2>"$DIR/probe.err"
	if jq -e '.tcp.bytes_sent > 0 and .tcp.bytes_verified == .tcp.bytes_sent and .lost == 0
		and .tcp.mismatch == null' "$DIR/probe.json" >/dev/null 2>&1; then
		ok "godwit probe: $(jq -r '"\(.received)/\(.sent) pings, \(.tcp.bytes_verified) bytes verified"' "$DIR/probe.json")"
	else
		fail "godwit probe: $(cat "$DIR/probe.json" "$DIR/probe.err" | tr '\n' ' ')"
	fi
else
	log "no godwit CLI given: skipping godwit probe"
fi

# SSH: the host key on the console, dropbear on port 22, the cirros account
hostkey=$(sed -n 's/^godwit-guest: ssh-hostkey //p' <<<"$console")
[[ $hostkey =~ ^ssh-ed25519\ [A-Za-z0-9+/]+=*$ ]] && ok "ssh host key on the console" ||
	fail "no ssh-hostkey line: $(grep 'godwit-guest: ssh' <<<"$console")"
banner=$(ip netns exec "$NSB" timeout 10 bash -c \
	'exec 3<>/dev/tcp/'"$GUEST_IP"'/22 && head -n 1 <&3' | tr -d '\r')
[[ $banner == SSH-2.0-dropbear* ]] && ok "port 22: $banner" || fail "port 22 banner: '$banner'"
if command -v ssh >/dev/null && command -v sshpass >/dev/null && [[ -n $hostkey ]]; then
	echo "$GUEST_IP $hostkey" >"$DIR/known_hosts"
	got=$(ip netns exec "$NSB" timeout 60 sshpass -p gocubsgo ssh -F /dev/null \
		-o UserKnownHostsFile="$DIR/known_hosts" -o StrictHostKeyChecking=yes \
		-o PubkeyAuthentication=no -o ConnectTimeout=20 cirros@"$GUEST_IP" \
		'id -un; ping -c 2 -i 0.2 -W 2 10.99.0.2 >/dev/null && echo ping-ok; cat /run/godwit/sshd.log' \
		2>"$DIR/ssh.err")
	[[ $(head -n 2 <<<"$got") == $'cirros\nping-ok' ]] &&
		ok "ssh cirros@ with the password, host key as on the console; ping as cirros" ||
		fail "ssh: got '$got', $(tr '\n' ' ' <"$DIR/ssh.err")"
	log "guest's sshd.log: $(sed -n '3,$p' <<<"$got" | grep '^sshd:' | tr '\n' ' ')"
else
	log "no ssh/sshpass: skipping the SSH login"
fi

# --- boot 2: no DHCP server at first ---
if [[ ${GUEST_BOOT_QUICK:-0} != 1 ]]; then
	stop_pid "$QEMU_PID"; QEMU_PID=""
	stop_pid "$DHCPD_PID"; DHCPD_PID=""
	boot_guest "second boot"
	wait_for 60 "$DIR/console.log" 'godwit-guest: ready ipv4=none$' ||
		die "no 'ready ipv4=none' without a DHCP server"
	grep -q '^godwit-guest: dhcp failed' <(tr -d '\r' <"$DIR/console.log") &&
		ok "without DHCP: 'dhcp failed' and 'ready ipv4=none' after $((($(date +%s%N) - BOOT_START) / 1000000)) ms" ||
		fail "without DHCP: no 'dhcp failed' line"
	start_dhcpd
	wait_for 30 "$DIR/console.log" "godwit-guest: ready ipv4=$GUEST_IP\$" &&
		ok "late DHCP server: lease taken and announced" ||
		fail "late DHCP server: no 'ready ipv4=$GUEST_IP'"
	ip netns exec "$NS" ping -c 2 -i 0.2 -W 2 "$GUEST_IP" >/dev/null && ok "ping after late lease" ||
		fail "ping after late lease"
fi

[[ $FAILED == 0 ]] && log "PASS" || log "FAILED"
exit $FAILED
