#!/usr/bin/env bash
# tund against wireguard-go (configured with wg from wireguard-tools), the
# proof that tund speaks WireGuard's protocol and not merely its own.
#
#   ns t (tund)                                 ns g (wireguard-go)
#   wgt0 10.9.0.1/24 fd00:9::1/64               wgo<pid> 10.9.0.2/24 fd00:9::2/64
#   veth 192.0.2.1/24 2001:db8::1/64 <--------> veth 192.0.2.2/24 2001:db8::2/64
#
# Round 1: IPv4 underlay, no PSK, tund initiates (tund pings first).
# Round 2: IPv6 underlay, with a PSK, wireguard-go initiates.
# Each round: ping over IPv4 and IPv6 inside, a TCP transfer each way with
# its checksum checked.
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/wggo.sh"
e2e_init socat ping ss wg wireguard-go

ns_pair t g
addr "$t" v0 2001:db8::1/64
addr "$g" v0 2001:db8::2/64

kt=$(genkey)
kg=$(wg genkey)
pt=$(pubkey "$kt")
pg=$(printf '%s\n' "$kg" | wg pubkey)
psk=$(wg genpsk)
wgif="wgo$$"
wgif=${wgif:0:15}

dt=$(confdir t)
wg_key="$E2E_TMP/wg.key"
psk_file="$E2E_TMP/psk"
(umask 077 && echo "$kg" >"$wg_key" && echo "$psk" >"$psk_file")

wggo_start "$g" "$wgif"
n "$g" wg set "$wgif" private-key "$wg_key" listen-port 51820
addr "$g" "$wgif" 10.9.0.2/24 fd00:9::2/64
run ip -n "$g" link set "$wgif" mtu 1420 up

# tund_conf ENDPOINT PSK_LINE: tund's side for one round ("" = no PSK).
tund_conf() {
	tunnel_conf "$dt/wgt0.conf" "$kt" "10.9.0.1/24, fd00:9::1/64" 51820 "$pg" "$1" \
		"10.9.0.2/32, fd00:9::2/128" -- "$2"
}

log "=== round 1: IPv4 underlay, no PSK, tund initiates"
tund_conf 192.0.2.2:51820 ""
n "$g" wg set "$wgif" peer "$pt" allowed-ips 10.9.0.1/32,fd00:9::1/128
tund_start "$t" t "$dt"
tund_wait_iface "$t" wgt0 || fail "wgt0 not up"
assert_ping "$t" 10.9.0.2
assert_ping "$t" fd00:9::2
assert_ping "$g" 10.9.0.1
[ "$(wg_latest_handshake "$g" "$wgif" "$pt")" -gt 0 ] || fail "wireguard-go saw no handshake"
transfer "$t" "$g" 10.9.0.2 30 5001
transfer "$g" "$t" fd00:9::1 30 5002
tund_stop t

log "=== round 2: IPv6 underlay, with PSK, wireguard-go initiates"
tund_conf "[2001:db8::2]:51820" "PresharedKey = $psk"
n "$g" wg set "$wgif" peer "$pt" remove
n "$g" wg set "$wgif" peer "$pt" preshared-key "$psk_file" endpoint "[2001:db8::1]:51820" \
	allowed-ips 10.9.0.1/32,fd00:9::1/128
tund_start "$t" t "$dt"
tund_wait_iface "$t" wgt0 || fail "wgt0 not up"
assert_ping "$g" 10.9.0.1
assert_ping "$g" fd00:9::1
assert_ping "$t" 10.9.0.2
n "$g" wg show "$wgif" endpoints | grep -q '\[2001:db8::1\]:51820' || fail "not over IPv6"
transfer "$g" "$t" 10.9.0.1 30 5003
transfer "$t" "$g" fd00:9::2 30 5004

log "=== a wrong PSK on the tund side: no traffic"
tund_stop t
tund_conf "[2001:db8::2]:51820" "PresharedKey = $(wg genpsk)"
tund_start "$t" t "$dt"
tund_wait_iface "$t" wgt0 || fail "wgt0 not up"
assert_no_ping "$t" 10.9.0.2
tund_stop t
log "PASS"
