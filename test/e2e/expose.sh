#!/usr/bin/env bash
# Localhost tunnels at layer 4 between two tund daemons, with a user that can
# reach only the server: an HTTP service bound to the client's 127.0.0.1 is
# fetched through the server's public port (content, a 50 MB checksum); a
# port AllowExpose does not cover, and a port another program holds, are
# refused with the server's message on the client (tunctl expose exits 1);
# tunctl expose/unexpose live, with a PROXY v2 header carrying the user's
# address; reload adds and removes [Expose] sections and narrows AllowExpose
# in place, without restarting the interface; a new ExposeBindAddress moves
# the public port (one the server cannot listen on leaves it where it was,
# and the reload says why); a reload that gives the client's address to
# another peer ends its session; tunctl expose/unexpose
# --save write and take away an [Expose] section (a refused one leaves the
# file alone); the client crashing and restarting (with the saved service)
# and the server restarting both bring the service back by themselves; a
# client that stops tells the server at once and loses its port after the
# grace period. IPv6 too: a user over
# IPv6, a service on ::1, a control connection over the tunnel's IPv6, and
# one next to an IPv4 control connection to the same server peer.
#
#   user 198.51.100.2 ── veth ── 198.51.100.1  srv  192.0.2.1 ── veth ── 192.0.2.2  cli
#        2001:db8:1::2               2001:db8:1::1
#                                     tund0 10.90.0.1  ==== tunnel ====  tund0 10.90.0.2
#                                           fd90::1                            fd90::2
#                                     AllowExpose = 8000-8099, 9000      [Expose web] 8000 -> 8080
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/expose.sh"
e2e_init python3 curl socat ss sha256sum

expose_setup
www="$E2E_TMP/www"
mkdir -p "$www"
echo "hello through the tunnel" >"$www/hello.txt"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$www/big.bin"
bg "$cli" http python3 -m http.server --bind 127.0.0.1 --directory "$www" 8000
wait_until 10 "the HTTP server" listening "$cli" 8000 || fail "the HTTP server did not start"
wait_until 20 "web published" expose_is web active || fail "web: $(C show tund0)"

# fetch PORT PATH: the body from the user's side.
fetch() { ip netns exec "$user" curl -sS --fail --max-time 60 "http://198.51.100.1:$1$2"; }

log "=== content and a 50 MB download through the server's public port"
[ "$(fetch 8080 /hello.txt)" = "hello through the tunnel" ] || fail "wrong content"
want=$(sha256sum <"$www/big.bin" | cut -d' ' -f1)
t0=$(date +%s.%N)
got=$(fetch 8080 /big.bin | sha256sum | cut -d' ' -f1)
t1=$(date +%s.%N)
[ "$got" = "$want" ] || fail "50 MB download: checksum differs"
log "50 MB in $(awk "BEGIN {printf \"%.2f s, %.0f MB/s\", $t1 - $t0, 50 / ($t1 - $t0)}")"
! ip netns exec "$user" curl -s --max-time 2 http://192.0.2.2:8000/ >/dev/null ||
	fail "the user reaches the client directly"

log "=== tunctl show on both sides"
C show tund0 >"$E2E_TMP/out"
grep -q "^expose: web" "$E2E_TMP/out" && grep -q "state: active, listening on \*:8080" "$E2E_TMP/out" &&
	grep -q "local service: 127.0.0.1:8000" "$E2E_TMP/out" || fail "client show: $(cat "$E2E_TMP/out")"
S show tund0 >"$E2E_TMP/out"
grep -q "^public port: 8080" "$E2E_TMP/out" && grep -q "for peer: laptop, service web" "$E2E_TMP/out" ||
	fail "server show: $(cat "$E2E_TMP/out")"
S --json show tund0 | python3 -c '
import json, sys
p = json.load(sys.stdin)["interfaces"][0]["public_ports"]
assert len(p) == 1 and p[0]["port"] == 8080 and p[0]["state"] == "active", p
assert p[0]["total_connections"] >= 2 and p[0]["active_connections"] == 0, p' || fail "server show --json"

log "=== tunctl watch's events of the localhost tunnels, on both sides (checked below)"
for side in srv cli; do
	python3 "$(dirname "$0")/../lib/watchclient.py" follow "$E2E_TMP/$side.sock" \
		"$E2E_TMP/$side.watching" "$E2E_TMP/$side.events" &
	E2E_PIDS+=("$!")
	wait_until 10 "$side watching" test -f "$E2E_TMP/$side.watching" || fail "watch on $side"
