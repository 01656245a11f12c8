#!/usr/bin/env bash
# tund's timers and cookies against wireguard-go:
#  1. rekey under traffic: tund with TUND_TEST_TIME_SCALE=0.05 (test-only)
#     rekeys every 6 s while a paced transfer and a 20 ms ping run; the
#     transfer completes with its checksum, wireguard-go sees new handshakes
#     and at most one ping in a thousand is lost;
#  2. cookies: tund "under load" (TUND_TEST_UNDER_LOAD_THRESHOLD=0, test-only)
#     answers wireguard-go's initiation with a cookie reply; wireguard-go
#     retries with MAC2 and the session comes up.
#
#   ns t (tund) wgt0 10.9.0.1 ── veth 192.0.2.1 <-> 192.0.2.2 ── ns g (wireguard-go) 10.9.0.2
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/wggo.sh"
e2e_init socat ping ss wg wireguard-go python3

ns_pair t g

kt=$(genkey)
kg=$(wg genkey)
pt=$(pubkey "$kt")
pg=$(printf '%s\n' "$kg" | wg pubkey)
wgif="wgo$$"
wgif=${wgif:0:15}
dt=$(confdir t)
wg_key="$E2E_TMP/wg.key"
(umask 077 && echo "$kg" >"$wg_key")

wggo_start "$g" "$wgif"
n "$g" wg set "$wgif" private-key "$wg_key" listen-port 51820 \
	peer "$pt" allowed-ips 10.9.0.1/32 endpoint 192.0.2.1:51820
addr "$g" "$wgif" 10.9.0.2/24
run ip -n "$g" link set "$wgif" mtu 1420 up
tunnel_conf "$dt/wgt0.conf" "$kt" 10.9.0.1/24 51820 "$pg" 192.0.2.2:51820 10.9.0.2/32

log "=== rekey under traffic, tund's timers shortened 20 times"
tund_start "$t" t "$dt" TUND_TEST_TIME_SCALE=0.05
tund_wait_iface "$t" wgt0 || fail "wgt0 not up"
assert_ping "$t" 10.9.0.2
first_hs=$(wg_latest_handshake "$g" "$wgif" "$pt")
paced_transfer_start "$t" "$g" 10.9.0.2 30 1500000
n "$g" ping -c 1000 -i 0.02 -W 1 -q 10.9.0.1 >"$E2E_TMP/ping" 2>&1 || true
cat "$E2E_TMP/ping" >&2
paced_transfer_wait "during rekeys"
sessions=$(grep -c "session established" "$E2E_TMP/t.log")
log "sessions established by tund over the run: $sessions"
[ "$sessions" -ge 3 ] || fail "expected at least 3 sessions (2 rekeys), saw $sessions"
last_hs=$(wg_latest_handshake "$g" "$wgif" "$pt")
[ "$last_hs" -gt "$first_hs" ] || fail "wireguard-go saw no new handshake ($first_hs, $last_hs)"
received=$(grep -o '[0-9]* received' "$E2E_TMP/ping" | cut -d' ' -f1)
[ "$received" -ge 999 ] || fail "ping lost $((1000 - received)) of 1000 during rekeys"
tund_stop t

log "=== cookies: tund under load, wireguard-go initiates"
# A fresh wireguard-go peer entry forgets the old session, so the next
# packet from g starts a handshake.
n "$g" wg set "$wgif" peer "$pt" remove
n "$g" wg set "$wgif" peer "$pt" allowed-ips 10.9.0.1/32 endpoint 192.0.2.1:51820
: >"$E2E_TMP/t.log"
tund_start "$t" t "$dt" TUND_TEST_UNDER_LOAD_THRESHOLD=0
tund_wait_iface "$t" wgt0 || fail "wgt0 not up"
tund_log_has t "cookie threshold changed FOR TESTING ONLY" || fail "the test knob is not announced"
# wireguard-go retries an initiation after 5 s; the retry carries MAC2.
wait_until 15 "ping through a cookie exchange" ping_ok "$g" 10.9.0.1 ||
	fail "no session with wireguard-go after a cookie reply"
tund_log_has t "under load, sending a cookie reply to 192.0.2.2" || fail "tund sent no cookie reply"
tund_log_has t "session established (peer initiated)" || fail "no session initiated by wireguard-go"
transfer "$g" "$t" 10.9.0.1 10 5002
tund_stop t
log "PASS"
