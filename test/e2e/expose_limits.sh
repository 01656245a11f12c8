#!/usr/bin/env bash
# Localhost tunnels: what the public side may take. One source (an IPv4
# address, an IPv6 /64) holds at most ExposeMaxConnectionsPerSource (256)
# relayed connections while others are served; with the open files limit
# lowered to 640, an attacker holding connections from two addresses gets
# the relay cap and no more: of 640 - 256 - 640/16 = 344 descriptors, three
# quarters, two a relay: 129; the daemon keeps serving its control socket,
# the tunnel, the localhost-tunnel control connection and a new one (the
# last quarter is for those); ExposeIdleTimeout resets relays that carry
# nothing, also those made before a reload set it, and spares those that
# talk; a peer with 18 addresses it may publish from (AllowExposeFrom) gets
# 16 control sessions at most. Every check runs and is reported before the
# test fails.
#
#   user 198.51.100.2, .3 ── 198.51.100.1  srv  192.0.2.1 ── 192.0.2.2  cli
#        2001:db8:1::2, ::3    2001:db8:1::1
#                                    tund0 10.90.0.1  ==== tunnel ====  tund0 10.90.0.2
#   public port 8082 (echo)  ->  cli 127.0.0.1:8200
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/expose.sh"
e2e_init python3 ss prlimit

CLIENT_EXTRA="
[Expose echo]
LocalPort = 8200
PublicPort = 8082
Peer = server
"
expose_setup
addr "$user" v0 198.51.100.3/24 2001:db8:1::3/64
bg "$cli" echo python3 "$EXPOSE_TOOL" serve 8200
bg "$cli" echo2 python3 "$EXPOSE_TOOL" serve 8300
wait_until 10 "the echo services" eval "listening '$cli' 8200 && listening '$cli' 8300" ||
	fail "the echo services did not start"
wait_until 20 "echo published" expose_is echo active || fail "echo: $(C show tund0)"

FAILED=()
# check WHAT CMD...: run CMD; a failure is recorded and the test goes on.
check() {
	local what=$1
	shift
	if "$@"; then
		log "ok: $what"
	else
		log "NOT OK: $what"
		FAILED+=("$what")
	fi
}
# grab NAME ADDR HOST N: N connections to HOST:8082 from ADDR, kept until release NAME.
grab() {
	bg "$user" "$1" python3 "$EXPOSE_TOOL" grab "$3" 8082 "$4" --bind "$2" --timeout 90 \
		--ready "$E2E_TMP/$1.ready" --release "$E2E_TMP/$1.release"
	eval "grab_pid_$1=$BG_PID"
}
grabbed() { wait_until 60 "$1 connected" test -f "$E2E_TMP/$1.ready" && cat "$E2E_TMP/$1.ready"; }
# release NAME: close them, after checking how many still echo: STILL="still N" (not in a subshell).
release() {
	local pid="grab_pid_$1"
	touch "$E2E_TMP/$1.release"
	wait "${!pid}" || log "$1: $(cat "$E2E_TMP/$1.log")"
	STILL=$(grep "^still" "$E2E_TMP/$1.log" || true)
}
# active: the connections the server relays on 8082 now.
active() {
	S --json show tund0 | python3 -c '
import json, sys
print([x for x in json.load(sys.stdin)["interfaces"][0]["public_ports"] if x["port"] == 8082][0]["active_connections"])'
}
idle_again() { wait_until 30 "no relayed connection left" eval '[ "$(active)" = 0 ]'; }
sum() { awk '{s += $2} END {print s}' "$E2E_TMP/$1.ready" "$E2E_TMP/$2.ready"; }

log "=== one IPv4 source holds 256 connections at most; another is served meanwhile"
grab a 198.51.100.2 198.51.100.1 300
out=$(grabbed a)
log "from 198.51.100.2: $out"
check "300 from 198.51.100.2: 256 served, 44 refused" [ "$out" = "served 256 refused 44" ]
grab b 198.51.100.3 198.51.100.1 5
out=$(grabbed b)
check "meanwhile 198.51.100.3 is served" [ "$out" = "served 5 refused 0" ]
check "the refusals are logged" tund_log_has srv \
	"public port 8082: 256 connections from 198.51.100.2 (ExposeMaxConnectionsPerSource); refusing one"
release a
check "the 256 still echo ($STILL)" [ "$STILL" = "still 256" ]
release b
idle_again || fail "connections left: $(S show tund0)"

log "=== IPv6 sources count by /64"
grab a6 2001:db8:1::2 2001:db8:1::1 200
out=$(grabbed a6)
check "200 from 2001:db8:1::2 are served ($out)" [ "$out" = "served 200 refused 0" ]
grab b6 2001:db8:1::3 2001:db8:1::1 100
out=$(grabbed b6)
check "then from 2001:db8:1::3, the same /64: 56 of 100 ($out)" [ "$out" = "served 56 refused 44" ]
check "the refusals name the /64" tund_log_has srv "connections from 2001:db8:1::/64 (ExposeMaxConnectionsPerSource)"
release a6
release b6
idle_again || fail "connections left: $(S show tund0)"

