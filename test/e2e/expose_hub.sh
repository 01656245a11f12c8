#!/usr/bin/env bash
# Localhost tunnels in a hub, attacked from inside the tunnel network. The
# hub S forwards between its clients; the laptop publishes "web" (accepted,
# with a PROXY v2 header) and "secret" (refused by S: outside AllowExpose)
# through S, whose [Peer] on the laptop covers the whole tunnel network and
# the site's LAN, as hub clients do. Nobody but S, from the address the
# laptop's control connection reached, may open a data connection to the
# laptop, and only for a service S accepted; nobody but a peer itself, from
# its own tunnel address, may open a control session on S.
#
#   user 198.51.100.2 ── 198.51.100.1 ┐
#   laptop 192.0.2.2 ─── 192.0.2.1    ├ S (hub, forwards)  tunnel 10.66.0.1 fd66::1
#   other  192.0.2.66 ── 192.0.2.65   │    laptop 10.66.0.2 fd66::2  AllowExpose 8000-8099
#   site   192.0.2.130 ─ 192.0.2.129  ┘    other  10.66.0.3 fd66::3  (no AllowExpose)
#                                          site   10.66.0.4 + 192.168.77.0/24 behind it,
#                                                 AllowExpose 8050-8059
#
# Attacks, each of which must fail while the real traffic keeps flowing:
#   other -> laptop:51821 "connect secret", "connect web" with a forged
#     PROXY source, over IPv4 and IPv6; other -> S:51821 "expose web";
#   S from an address the control connection did not reach (fd66::1), and S
#     asking for the refused service;
#   a host behind the site (192.168.77.10) -> laptop:51821 "connect web",
#     and -> S:51821 "expose" in the site's name;
#   other holding 600 unanswered connections on the laptop's control port
#     while users fetch through S;
#   a user writing a PROXY v2 header of its own through the public port.
# Every check runs and is reported before the test fails.
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/expose.sh"
e2e_init python3 ss

ns_new user
ns_new srv
ns_new lap
ns_new oth
ns_new site
veth "$srv" vu "$user" v0
veth "$srv" vl "$lap" v0
veth "$srv" vo "$oth" v0
veth "$srv" vs "$site" v0
addr "$srv" vu 198.51.100.1/24
addr "$user" v0 198.51.100.2/24
addr "$srv" vl 192.0.2.1/26
addr "$lap" v0 192.0.2.2/26
addr "$srv" vo 192.0.2.65/26
addr "$oth" v0 192.0.2.66/26
addr "$srv" vs 192.0.2.129/26
addr "$site" v0 192.0.2.130/26
# The host behind the site: an address of the site's LAN.
run ip -n "$site" addr add 192.168.77.10/32 dev lo
n "$srv" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

ks=$(genkey) kl=$(genkey) ko=$(genkey) kt=$(genkey)
ps=$(pubkey "$ks") pl=$(pubkey "$kl") po=$(pubkey "$ko") pt=$(pubkey "$kt")
dsrv=$(confdir srv) dlap=$(confdir lap) doth=$(confdir oth) dsite=$(confdir site)
write_conf "$dsrv/tund0.conf" <<CONF
[Interface]
PrivateKey = $ks
ListenPort = 51820
Address = 10.66.0.1/24, fd66::1/64
ExposeGracePeriod = 3

[Peer]
Name = laptop
PublicKey = $pl
AllowedIPs = 10.66.0.2/32, fd66::2/128
AllowExpose = 8000-8099

[Peer]
Name = other
PublicKey = $po
AllowedIPs = 10.66.0.3/32, fd66::3/128

[Peer]
Name = site
PublicKey = $pt
AllowedIPs = 10.66.0.4/32, 192.168.77.0/24
AllowExpose = 8050-8059
CONF
write_conf "$dlap/tund0.conf" <<CONF
[Interface]
PrivateKey = $kl
Address = 10.66.0.2/24, fd66::2/64

[Peer]
Name = server
PublicKey = $ps
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.66.0.0/24, fd66::/64, 192.168.77.0/24
PersistentKeepalive = 25

[Expose web]
LocalPort = 8000
PublicPort = 8080
Peer = server
ServerAddress = 10.66.0.1
ProxyProtocol = yes

[Expose secret]
LocalPort = 9000
Peer = server
ServerAddress = 10.66.0.1
CONF
write_conf "$doth/tund0.conf" <<CONF
[Interface]
PrivateKey = $ko
Address = 10.66.0.3/24, fd66::3/64

[Peer]
Name = hub
PublicKey = $ps
Endpoint = 192.0.2.65:51820
AllowedIPs = 10.66.0.0/24, fd66::/64
PersistentKeepalive = 25
CONF
write_conf "$dsite/tund0.conf" <<CONF
[Interface]
PrivateKey = $kt
Address = 10.66.0.4/24

