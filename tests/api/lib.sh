# Shared by the API tests (sourced): a real godwitd on a unix socket in a temp
# dir, driven with curl; the test plays agents and users.
#   source "$(dirname "$0")/lib.sh" GODWITD NAME
# Before `start`, godwitd_args=(...) adds flags; cleanup_extra() runs at exit if defined.
godwitd=${1:?usage: $0 GODWITD}
command -v curl >/dev/null || { echo "curl missing: skip"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing: skip"; exit 77; }

dir=$(mktemp -d "/tmp/godwit-$2-t$$.XXXXXX")
sock=$dir/api.sock
state=$dir/state
pid=
godwitd_args=()
cleanup() {
	if [[ -n $pid ]]; then
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
	rm -rf "$dir"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

start() {
	"$godwitd" --state-dir "$state" --listen "unix:$sock" "${godwitd_args[@]}" \
		2>>"$dir/godwitd.log" &
	pid=$!
	local deadline=$((SECONDS + 10))
	until curl -s -o /dev/null --unix-socket "$sock" http://x/v1/healthz; do
		if ((SECONDS > deadline)) || ! kill -0 "$pid" 2>/dev/null; then
			echo "godwitd did not start:" >&2
			cat "$dir/godwitd.log" >&2
			exit 1
		fi
		sleep 0.05
	done
	token=$(cat "$state/token")
}

stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

crash() { # SIGKILL the controller and start it again on the same state
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	start
}

# req METHOD PATH [JSON | @FILE]: sets $code and $body.
req() {
	local method=$1 path=$2 data=${3:-}
	local args=(-s -o "$dir/body" -w '%{http_code}' --unix-socket "$sock" -X "$method"
		-H "Authorization: Bearer $token")
	if [[ -n $data ]]; then
		if [[ $data == @* ]]; then args+=(--data-binary "$data"); else args+=(-d "$data"); fi
	fi
	code=$(curl "${args[@]}" "http://x$path")
	body=$(cat "$dir/body")
}

# jget EXPR: a Python expression on the JSON in $body (as d).
jget() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v, str) else v)' "$body" "$1"
}

expect() { # STATUS FRAGMENT DESCRIPTION
	if [[ $code != "$1" ]]; then
		fail "$3: status $code, want $1 (body: $body)"
	elif [[ -n $2 && $body != *"$2"* ]]; then
		fail "$3: body lacks '$2': $body"
	else
		ok "$3"
	fi
}

check() { # DESCRIPTION PY-EXPR (on $body, must be True)
	[[ $(jget "$2") == true ]] && ok "$1" || fail "$1: $body"
}

revision() {
	curl -s --unix-socket "$sock" http://x/v1/healthz |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'
}

# stored_only_events REV DESCRIPTION: nothing but the controller's own Events
# (recorded asynchronously, so they move the revision on at any time) was
# stored after REV.
stored_only_events() {
	curl -s -N --max-time 1 --unix-socket "$sock" -H "Authorization: Bearer $token" \
		"http://x/v1/watch?since=$1" >"$dir/watch" || true
	if python3 -c '
import json, sys
kinds = [json.loads(l)["object"].get("kind") for l in open(sys.argv[1]) if l.strip()]
assert all(k in ("Event", None) for k in kinds), kinds
' "$dir/watch" 2>/dev/null; then
		ok "$2: nothing stored"
	else
		fail "$2: the store changed: $(cat "$dir/watch")"
	fi
}
