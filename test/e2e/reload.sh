#!/usr/bin/env bash
# Reload (SIGHUP) applies only what changed in /etc/tund and keeps sessions:
#  - 20 reloads, each changing peers, while a ping runs every 10 ms: no ping lost
#    and no new handshake;
#  - a new file brings an interface up, a removed file takes it down;
#  - a changed AllowedIPs moves the routes; a changed ListenPort rebinds;
#  - a changed Address restarts just that interface;
#  - a file with an error changes nothing, and the error names file and line.
#
#   a 10.83.0.1 ── veth 192.0.2.1 <-> 192.0.2.2 ── b 10.83.0.2
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping

ns_pair a b
ka=$(genkey); kb=$(genkey)
pa=$(pubkey "$ka"); pb=$(pubkey "$kb")
da=$(confdir a); db=$(confdir b)
# a's file: the real peer b, and a varying set of extra peers.
a_conf() { # a_conf KEEPALIVE EXTRA_PEER_COUNT [LISTEN]
	tunnel_conf "$da/rl0.conf" "$ka" 10.83.0.1/24 "${3:-51820}" "$pb" 192.0.2.2:51820 10.83.0.2/32 \
		-- "Name = b" "PersistentKeepalive = $1"
	for ((i = 0; i < $2; i++)); do
		printf '\n[Peer]\nName = extra%d\nPublicKey = %s\nAllowedIPs = 10.84.%d.0/24\n' \
			"$i" "${extra_keys[$i]}" "$i"
	done >>"$da/rl0.conf"
}
extra_keys=()
for i in 0 1 2 3 4; do extra_keys+=("$(pubkey "$(genkey)")"); done
a_conf 0 0
tunnel_conf "$db/rl0.conf" "$kb" 10.83.0.2/24 51820 "$pa" 192.0.2.1:51820 10.83.0.1/32 -- "Name = a"
tund_start "$a" a "$da"
tund_start "$b" b "$db"
tund_wait_iface "$a" rl0 && tund_wait_iface "$b" rl0 || fail "interfaces not up"
assert_ping "$a" 10.83.0.2
reload() { run kill -HUP "$TUND_PID_a"; }
reloads_done() { [ "$(grep -c "reload done" "$E2E_TMP/a.log")" -ge "$1" ]; }
sessions() { grep -c "session established" "$E2E_TMP/$1.log"; }

log "=== 20 reloads under a 10 ms ping"
s_before=$(sessions a)
n "$a" ping -c 700 -i 0.01 -W 1 -q 10.83.0.2 >"$E2E_TMP/ping" 2>&1 &
ppid=$!
E2E_PIDS+=("$ppid")
for r in $(seq 1 20); do
	a_conf $((r % 3 * 10)) $((r % 6))
	reload
	wait_until 5 "reload $r" reloads_done "$r" || fail "reload $r did not finish"
	sleep 0.2
done
wait "$ppid" || true
cat "$E2E_TMP/ping" >&2
received=$(grep -o '[0-9]* received' "$E2E_TMP/ping" | cut -d' ' -f1)
[ "$received" = 700 ] || fail "$((700 - received)) pings lost during reloads"
[ "$(sessions a)" = "$s_before" ] || fail "a reload started a new session"
tund_log_has a "rl0: peer [0-9]* extra3: added" || fail "no 'peer added' in the log"
tund_log_has a "rl0: peer [0-9]* extra4: removed" || fail "no 'peer removed' in the log"
tund_log_has a "rl0: peer b updated" || fail "no 'peer updated' in the log"
tund_alive a || fail "a died"

log "=== a changed AllowedIPs moves the route"
a_conf 0 2
reload
wait_until 5 "reload" reloads_done 21 || fail "reload did not finish"
ip -n "$a" route show dev rl0 | grep -q "10.84.1.0/24" || fail "no route for extra1"
ip -n "$a" route show dev rl0 | grep -q "10.84.3.0/24" && fail "route for a removed peer left"

log "=== a broken file changes nothing"
routes_before=$(ip -n "$a" route show dev rl0)
{ a_conf 25 4; } && printf 'Colour = blue\n' >>"$da/rl0.conf"
reload
wait_until 5 "reload" reloads_done 22 || fail "reload did not finish"
bad_line=$(wc -l <"$da/rl0.conf")
tund_log_has a "^error: .*rl0.conf:$bad_line: unknown key \"Colour\"" || fail "no error with file and line $bad_line"
[ "$(ip -n "$a" route show dev rl0)" = "$routes_before" ] || fail "a broken file changed routes"
assert_ping "$a" 10.83.0.2

log "=== a new file brings an interface up; removing it takes it down"
write_conf "$da/rl1.conf" <<CONF
[Interface]
PrivateKey = $(genkey)
Address = 10.85.0.1/24
CONF
reload
wait_until 5 "rl1 up" iface_is_up "$a" rl1 || fail "rl1 did not come up"
rm "$da/rl1.conf"
reload
wait_until 5 "rl1 gone" bash -c "! ip -n '$a' link show rl1 >/dev/null 2>&1" || fail "rl1 still exists"
assert_ping "$a" 10.83.0.2

log "=== a changed ListenPort rebinds, the session survives roaming"
a_conf 0 2 51830
reload
wait_until 5 "port 51830" bash -c "ip netns exec '$a' ss -Hlun 'sport = :51830' | grep -q ." ||
	fail "not listening on 51830"
ip netns exec "$a" ss -Hlun 'sport = :51820' | grep -q . && fail "still listening on 51820"
assert_ping "$a" 10.83.0.2
[ "$(sessions a)" = "$s_before" ] || fail "the port change started a new session"

log "=== a changed Address restarts only that interface"
s_b=$(sessions b)
# (a listens on 51830 now.)
sed -i -e 's|^Address = 10.83.0.2/24|Address = 10.83.0.2/24, 10.86.0.2/24|' \
	-e 's|^Endpoint = 192.0.2.1:51820|Endpoint = 192.0.2.1:51830|' "$db/rl0.conf"
run kill -HUP "$TUND_PID_b"
wait_until 5 "new address" bash -c "ip -n '$b' addr show rl0 | grep -q 10.86.0.2" ||
	fail "the new address is not there"
tund_log_has b "rl0: interface settings changed, restarting it" || fail "no restart logged"
wait_until 10 "ping after restart" ping_ok "$b" 10.83.0.1 || fail "no traffic after the restart"
tund_stop a
tund_stop b
log "PASS"