[Peer]
Name = hub
PublicKey = $ps
Endpoint = 192.0.2.129:51820
AllowedIPs = 10.66.0.0/24
PersistentKeepalive = 25

[Expose sweb]
LocalPort = 8500
PublicPort = 8055
Peer = hub
ServerAddress = 10.66.0.1
CONF
for d in srv lap oth site; do
	var=$d
	tund_start "${!var}" "$d" "$(confdir "$d")"
done
for d in srv lap oth site; do
	var=$d
	tund_wait_iface "${!var}" tund0 || fail "$d: tund0 not up"
done

L() { "$TUNCTL" --socket "$E2E_TMP/lap.sock" "$@"; }
T() { "$TUNCTL" --socket "$E2E_TMP/site.sock" "$@"; }
# state_of CTL NAME: a client's state of its service NAME.
state_of() {
	"$1" --json show tund0 | python3 -c '
import json, sys
for s in json.load(sys.stdin)["interfaces"][0]["exposes"]:
    if s["name"] == sys.argv[1]:
        print(s["state"])' "$2"
}
is_state() { [ "$(state_of "$1" "$2")" = "$3" ]; }
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
# attack NS HOST [OPTIONS]: the lines on stdin to HOST's control port; what came back
# (exposetool send OPTIONS: --bind ADDR, --shutdown, --wait S).
attack() {
	local ns=$1 host=$2 data
	shift 2
	data=$(cat)
	printf '+ [%s] exposetool send %s 51821 %q %s\n' "${ns%-$$}" "$host" "$data" "$*" >&2
	ip netns exec "$ns" python3 "$EXPOSE_TOOL" send "$host" 51821 "$(hex "$data"$'\n')" "$@"
}
# connect_line NAME REMOTE: a "connect" line as the server writes it, then bytes for the service.
connect_line() {
	printf '{"op":"connect","version":1,"name":"%s","remote":"%s","local":"198.51.100.1:8080"}\nprobe\n' "$1" "$2"
}

FAILED=()
# check WHAT CMD...: run CMD; a failure is recorded and the test goes on.
check() {
	local what=$1
	shift
	if "$@"; then
		log "ok: $what"
	else
		log "NOT OK: $what"
		FAILED+=("$what")
	fi
}
no_hello() { [[ $1 != *HELLO* ]]; }

bg "$lap" web python3 "$EXPOSE_TOOL" serve 8000 --proxy
bg "$lap" secret python3 "$EXPOSE_TOOL" serve 9000
bg "$site" sweb python3 "$EXPOSE_TOOL" serve 8500
wait_until 10 "the laptop's services" eval "listening '$lap' 8000 && listening '$lap' 9000" ||
	fail "the laptop's services did not start"
wait_until 10 "the site's service" listening "$site" 8500 || fail "the site's service did not start"

log "=== the real traffic: web published, secret refused, the site's service published"
wait_until 20 "web active" is_state L web active || fail "web: $(L show tund0)"
wait_until 20 "secret refused" is_state L secret refused || fail "secret: $(L show tund0)"
wait_until 20 "sweb active" is_state T sweb active || fail "sweb: $(T show tund0)"
# proxied USER: the PROXY header the laptop's service saw carries the user's address.
proxied() {
	local line hello src dst me
	line=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" proxycheck 198.51.100.1 8080) || return 1
	read -r hello src dst _ me <<<"$line"
	[ "$hello" = HELLO ] && [ "$src" = "$me" ] && [ "$dst" = 198.51.100.1:8080 ]
}
proxied || fail "the user's connection to web: $(ip netns exec "$user" python3 "$EXPOSE_TOOL" proxycheck 198.51.100.1 8080 2>&1)"
out=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" proxycheck 198.51.100.1 8055) &&
	[[ $out == HELLO* ]] || fail "the user's connection to the site's sweb: $out"
assert_ping "$oth" 10.66.0.2
assert_ping "$site" 10.66.0.2
refusals() { grep -c "control port: refusing" "$E2E_TMP/$1.log" || true; }
refusals_before=$(refusals lap)

log "=== the other client asks the laptop's control port for the refused service"
out=$(attack "$oth" 10.66.0.2 --shutdown < <(connect_line secret "198.51.100.2:1"))
log "got: $out"
check "other client -> laptop: connect secret is refused" no_hello "$out"

log "=== the other client asks for web with a forged PROXY source"
out=$(attack "$oth" 10.66.0.2 --shutdown < <(connect_line web "203.0.113.66:4444"))
log "got: $out"
check "other client -> laptop: connect web (forged PROXY source) is refused" no_hello "$out"

log "=== the same over IPv6"
out=$(attack "$oth" fd66::2 --shutdown < <(connect_line web "[2001:db8::66]:4444"))
log "got: $out"
check "other client -> laptop over IPv6: connect web is refused" no_hello "$out"

