#!/usr/bin/env bash
# tund's start, offline (no interface comes up, no root needed): without
# --foreground it goes to the background once ready and the command returns
# 0; a start that fails returns 1 with the reason on the terminal; with
# --foreground, or under a service manager, it stays. The start-up log says
# each file error once, as "error: FILE:LINE: MESSAGE".
set -euo pipefail
: "${TUND:?}" "${TUNCTL:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
umask 077
mkdir "$tmp/conf"
printf '[Interface]\nPrivateKey = nope\n' >"$tmp/conf/bad0.conf"

# No service manager around, whatever runs this test (env execs tund: $! is its PID).
no_manager=(env -u INVOCATION_ID -u NOTIFY_SOCKET -u LISTEN_FDS -u LISTEN_PID)
# wait_for CMD...: up to 10 s for CMD to succeed.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# ---- 1. Without --foreground: ready, then in the background ----
echo "+ tund --config-dir conf --control-socket sock (no --foreground)" >&2
rc=0
(cd "$tmp" && timeout 10 "${no_manager[@]}" "$TUND" --config-dir conf --control-socket sock 2>"$tmp/log1") || rc=$?
[ "$rc" = 0 ] || fail "tund without --foreground: exit $rc, expected 0 once in the background ($(cat "$tmp/log1"))"
pid=$(sed -n 's/.*running in the background as process \([0-9][0-9]*\).*/\1/p' "$tmp/log1")
[ -n "$pid" ] || fail "no 'running in the background' line: $(cat "$tmp/log1")"
pids+=("$pid")
[ "$(cat "/proc/$pid/comm")" = tund ] || fail "process $pid is not tund"
# Ready means the control socket answers (relative paths were made absolute).
"$TUNCTL" --socket "$tmp/sock" status >"$tmp/out" || fail "tunctl status: the daemon does not answer"
grep -q "^tund " "$tmp/out" || fail "status: $(cat "$tmp/out")"
# It left the terminal's session, and the working directory.
[ "$(ps -o sid= -p "$pid")" != "$(ps -o sid= -p $$)" ] || fail "the daemon is still in the test's session"
[ "$(readlink "/proc/$pid/cwd")" = / ] || fail "the daemon's directory is $(readlink "/proc/$pid/cwd")"
kill "$pid"
wait_for gone "$pid" || fail "tund $pid did not stop on SIGTERM"
[ ! -e "$tmp/sock" ] || fail "the control socket was not removed on stop"

# The file's errors were said once each, with file and line, before it left.
grep -q "^error: $tmp/conf/bad0.conf:2: PrivateKey: " "$tmp/log1" ||
	fail "no 'error: FILE:LINE: PrivateKey' line: $(cat "$tmp/log1")"
! grep -E "^(error|warn): .*: (error|warning): " "$tmp/log1" ||
	fail "a diagnostic with its severity twice"

# ---- 2. A start that fails: exit 1, the reason on the terminal ----
echo "+ tund --control-socket FILE/sock (no --foreground)" >&2
rc=0
timeout 10 "${no_manager[@]}" "$TUND" --config-dir "$tmp/conf" --control-socket "$tmp/conf/bad0.conf/sock" 2>"$tmp/log2" || rc=$?
[ "$rc" = 1 ] || fail "a start that cannot listen: exit $rc, expected 1"
grep -q "cannot listen on $tmp/conf/bad0.conf/sock" "$tmp/log2" || fail "no reason: $(cat "$tmp/log2")"

# ---- 3. --foreground: stays attached ----
echo "+ tund --foreground" >&2
"${no_manager[@]}" "$TUND" --foreground --config-dir "$tmp/conf" --control-socket "$tmp/sock" 2>"$tmp/log3" &
fg=$!
pids+=("$fg")
wait_for test -S "$tmp/sock" || fail "--foreground: no control socket: $(cat "$tmp/log3")"
kill -0 "$fg" || fail "--foreground: the process started is gone"
! grep -q "running in the background" "$tmp/log3" || fail "--foreground went to the background"
kill "$fg"
wait "$fg" || fail "--foreground: exit status $? on SIGTERM"

# ---- 4. Under a service manager (systemd sets INVOCATION_ID): never forks ----
echo "+ INVOCATION_ID=x tund (no --foreground)" >&2
env INVOCATION_ID=0123456789abcdef "$TUND" --config-dir "$tmp/conf" --control-socket "$tmp/sock" \
	2>"$tmp/log4" &
sm=$!
pids+=("$sm")
wait_for test -S "$tmp/sock" || fail "under a service manager: no control socket: $(cat "$tmp/log4")"
kill -0 "$sm" || fail "under a service manager, tund forked away"
kill "$sm"
wait "$sm" || fail "under a service manager: exit status $? on SIGTERM"
echo "ok"
