#!/usr/bin/env bash
# tund's main job on one machine: two network namespaces ("alice" and "bob")
# joined by a veth pair on 192.0.2.0/24, one tund in each, and traffic
# through the encrypted tunnel 10.77.0.0/24 between them; then a localhost
# tunnel: bob publishes a web server that listens on his 127.0.0.1 only, and
# it is fetched on alice's public address, port 8080.
#
#   alice                                         bob
#   tund0 10.77.0.1  ==== WireGuard over UDP ====  tund0 10.77.0.2
#   veth0 192.0.2.1 ------------------------------ veth0 192.0.2.2
#
# Usage: sudo scripts/demo.sh      (installs packages, builds, runs, cleans up)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TUND_SKIP_DEPS:-}" ]; then
	scripts/deps.sh >/dev/null
fi
build=$(scripts/build.sh | tail -n 1)
export TUND="$PWD/$build/daemon/tund" TUNCTL="$PWD/$build/ctl/tunctl"

. test/lib/netns.sh
e2e_init socat ping ss

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "two namespaces joined by a veth pair"
ns_new alice
ns_new bob
veth "$alice" veth0 "$bob" veth0
addr "$alice" veth0 192.0.2.1/24
addr "$bob" veth0 192.0.2.2/24

say "keys: tunctl genkey | tunctl pubkey (the same format as wg)"
ka=$(genkey)
kb=$(genkey)
pa=$(pubkey "$ka")
pb=$(pubkey "$kb")
echo "alice public key: $pa"
echo "bob   public key: $pb"

da=$(confdir alice)
db=$(confdir bob)
write_conf "$da/tund0.conf" <<CONF
[Interface]
PrivateKey = $ka
ListenPort = 51820
Address = 10.77.0.1/24

[Peer]
Name = bob
PublicKey = $pb
Endpoint = 192.0.2.2:51820
AllowedIPs = 10.77.0.2/32
AllowExpose = 8000-8099           # public ports bob may publish through alice
CONF
write_conf "$db/tund0.conf" <<CONF
[Interface]
PrivateKey = $kb
ListenPort = 51820
Address = 10.77.0.2/24

[Peer]
Name = alice
PublicKey = $pa
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.77.0.1/32
CONF
say "alice's /etc/tund/tund0.conf (private key hidden here)"
sed 's/^PrivateKey = .*/PrivateKey = (hidden)/' "$da/tund0.conf"
say "tunctl check-config"
"$TUNCTL" check-config "$da"

say "start one tund in each namespace"
tund_start "$alice" alice "$da"
tund_start "$bob" bob "$db"
tund_wait_iface "$alice" tund0
tund_wait_iface "$bob" tund0
ip -n "$alice" addr show tund0

say "ping bob through the tunnel"
wait_until 10 "handshake" ping_ok "$alice" 10.77.0.2
n "$alice" ping -c 3 -i 0.2 10.77.0.2

say "20 MB over TCP through the tunnel, checksum verified"
transfer "$alice" "$bob" 10.77.0.2 20

say "localhost tunnel: bob runs a web server on his 127.0.0.1:8000 only"
www="$E2E_TMP/www"
mkdir -p "$www"
echo "hello from bob's localhost, through the tunnel" >"$www/index.html"
ip netns exec "$bob" python3 -m http.server --bind 127.0.0.1 --directory "$www" 8000 \
	>"$E2E_TMP/http.log" 2>&1 &
E2E_PIDS+=("$!")
wait_until 10 "bob's web server" listening "$bob" 8000 || fail "the web server did not start"
say "bob: tunctl expose tund0 8000 --peer alice --public-port 8080 (alice allows 8000-8099)"
"$TUNCTL" --socket "$E2E_TMP/bob.sock" expose tund0 8000 --peer alice --public-port 8080 --name web
say "fetch http://192.0.2.1:8080/ (alice's public address): alice relays it to bob's localhost"
n "$alice" python3 -c 'import urllib.request as u; print(u.urlopen("http://192.0.2.1:8080/", timeout=10).read().decode(), end="")'
"$TUNCTL" --socket "$E2E_TMP/bob.sock" show tund0 | sed -n '/^expose:/,$p'
"$TUNCTL" --socket "$E2E_TMP/alice.sock" show tund0 | sed -n '/^public port:/,$p'

say "what went over the veth is encrypted WireGuard (UDP port 51820)"
ip -n "$alice" -s link show veth0 | sed -n '1,6p'

say "daemon logs"
sed 's/^/alice: /' "$E2E_TMP/alice.log" | grep -v debug | head -20

say "stop both daemons (SIGTERM): interfaces removed"
tund_stop alice
tund_stop bob
say "demo done"
