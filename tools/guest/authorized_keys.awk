# authorized_keys.awk: the SSH public keys that cloud-init user data gives the
# guest's account (cirros), one per line, for ~cirros/.ssh/authorized_keys.
# Input: the user data; only a #cloud-config document is read. Keys come from
#  - the top-level `ssh_authorized_keys:` (the default user's keys), and
#  - `ssh_authorized_keys:` of a `users:` entry whose `name:` is cirros;
# each a block list (`- KEY` lines) or a flow list (`[KEY, KEY]`), quoted or
# not. A line that is not an SSH public key (type, then base64) is skipped.
# This is the subset of YAML that cloud-config files use for keys, not a YAML
# parser: multi-line scalars, anchors and tags are not understood.
# Runs under busybox awk in the guest (tools/guest/sshd) and in the tests.

function unquote(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	if (s ~ /^".*"$/ || s ~ /^'.*'$/)
		s = substr(s, 2, length(s) - 2)
	return s
}

function indent(s) {
	match(s, /^[ ]*/)
	return RLENGTH
}

function emit(key, dest) {
	key = unquote(key)
	if (key !~ /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh[.]com)[ \t]+[A-Za-z0-9+\/]+=*([ \t].*)?$/)
		return
	if (dest == "top")
		print key
	else
		ubuf = ubuf key "\n"
}

# The end of a users: entry: its keys count only if it is cirros.
function flush_user() {
	if (uname == "cirros" && ubuf != "")
		printf "%s", ubuf
	ubuf = ""
	uname = ""
}

# A mapping line's text (indentation and any "- " removed) at indentation ind:
# starts a block list of keys or takes a flow list or a single key.
function mapping(s, ind, dest,    rest, n, i, parts) {
	if (s ~ /^name:/ && dest == "user") {
		rest = s
		sub(/^name:/, "", rest)
		sub(/[ \t]+#.*$/, "", rest)
		uname = unquote(rest)
		return
	}
	if (s !~ /^ssh_authorized_keys:/)
		return
	rest = s
	sub(/^ssh_authorized_keys:/, "", rest)
	sub(/^[ \t]+/, "", rest)
	if (rest ~ /^\[/) {
		sub(/^\[/, "", rest)
		sub(/\][ \t]*(#.*)?$/, "", rest)
		n = split(rest, parts, ",")
		for (i = 1; i <= n; i++)
			emit(parts[i], dest)
	} else if (rest == "" || rest ~ /^#/) {
		collect = 1
		keyind = ind
		itemind = -1
		cdest = dest
	} else {
		emit(rest, dest)
	}
}

NR == 1 {
	sub(/\r$/, "")
	if ($0 !~ /^#cloud-config[ \t]*$/)
		exit
	next
}

{ sub(/\r$/, "") }
/^[ \t]*(#.*)?$/ { next }

{
	ind = indent($0)
	text = substr($0, ind + 1)
	if (collect) {
		if (text ~ /^-([ \t]|$)/ && (itemind < 0 ? ind >= keyind : ind == itemind)) {
			itemind = ind
			s = text
			sub(/^-[ \t]*/, "", s)
			emit(s, cdest)
			next
		}
		if (itemind >= 0 && ind > itemind)
			next  # the continuation of a multi-line item: not a key we read
		collect = 0
	}
	if (ind == 0 && text !~ /^-/) {
		# a top-level key
		if (inusers)
			flush_user()
		inusers = text ~ /^users:[ \t]*(#.*)?$/
		uind = -1
		mapping(text, 0, "top")
		next
	}
	if (!inusers)
		next
	if (text ~ /^-([ \t]|$)/ && (uind < 0 || ind == uind)) {
		# a new entry of the users: list
		flush_user()
		uind = ind
		s = text
		sub(/^-[ \t]*/, "", s)
		mapping(s, ind + 2, "user")
		next
	}
	if (uind >= 0 && ind > uind)
		mapping(text, ind, "user")
}

END {
	if (inusers)
		flush_user()
}