log "=== the hub itself, from an address the control connection did not reach"
out=$(attack "$srv" fd66::2 --bind fd66::1 --shutdown < <(connect_line web "203.0.113.66:4444"))
log "got: $out"
check "S from fd66::1 (the control connection reached 10.66.0.1): connect web is refused" no_hello "$out"

log "=== the hub itself, from the right address, for the service it refused"
out=$(attack "$srv" 10.66.0.2 --bind 10.66.0.1 --shutdown < <(connect_line secret "198.51.100.2:1"))
log "got: $out"
check "S from 10.66.0.1: connect secret (refused by S) is refused" no_hello "$out"

log "=== a host behind the site peer asks the laptop for web"
out=$(attack "$site" 10.66.0.2 --bind 192.168.77.10 --shutdown < <(connect_line web "203.0.113.66:4444"))
log "got: $out"
check "a host behind the site -> laptop: connect web is refused" no_hello "$out"

log "=== a host behind the site peer asks S for a public port in the site's name"
out=$(attack "$site" 10.66.0.1 --bind 192.168.77.10 --wait 3 <<<'{"op":"expose","version":1,"name":"evil","public_port":8051}')
log "got: $out"
check "a host behind the site -> S: expose is not answered" eval '[[ $out != *"\"ok\":true"* ]]'
check "S does not listen on 8051" eval "! listening '$srv' 8051"
check "S shows no public port 8051" eval '! S --json show tund0 | grep -q "\"port\": *8051"'

log "=== the other client (no AllowExpose) asks S for the laptop's port"
out=$(attack "$oth" 10.66.0.1 --wait 3 <<<'{"op":"expose","version":1,"name":"web","public_port":8080}')
log "got: $out"
check "other client -> S: no control session, not even a refusal" eval '[[ $out != *"\"op\""* ]]'
check "S logs the refusal" tund_log_has srv "control port: refusing 10.66.0.3:[0-9]* (peer other)"
check "web is still the laptop's on S" eval 'S --json show tund0 | python3 -c "
import json, sys
p = [x for x in json.load(sys.stdin)[\"interfaces\"][0][\"public_ports\"] if x[\"port\"] == 8080]
assert len(p) == 1 and p[0][\"peer\"] == \"laptop\" and p[0][\"state\"] == \"active\", p"'

log "=== the other client holds 600 unanswered connections on the laptop's control port"
bg "$oth" idle python3 "$EXPOSE_TOOL" idle 10.66.0.2 51821 600 6
idle_pid=$BG_PID
sleep 2 # let them be accepted
fetched=0
for i in 1 2 3 4 5; do
	proxied && fetched=$((fetched + 1))
done
wait "$idle_pid" || true
log "idle connections: $(cat "$E2E_TMP/idle.log"); users served meanwhile: $fetched of 5"
check "users are served while another client floods the laptop's control port" [ "$fetched" = 5 ]
check "the laptop keeps none of the other client's connections" grep -q "^open 0 " "$E2E_TMP/idle.log"

log "=== a user writes a PROXY v2 header of its own through the public port"
# Signature, v2 PROXY, TCP over IPv4: 203.0.113.66:4444 -> 198.51.100.1:8080, then data.
forged=$(python3 -c 'import socket, struct
h = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", 12)
h += socket.inet_aton("203.0.113.66") + socket.inet_aton("198.51.100.1") + struct.pack("!HH", 4444, 8080)
print((h + b"after the header\n").hex())')
out=$(n "$user" python3 "$EXPOSE_TOOL" send 198.51.100.1 8080 "$forged" --shutdown | tr -d '\0')
log "got: $out"
check "the service sees the user's own address first, the forged header as data" \
	eval '[[ $out == "HELLO 198.51.100.2:"* && $out != *"HELLO 203.0.113.66"* && $out == *"after the header"* ]]'

log "=== the refusals are logged, rate limited"
refusals=$(($(refusals lap) - refusals_before))
log "the laptop logged $refusals refusals"
check "the laptop logs the refusals" [ "$refusals" -gt 0 ]
check "the laptop's log of refusals is rate limited" [ "$refusals" -lt 100 ]

log "=== the real traffic still flows"
check "web is still active" is_state L web active
check "the user still reaches web with its own address" proxied
out=$(ip netns exec "$user" python3 "$EXPOSE_TOOL" proxycheck 198.51.100.1 8055 || true)
check "the user still reaches the site's sweb" eval '[[ $out == HELLO* ]]'
for d in srv lap oth site; do
	check "tund $d is alive" tund_alive "$d"
done
for d in oth site lap srv; do
	tund_stop "$d"
done
check "no sanitizer report" eval '! grep -E "ERROR: (Address|Leak|Undefined)Sanitizer|runtime error" "$E2E_TMP"/*.log'
if [ "${#FAILED[@]}" -gt 0 ]; then
	printf 'NOT OK: %s\n' "${FAILED[@]}" >&2
	fail "${#FAILED[@]} checks failed"
fi
log "PASS"