done

log "=== a port the server does not allow: refused, with the server's message"
rc=0
C expose tund0 8000 --peer server --public-port 7000 --name nope >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
[ "$rc" = 1 ] || fail "expose of a port not allowed: exit $rc: $(cat "$E2E_TMP/err")"
grep -qF "tunctl: expose: nope: refused by server: port 7000 is not allowed for peer laptop (AllowExpose = 8000-8099, 9000)" \
	"$E2E_TMP/err" || fail "refusal message: $(cat "$E2E_TMP/err")"
[ -z "$(expose_state nope)" ] || fail "a refused service stayed registered"
! listening "$srv" 7000 || fail "the server listens on 7000"

log "=== a port another program holds on the server: refused"
bg "$srv" squat socat TCP-LISTEN:9000,reuseaddr,fork /dev/null
wait_until 5 "socat on 9000" listening "$srv" 9000 || fail "socat did not listen"
rc=0
C expose tund0 8000 --peer server --public-port 9000 --name busy >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -qF "port 9000 is in use on the server by another program" "$E2E_TMP/err" ||
	fail "expose of a busy port: exit $rc: $(cat "$E2E_TMP/err")"
stop_bg "$BG_PID"

log "=== tunctl expose live with a PROXY v2 header; unexpose"
bg "$cli" proxysvc python3 "$EXPOSE_TOOL" serve 8100 --proxy
wait_until 10 "the PROXY service" listening "$cli" 8100 || fail "the PROXY service did not start"
C expose tund0 8100 --peer server --public-port 8081 --proxy-protocol >"$E2E_TMP/out" 2>"$E2E_TMP/err" ||
	fail "expose 8100: $(cat "$E2E_TMP/err")"
grep -q "^8100: 127.0.0.1:8100 published through server on \*:8081" "$E2E_TMP/out" ||
	fail "expose output: $(cat "$E2E_TMP/out")"
line=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" proxycheck 198.51.100.1 8081)
read -r hello src dst _ me <<<"$line"
[ "$hello" = HELLO ] && [ "$src" = "$me" ] && [ "$dst" = 198.51.100.1:8081 ] ||
	fail "the service did not see the user's address in the PROXY header: $line"
log "PROXY v2: the local service saw $src (the user is $me)"
line=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" proxycheck 2001:db8:1::1 8081)
read -r hello src dst _ me <<<"$line"
[ "$hello" = HELLO ] && [ "$src" = "$me" ] && [ "$dst" = "[2001:db8:1::1]:8081" ] ||
	fail "over IPv6, the PROXY header did not carry the user's address: $line"
log "PROXY v2 over IPv6: the local service saw $src (the user is $me)"
C --json expose tund0 8100 --peer server --public-port 8081 --proxy-protocol --wait 0 >"$E2E_TMP/out" || fail "expose again"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["new"] is False and d["name"] == "8100", d' \
	"$E2E_TMP/out" || fail "repeated expose: $(cat "$E2E_TMP/out")"
C unexpose tund0 8100 >"$E2E_TMP/out" || fail "unexpose"
grep -q "tund0: 8100 no longer published" "$E2E_TMP/out" || fail "unexpose: $(cat "$E2E_TMP/out")"
wait_until 5 "8081 closed on the server" eval "! listening '$srv' 8081" || fail "8081 still open"
rc=0
C unexpose tund0 8100 2>"$E2E_TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q 'publishes no service "8100"' "$E2E_TMP/err" || fail "unexpose twice: $rc"
# The events of the last steps on both sides: refused (7000, 9000),
# published and withdrawn (8100).
python3 "$(dirname "$0")/../lib/watchclient.py" expect "$E2E_TMP/srv.events" \
	"expose-refused,interface=tund0,name=laptop,role=server,service=nope,message=*" \
	"expose-refused,interface=tund0,role=server,service=busy" \
	"expose-published,interface=tund0,name=laptop,role=server,service=8100,port=8081,listen=*:8081" \
	"expose-withdrawn,interface=tund0,name=laptop,role=server,service=8100,port=8081" ||
	fail "the server's watch events"
python3 "$(dirname "$0")/../lib/watchclient.py" expect "$E2E_TMP/cli.events" \
	"expose-refused,interface=tund0,name=server,role=client,service=nope,message=*" \
	"expose-refused,interface=tund0,role=client,service=busy" \
	"expose-published,interface=tund0,name=server,role=client,service=8100,listen=*:8081" \
	"expose-withdrawn,interface=tund0,name=server,role=client,service=8100,listen=*:8081" ||
	fail "the client's watch events"

