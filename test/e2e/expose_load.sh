#!/usr/bin/env bash
# Localhost tunnels under load and abuse: 200 concurrent HTTP downloads all
# complete; 1000 connections held open at once through the relay (open
# descriptors and memory of both daemons measured); a user that never reads
# while the local service writes without end (backpressure: neither daemon
# nor the chain of sockets buffers without bound); garbage, an unknown
# service name, an over-long line and connections from outside the tunnel
# on the control port, while other relayed connections carry on (with
# ip_nonlocal_bind set, so that bind() accepts any address); one peer's
# unanswered connections on the control port capped at 256 for 10 s;
# ExposeMaxConnections refusing the connections over the limit; a server out
# of file descriptors pausing instead of spinning. (The relay's throughput
# beside the tunnel's is measured by test/bench/bench.sh, path "relay".)
#
#   user 198.51.100.2 ── veth ── 198.51.100.1  srv  192.0.2.1 ── veth ── 192.0.2.2  cli
#                                     tund0 10.90.0.1  ==== tunnel ====  tund0 10.90.0.2
#   public ports: 8080 web (HTTP), 8082 echo, 8083 flood  ->  cli 127.0.0.1
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/expose.sh"
e2e_init python3 socat ss sha256sum prlimit

asan=0
if ldd "$TUND" 2>/dev/null | grep libasan >/dev/null; then # not -q: pipefail and SIGPIPE
	asan=1 # freed buffers sit in ASan's quarantine: RSS says little there
fi
CLIENT_EXTRA="
[Expose echo]
LocalPort = 8200
PublicPort = 8082
Peer = server

[Expose flood]
LocalPort = 8300
PublicPort = 8083
Peer = server
"
# Telling local addresses from the peers' must not depend on bind() failing.
NONLOCAL_BIND=1
# One user holds 1000 connections here (the per-source limit has its own test, expose_limits.sh).
SERVER_EXTRA="ExposeMaxConnectionsPerSource = 2000"
expose_setup
www="$E2E_TMP/www"
mkdir -p "$www"
head -c $((256 * 1024)) /dev/urandom >"$www/one.bin"
bg "$cli" http python3 "$EXPOSE_TOOL" http 8000 "$www"
bg "$cli" echo python3 "$EXPOSE_TOOL" serve 8200
bg "$cli" flood python3 "$EXPOSE_TOOL" serve 8300 --flood --stats "$E2E_TMP/flood.bytes"
for p in 8000 8200 8300; do
	wait_until 10 "a service on $p" listening "$cli" "$p" || fail "no service on $p"
done
for s in web echo flood; do
	wait_until 20 "$s published" expose_is "$s" active || fail "$s: $(C show tund0)"
done
base_fd_srv=$(fd_count srv) base_fd_cli=$(fd_count cli)
base_rss_srv=$(rss_kib srv) base_rss_cli=$(rss_kib cli)
log "baseline: server $base_fd_srv fds, $base_rss_srv KiB; client $base_fd_cli fds, $base_rss_cli KiB"
T() { ip netns exec "$user" python3 "$EXPOSE_TOOL" "$@"; }

log "=== 200 concurrent downloads of 256 KiB"
n "$user" python3 "$EXPOSE_TOOL" burst 198.51.100.1 8080 200 /one.bin \
	"$(sha256sum <"$www/one.bin" | cut -d' ' -f1)" --timeout 120 || fail "the 200 downloads"

log "=== 1000 connections held open at once"
bg "$user" hold python3 "$EXPOSE_TOOL" hold 198.51.100.1 8082 1000 --timeout 120 \
	--ready "$E2E_TMP/held" --release "$E2E_TMP/release"
