#!/usr/bin/env bash
# What `make install` puts down (meson install into a scratch DESTDIR): the
# four programs, the systemd units (valid for systemd-analyze, the agent's
# with KillMode=process so that a restart leaves the node's VMs running),
# their settings files, man pages, and a bash completion that completes
# verbs, kinds and flags; no lab tools.
#   tests/dist/test_install.sh BUILD_DIR
source "$(dirname "$0")/lib.sh" install
build=$1

meson install -C "$build" --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; echo "FAIL: meson install"; exit 1; }
prefix=$(meson introspect "$build" --buildoptions | jq -r '.[] | select(.name == "prefix") | .value')
sysconf=$(meson introspect "$build" --buildoptions | jq -r '.[] | select(.name == "sysconfdir") | .value')
[[ $sysconf == /* ]] || sysconf=$prefix/$sysconf
root=$tmp/root
want=(
	"$prefix/bin/godwit" "$prefix/bin/godwitd" "$prefix/bin/godwit-agent" "$prefix/bin/godwit-probe"
	"$prefix/lib/systemd/system/godwitd.service" "$prefix/lib/systemd/system/godwit-agent.service"
	"$sysconf/default/godwitd" "$sysconf/default/godwit-agent"
	"$prefix/share/bash-completion/completions/godwit"
	"$prefix/share/man/man1/godwit.1" "$prefix/share/man/man1/godwit-probe.1"
	"$prefix/share/man/man8/godwitd.8" "$prefix/share/man/man8/godwit-agent.8"
)
for f in "${want[@]}"; do
	[[ -f $root$f ]] && ok "installed $f" || fail "missing $f"
done
extra=$(cd "$root" && find . -type f | sed 's|^\.||' | sort | comm -23 - <(printf '%s\n' "${want[@]}" | sort))
[[ -z $extra ]] && ok "nothing else installed (no lab tools)" || fail "also installed: $extra"

# Units: they name the installed programs and settings, and systemd accepts them.
unitdir=$root$prefix/lib/systemd/system
grep -q "^ExecStart=$prefix/bin/godwitd " "$unitdir/godwitd.service" && ok "godwitd unit runs $prefix/bin/godwitd" ||
	fail "godwitd unit: $(grep ExecStart "$unitdir/godwitd.service")"
grep -q "^EnvironmentFile=$sysconf/default/godwit-agent$" "$unitdir/godwit-agent.service" &&
	ok "agent unit reads $sysconf/default/godwit-agent" || fail "agent unit's EnvironmentFile"
[[ $(grep -c '^KillMode=process$' "$unitdir/godwit-agent.service") == 1 ]] &&
	ok "agent unit: KillMode=process (a restart leaves the VMs running)" || fail "agent unit lacks KillMode=process"
if command -v systemd-analyze >/dev/null; then
	for u in godwitd godwit-agent; do
		sed "s|$prefix/bin/|$root$prefix/bin/|" "$unitdir/$u.service" >"$tmp/$u.service"
		out=$(systemd-analyze verify --man=no "$tmp/$u.service" 2>&1)
		[[ -z $out ]] && ok "systemd-analyze verify $u.service" || fail "systemd-analyze on $u.service: $out"
	done
else
	echo "note: no systemd-analyze here; the units' syntax is not verified"
fi

# Man pages: generated from each program's --help.
for m in man1/godwit.1 man1/godwit-probe.1 man8/godwitd.8 man8/godwit-agent.8; do
	page=$root$prefix/share/man/$m
	grep -q '^\.SH NAME' "$page" && grep -qF -- '\-' "$page" && ok "man page $m" || fail "man page $m is empty"
done
grep -qF -- '\-\-state\-dir' "$root$prefix/share/man/man8/godwitd.8" && ok "godwitd(8) documents --state-dir" ||
	fail "godwitd(8) lacks --state-dir"

# Completion: verbs, kinds and a verb's flags, from the installed godwit.
complete_line() { # WORDS...: what the completion offers for the last word
	PATH=$root$prefix/bin:$PATH bash -c '
		source "$0"
		COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1))
		_godwit; printf "%s\n" "${COMPREPLY[@]}"' \
		"$root$prefix/share/bash-completion/completions/godwit" "$@"
}
[[ $(complete_line godwit app) == apply ]] && ok "completes a verb" || fail "godwit app<TAB>: $(complete_line godwit app)"
[[ $(complete_line godwit mig | tr '\n' ' ') == "migrate migrate-cancel " ]] && ok "offers every verb of a prefix" ||
	fail "godwit mig<TAB>: $(complete_line godwit mig)"
[[ $(complete_line godwit get po) == ports ]] && ok "completes a kind" || fail "godwit get po<TAB>: $(complete_line godwit get po)"
complete_line godwit migrate --dow | grep -qx -- '--downtime-ms' && ok "completes a verb's flag" ||
	fail "godwit migrate --dow<TAB>: $(complete_line godwit migrate --dow)"

finish