log "=== IPv6: a service on ::1, its control connection over the tunnel's IPv6, a user over IPv6"
bg "$cli" http6 python3 -m http.server --bind ::1 --directory "$www" 8001
wait_until 10 "the HTTP server on ::1" listening "$cli" 8001 || fail "the HTTP server on ::1 did not start"
C expose tund0 8001 --peer server --local-address ::1 --server-address fd90::1 --name v6 \
	--wait 15 >"$E2E_TMP/out" 2>"$E2E_TMP/err" || fail "expose over IPv6: $(cat "$E2E_TMP/err")"
C --json show tund0 | python3 -c '
import json, sys
s = [x for x in json.load(sys.stdin)["interfaces"][0]["exposes"] if x["name"] == "v6"][0]
assert s["server"] == "[fd90::1]:51821" and s["local"] == "[::1]:8001" and s["state"] == "active", s' ||
	fail "v6: $(C show tund0)"
[ "$(ip netns exec "$user" curl -sS -g --fail --max-time 10 "http://[2001:db8:1::1]:8001/hello.txt")" = \
	"hello through the tunnel" ] || fail "fetch over IPv6"
[ "$(ip netns exec "$user" curl -sS -g --fail --max-time 10 "http://[2001:db8:1::1]:8080/hello.txt")" = \
	"hello through the tunnel" ] || fail "fetch of web over IPv6"
C unexpose tund0 v6 >/dev/null || fail "unexpose v6"

log "=== two control connections to one server peer (IPv4 and IPv6) stay up side by side"
replaced=$(grep -c "replaced by a new connection" "$E2E_TMP/srv.log" || true)
C expose tund0 8000 --peer server --server-address fd90::1 --name v6b --public-port 8085 \
	--wait 10 >/dev/null 2>"$E2E_TMP/err" || fail "expose v6b: $(cat "$E2E_TMP/err")"
sleep 5 # the sessions used to replace each other about once a second
expose_is web active && expose_is v6b active || fail "web and v6b: $(C show tund0)"
[ "$(fetch 8080 /hello.txt)" = "hello through the tunnel" ] &&
	[ "$(fetch 8085 /hello.txt)" = "hello through the tunnel" ] || fail "fetch through web and v6b"
[ "$(grep -c "replaced by a new connection" "$E2E_TMP/srv.log" || true)" = "$replaced" ] ||
	fail "the two control connections replaced each other: $(grep replaced "$E2E_TMP/srv.log")"
C unexpose tund0 v6b >/dev/null || fail "unexpose v6b"

log "=== reload: [Expose] sections and AllowExpose change in place"
sessions_cli=$(grep -c "session established" "$E2E_TMP/cli.log")
sessions_srv=$(grep -c "session established" "$E2E_TMP/srv.log")
cat >>"$dcli/tund0.conf" <<CONF

[Expose api]
LocalPort = 8000
PublicPort = 8090
Peer = server
CONF
C reload >"$E2E_TMP/out" || fail "client reload: $(cat "$E2E_TMP/out")"
grep -q "expose api: 127.0.0.1:8000 through peer server, public port 8090" "$E2E_TMP/out" &&
	! grep -q restarted "$E2E_TMP/out" || fail "client reload: $(cat "$E2E_TMP/out")"
wait_until 10 "api published" expose_is api active || fail "api: $(C show tund0)"
[ "$(fetch 8090 /hello.txt)" = "hello through the tunnel" ] || fail "api: wrong content"
python3 - "$dcli/tund0.conf" <<'PY'
import sys
p = sys.argv[1]
text = open(p).read()
open(p, "w").write(text[: text.index("\n[Expose api]")] + "\n")
PY
C reload >"$E2E_TMP/out" || fail "client reload"
grep -q "expose api: removed" "$E2E_TMP/out" || fail "client reload: $(cat "$E2E_TMP/out")"
wait_until 5 "8090 closed" eval "! listening '$srv' 8090" || fail "8090 still open after the reload"
expose_write_server 9000
S reload >"$E2E_TMP/out" || fail "server reload: $(cat "$E2E_TMP/out")"
grep -q "public port 8080 (peer laptop, web): closed (no longer in AllowExpose)" "$E2E_TMP/out" &&
	! grep -q restarted "$E2E_TMP/out" || fail "server reload: $(cat "$E2E_TMP/out")"
