#!/usr/bin/env bash
# Routes and policy rules follow the peers exactly: the whole route list of
# each device (`ip route show table all dev X`) and the whole rule list
# (`ip rule`, `ip -6 rule`) are compared after start, add-peer, set-peer
# (AllowedIPs changed, a prefix taken over by another peer), remove-peer,
# reload, down and up, and after the daemon stops.
#
#   one namespace, one tund, no traffic (the routes are what is checked):
#   rt0  Table=auto  Address 10.91.0.1/24, fd00:91::1/64: peers inside and
#                    outside the address's prefix
#   rt1  Table=1234  Address 10.94.0.1/24: every prefix gets a route there
#   rt2  Table=auto  a peer with 0.0.0.0/0 and ::/0: table 51820 and rules
#   rt3  Table=off   no route at all
. "$(dirname "$0")/../lib/netns.sh"
e2e_init

ns_new rt
d=$(confdir rt)
kp1=$(pubkey "$(genkey)"); kp2=$(pubkey "$(genkey)"); kp3=$(pubkey "$(genkey)")
kq1=$(pubkey "$(genkey)"); kd=$(pubkey "$(genkey)"); ke=$(pubkey "$(genkey)")
kf=$(pubkey "$(genkey)"); kg=$(pubkey "$(genkey)")

# rt0_conf P1_ALLOWED [EXTRA PEER LINES...]: rt0's file with p1 and p2.
rt0_conf() {
	{
		printf '[Interface]\nPrivateKey = %s\nAddress = 10.91.0.1/24, fd00:91::1/64\n' "$(genkey)"
		printf '\n[Peer]\nName = p1\nPublicKey = %s\nAllowedIPs = %s\n' "$kp1" "$1"
		printf '\n[Peer]\nName = p2\nPublicKey = %s\n' "$kp2"
		printf 'AllowedIPs = 10.91.0.0/24, 10.93.1.0/24, fd00:91::2/128, fd00:92::/64\n'
		shift
		printf '%s\n' "$@"
	} | write_conf "$d/rt0.conf"
}
rt0_conf "10.91.0.2/32, 10.92.0.0/24"
write_conf "$d/rt1.conf" <<CONF
[Interface]
PrivateKey = $(genkey)
Address = 10.94.0.1/24
Table = 1234
[Peer]
Name = q1
PublicKey = $kq1
AllowedIPs = 10.94.0.2/32, 10.95.0.0/16
CONF
write_conf "$d/rt2.conf" <<CONF
[Interface]
PrivateKey = $(genkey)
Address = 10.96.0.1/24
[Peer]
Name = d
PublicKey = $kd
AllowedIPs = 0.0.0.0/0, ::/0
[Peer]
Name = e
PublicKey = $ke
AllowedIPs = 10.97.0.0/24
CONF
write_conf "$d/rt3.conf" <<CONF
[Interface]
PrivateKey = $(genkey)
Address = 10.90.0.1/24
Table = off
[Peer]
PublicKey = $kf
AllowedIPs = 10.90.1.0/24, 0.0.0.0/0
CONF

