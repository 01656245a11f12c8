#!/usr/bin/env bash
# A multi-homed server answers each client from the address the client
# talks to (IP_PKTINFO / IPV6_PKTINFO), follows a client that roams between
# its addresses, and is not stuck on an address removed under it.
#
#   server mh0 10.115.0.1, fd00:115::1 on bridge mhbr:
#          198.51.100.1/24 + .2/24, 2001:db8:115::1/64 + ::2/64
#     ├─ c4: 198.51.100.14,     mh0 10.115.0.4, Endpoint 198.51.100.2 (the secondary)
#     ├─ c6: 2001:db8:115::16,  mh0 10.115.0.6 fd00:115::6, Endpoint [2001:db8:115::2]
#     └─ c1: 198.51.100.11,     mh0 10.115.0.11, Endpoint 198.51.100.1 (the primary)
#
# Each client runs a strict firewall: UDP from the server is accepted only as
# a conntrack reply (ct state established,related); anything else from it is
# dropped. A reply from the address the client did not talk to is a new flow
# and is dropped, so a tunnel works only if the server answers from the right
# address. Counters record which server addresses each client saw.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping socat ss nft

V4P=198.51.100.1 V4S=198.51.100.2
V6P=2001:db8:115::1 V6S=2001:db8:115::2

ns_new mhs
run ip -n "$mhs" link add mhbr type bridge
run ip -n "$mhs" link set mhbr up
addr "$mhs" mhbr "$V4P/24" "$V4S/24" "$V6P/64" "$V6S/64"

# client NAME ADDR/LEN: namespace mhNAME (shell variable too) on the bridge.
client() {
	ns_new "mh$1"
	local ns_var="mh$1"
	veth "$mhs" "mhp$1" "${!ns_var}" mhv0
	run ip -n "$mhs" link set "mhp$1" master mhbr
	addr "${!ns_var}" mhv0 "$2"
	n "${!ns_var}" nft -f - <<-EOF
		table inet mhfw {
			counter v4_primary {}
			counter v4_secondary {}
			counter v6_primary {}
			counter v6_secondary {}
			counter dropped {}
			chain input {
				type filter hook input priority filter; policy accept;
				ip saddr $V4P udp sport 51820 counter name v4_primary
				ip saddr $V4S udp sport 51820 counter name v4_secondary
				ip6 saddr $V6P udp sport 51820 counter name v6_primary
				ip6 saddr $V6S udp sport 51820 counter name v6_secondary
				udp sport 51820 ct state established,related accept
				udp sport 51820 counter name dropped drop
			}
		}
	EOF
}
client c4 198.51.100.14/24
client c6 2001:db8:115::16/64
client c1 198.51.100.11/24

# seen NS COUNTER: the packets the client's firewall counted.
seen() {
	nq "$1" nft list counter inet mhfw "$2" | awk '$1 == "packets" { print $2 }'
}
reset_counters() {
	local ns
	for ns in "$@"; do
		nq "$ns" nft reset counters table inet mhfw >/dev/null
	done
}
# expect_seen NS WHAT COUNTER=N|COUNTER>0...: the counters, checked.
expect_seen() {
	local ns=$1 what=$2 spec name v
	shift 2
	for spec in "$@"; do
		name=${spec%%[=>]*}
		v=$(seen "$ns" "$name")
		case $spec in
		*'>0') [ "$v" -gt 0 ] || fail "$what: ${ns%-$$} saw $v packets in $name, expected some" ;;
		*=*) [ "$v" -eq "${spec#*=}" ] || fail "$what: ${ns%-$$} saw $v packets in $name, expected ${spec#*=}" ;;
		esac
	done
	log "$what: ${ns%-$$}: $(for spec in "$@"; do printf '%s=%s ' "${spec%%[=>]*}" "$(seen "$ns" "${spec%%[=>]*}")"; done)"
}

ks=$(genkey) k4=$(genkey) k6=$(genkey) k1=$(genkey)
ps=$(pubkey "$ks")
ds=$(confdir s)
write_conf "$ds/mh0.conf" <<EOF
[Interface]
PrivateKey = $ks
ListenPort = 51820
Address = 10.115.0.1/24, fd00:115::1/64
[Peer]
Name = c4
PublicKey = $(pubkey "$k4")
AllowedIPs = 10.115.0.4/32
[Peer]
Name = c6
PublicKey = $(pubkey "$k6")
AllowedIPs = 10.115.0.6/32, fd00:115::6/128
[Peer]
Name = c1
PublicKey = $(pubkey "$k1")
AllowedIPs = 10.115.0.11/32
EOF
d4=$(confdir c4) d6=$(confdir c6) d1=$(confdir c1)
tunnel_conf "$d4/mh0.conf" "$k4" 10.115.0.4/24 "" "$ps" "$V4S:51820" 10.115.0.0/24 -- "Name = server"
tunnel_conf "$d6/mh0.conf" "$k6" "10.115.0.6/24, fd00:115::6/64" "" "$ps" "[$V6S]:51820" \
	"10.115.0.0/24, fd00:115::/64" -- "Name = server"
