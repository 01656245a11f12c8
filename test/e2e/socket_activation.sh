#!/usr/bin/env bash
# Socket activation: tund takes its control socket from LISTEN_FDS as it
# gets it from tund.socket. test/lib/sockact.py plays systemd (bind, chmod,
# chown, listen, fork, LISTEN_FDS=1 and LISTEN_PID in the child, exec), and
# keeps its copy of the socket like systemd does.
#   - tunctl works through the passed socket; interfaces come up, READY=1
#     with the STATUS= summary is sent, PostUp does not inherit LISTEN_*;
#   - tund neither chmods, chowns, closes (on reload) nor removes a socket it
#     did not create, and ignores --control-socket;
#   - a second tund on that socket is refused, as without activation;
#   - anything but one listening Unix stream socket as fd 3 is refused with
#     a clear error (exit 1, no interface, no socket of its own);
#   - systemd's own systemd-socket-activate, when installed: the first
#     connection starts tund, which answers it.
#
#   namespace a: tund (sa0 10.83.0.1/24) <- fd 3 <- sockact.py <- $sock
. "$(dirname "$0")/../lib/netns.sh"
e2e_init python3 stat
lib=$(cd "$(dirname "$0")/../lib" && pwd)

ns_new a
da=$(confdir a)
write_conf "$da/sa0.conf" <<CONF
[Interface]
PrivateKey = $(genkey)
Address = 10.83.0.1/24
PostUp = env > $E2E_TMP/postup.env
[Peer]
PublicKey = $(pubkey "$(genkey)")
AllowedIPs = 10.83.0.2/32
CONF
sock="$E2E_TMP/control.sock" own="$E2E_TMP/own.sock"
nsock="$E2E_TMP/notify.sock" nlog="$E2E_TMP/notify.log"
T() { "$TUNCTL" --socket "$sock" "$@"; }
sock_id() { stat -c '%i %a %u:%g %F' "$1"; }

# activate NAME KIND PATH [sockact options...]: tund in a, started by
# sockact.py; its pid in ACT_PID_NAME (sockact's) and TUND_PID_NAME (tund's).
activate() {
	local name=$1 kind=$2 path=$3
	shift 3
	local pidf="$E2E_TMP/$name.pid"
	rm -f "$pidf"
	printf '+ [a] sockact.py %s %s %s -- %s --config-dir %s --control-socket %s\n' \
		"$*" "$kind" "$path" "$TUND" "$da" "$own" >&2
	NOTIFY_SOCKET="$nsock" ip netns exec "$a" python3 "$lib/sockact.py" --pidfile "$pidf" \
		"$@" "$kind" "$path" -- "$TUND" --foreground --log-level debug --config-dir "$da" \
		--control-socket "$own" >>"$E2E_TMP/$name.log" 2>&1 &
	local pid=$!
	E2E_PIDS+=("$pid")
	printf -v "ACT_PID_$name" '%s' "$pid"
	wait_until 5 "$name's pid file" test -s "$pidf" || fail "sockact.py did not start tund"
	printf -v "TUND_PID_$name" '%s' "$(cat "$pidf")"
}

log "=== a listening Unix stream socket, mode 0604, group 4243 (not tund's 0660/control group)"
: >"$nlog"
python3 "$lib/notifysock.py" "$nsock" "$nlog" 60 &
E2E_PIDS+=("$!")
wait_until 5 "notify socket" test -S "$nsock" || fail "the notify listener did not start"
activate a unix "$sock" --mode 0604 --group 4243
before=$(sock_id "$sock")
log "socket: $before"
tund_wait_iface "$a" sa0 || fail "sa0 not up under socket activation"
wait_until 5 "READY=1" grep -q "READY=1" "$nlog" || fail "no READY=1: $(cat "$nlog")"
grep "READY=1" "$nlog" | grep -q "STATUS=1 interface up, 1 peer" ||
	fail "READY=1 without the summary: $(cat "$nlog")"
tund_log_has a "listening on $sock (passed by systemd)" || fail "tund did not say it took the passed socket"
run T status
T --json status | python3 -c 'import json,sys; r=json.load(sys.stdin); assert len(r["interfaces"]) == 1, r' ||
	fail "tunctl status through the passed socket"
T show sa0 | grep -q "public key" || fail "tunctl show sa0: $(T show sa0 2>&1)"
[ ! -e "$own" ] || fail "tund created --control-socket $own although it was given a socket"
grep -q '^LISTEN_' "$E2E_TMP/postup.env" && fail "PostUp inherited $(grep '^LISTEN_' "$E2E_TMP/postup.env")"
[ "$(sock_id "$sock")" = "$before" ] || fail "the socket changed: $before -> $(sock_id "$sock")"

