#!/usr/bin/env bash
# Sessions rekey under traffic without losing it. TUND_TEST_TIME_SCALE=0.05
# (test-only, never reachable from config) makes REKEY_AFTER_TIME 6 s and
# REJECT_AFTER_TIME 9 s, so 25 s of traffic spans several rekeys.
#
#   a 10.80.0.1 ── veth 192.0.2.1 <-> 192.0.2.2 ── b 10.80.0.2
#
# Checks: at least 3 new sessions in 25 s, a 40 MB transfer paced over 20 s
# completes with its checksum, and a 20 ms ping over the whole time loses
# at most one packet in a thousand.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping socat ss python3
lib=$(cd "$(dirname "$0")/../lib" && pwd)

ns_new a
ns_new b
veth "$a" v0 "$b" v0
addr "$a" v0 192.0.2.1/24
addr "$b" v0 192.0.2.2/24
ka=$(genkey); kb=$(genkey)
da=$(confdir a); db=$(confdir b)
write_conf "$da/rk0.conf" <<CONF
[Interface]
PrivateKey = $ka
ListenPort = 51820
Address = 10.80.0.1/24
[Peer]
PublicKey = $(pubkey "$kb")
Endpoint = 192.0.2.2:51820
AllowedIPs = 10.80.0.2/32
CONF
write_conf "$db/rk0.conf" <<CONF
[Interface]
PrivateKey = $kb
ListenPort = 51820
Address = 10.80.0.2/24
[Peer]
PublicKey = $(pubkey "$ka")
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.80.0.1/32
CONF
tund_start "$a" a "$da" TUND_TEST_TIME_SCALE=0.05
tund_start "$b" b "$db" TUND_TEST_TIME_SCALE=0.05
tund_wait_iface "$a" rk0 && tund_wait_iface "$b" rk0 || fail "interfaces not up"
tund_log_has a "FOR TESTING ONLY" || fail "the test-only knob is not announced in the log"
assert_ping "$a" 10.80.0.2

src="$E2E_TMP/src" out="$E2E_TMP/out"
head -c $((40 * 1024 * 1024)) /dev/urandom >"$src"
ip netns exec "$b" socat -u TCP-LISTEN:5001,reuseaddr,bind=10.80.0.2 "OPEN:$out,creat,trunc" &
rpid=$!
E2E_PIDS+=("$rpid")
wait_until 5 listener listening "$b" 5001 || fail "no listener"
ip netns exec "$a" bash -c "python3 '$lib/slowcat.py' 2000000 <'$src' | timeout 60 socat -u - TCP:10.80.0.2:5001" &
spid=$!
E2E_PIDS+=("$spid")
n "$a" ping -c 1250 -i 0.02 -W 1 -q 10.80.0.2 >"$E2E_TMP/ping" 2>&1 || true
cat "$E2E_TMP/ping" >&2
wait "$spid" || fail "the transfer failed during rekeys"
wait "$rpid" || fail "the receiver failed"
[ "$(sha256sum <"$src")" = "$(sha256sum <"$out")" ] || fail "checksum mismatch"
sessions=$(cat "$E2E_TMP/a.log" "$E2E_TMP/b.log" | grep -c "session established")
log "sessions established over the run: $sessions"
[ "$sessions" -ge 4 ] || fail "expected at least 4 sessions (3 rekeys), saw $sessions"
received=$(grep -o '[0-9]* received' "$E2E_TMP/ping" | cut -d' ' -f1)
[ "$received" -ge 1249 ] || fail "ping lost $((1250 - received)) of 1250 during rekeys"
tund_stop a
tund_stop b
log "PASS"