tunnel_conf "$d1/mh0.conf" "$k1" 10.115.0.11/24 "" "$ps" "$V4P:51820" 10.115.0.0/24 -- "Name = server"
tund_start "$mhs" s "$ds"
tund_start "$mhc4" c4 "$d4"
tund_start "$mhc6" c6 "$d6"
tund_start "$mhc1" c1 "$d1"
for ns in "$mhs" "$mhc4" "$mhc6" "$mhc1"; do
	tund_wait_iface "$ns" mh0 || fail "mh0 not up in ${ns%-$$}"
done
# set_endpoint CLIENT ENDPOINT: tunctl set-peer on the client's daemon.
set_endpoint() {
	run "$TUNCTL" --socket "$E2E_TMP/$1.sock" set-peer mh0 server --endpoint "$2" >/dev/null ||
		fail "set-peer $1 --endpoint $2 failed"
}

log "=== an IPv4 client talks to the secondary address"
assert_ping "$mhc4" 10.115.0.1
transfer "$mhc4" "$mhs" 10.115.0.1 2 5004
expect_seen "$mhc4" "IPv4 to the secondary" v4_secondary'>0' v4_primary=0 dropped=0

log "=== an IPv6 client talks to the secondary address"
assert_ping "$mhc6" fd00:115::1
transfer "$mhc6" "$mhs" fd00:115::1 2 5006
expect_seen "$mhc6" "IPv6 to the secondary" v6_secondary'>0' v6_primary=0 dropped=0

log "=== two clients at once, one on each address"
reset_counters "$mhc4" "$mhc1"
assert_ping "$mhc1" 10.115.0.1
n "$mhc4" ping -c 40 -i 0.02 -W 1 -q 10.115.0.1 >/dev/null &
p4=$!
E2E_PIDS+=("$p4")
n "$mhc1" ping -c 40 -i 0.02 -W 1 -q 10.115.0.1 >/dev/null &
p1=$!
E2E_PIDS+=("$p1")
wait "$p4" || fail "c4 lost pings while c1 was talking to the primary"
wait "$p1" || fail "c1 lost pings while c4 was talking to the secondary"
expect_seen "$mhc4" "two at once" v4_secondary'>0' v4_primary=0 dropped=0
expect_seen "$mhc1" "two at once" v4_primary'>0' v4_secondary=0 dropped=0
# The server reaches each client too, from the address that client uses.
assert_ping "$mhs" 10.115.0.4
assert_ping "$mhs" 10.115.0.11
expect_seen "$mhc4" "server to c4" v4_primary=0 dropped=0

log "=== clients roam between the two addresses"
# roam CLIENT ENDPOINT NOW_SEEN NOT_SEEN: the client's Endpoint changes; it
# pings the server through the tunnel, then the server pings it back. (The
# flow to the address it left stays in conntrack for a while, so a reply
# from that one would pass the firewall: the counters tell.)
roam() {
	local ns_var="mh$1" inner=10.115.0.1 back=10.115.0.4
	if [ "$1" = c6 ]; then
		inner=fd00:115::1 back=fd00:115::6
	fi
	reset_counters "${!ns_var}"
	set_endpoint "$1" "$2"
	assert_ping "${!ns_var}" "$inner"
	assert_ping "$mhs" "$back"
	expect_seen "${!ns_var}" "$1 roamed to $2" "$3>0" "$4=0" dropped=0
}
roam c4 "$V4P:51820" v4_primary v4_secondary
roam c4 "$V4S:51820" v4_secondary v4_primary
roam c6 "[$V6P]:51820" v6_primary v6_secondary
roam c6 "[$V6S]:51820" v6_secondary v6_primary
transfer "$mhc4" "$mhs" 10.115.0.1 1 5014
transfer "$mhc6" "$mhs" fd00:115::1 1 5016

log "=== the secondary addresses vanish while clients use them"
run ip -n "$mhs" addr del "$V4S/24" dev mhbr
run ip -n "$mhs" addr del "$V6S/64" dev mhbr
reset_counters "$mhc4" "$mhc6"
# The server's next datagram to each client must leave at once, from the
# primary (the kernel refuses the vanished source: forgotten, sent again).
# The client's firewall counts it (and lets it in only if the flow from the
# earlier roam to the primary is still in conntrack).
n "$mhs" ping -c 1 -W 1 -q 10.115.0.4 >/dev/null 2>&1 || true
n "$mhs" ping -c 1 -W 1 -q fd00:115::6 >/dev/null 2>&1 || true
wait_until 3 "c4 sees the primary" test "$(seen "$mhc4" v4_primary)" -gt 0 ||
	fail "the server did not send from the primary after the secondary went away"
wait_until 3 "c6 sees the primary" test "$(seen "$mhc6" v6_primary)" -gt 0 ||
	fail "the server did not send from the IPv6 primary after the secondary went away"
expect_seen "$mhc4" "secondary gone" v4_primary'>0' v4_secondary=0
expect_seen "$mhc6" "secondary gone" v6_primary'>0' v6_secondary=0
log "--- the clients move to the primary: replies resume from it"
roam c4 "$V4P:51820" v4_primary v4_secondary
roam c6 "[$V6P]:51820" v6_primary v6_secondary
transfer "$mhc4" "$mhs" 10.115.0.1 1 5024
assert_ping "$mhc1" 10.115.0.1

for d in c1 c6 c4 s; do
	tund_alive "$d" || fail "tund $d died"
done
tund_stop c1
tund_stop c6
tund_stop c4
tund_stop s
log "PASS"