! listening "$srv" 8080 || fail "8080 still open after AllowExpose changed"
wait_until 5 "web refused" expose_is web refused || fail "web: $(C show tund0)"
C show tund0 | grep -qF "state: refused: port 8080 is not allowed for peer laptop (AllowExpose = 9000)" ||
	fail "client show after the refusal: $(C show tund0)"
[ "$(grep -c "session established" "$E2E_TMP/cli.log")" = "$sessions_cli" ] &&
	[ "$(grep -c "session established" "$E2E_TMP/srv.log")" = "$sessions_srv" ] ||
	fail "a reload of localhost-tunnel settings started a new session"
expose_write_server "8000-8099, 9000"
S reload >/dev/null || fail "server reload"
# The server tells its clients their AllowExpose may have changed; they ask again at once.
t0=$(date +%s.%N)
wait_until 10 "web published again" expose_is web active || fail "web: $(C show tund0)"
log "web published again $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s after the server's reload"
[ "$(fetch 8080 /hello.txt)" = "hello through the tunnel" ] || fail "wrong content after the reload"

log "=== a reload asks for an ExposeBindAddress the server does not have: the port stays where it was"
SERVER_EXTRA="ExposeBindAddress = 198.51.100.77" expose_write_server "8000-8099, 9000"
S reload >"$E2E_TMP/out" || fail "server reload: $(cat "$E2E_TMP/out")"
grep -qF "public port 8080 (peer laptop, web): stays on *:8080 (cannot listen on 198.51.100.77:8080: Cannot assign requested address)" \
	"$E2E_TMP/out" || fail "server reload: $(cat "$E2E_TMP/out")"
[ "$(fetch 8080 /hello.txt)" = "hello through the tunnel" ] && expose_is web active ||
	fail "web after the failed move: $(C show tund0)"
SERVER_EXTRA="ExposeBindAddress = 198.51.100.1" expose_write_server "8000-8099, 9000"
S reload >"$E2E_TMP/out" || fail "server reload: $(cat "$E2E_TMP/out")"
grep -qF "public port 8080 (peer laptop, web): now on 198.51.100.1:8080" "$E2E_TMP/out" ||
	fail "server reload: $(cat "$E2E_TMP/out")"
[ "$(fetch 8080 /hello.txt)" = "hello through the tunnel" ] || fail "fetch on 198.51.100.1"
! ip netns exec "$user" curl -s -g --max-time 2 "http://[2001:db8:1::1]:8080/" >/dev/null ||
	fail "8080 still answers on the server's IPv6 address"
expose_write_server "8000-8099, 9000"
S reload >/dev/null || fail "server reload"

log "=== a reload gives the client's address to another peer: its session ends"
# Users' connections must not be relayed to whoever holds that address now.
expose_write_server "8000-8099, 9000" fd90::2/128 "
[Peer]
Name = other
PublicKey = $(pubkey "$(genkey)")
AllowedIPs = 10.90.0.2/32"
S reload >/dev/null || fail "server reload"
wait_until 5 "the session ended" grep -q "laptop: localhost-tunnel control connection closed: its address is no longer in its AllowedIPs" \
	"$E2E_TMP/srv.log" || fail "the session of a moved address lives on"
wait_until 10 "8080 closed after the grace period" eval "! listening '$srv' 8080" ||
	fail "8080 stays open for an address that moved to another peer"
expose_write_server "8000-8099, 9000"
S reload >/dev/null || fail "server reload"
# The client's next ping meets the closed connection (a reset) and it connects again.
wait_until 30 "web published after the address came back" eval "listening '$srv' 8080 && expose_is web active" ||
	fail "web: $(C show tund0)"
wait_until 10 "fetch after the address came back" fetch 8080 /hello.txt || fail "no fetch after the address came back"

log "=== tunctl expose --save writes [Expose NAME]; a refusal leaves the file as it was"
conf=$(realpath "$dcli")/tund0.conf
cp "$conf" "$E2E_TMP/cli.conf.before"
C expose tund0 8000 --peer server --public-port 8086 --name saved --save >"$E2E_TMP/out" 2>"$E2E_TMP/err" ||
	fail "expose --save: $(cat "$E2E_TMP/err")"