log "=== with 640 open files, an attacker holds the relay cap: 129"
read -r soft hard < <(prlimit --pid "$TUND_PID_srv" --nofile --output SOFT,HARD --noheadings)
# Only the soft limit: raising a hard limit again needs CAP_SYS_RESOURCE.
run prlimit --pid "$TUND_PID_srv" --nofile="640:$hard"
grab g1 198.51.100.2 198.51.100.1 200
grab g2 198.51.100.3 198.51.100.1 200
grabbed g1 >/dev/null && grabbed g2 >/dev/null
held=$(sum g1 g2)
log "the attacker holds $held ($(cat "$E2E_TMP/g1.ready"), $(cat "$E2E_TMP/g2.ready")); the server has $(fd_count srv) descriptors open"
check "the attacker gets 129 relayed connections and no more" [ "$held" = 129 ]
check "the server keeps 256 descriptors free" [ "$(fd_count srv)" -le $((640 - 256)) ]
check "the server's control socket answers" eval 'S show tund0 >/dev/null'
check "the server counts 129 active" [ "$(active)" = 129 ]
check "the tunnel carries pings" ping_ok "$srv" 10.90.0.2
out=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" count 198.51.100.1 8082 5 --why --timeout 20)
log "a further user: $out"
# Reset at once, not left waiting (silent: no greeting within 5 s).
check "a further user is turned away at once" [ "$out" = "served 0 turned away 5 silent 0" ]
check "the cap is logged" tund_log_has srv "relayed connections, all the open files limit allows; refusing one"
check "the client publishes another service meanwhile" \
	eval 'C expose tund0 8300 --peer server --public-port 8083 --wait 15 >/dev/null'
check "and one through a new control connection, over IPv6" \
	eval 'C expose tund0 8300 --peer server --server-address fd90::1 --public-port 8084 --name v6 --wait 15 >/dev/null'
release g1
check "the attacker's connections from .2 still echo ($STILL)" \
	[ "$STILL" = "still $(awk '{print $2}' "$E2E_TMP/g1.ready")" ]
release g2
run prlimit --pid "$TUND_PID_srv" --nofile="$soft:$hard"
idle_again || fail "connections left: $(S show tund0)"
out=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" count 198.51.100.1 8082 5 --timeout 20)
check "users are served again ($out)" [ "$out" = "served 5 refused 0" ]

log "=== ExposeIdleTimeout = 2: silent relays are reset, talking ones live on"
bg "$user" before python3 "$EXPOSE_TOOL" idle 198.51.100.1 8082 3 6 --greeting
before_pid=$BG_PID
wait_until 10 "three silent connections" eval '[ "$(active)" = 3 ]' || true
SERVER_EXTRA="ExposeIdleTimeout = 2" expose_write_server "8000-8099, 9000"
S reload >"$E2E_TMP/out" || log "reload: $(cat "$E2E_TMP/out")"
out=$(n "$user" python3 "$EXPOSE_TOOL" idle 198.51.100.1 8082 10 5 --greeting)
check "10 silent connections are closed after 2 s ($out)" [ "$out" = "open 0 closed 10" ]
wait "$before_pid" || true
check "so are those made before the reload ($(cat "$E2E_TMP/before.log"))" grep -qx "open 0 closed 3" "$E2E_TMP/before.log"
out=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" chatty 198.51.100.1 8082 6 --every 1 2>&1 || true)
check "a connection that talks every second lives on ($out)" [ "$out" = alive ]
check "the idle resets are logged" tund_log_has srv "a relayed connection was idle too long; reset"

log "=== at most 16 control sessions per peer"
C unexpose tund0 v6 >/dev/null || log "unexpose v6 failed"
wait_until 10 "the IPv6 session closed" tund_log_has srv "control connection closed: closed by the peer" || true
extra=""
for i in $(seq 33 50); do
	extra+=", 10.90.0.$i"
	run ip -n "$cli" addr add "10.90.0.$i/32" dev tund0
done
PEER_EXTRA="AllowExposeFrom = 10.90.0.2, fd90::2$extra" \
	expose_write_server "8000-8099, 9000" "10.90.0.2/32, fd90::2/128, 10.90.0.32/27"
S reload >"$E2E_TMP/out" || log "reload: $(cat "$E2E_TMP/out")"
ping_line=$(printf '%s\n' '{"op":"ping"}' | od -An -v -tx1 | tr -d ' \n')
pids=()
for i in $(seq 33 50); do
	bg "$cli" "sess$i" python3 "$EXPOSE_TOOL" send 10.90.0.1 51821 "$ping_line" --bind "10.90.0.$i" --wait 4
	pids+=("$BG_PID")
done
for p in "${pids[@]}"; do wait "$p" || true; done
pongs=$(cat "$E2E_TMP"/sess*.log | grep -c '"op":"pong"' || true)
limits=$(cat "$E2E_TMP"/sess*.log | grep -c '"code":"limit"' || true)
log "18 control connections from 18 of the peer's addresses: $pongs sessions, $limits refused (the client has its own besides)"
check "no more than 16 sessions with the client's own ($pongs more)" [ "$pongs" -le 15 ]
check "the others are told why ($limits)" eval '[ $((pongs + limits)) = 18 ] && [ "$limits" -ge 3 ]'
check "the limit is logged" tund_log_has srv "16 localhost-tunnel control connections already; refusing one"
check "the client's service is still published" expose_is echo active
out=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" count 198.51.100.1 8082 2 --timeout 20)
check "and serves users ($out)" [ "$out" = "served 2 refused 0" ]

for d in srv cli; do
	check "tund $d is alive" tund_alive "$d"
done
tund_stop cli
tund_stop srv
check "no sanitizer report" eval '! grep -E "ERROR: (Address|Leak|Undefined)Sanitizer|runtime error" "$E2E_TMP"/srv.log "$E2E_TMP"/cli.log'
if [ "${#FAILED[@]}" -gt 0 ]; then
	printf 'NOT OK: %s\n' "${FAILED[@]}" >&2
	fail "${#FAILED[@]} checks failed"
fi
log "PASS"
