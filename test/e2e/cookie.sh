#!/usr/bin/env bash
# Cookies between two tund peers: the responder is "under load"
# (TUND_TEST_UNDER_LOAD_THRESHOLD=0, test-only), so it answers an
# initiation without MAC2 with an XChaCha20-Poly1305 sealed cookie reply;
# the initiator's retry carries MAC2 and the session comes up. An initiation
# with a valid MAC1 but no cookie never creates a session while under load.
#
#   a 10.81.0.1 ── veth 192.0.2.1 <-> 192.0.2.2 ── b 10.81.0.2 (under load)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping socat ss

ns_pair a b
ka=$(genkey); kb=$(genkey)
da=$(confdir a); db=$(confdir b)
tunnel_conf "$da/ck0.conf" "$ka" 10.81.0.1/24 "" "$(pubkey "$kb")" 192.0.2.2:51820 10.81.0.2/32
tunnel_conf "$db/ck0.conf" "$kb" 10.81.0.2/24 51820 "$(pubkey "$ka")" "" 10.81.0.1/32
tund_start "$b" b "$db" TUND_TEST_UNDER_LOAD_THRESHOLD=0
tund_start "$a" a "$da"
tund_wait_iface "$a" ck0 && tund_wait_iface "$b" ck0 || fail "interfaces not up"
start=$SECONDS
# The first initiation is answered with a cookie; the retry (5 s) has MAC2.
wait_until 15 "ping through a cookie exchange" ping_ok "$a" 10.81.0.2 || fail "no session"
log "--- session after $((SECONDS - start)) s"
tund_log_has b "under load, sending a cookie reply to 192.0.2.1" || fail "b sent no cookie reply"
tund_log_has a "received cookie reply" || fail "a did not take the cookie reply"
[ "$(grep -c "session established" "$E2E_TMP/b.log")" -ge 1 ] || fail "no session on b"
[ $((SECONDS - start)) -ge 4 ] || fail "the session came up before a retry: was a cookie required?"
transfer "$a" "$b" 10.81.0.2 10 5001
tund_stop a
tund_stop b
log "PASS"