hold_pid=$BG_PID
wait_until 120 "1000 connections open" test -f "$E2E_TMP/held" || fail "1000 connections: $(cat "$E2E_TMP/hold.log")"
fd_srv=$(fd_count srv) fd_cli=$(fd_count cli)
rss_srv=$(rss_kib srv) rss_cli=$(rss_kib cli)
log "1000 held: server $fd_srv fds, $rss_srv KiB (+$((rss_srv - base_rss_srv))); client $fd_cli fds, $rss_cli KiB (+$((rss_cli - base_rss_cli)))"
S --json show tund0 | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)["interfaces"][0]["public_ports"] if x["port"] == 8082][0]
assert p["active_connections"] == 1000, p' || fail "the server does not count 1000 active connections"
# Two descriptors per relayed connection on each side: the public or local one and the tunnel one.
((fd_srv - base_fd_srv >= 2000 && fd_srv - base_fd_srv <= 2020)) || fail "server: $fd_srv fds for 1000 connections"
((fd_cli - base_fd_cli >= 2000 && fd_cli - base_fd_cli <= 2020)) || fail "client: $fd_cli fds for 1000 connections"
if [ "$asan" = 0 ]; then
	((rss_srv - base_rss_srv < 16384 && rss_cli - base_rss_cli < 16384)) ||
		fail "1000 idle connections cost more than 16 MiB of memory"
fi
touch "$E2E_TMP/release"
wait "$hold_pid" || fail "the held connections: $(cat "$E2E_TMP/hold.log")"
grep -q "released 1000" "$E2E_TMP/hold.log" || fail "$(cat "$E2E_TMP/hold.log")"
wait_until 10 "the descriptors released" eval '[ "$(fd_count srv)" -le $((base_fd_srv + 4)) ] && [ "$(fd_count cli)" -le $((base_fd_cli + 4)) ]' ||
	fail "descriptors left: server $(fd_count srv), client $(fd_count cli)"

log "=== a user that never reads from a service that never stops writing"
bg "$user" slow python3 "$EXPOSE_TOOL" slowreader 198.51.100.1 8083 30
slow_pid=$BG_PID
wait_until 10 "the flood started" test -s "$E2E_TMP/flood.bytes" || fail "the flood did not start"
sleep 4 # let every buffer on the way fill up
# On a loaded machine the buffers fill more slowly: look again, up to 5 times.
for _ in 1 2 3 4 5; do
	b1=$(cat "$E2E_TMP/flood.bytes") r1_srv=$(rss_kib srv) r1_cli=$(rss_kib cli)
	sleep 3
	b2=$(cat "$E2E_TMP/flood.bytes") r2_srv=$(rss_kib srv) r2_cli=$(rss_kib cli)
	((b2 - b1 >= 1048576)) || break
done
log "slow reader: the service wrote $((b1 / 1048576)) MiB, then $(((b2 - b1) / 1024)) KiB in 3 s; RSS server $r1_srv -> $r2_srv KiB, client $r1_cli -> $r2_cli KiB"
((b2 < 64 * 1048576)) || fail "the service could write $b2 bytes to a reader that reads nothing"
((b2 - b1 < 1048576)) || fail "the stream did not stop: $((b2 - b1)) bytes in 3 s"
if [ "$asan" = 0 ]; then
	((r2_srv - base_rss_srv < 16384 && r2_cli - base_rss_cli < 16384)) ||
		fail "memory grew with a slow reader: server $r2_srv, client $r2_cli KiB"
fi
grep -q "connected, not reading" "$E2E_TMP/slow.log" || fail "the slow reader: $(cat "$E2E_TMP/slow.log")"
stop_bg "$slow_pid"

log "=== hostile input on the control port; other relays carry on"
bg "$user" hold20 python3 "$EXPOSE_TOOL" hold 198.51.100.1 8082 20 --timeout 60 \
	--ready "$E2E_TMP/held20" --release "$E2E_TMP/release20"
