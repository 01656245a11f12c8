#!/usr/bin/env bash
# The client's underlay address changes in the middle of a TCP transfer;
# the server learns the new endpoint from the next authenticated packet and
# the transfer completes with its checksum.
#
#   server 10.60.0.1 ── veth: 192.0.2.1/24 <-> 192.0.2.2/24 → 192.0.2.3/24 ── client 10.60.0.2
#   (the server has no Endpoint for the client: it only ever learns it)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping socat ss python3

ns_pair s c

ks=$(genkey); kc=$(genkey)
ds=$(confdir s); dc=$(confdir c)
tunnel_conf "$ds/rw0.conf" "$ks" 10.60.0.1/24 51820 "$(pubkey "$kc")" "" 10.60.0.2/32
tunnel_conf "$dc/rw0.conf" "$kc" 10.60.0.2/24 "" "$(pubkey "$ks")" 192.0.2.1:51820 10.60.0.1/32
tund_start "$s" s "$ds"
tund_start "$c" c "$dc"
tund_wait_iface "$s" rw0 && tund_wait_iface "$c" rw0 || fail "interfaces not up"
assert_ping "$c" 10.60.0.1

log "--- a 24 MB transfer at 4 MB/s (about 6 s)"
paced_transfer_start "$c" "$s" 10.60.0.1 24 4000000
sleep 2
log "--- the client moves to 192.0.2.3 mid-transfer"
# (Deleting a primary address also deletes its secondaries: remove, then add.)
run ip -n "$c" addr del 192.0.2.2/24 dev v0
run ip -n "$c" addr add 192.0.2.3/24 dev v0
paced_transfer_wait "after roaming"
tund_log_has s "endpoint changed to 192.0.2.3:" || fail "the server did not log the new endpoint"
assert_ping "$s" 10.60.0.2
tund_stop c
tund_stop s
log "PASS"
