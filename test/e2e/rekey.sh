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

ns_pair a b
ka=$(genkey); kb=$(genkey)
da=$(confdir a); db=$(confdir b)
tunnel_conf "$da/rk0.conf" "$ka" 10.80.0.1/24 51820 "$(pubkey "$kb")" 192.0.2.2:51820 10.80.0.2/32
tunnel_conf "$db/rk0.conf" "$kb" 10.80.0.2/24 51820 "$(pubkey "$ka")" 192.0.2.1:51820 10.80.0.1/32
tund_start "$a" a "$da" TUND_TEST_TIME_SCALE=0.05
tund_start "$b" b "$db" TUND_TEST_TIME_SCALE=0.05
tund_wait_iface "$a" rk0 && tund_wait_iface "$b" rk0 || fail "interfaces not up"
tund_log_has a "FOR TESTING ONLY" || fail "the test-only knob is not announced in the log"
assert_ping "$a" 10.80.0.2

paced_transfer_start "$a" "$b" 10.80.0.2 40 2000000
n "$a" ping -c 1250 -i 0.02 -W 1 -q 10.80.0.2 >"$E2E_TMP/ping" 2>&1 || true
cat "$E2E_TMP/ping" >&2
paced_transfer_wait "during rekeys"
sessions=$(cat "$E2E_TMP/a.log" "$E2E_TMP/b.log" | grep -c "session established")
log "sessions established over the run: $sessions"
[ "$sessions" -ge 4 ] || fail "expected at least 4 sessions (3 rekeys), saw $sessions"
received=$(grep -o '[0-9]* received' "$E2E_TMP/ping" | cut -d' ' -f1)
[ "$received" -ge 1249 ] || fail "ping lost $((1250 - received)) of 1250 during rekeys"
tund_stop a
tund_stop b
log "PASS"