log "=== reloads (SIGHUP and tunctl) keep the socket open"
run kill -HUP "$TUND_PID_a"
wait_until 5 "SIGHUP reload" tund_log_has a "received SIGHUP" || fail "no reload on SIGHUP"
run T reload
T status >/dev/null || fail "tunctl status after the reloads"
[ "$(sock_id "$sock")" = "$before" ] || fail "the socket changed on reload: $(sock_id "$sock")"

log "=== a second tund on the same socket is refused and leaves it alone"
rc=0
run ip netns exec "$a" timeout 20 "$TUND" --foreground --config-dir "$da" --control-socket "$sock" \
	>"$E2E_TMP/second.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the second tund exited with $rc, expected 1: $(cat "$E2E_TMP/second.log")"
grep -q "another tund is running there" "$E2E_TMP/second.log" ||
	fail "the second tund's error: $(cat "$E2E_TMP/second.log")"
[ "$(sock_id "$sock")" = "$before" ] || fail "the second tund changed the socket: $(sock_id "$sock")"
T status >/dev/null || fail "the first tund stopped answering"

log "=== stop: tund exits 0 and leaves systemd's socket file as it was"
run kill -TERM "$TUND_PID_a"
rc=0
wait "$ACT_PID_a" || rc=$?
[ "$rc" = 0 ] || fail "tund exited with $rc after SIGTERM"
iface_is_up "$a" sa0 && fail "sa0 still up after stop"
[ "$(sock_id "$sock")" = "$before" ] || fail "tund removed or changed the socket: $(sock_id "$sock" 2>&1)"
wait_until 5 "STOPPING=1" grep -q "STOPPING=1" "$nlog" || fail "no STOPPING=1"

log "=== bad passed descriptors: a clear error, exit 1, nothing brought up"
# KIND and the reason tund must give (sockact.py documents the kinds).
while read -r kind why; do
	rm -f "$own" "$E2E_TMP/bad.$kind"*
	name="bad_${kind//-/_}"
	activate "$name" "$kind" "$E2E_TMP/bad.$kind"
	var="ACT_PID_$name" rc=0
	wait "${!var}" || rc=$?
	logf="$E2E_TMP/$name.log"
	[ "$rc" = 1 ] || fail "$kind: tund exited with $rc, expected 1: $(cat "$logf")"
	grep -q "^error: control: .*$why" "$logf" || fail "$kind: expected \"$why\": $(cat "$logf")"
	grep -qi "sanitizer\|runtime error" "$logf" && fail "$kind: $(cat "$logf")"
	ip -n "$a" link show sa0 >/dev/null 2>&1 && fail "$kind: sa0 was created"
	[ ! -e "$own" ] || fail "$kind: tund fell back to a socket of its own"
	log "$kind: $(grep '^error' "$logf")"
done <<'CASES'
udp it is not a Unix socket
unix-dgram it is not a stream socket
unix-nolisten it is not listening
file it is not a socket
two LISTEN_FDS=2: tund takes one socket
garbage LISTEN_FDS/LISTEN_PID are unusable
closed expected a listening Unix stream socket
CASES

if command -v systemd-socket-activate >/dev/null; then
	log "=== systemd-socket-activate: the first connection starts tund"
	sock2="$E2E_TMP/activate.sock"
	printf '+ [a] systemd-socket-activate -l %s %s ...\n' "$sock2" "$TUND" >&2
	ip netns exec "$a" systemd-socket-activate -l "$sock2" "$TUND" --foreground \
		--config-dir "$da" --control-socket "$own" >>"$E2E_TMP/activate.log" 2>&1 &
	TUND_PID_activate=$!
	E2E_PIDS+=("$TUND_PID_activate")
	wait_until 5 "systemd-socket-activate listening" test -S "$sock2" || fail "no $sock2"
	tund_log_has activate "starting" && fail "tund started before the first connection"
	before=$(sock_id "$sock2")
	run timeout 20 "$TUNCTL" --socket "$sock2" status || fail "tunctl status did not start tund"
	tund_log_has activate "listening on $sock2 (passed by systemd)" || fail "not activated"
	tund_wait_iface "$a" sa0 || fail "sa0 not up after activation"
	tund_stop activate
	[ "$(sock_id "$sock2")" = "$before" ] || fail "tund removed or changed $sock2"
else
	log "(systemd-socket-activate is not installed: that part is left out)"
fi
log "PASS"