# routes DEV: the device's routes in every table, one "prefix [table N] proto P"
# a line (P is boot, what `ip route add` gives and `ip` does not print, unless
# shown), sorted; local, broadcast, multicast and link-local routes left out.
routes() {
	{
		ip -n "$rt" -4 route show table all dev "$1" 2>/dev/null | route_lines 0.0.0.0/0 /32
		ip -n "$rt" -6 route show table all dev "$1" 2>/dev/null | route_lines ::/0 /128
	} | sort
}
# route_lines DEFAULT HOST_LEN: `ip route` lines as routes prints them.
route_lines() {
	awk -v def="$1" -v host="$2" '$1 == "local" || $1 == "broadcast" || $1 == "multicast" ||
			$1 == "anycast" || $1 ~ /^f[ef][0-9a-f][0-9a-f]:/ { next }
		{ line = $1 == "default" ? def : $1
		  if (line !~ /\//) line = line host
		  table = ""; proto = "boot"
		  for (i = 2; i < NF; i++) {
			if ($i == "table") table = " table " $(i + 1)
			if ($i == "proto") proto = $(i + 1)
		  }
		  print line table " proto " proto }'
}
# rules: the IPv4 and IPv6 policy rules, without priorities, sorted.
rules() {
	{
		ip -n "$rt" -4 rule show | sed 's/^/4 /'
		ip -n "$rt" -6 rule show | sed 's/^/6 /'
	} | sed 's/ [0-9]*:[[:space:]]*/ /' | sort
}
# expect_routes DEV LINE...: routes DEV is exactly LINE... (in any order).
expect_routes() {
	local dev=$1 want got
	shift
	want=$(printf '%s\n' "$@" | grep -v '^$' | sort || true)
	got=$(routes "$dev")
	[ "$got" = "$want" ] || fail "routes of $dev:
$got
--- expected
$want"
}
# expect_rules LINE...: the rules are the namespace's own plus LINE....
expect_rules() {
	local want got
	want=$(printf '%s\n' "$rules0" "$@" | grep -v '^$' | sort)
	got=$(rules)
	[ "$got" = "$want" ] || fail "policy rules:
$got
--- expected
$want"
}
rules0=$(rules)
policy4=("4 not from all fwmark 0xca6c lookup 51820" "4 from all lookup main suppress_prefixlength 0")
policy6=("6 not from all fwmark 0xca6c lookup 51820" "6 from all lookup main suppress_prefixlength 0")
# The kernel's routes for the addresses.
conn0=("10.91.0.0/24 proto kernel" "fd00:91::/64 proto kernel")
conn1=("10.94.0.0/24 proto kernel")
conn2=("10.96.0.0/24 proto kernel")

tund_start "$rt" rt "$d"
for i in 0 1 2 3; do tund_wait_iface "$rt" rt$i || fail "rt$i not up"; done
wait_until 10 "rt3 up in the log" tund_log_has rt "rt3: up" || fail "rt3 not up"
T() { "$TUNCTL" --socket "$E2E_TMP/rt.sock" "$@" >"$E2E_TMP/out" 2>&1 || fail "tunctl $*: $(cat "$E2E_TMP/out")"; }
reloads=0
reload() {
	reloads=$((reloads + 1))
	run kill -HUP "$TUND_PID_rt"
	wait_until 10 "reload $reloads" bash -c "[ \$(grep -c 'reload done' '$E2E_TMP/rt.log') -ge $reloads ]" ||
		fail "reload $reloads did not finish"
}

# rt0's routes at start: 10.91.0.0/24 is the kernel's (not ours to add or remove).
rt0_start=("${conn0[@]}" "10.92.0.0/24 proto boot" "10.93.1.0/24 proto boot"
	"fd00:92::/64 proto boot")

log "=== start"
expect_routes rt0 "${rt0_start[@]}"
expect_routes rt1 "${conn1[@]}" "10.94.0.2/32 table 1234 proto boot" "10.95.0.0/16 table 1234 proto boot"
expect_routes rt2 "${conn2[@]}" "10.97.0.0/24 proto boot" "0.0.0.0/0 table 51820 proto boot" \
	"::/0 table 51820 proto boot"
expect_routes rt3 "10.90.0.0/24 proto kernel"
expect_rules "${policy4[@]}" "${policy6[@]}"

log "=== add-peer"
T add-peer rt0 --public-key "$kp3" --name p3 --allowed-ips 10.98.0.0/24,10.91.0.3/32,fd00:91::3/128
expect_routes rt0 "${rt0_start[@]}" "10.98.0.0/24 proto boot"
T add-peer rt3 --public-key "$kg" --allowed-ips 10.90.2.0/24
expect_routes rt3 "10.90.0.0/24 proto kernel"

log "=== set-peer: p3 takes 10.92.0.0/24 over from p1, drops two prefixes, gets a new one"
T set-peer rt0 p3 --allowed-ips 10.92.0.0/24,10.99.0.0/24
expect_routes rt0 "${rt0_start[@]}" "10.99.0.0/24 proto boot"
log "=== set-peer: p1 asks for 10.92.0.0/24 no more; p3 has it, its route stays"
T set-peer rt0 p1 --allowed-ips 10.91.0.2/32
expect_routes rt0 "${rt0_start[@]}" "10.99.0.0/24 proto boot"
log "=== set-peer: p1 gets 10.92.0.0/24 back; then p1 drops it, p3 lost it: the route goes"
T set-peer rt0 p1 --allowed-ips 10.91.0.2/32,10.92.0.0/24
expect_routes rt0 "${rt0_start[@]}" "10.99.0.0/24 proto boot"
T set-peer rt0 p1 --allowed-ips 10.91.0.2/32
expect_routes rt0 "${conn0[@]}" "10.93.1.0/24 proto boot" \
	"fd00:92::/64 proto boot" "10.99.0.0/24 proto boot"
log "=== set-peer: the prefix of the address itself, and the same prefix twice"
T set-peer rt0 p1 --allowed-ips 10.91.0.2/32,10.91.0.2/32,10.92.0.0/24
expect_routes rt0 "${rt0_start[@]}" "10.99.0.0/24 proto boot"
T set-peer rt0 p3 --allowed-ips 10.91.0.0/24,10.99.0.0/24
expect_routes rt0 "${rt0_start[@]}" "10.99.0.0/24 proto boot"
T set-peer rt0 p2 --allowed-ips 10.93.1.0/24,fd00:91::2/128,fd00:92::/64
expect_routes rt0 "${rt0_start[@]}" "10.99.0.0/24 proto boot"

log "=== remove-peer"
T remove-peer rt0 p3
expect_routes rt0 "${rt0_start[@]}"
T remove-peer rt0 p2
expect_routes rt0 "${conn0[@]}" "10.92.0.0/24 proto boot"

log "=== Table = 1234"
T set-peer rt1 q1 --allowed-ips 10.95.0.0/16,10.94.0.0/24
expect_routes rt1 "${conn1[@]}" "10.94.0.0/24 table 1234 proto boot" "10.95.0.0/16 table 1234 proto boot"
T remove-peer rt1 q1
expect_routes rt1 "${conn1[@]}"

log "=== default routes: rules go with the last /0 of their family"
T set-peer rt2 d --allowed-ips ::/0
expect_routes rt2 "${conn2[@]}" "10.97.0.0/24 proto boot" "::/0 table 51820 proto boot"
expect_rules "${policy6[@]}"
T set-peer rt2 e --allowed-ips 10.97.0.0/24,0.0.0.0/0
expect_routes rt2 "${conn2[@]}" "10.97.0.0/24 proto boot" "0.0.0.0/0 table 51820 proto boot" \
	"::/0 table 51820 proto boot"
expect_rules "${policy4[@]}" "${policy6[@]}"
T set-peer rt2 d --allowed-ips 0.0.0.0/0,::/0
expect_routes rt2 "${conn2[@]}" "10.97.0.0/24 proto boot" "0.0.0.0/0 table 51820 proto boot" \
	"::/0 table 51820 proto boot"
expect_rules "${policy4[@]}" "${policy6[@]}"
T remove-peer rt2 d
expect_routes rt2 "${conn2[@]}" "10.97.0.0/24 proto boot"
expect_rules
T remove-peer rt2 e
expect_routes rt2 "${conn2[@]}"
expect_rules
T add-peer rt2 --public-key "$kd" --name d --allowed-ips 0.0.0.0/0
expect_routes rt2 "${conn2[@]}" "0.0.0.0/0 table 51820 proto boot"
expect_rules "${policy4[@]}"

log "=== reload: p1 changed, p2 back, p4 new; rt1 and rt2 as in their files"
rt0_conf "10.91.0.2/32, 10.92.0.0/24, 10.100.0.0/16" "" "[Peer]" "Name = p4" "PublicKey = $kp3" \
	"AllowedIPs = 10.101.0.0/24, 10.91.0.4/32"
reload
expect_routes rt0 "${rt0_start[@]}" "10.100.0.0/16 proto boot" "10.101.0.0/24 proto boot"
expect_routes rt1 "${conn1[@]}" "10.94.0.2/32 table 1234 proto boot" "10.95.0.0/16 table 1234 proto boot"
expect_routes rt2 "${conn2[@]}" "10.97.0.0/24 proto boot" "0.0.0.0/0 table 51820 proto boot" \
	"::/0 table 51820 proto boot"
expect_rules "${policy4[@]}" "${policy6[@]}"
log "=== reload: 10.92.0.0/24 moves from p1 to p4 (p4 is after p1 in the file)"
rt0_conf "10.91.0.2/32" "" "[Peer]" "Name = p4" "PublicKey = $kp3" \
	"AllowedIPs = 10.101.0.0/24, 10.92.0.0/24"
reload
expect_routes rt0 "${rt0_start[@]}" "10.101.0.0/24 proto boot"
log "=== reload: and back (p1 is applied first and takes it)"
rt0_conf "10.91.0.2/32, 10.92.0.0/24" "" "[Peer]" "Name = p4" "PublicKey = $kp3" \
	"AllowedIPs = 10.101.0.0/24"
reload
expect_routes rt0 "${rt0_start[@]}" "10.101.0.0/24 proto boot"

log "=== down and up"
T down rt2
expect_rules
T down rt0
T up rt0
expect_routes rt0 "${rt0_start[@]}" "10.101.0.0/24 proto boot"
T up rt2
expect_routes rt2 "${conn2[@]}" "10.97.0.0/24 proto boot" "0.0.0.0/0 table 51820 proto boot" \
	"::/0 table 51820 proto boot"
expect_rules "${policy4[@]}" "${policy6[@]}"

log "=== stop: our rules and the routes in other tables go"
tund_stop rt
expect_rules
[ -z "$(ip -n "$rt" route show table 51820)$(ip -n "$rt" -6 route show table 51820)" ] ||
	fail "routes left in table 51820"
[ -z "$(ip -n "$rt" route show table 1234)" ] || fail "routes left in table 1234"
log "PASS"
