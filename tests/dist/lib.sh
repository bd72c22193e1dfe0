# Shared scaffolding of the dist tests (sourced with the test's short name):
# a scratch directory $tmp removed on exit, ok/fail lines counted in $fails,
# and finish, the verdict (exit status 0 when nothing failed).
#   source "$(dirname "$0")/lib.sh" NAME
set -uo pipefail
tmp=$(mktemp -d "/tmp/godwit-${1:?usage: source lib.sh NAME}.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
finish() {
	echo "$fails failed"
	((fails == 0))
}
