#!/usr/bin/env bash
# A hub and two clients; the clients only know the hub, and reach each other
# through it. Two more clients knock with a wrong key and a wrong PSK.
#
#             c1 10.50.0.2 ──veth 192.0.2.0/24──┐
#                                               hub 10.50.0.1 (forwards)
#             c2 10.50.0.3 ──veth 198.51.100.0/24┘   │
#   bad (wrong key, 10.50.0.9)  ─── veth 192.0.2.64/26 (on hub's 3rd link)
#   psk (right key, wrong PSK, 10.50.0.4) ─ (same link as bad, other address)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping

ns_new hub
ns_new c1
ns_new c2
ns_new bad
veth "$hub" v1 "$c1" v0
veth "$hub" v2 "$c2" v0
veth "$hub" v3 "$bad" v0
addr "$hub" v1 192.0.2.1/26
addr "$c1" v0 192.0.2.2/26
addr "$hub" v2 198.51.100.1/24
addr "$c2" v0 198.51.100.2/24
addr "$hub" v3 192.0.2.65/26
addr "$bad" v0 192.0.2.66/26 192.0.2.67/26
n "$hub" sysctl -qw net.ipv4.ip_forward=1

kh=$(genkey); k1=$(genkey); k2=$(genkey); kb=$(genkey); kp=$(genkey)
ph=$(pubkey "$kh"); p1=$(pubkey "$k1"); p2=$(pubkey "$k2"); pp=$(pubkey "$kp")
psk_good=$("$TUNCTL" genpsk)
psk_bad=$("$TUNCTL" genpsk)

dh=$(confdir hub)
write_conf "$dh/hub0.conf" <<CONF
[Interface]
PrivateKey = $kh
ListenPort = 51820
Address = 10.50.0.1/24

[Peer]
Name = c1
PublicKey = $p1
AllowedIPs = 10.50.0.2/32

[Peer]
Name = c2
PublicKey = $p2
AllowedIPs = 10.50.0.3/32

[Peer]
Name = with-psk
PublicKey = $pp
PresharedKey = $psk_good
AllowedIPs = 10.50.0.4/32
CONF

# client NAME NS PRIV ADDR HUB_ENDPOINT [PSK]
client() {
	local d
	d=$(confdir "$1")
	write_conf "$d/hub0.conf" <<CONF
[Interface]
PrivateKey = $3
Address = $4/24

[Peer]
PublicKey = $ph
Endpoint = $5
AllowedIPs = 10.50.0.0/24
${6:+PresharedKey = $6}
CONF
	tund_start "$2" "$1" "$d"
	tund_wait_iface "$2" hub0 || fail "$1: hub0 not up"
}

tund_start "$hub" hub "$dh"
tund_wait_iface "$hub" hub0 || fail "hub0 not up"
client c1 "$c1" "$k1" 10.50.0.2 192.0.2.1:51820
client c2 "$c2" "$k2" 10.50.0.3 198.51.100.1:51820

log "--- clients reach the hub"
assert_ping "$c1" 10.50.0.1
assert_ping "$c2" 10.50.0.1
log "--- client to client through the hub (neither knows the other's endpoint)"
assert_ping "$c1" 10.50.0.3
assert_ping "$c2" 10.50.0.2
transfer "$c1" "$c2" 10.50.0.3 20 5001

log "--- an unknown key gets nothing through, and others are not disturbed"
client bad "$bad" "$kb" 10.50.0.9 192.0.2.65:51820
assert_no_ping "$bad" 10.50.0.1
log "--- the right key with the wrong PSK gets nothing through"
ip -n "$bad" addr del 10.50.0.9/24 dev hub0 2>/dev/null || true
tund_stop bad
client psk "$bad" "$kp" 10.50.0.4 192.0.2.65:51820 "$psk_bad"
assert_no_ping "$bad" 10.50.0.1
assert_ping "$c1" 10.50.0.3
log "--- and with the right PSK it works"
tund_stop psk
client psk2 "$bad" "$kp" 10.50.0.4 192.0.2.65:51820 "$psk_good"
assert_ping "$bad" 10.50.0.1
tund_alive hub || fail "the hub died"
tund_stop psk2
tund_stop c1
tund_stop c2
tund_stop hub
log "PASS"