hold_pid=$BG_PID
wait_until 30 "20 connections open" test -f "$E2E_TMP/held20" || fail "20 connections"
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# refused OUT: exposetool send was turned away: a reset (perhaps before connect()
# returned) or an EOF.
refused() { [[ -z $1 || $1 == "<reset>" || $1 == "<connect failed: Connection reset by peer>" ]]; }
# From the server's side of the tunnel (its peer address) to the client's control port.
out=$(n "$srv" python3 "$EXPOSE_TOOL" send 10.90.0.2 51821 "$(hex $'GET / HTTP/1.0\r\n\r\n')")
[[ $out != *HTTP* ]] || fail "garbage got an answer: $out"
out=$(n "$srv" python3 "$EXPOSE_TOOL" send 10.90.0.2 51821 "$(hex '{"op":"connect","name":"nosuch","remote":"192.0.2.9:1"}
hello')")
refused "$out" || fail "a connect to an unknown service got: $out"
grep -q 'peer server asked from 10.90.0.1:[0-9]* to connect to "nosuch", which it was not given; reset' "$E2E_TMP/cli.log" ||
	fail "no log of the unknown service"
log "+ [srv] exposetool send 10.90.0.2 51821 (a line of 10000 bytes)"
out=$(nq "$srv" python3 "$EXPOSE_TOOL" send 10.90.0.2 51821 "$(head -c 10000 /dev/zero | tr '\0' a | od -An -v -tx1 | tr -d ' \n')")
refused "$out" || fail "a line of 10000 bytes got: $out"
head -c 40000 /dev/urandom >"$E2E_TMP/noise"
log "+ [srv] exposetool send 10.90.0.2 51821 (40000 random bytes)"
out=$(nq "$srv" python3 "$EXPOSE_TOOL" send 10.90.0.2 51821 "$(od -An -v -tx1 <"$E2E_TMP/noise" | tr -d ' \n')")
# Not through the tunnel: a process on the server itself, even one that
# binds to the TUN device as tund does, is refused (its address is local).
out=$(n "$srv" python3 "$EXPOSE_TOOL" send 10.90.0.1 51821 "$(hex '{"op":"ping"}
')" --device tund0)
refused "$out" || fail "the server's control port answered a local process: $out"
grep -q "control port: refusing 10.90.0.1:[0-9]*: a local address, not through the tunnel" "$E2E_TMP/srv.log" ||
	fail "the local connection was not refused as such"
out=$(n "$user" python3 "$EXPOSE_TOOL" send 198.51.100.1 51821 "$(hex '{"op":"ping"}
')")
[[ $out == "<connect failed"* ]] || fail "the server's control port answered the user: $out"
# From the client's side to the server's control port: a first line that is no request.
out=$(n "$cli" python3 "$EXPOSE_TOOL" send 10.90.0.1 51821 "$(hex $'\x00\x01garbage\n')")
[[ $out != *pong* ]] || fail "garbage got an answer: $out"
tund_alive srv && tund_alive cli || fail "a daemon died"
touch "$E2E_TMP/release20"
wait "$hold_pid" || fail "relayed connections were disturbed: $(cat "$E2E_TMP/hold20.log")"
wait_until 10 "web still published" expose_is web active || fail "web: $(C show tund0)"
n "$user" python3 "$EXPOSE_TOOL" burst 198.51.100.1 8080 5 /one.bin \
	"$(sha256sum <"$www/one.bin" | cut -d' ' -f1)" || fail "downloads after the hostile input"
# A request that takes the client's session: answered with an error; the client takes it back.
out=$(n "$cli" python3 "$EXPOSE_TOOL" send 10.90.0.1 51821 "$(hex '{"op":"expose","name":"x","public_port":99999}
')")
[[ $out == *'"code":"bad_request"'* ]] || fail "a bad expose request got: $out"
wait_until 20 "web published again" expose_is web active || fail "web: $(C show tund0)"
wait_until 10 "downloads again" ip netns exec "$user" python3 "$EXPOSE_TOOL" burst 198.51.100.1 8080 1 \
	/one.bin "$(sha256sum <"$www/one.bin" | cut -d' ' -f1)" || fail "no download after the session came back"

log "=== one peer holds at most 256 unanswered connections on the control port, each for 10 s"
# 600 connections from the server that never send a line: the client keeps
# 256 and closes the rest at once, then closes those 256 after 10 s.
n "$srv" python3 "$EXPOSE_TOOL" idle 10.90.0.2 51821 600 2 --again 10 >"$E2E_TMP/out" ||
	fail "idle connections: $(cat "$E2E_TMP/out")"
grep -qx "open 256 closed 344" "$E2E_TMP/out" && grep -qx "later open 0" "$E2E_TMP/out" ||
	fail "unanswered connections: $(cat "$E2E_TMP/out")"
tund_log_has cli "control port: refusing 10.90.0.1:[0-9]* (peer server): too many unanswered connections" ||
	fail "no log of the refusal"
wait_until 10 "downloads after the idle connections" ip netns exec "$user" python3 "$EXPOSE_TOOL" burst \
	198.51.100.1 8080 5 /one.bin "$(sha256sum <"$www/one.bin" | cut -d' ' -f1)" ||
	fail "no download after the idle connections"

log "=== ExposeMaxConnections refuses what is over the limit"
SERVER_EXTRA="$SERVER_EXTRA
ExposeMaxConnections = 5" expose_write_server "8000-8099, 9000"
S reload >/dev/null || fail "server reload"
out=$(n "$user" python3 "$EXPOSE_TOOL" count 198.51.100.1 8082 10 --timeout 30)
[ "$out" = "served 5 refused 5" ] || fail "with ExposeMaxConnections = 5: $out"
S --json show tund0 | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)["interfaces"][0]["public_ports"] if x["port"] == 8082][0]
assert p["refused_connections"] == 5, p' || fail "the refusals are not counted"
expose_write_server "8000-8099, 9000"
S reload >/dev/null || fail "server reload"

log "=== out of file descriptors: the server refuses and pauses, it does not spin"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$TUND_PID_srv/stat"; }
# Only the soft limit: raising a hard limit again needs CAP_SYS_RESOURCE.
# Below the descriptors it has open (a tunctl connection may be closing):
# the reserve is gone too, and accept() fails.
read -r soft hard < <(prlimit --pid "$TUND_PID_srv" --nofile --output SOFT,HARD --noheadings)
low=$(($(fd_count srv) - 2))
run prlimit --pid "$TUND_PID_srv" --nofile="$low:$hard"
bg "$user" fdhold python3 "$EXPOSE_TOOL" count 198.51.100.1 8082 60 --timeout 40
fd_pid=$BG_PID
sleep 2
t1=$(cpu_ticks)
sleep 3
t2=$(cpu_ticks)
log "out of descriptors: the server used $((t2 - t1)) ticks of CPU in 3 s"
((t2 - t1 < 100)) || fail "the server spins when out of file descriptors: $((t2 - t1)) ticks in 3 s"
wait "$fd_pid" || fail "the client of the full server"
log "with $low descriptors: $(cat "$E2E_TMP/fdhold.log")"
grep -q "public port 8082: out of file descriptors; pausing" "$E2E_TMP/srv.log" ||
	fail "no pause in the server's log"
run prlimit --pid "$TUND_PID_srv" --nofile="$soft:$hard"
tund_alive srv || fail "the server died"
wait_until 20 "downloads after the limit was raised" ip netns exec "$user" python3 "$EXPOSE_TOOL" burst \
	198.51.100.1 8080 20 /one.bin "$(sha256sum <"$www/one.bin" | cut -d' ' -f1)" ||
	fail "no download after the limit was raised"

tund_alive srv && tund_alive cli || fail "a daemon died"
log "FIGURES: 1000 held: server +$((fd_srv - base_fd_srv)) fds +$((rss_srv - base_rss_srv)) KiB, client +$((fd_cli - base_fd_cli)) fds +$((rss_cli - base_rss_cli)) KiB; slow reader stalled at $((b2 / 1048576)) MiB"
tund_stop cli
tund_stop srv
! grep -E "ERROR: (Address|Leak|Undefined)Sanitizer|runtime error" "$E2E_TMP"/srv.log "$E2E_TMP"/cli.log ||
	fail "sanitizer report"
log "PASS"
