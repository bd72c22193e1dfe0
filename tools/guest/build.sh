#!/usr/bin/env bash
# Builds the godwit guest: Debian's cloud kernel + a busybox initramfs with
# Debian's dropbear as its SSH server (see tools/guest/README.md). Builds
# once and caches outside the source tree:
#   /var/cache/godwit/guest/<kernel-version>/{vmlinuz,initramfs.cpio.gz,manifest.json}
# A second run is a no-op unless an input changed (this script, init,
# udhcpc.script, sshd, authorized_keys.awk, busybox, dropbear, dropbearkey
# and their shared libraries, the kernel version). Progress goes to
# stderr; the output directory is printed on stdout (last line) on success.
#
#   tools/guest/build.sh [--out DIR] [--kernel VERSION] [--force] [--print-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${GODWIT_GUEST_CACHE:-/var/cache/godwit/guest}
out="" kver="" force=0 print_dir=0
# virtio-net needs these, loaded in this order (FACTS.md); newer kernels build
# some of them in. qemu_fw_cfg is optional (large user data through fw_cfg).
net_modules=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	     failover net_failover virtio_net)
optional_modules=(qemu_fw_cfg)
min_memory_mib=96
cmdline="console=ttyS0 quiet loglevel=4 panic=-1 ipv6.disable=1"
userdata_max_base64=1900
# SSH (README.md, "SSH"): the account of the CirrOS image the seed's manifest
# names and Debian's dropbear (package dropbear-bin) with the shared libraries
# ldd names.
ssh_user=cirros ssh_password=gocubsgo ssh_uid=1000
ssh_bins=(/usr/sbin/dropbear /usr/bin/dropbearkey)

say() { echo "guest: $*" >&2; }
die() { echo "guest: error: $*" >&2; exit 1; }
usage() {
	sed -n '/^#   tools/s/^#   //p' "$0" >&2
	exit 2
}

while (($#)); do
	case $1 in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--kernel) kver=${2:?--kernel needs a version}; shift 2 ;;
	--kernel=*) kver=${1#*=}; shift ;;
	--force) force=1; shift ;;
	--print-dir) print_dir=1; shift ;;
	-h | --help) usage ;;
	*) echo "guest: unknown argument '$1'" >&2; usage ;;
	esac
done

# The newest linux-image-<version>-cloud-amd64 apt knows (the signed image
# package: it ships /boot/vmlinuz-*; -dbg has none, -unsigned is the same image).
newest_cloud_kernel() {
	apt-cache pkgnames linux-image- 2>/dev/null |
		sed -n 's/^linux-image-\([0-9][^ ]*-cloud-amd64\)$/\1/p' | sort -V | tail -n 1
}

