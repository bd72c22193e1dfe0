#!/usr/bin/env bash
# `make deb`: the Debian package builds from the tree, lintian passes it (no
# error, no warning: part of make deb), and it holds the programs, units,
# settings (as conffiles), man pages and completion; its godwit runs.
#   tests/dist/test_deb.sh SOURCE_DIR
source "$(dirname "$0")/lib.sh" deb
src=$1

make -C "$src" --no-print-directory deb DEB_DIR="$tmp/deb" >"$tmp/make.log" 2>&1 ||
	{ tail -n 40 "$tmp/make.log"; echo "FAIL: make deb"; exit 1; }
ok "make deb (dpkg-buildpackage, lintian without errors or warnings)"
deb=$(ls "$tmp"/deb/godwit_*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
for f in /usr/bin/godwit /usr/bin/godwitd /usr/bin/godwit-agent /usr/bin/godwit-probe \
	/lib/systemd/system/godwitd.service /lib/systemd/system/godwit-agent.service \
	/etc/default/godwitd /etc/default/godwit-agent /usr/share/bash-completion/completions/godwit \
	/usr/share/man/man8/godwitd.8.gz /usr/share/man/man8/godwit-agent.8.gz \
	/usr/share/man/man1/godwit.1.gz /usr/share/doc/godwit/copyright; do
	grep -qx "$f" "$tmp/files" && ok "package holds $f" || fail "package lacks $f"
done
dpkg-deb -e "$deb" "$tmp/control"
[[ $(sort "$tmp/control/conffiles") == $'/etc/default/godwit-agent\n/etc/default/godwitd' ]] &&
	ok "settings are conffiles" || fail "conffiles: $(cat "$tmp/control/conffiles")"
dpkg-deb -x "$deb" "$tmp/x"
"$tmp/x/usr/bin/godwit" help | grep -q '^  migrate' && ok "the packaged godwit runs" || fail "packaged godwit help"
grep -q '^ExecStart=/usr/bin/godwit-agent ' "$tmp/x/lib/systemd/system/godwit-agent.service" &&
	ok "the packaged agent unit runs /usr/bin/godwit-agent" || fail "packaged agent unit's ExecStart"
finish
