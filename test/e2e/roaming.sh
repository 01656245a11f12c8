#!/usr/bin/env bash
# The client's underlay address changes in the middle of a TCP transfer;
# the server learns the new endpoint from the next authenticated packet and
# the transfer completes with its checksum.
#
#   server 10.60.0.1 ── veth: 192.0.2.1/24 <-> 192.0.2.2/24 → 192.0.2.3/24 ── client 10.60.0.2
#   (the server has no Endpoint for the client: it only ever learns it)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping socat ss python3

ns_new s
ns_new c
veth "$s" v0 "$c" v0
addr "$s" v0 192.0.2.1/24
addr "$c" v0 192.0.2.2/24

ks=$(genkey); kc=$(genkey)
ds=$(confdir s); dc=$(confdir c)
write_conf "$ds/rw0.conf" <<CONF
[Interface]
PrivateKey = $ks
ListenPort = 51820
Address = 10.60.0.1/24
[Peer]
PublicKey = $(pubkey "$kc")
AllowedIPs = 10.60.0.2/32
CONF
write_conf "$dc/rw0.conf" <<CONF
[Interface]
PrivateKey = $kc
Address = 10.60.0.2/24
[Peer]
PublicKey = $(pubkey "$ks")
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.60.0.1/32
CONF
tund_start "$s" s "$ds"
tund_start "$c" c "$dc"
tund_wait_iface "$s" rw0 && tund_wait_iface "$c" rw0 || fail "interfaces not up"
assert_ping "$c" 10.60.0.1

src="$E2E_TMP/src" out="$E2E_TMP/out"
head -c $((24 * 1024 * 1024)) /dev/urandom >"$src"
n "$s" socat -u TCP-LISTEN:5001,reuseaddr,bind=10.60.0.1 "OPEN:$out,creat,trunc" &
rpid=$!
E2E_PIDS+=("$rpid")
wait_until 5 listener listening "$s" 5001 || fail "no listener"
log "--- a 24 MB transfer at 4 MB/s (about 6 s)"
ip netns exec "$c" bash -c "python3 '$(dirname "$0")/../lib/slowcat.py' 4000000 <'$src' | timeout 60 socat -u - TCP:10.60.0.1:5001" &
spid=$!
E2E_PIDS+=("$spid")
sleep 2
log "--- the client moves to 192.0.2.3 mid-transfer"
# (Deleting a primary address also deletes its secondaries: remove, then add.)
run ip -n "$c" addr del 192.0.2.2/24 dev v0
run ip -n "$c" addr add 192.0.2.3/24 dev v0
wait "$spid" || fail "the sender failed"
wait "$rpid" || fail "the receiver failed"
[ "$(sha256sum <"$src")" = "$(sha256sum <"$out")" ] || fail "checksum mismatch after roaming"
tund_log_has s "endpoint changed to 192.0.2.3:" || fail "the server did not log the new endpoint"
assert_ping "$s" 10.60.0.2
tund_stop c
tund_stop s
log "PASS"