if [[ -z $kver ]]; then
	kver=$(newest_cloud_kernel)
	if [[ -z $kver && $print_dir == 1 && -z $out ]]; then
		# offline: the newest guest already built
		kver=$(for d in "$base"/*-cloud-amd64/manifest.json; do
			[[ -f $d ]] && basename "$(dirname "$d")"
		done | sort -V | tail -n 1)
	fi
	if [[ -z $kver && $print_dir == 0 ]]; then
		[[ $(id -u) -eq 0 ]] || die "apt knows no linux-image-*-cloud-amd64 package; run 'apt-get update' as root"
		say "apt knows no cloud kernel yet: running apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed: is the Debian archive reachable?"
		kver=$(newest_cloud_kernel)
	fi
	[[ -n $kver ]] || die "no linux-image-*-cloud-amd64 package in apt's lists (is the Debian archive configured and reachable?)"
fi
[[ $kver =~ ^[0-9][A-Za-z0-9.+~_-]*-cloud-amd64$ ]] || die "kernel version '$kver' is not <version>-cloud-amd64"
out=${out:-$base/$kver}

if [[ $print_dir == 1 ]]; then
	echo "$out"
	exit 0
fi

for tool in busybox cpio gzip sha256sum flock; do
	command -v "$tool" >/dev/null || die "'$tool' not found (make deps installs busybox-static, cpio)"
done
busybox_bin=/bin/busybox
[[ -x $busybox_bin ]] && ! ldd "$busybox_bin" >/dev/null 2>&1 ||
	die "$busybox_bin is not a static busybox (install busybox-static)"

for b in "${ssh_bins[@]}"; do
	[[ -x $b ]] || die "$b not found (make deps installs dropbear-bin)"
done
# ldd prints "FILE:" before each file's list, "name => /path (addr)" for a
# library and "/path (addr)" for the loader; a library it cannot find is a
# broken host, not a guest to build.
ldd_out=$(ldd "${ssh_bins[@]}") || die "ldd ${ssh_bins[*]} failed"
! grep -q 'not found' <<<"$ldd_out" || die "missing shared libraries: $(grep 'not found' <<<"$ldd_out")"
mapfile -t libs < <(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' <<<"$ldd_out" |
	LC_ALL=C sort -u)
((${#libs[@]})) || die "ldd named no shared library for ${ssh_bins[*]}"

inputs_sha=$(cat "$0" "$here/init" "$here/udhcpc.script" "$here/sshd" "$here/authorized_keys.awk" \
	"$busybox_bin" "${ssh_bins[@]}" "${libs[@]}" <(echo "$kver" "${libs[*]}") |
	sha256sum | cut -d' ' -f1)

cached() {
	[[ -s $out/vmlinuz && -s $out/initramfs.cpio.gz && -s $out/manifest.json ]] &&
		grep -q "\"inputs_sha256\": \"$inputs_sha\"" "$out/manifest.json"
}

mkdir -p "$out" 2>/dev/null && [[ -w $out ]] ||
	die "cannot write to $out (run as root, or choose a directory with --out DIR or GODWIT_GUEST_CACHE)"
exec 9>"$out/.lock"
flock 9  # one build at a time; a second caller waits, then finds the cache
if [[ $force == 0 ]] && cached; then
	say "up to date (kernel $kver)"
	echo "$out"
	exit 0
fi

work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
pkg=linux-image-$kver

say "downloading $pkg (apt-get download)"
if ! (cd "$work" && apt-get download "$pkg" >download.log 2>&1); then
	if grep -qE 'Unable to locate|Can.t select|has no installation candidate' "$work/download.log"; then
		if [[ $(id -u) -eq 0 ]]; then
			say "apt does not know $pkg: running apt-get update"
			apt-get update -qq >&2 || die "apt-get update failed: is the Debian archive reachable?"
		fi
	fi
	(cd "$work" && apt-get download "$pkg" >download.log 2>&1) || {
		sed 's/^/guest:   /' "$work/download.log" >&2
		grep -qE 'Unable to locate|Can.t select|has no installation candidate' "$work/download.log" &&
			die "apt has no package $pkg (wrong --kernel version?)"
		die "cannot download $pkg: is the Debian archive reachable from this machine?"
	}
fi
deb=$(ls "$work"/*.deb)
say "unpacking $(basename "$deb") (dpkg -x, nothing is installed)"
dpkg -x "$deb" "$work/pkg"
rm -f "$deb"
[[ -f $work/pkg/boot/vmlinuz-$kver ]] || die "$pkg has no /boot/vmlinuz-$kver"
moddir=$work/pkg/lib/modules/$kver
[[ -d $moddir ]] || die "$pkg has no /lib/modules/$kver"

say "resolving module dependencies (busybox depmod)"
busybox depmod -b "$work/pkg" "$kver"
builtin() { grep -q "/$1\.ko\$" "$moddir/modules.builtin"; }
dep_line() { grep -E "(^|/)$1\.ko(\.xz|\.gz|\.zst)?:" "$moddir/modules.dep" || true; }

order=()
add_module() { # add_module NAME REQUIRED: NAME and its dependencies, dependencies first
	local name=$1 required=$2 line path deps i
	builtin "$name" && return 0
	line=$(dep_line "$name")
	if [[ -z $line ]]; then
		[[ $required == 1 ]] && die "module $name is neither built into $kver nor shipped by $pkg"
		say "note: $kver has no module $name (optional, skipped)"
		return 0
	fi
	path=${line%%:*}
	read -ra deps <<<"${line#*:}"
	# modules.dep lists the dependencies to load last first
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do order+=("${deps[i]}"); done
	order+=("$path")
}
for m in "${net_modules[@]}"; do add_module "$m" 1; done
for m in "${optional_modules[@]}"; do add_module "$m" 0; done

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,etc/godwit,lib/modules/"$kver"}
: >"$root/etc/godwit/modules"
declare -A done_mod=()
loaded=()
for path in "${order[@]}"; do
	[[ -n ${done_mod[$path]:-} ]] && continue
	done_mod[$path]=1
	dest=${path%.xz}; dest=${dest%.gz}; dest=${dest%.zst}
	mkdir -p "$(dirname "$root/lib/modules/$kver/$dest")"
	case $path in
	*.xz) busybox xz -dc "$moddir/$path" >"$root/lib/modules/$kver/$dest" ;;
	*.gz) gzip -dc "$moddir/$path" >"$root/lib/modules/$kver/$dest" ;;
	*.ko) cp "$moddir/$path" "$root/lib/modules/$kver/$dest" ;;
	*) die "cannot unpack module $path" ;;
	esac
	echo "$kver/$dest" >>"$root/etc/godwit/modules"
	loaded+=("$(basename "$dest" .ko)")
done
cp "$moddir/modules.builtin" "$moddir/modules.order" "$root/lib/modules/$kver/" 2>/dev/null || true
busybox depmod -b "$root" "$kver"  # so that modprobe works in a debugging shell
say "modules (load order): ${loaded[*]:-none, all built in}"

cp "$busybox_bin" "$root/bin/busybox"
# setuid root, as in CirrOS, so that busybox ping works for the cirros account:
# busybox drops the privilege for every applet but those meant to keep it
# (ping, ping6, traceroute, mount and umount (fstab "user" entries only; there
# is no fstab), su, passwd, login, crontab, findfs). Debian's busybox 1.35 ping
# has no unprivileged (ICMP echo socket) mode, its shell runs its own applets
# before any binary in PATH (so another ping cannot take over), and an
# /etc/busybox.conf restricting the list makes its shell's in-process applets
# (ls, cat, id, ...) crash for users: none is shipped.
chmod 4755 "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/udhcpc.script" "$root/etc/godwit/udhcpc.script"
# busybox init (PID 1 after /init) needs an inittab; this one only reaps orphans
printf '::ctrlaltdel:/bin/reboot -f\n' >"$root/etc/inittab"
echo "godwit-guest" >"$root/etc/hostname"

# SSH: dropbear and its libraries at the paths ldd names (the loader finds
# them in its built-in directories: there is no ld.so.cache), the account.
for f in "${ssh_bins[@]}" "${libs[@]}"; do
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
done
install -m 0755 "$here/sshd" "$root/etc/godwit/sshd"
install -m 0644 "$here/authorized_keys.awk" "$root/etc/godwit/authorized_keys.awk"
# A fixed salt keeps the image reproducible; the password is public anyway.
hash=$(busybox mkpasswd -m sha512 -S godwitguest "$ssh_password") || die "busybox mkpasswd failed"
[[ $hash == '$6$'* ]] || die "busybox mkpasswd made no sha512 hash: $hash"
printf 'root:x:0:0:root:/root:/bin/sh\n%s:x:%d:%d:%s:/home/%s:/bin/sh\n' \
	"$ssh_user" "$ssh_uid" "$ssh_uid" "$ssh_user" "$ssh_user" >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n%s:x:%d:\n' "$ssh_user" "$ssh_uid" >"$root/etc/group"
# root has no password (locked); the aging fields stay empty (no expiry)
printf 'root:*:::::::\n%s:%s:::::::\n' "$ssh_user" "$hash" >"$root/etc/shadow"
chmod 0600 "$root/etc/shadow"
printf '/bin/sh\n' >"$root/etc/shells"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1\tlocalhost\n' >"$root/etc/hosts"
cat >"$root/etc/profile" <<'PROFILE'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PS1='\u@\h:\w\$ '
PROFILE
mkdir -p "$root/home/$ssh_user" "$root/root" "$root/etc/dropbear" "$root/var/log"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
ln -s /run "$root/var/run"

say "packing initramfs.cpio.gz"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$work/initramfs.cpio.gz"
cp "$work/pkg/boot/vmlinuz-$kver" "$work/vmlinuz"

file_json() {
	printf '"%s": {"size": %s, "sha256": "%s"}' "$1" "$(stat -c %s "$work/$1")" \
		"$(sha256sum "$work/$1" | cut -d' ' -f1)"
}
ssh_server=$(dpkg-query -W -f='dropbear-bin ${Version}' dropbear-bin 2>/dev/null) || ssh_server=dropbear
mods_json=$(printf '"%s", ' "${loaded[@]}"); mods_json="[${mods_json%, }]"
[[ ${#loaded[@]} -gt 0 ]] || mods_json="[]"
cat >"$work/manifest.json" <<JSON
{
  "kernel_version": "$kver",
  "kernel_package": "$pkg",
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "min_memory_mib": $min_memory_mib,
  "cmdline": "$cmdline",
  "userdata_max_base64": $userdata_max_base64,
  "ssh": {"port": 22, "user": "$ssh_user", "server": "$ssh_server"},
  "modules": $mods_json,
  "inputs_sha256": "$inputs_sha",
  "files": {
    $(file_json vmlinuz),
    $(file_json initramfs.cpio.gz)
  }
}
JSON
# the manifest goes last: it is what marks the cache as complete
mv -f "$work/vmlinuz" "$out/vmlinuz"
mv -f "$work/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
mv -f "$work/manifest.json" "$out/manifest.json"
[[ $out == "$base/$kver" ]] && ln -sfn "$kver" "$base/current"
say "built: kernel $kver, initramfs $(stat -c %s "$out/initramfs.cpio.gz") bytes"
echo "$out"