grep -qx "saved to $conf" "$E2E_TMP/out" || fail "expose --save said: $(cat "$E2E_TMP/out")"
# Appended after a blank line (the file ends in one already: no second one).
python3 - "$E2E_TMP/cli.conf.before" "$E2E_TMP/cli.conf.saved" <<'PY'
import sys
text = open(sys.argv[1]).read()
sep = "" if text.endswith("\n\n") else "\n"
open(sys.argv[2], "w").write(text + sep + "[Expose saved]\nPeer = server\nLocalPort = 8000\nPublicPort = 8086\n")
PY
cmp -s "$conf" "$E2E_TMP/cli.conf.saved" || fail "the saved file: $(diff "$E2E_TMP/cli.conf.saved" "$conf")"
[ "$(C reload)" = "no change" ] || fail "reload after expose --save changed something"
rc=0
C expose tund0 8000 --peer server --public-port 7001 --name nope --save >/dev/null 2>"$E2E_TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q "refused by server: port 7001 is not allowed" "$E2E_TMP/err" ||
	fail "refused expose --save: exit $rc: $(cat "$E2E_TMP/err")"
cmp -s "$conf" "$E2E_TMP/cli.conf.saved" || fail "a refused --save changed the file: $(diff "$E2E_TMP/cli.conf.saved" "$conf")"

log "=== the client crashes and restarts: the services come back by themselves, the saved one too"
# SIGKILL: its TUN device goes with it, so no FIN reaches the server, whose
# session must be replaced by the new connection.
run kill -KILL "$TUND_PID_cli"
wait "$TUND_PID_cli" 2>/dev/null || true
tund_start "$cli" cli "$dcli"
tund_wait_iface "$cli" tund0 || fail "client interface"
wait_until 30 "web published after the client restart" expose_is web active || fail "web: $(C show tund0)"
wait_until 10 "fetch after the client restart" fetch 8080 /hello.txt || fail "no fetch after the client restart"
wait_until 10 "the saved service after the client restart" eval 'expose_is saved active && fetch 8086 /hello.txt' ||
	fail "saved: $(C show tund0)"
C unexpose tund0 saved --save >"$E2E_TMP/out" || fail "unexpose --save"
grep -qx "saved to $conf" "$E2E_TMP/out" || fail "unexpose --save said: $(cat "$E2E_TMP/out")"
# The file as it was, but for the blank lines it ended in: they went with the last section.
python3 -c 'import sys; t = open(sys.argv[1]).read(); open(sys.argv[2], "w").write(t.rstrip("\n") + "\n")' \
	"$E2E_TMP/cli.conf.before" "$E2E_TMP/cli.conf.back"
cmp -s "$conf" "$E2E_TMP/cli.conf.back" || fail "unexpose --save: $(diff "$E2E_TMP/cli.conf.back" "$conf")"
wait_until 5 "8086 closed on the server" eval "! listening '$srv' 8086" || fail "8086 still open"
grep -q "replaced by a new connection from the peer" "$E2E_TMP/srv.log" || fail "the old session was not replaced"

log "=== the server restarts: the client publishes again by itself"
tund_stop srv
tund_start "$srv" srv "$dsrv"
tund_wait_iface "$srv" tund0 || fail "server interface"
wait_until 60 "listening again after the server restart" listening "$srv" 8080 ||
	fail "not published after the server restart: $(C show tund0)"
wait_until 10 "fetch after the server restart" fetch 8080 /hello.txt || fail "no fetch after the server restart"

log "=== the client stops: the server learns it at once, the port closes after the grace period"
# tund closes its localhost-tunnel connections before its tunnel, so their
# FINs reach the server: no 30 s wait for missing pings.
eofs() { grep -c "laptop: localhost-tunnel control connection closed: closed by the peer" "$E2E_TMP/srv.log" || true; }
eofs_before=$(eofs)
tund_stop cli
t0=$(date +%s.%N)
wait_until 2 "the server sees the client's control connection close" eval '[ "$(eofs)" -gt "$eofs_before" ]' ||
	fail "the server did not see the client's control connection close"
wait_until 20 "8080 closed after the client left" eval "! listening '$srv' 8080" || fail "8080 stays open"
log "closed $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s after the client stopped (ExposeGracePeriod = 3)"
grep -q "kept for 3 s for the peer to come back" "$E2E_TMP/srv.log" &&
	grep -q "closed, the peer did not come back within the grace period" "$E2E_TMP/srv.log" ||
	fail "no grace period in the server's log"

tund_alive srv || fail "the server died"
tund_stop srv
! grep -E "ERROR: (Address|Leak|Undefined)Sanitizer|runtime error" "$E2E_TMP"/srv.log "$E2E_TMP"/cli.log ||
	fail "sanitizer report"
log "PASS"
