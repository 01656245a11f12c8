#!/usr/bin/env bash
# The real `wg` (Debian's wireguard-tools) drives tund through the UAPI
# socket /var/run/wireguard/IFACE.sock, as it would the kernel module:
# show, show dump, showconf, set (peer with allowed IPs and endpoint,
# keepalive, remove, private key, listen port, fwmark), setconf, addconf,
# syncconf, traffic through a peer added by `wg set`, and `tunctl show
# --json` agreeing with `wg show dump` all along. Then malformed requests
# (unknown keys, bad hex, a truncated request, one that never ends, 100 MB
# of garbage) get the protocol's error reply or a close and change nothing.
#
#   a 10.93.0.1 (tund, wua<pid>) ── veth 192.0.2.1 / .2 ── b 10.93.0.2 (tund, wub<pid>)
#
# `wg` has /var/run/wireguard compiled in and that directory is shared by
# every namespace: the interface names carry the test's pid.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3 wg
lib=$(cd "$(dirname "$0")/../lib" && pwd)
uapidir=/var/run/wireguard
ia="wua$$" ib="wub$$"
at_exit "rm -f '$uapidir/$ia.sock' '$uapidir/$ib.sock'"

ns_pair a b
ka=$(genkey) kb=$(genkey)
pa=$(pubkey "$ka") pb=$(pubkey "$kb")
da=$(confdir a) db=$(confdir b)
# a starts with no peer: b is added with `wg set`. b knows a from its file.
write_conf "$da/$ia.conf" <<CONF
[Interface]
PrivateKey = $ka
ListenPort = 51820
Address = 10.93.0.1/24
CONF
write_conf "$db/$ib.conf" <<CONF
[Interface]
PrivateKey = $kb
ListenPort = 51820
Address = 10.93.0.2/24
[Peer]
PublicKey = $pa
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.93.0.1/32
CONF
tund_start "$a" a "$da" TUND_UAPI_DIR="$uapidir"
tund_start "$b" b "$db" TUND_UAPI_DIR="$uapidir"
tund_wait_iface "$a" "$ia" || fail "$ia not up"
tund_wait_iface "$b" "$ib" || fail "$ib not up"
wait_until 5 "UAPI socket" test -S "$uapidir/$ia.sock" || fail "no $uapidir/$ia.sock"

wga() { ip netns exec "$a" wg "$@"; }
wgb() { ip netns exec "$b" wg "$@"; }
tca() { "$TUNCTL" --socket "$E2E_TMP/a.sock" "$@"; }

log "--- the socket: 0600, root's"
[ "$(stat -c '%a %U' "$uapidir/$ia.sock")" = "600 root" ] ||
	fail "socket mode/owner: $(stat -c '%a %U' "$uapidir/$ia.sock")"

log "--- wg show, wg show dump"
out=$(wga show "$ia") || fail "wg show $ia failed"
printf '%s\n' "$out"
grep -q "interface: $ia" <<<"$out" || fail "wg show: no interface line"
grep -q "public key: $pa" <<<"$out" || fail "wg show: wrong public key"
grep -q "listening port: 51820" <<<"$out" || fail "wg show: wrong port"
[ "$(wga show "$ia" dump)" = "$(printf '%s\t%s\t51820\toff' "$ka" "$pa")" ] ||
	fail "wg show dump: $(wga show "$ia" dump)"
wga show interfaces | grep -qw "$ia" || fail "wg show interfaces does not list $ia"

# dump_matches_tunctl IFACE: every peer of `wg show dump` as tunctl show --json has it.
dump_matches_tunctl() {
	python3 - "$(wga show "$1" dump)" "$(tca show --json "$1")" <<'PY' || fail "wg show dump and tunctl show --json differ"
import json, sys
dump = [l.split("\t") for l in sys.argv[1].splitlines()]
show = json.loads(sys.argv[2])
ifc = show["interfaces"][0] if "interfaces" in show else show
iface, peers = dump[0], dump[1:]
assert iface[1] == ifc["public_key"], (iface, ifc["public_key"])
assert int(iface[2]) == ifc["listen_port"], (iface, ifc["listen_port"])
assert (iface[3] == "off" and not ifc["fwmark"]) or int(iface[3], 0) == ifc["fwmark"], (iface, ifc["fwmark"])
tp = {p["public_key"]: p for p in ifc["peers"]}
assert len(tp) == len(peers), (len(tp), len(peers))
for p in peers:
    key, psk, ep, aips, hs, rx, tx, ka = p
    t = tp[key]
    assert sorted(aips.split(",")) == sorted(t["allowed_ips"]) or (aips == "(none)" and not t["allowed_ips"]), (aips, t["allowed_ips"])
    assert (ka == "off" and t["persistent_keepalive"] == 0) or int(ka) == t["persistent_keepalive"], (ka, t)
    assert (psk == "(none)") == (not t["preshared_key"]), (psk, t)
    assert (ep == "(none)") == (t["endpoint"] is None), (ep, t["endpoint"])
print("dump and tunctl agree on %d peer(s)" % len(peers))
PY
}
dump_matches_tunctl "$ia"
# dump_config IFACE: the dump without the counters and handshake times.
dump_config() { wga show "$1" dump | cut -f1-4,8; }

log "--- wg set: add b with allowed IPs and endpoint; ping through it"
wga set "$ia" peer "$pb" allowed-ips 10.93.0.2/32,10.93.9.0/24 endpoint 192.0.2.2:51820 ||
	fail "wg set peer failed"
assert_ping "$a" 10.93.0.2
line=$(wga show "$ia" dump | grep "^$pb")
IFS=$'\t' read -r _ psk ep aips hs rx tx kal <<<"$line"
[ "$psk" = "(none)" ] && [ "$ep" = "192.0.2.2:51820" ] && [ "$kal" = off ] ||
	fail "peer line: $line"
[[ $aips == "10.93.0.2/32,10.93.9.0/24" || $aips == "10.93.9.0/24,10.93.0.2/32" ]] || fail "allowed IPs: $aips"
[ "$hs" -gt 0 ] && [ "$rx" -gt 0 ] && [ "$tx" -gt 0 ] || fail "no handshake or traffic in dump: $line"
dump_matches_tunctl "$ia"

log "--- wg set: keepalive changed, the session kept"
wga set "$ia" peer "$pb" persistent-keepalive 25 || fail "wg set keepalive failed"
line2=$(wga show "$ia" dump | grep "^$pb")
[ "$(cut -f8 <<<"$line2")" = 25 ] || fail "keepalive not 25: $line2"
[ "$(cut -f5 <<<"$line2")" = "$hs" ] || fail "handshake time changed: the session was not kept"
dump_matches_tunctl "$ia"
assert_ping "$a" 10.93.0.2

log "--- wg showconf"
conf=$(wga showconf "$ia") || fail "wg showconf failed"
grep -q "^PrivateKey = $ka" <<<"$conf" && grep -q "^ListenPort = 51820" <<<"$conf" &&
	grep -q "^PublicKey = $pb" <<<"$conf" && grep -q "^PersistentKeepalive = 25" <<<"$conf" ||
	fail "wg showconf: $conf"

log "--- wg set: a second peer, a preshared key, then remove it"
kc=$(genkey) pc=$(pubkey "$kc")
psk=$(wg genpsk)
wga set "$ia" peer "$pc" allowed-ips 10.93.3.0/24 preshared-key <(echo "$psk") || fail "wg set c"
wga show "$ia" dump | grep "^$pc" | cut -f2 | grep -qx -- "$psk" || fail "psk not in dump"
dump_matches_tunctl "$ia"
tca show "$ia" | grep -q "$pc" || fail "tunctl show lacks c"
wga set "$ia" peer "$pc" remove || fail "wg set remove failed"
wga show "$ia" dump | grep -q "^$pc" && fail "c still in dump after remove"
tca show "$ia" | grep -q "$pc" && fail "c still in tunctl show after remove"
dump_matches_tunctl "$ia"

log "--- wg setconf / addconf / syncconf"
kd=$(genkey) pd=$(pubkey "$kd")
# a_and_b FILE: a's [Interface] and its peer b, as setconf and syncconf both start.
a_and_b() {
	cat >"$1" <<CONF
[Interface]
PrivateKey = $ka
ListenPort = 51820
[Peer]
PublicKey = $pb
Endpoint = 192.0.2.2:51820
AllowedIPs = 10.93.0.2/32
PersistentKeepalive = 25
CONF
}
a_and_b "$E2E_TMP/set.conf"
cat >>"$E2E_TMP/set.conf" <<CONF
[Peer]
PublicKey = $pc
AllowedIPs = 10.93.3.0/24
CONF
wga setconf "$ia" "$E2E_TMP/set.conf" || fail "wg setconf failed"
[ "$(wga show "$ia" peers | sort)" = "$(printf '%s\n' "$pb" "$pc" | sort)" ] || fail "setconf peers"
wga show "$ia" allowed-ips | grep "^$pb" | grep -q "10.93.9.0/24" && fail "setconf kept an old allowed IP"
dump_matches_tunctl "$ia"
assert_ping "$a" 10.93.0.2
cat >"$E2E_TMP/add.conf" <<CONF
[Peer]
PublicKey = $pd
AllowedIPs = 10.93.4.0/24
CONF
wga addconf "$ia" "$E2E_TMP/add.conf" || fail "wg addconf failed"
[ "$(wga show "$ia" peers | wc -l)" = 3 ] || fail "addconf: not 3 peers"
dump_matches_tunctl "$ia"
hs=$(wga show "$ia" dump | grep "^$pb" | cut -f5)
a_and_b "$E2E_TMP/sync.conf"
cat >>"$E2E_TMP/sync.conf" <<CONF
[Peer]
PublicKey = $pd
AllowedIPs = 10.93.4.0/24, 10.93.5.0/24
CONF
wga syncconf "$ia" "$E2E_TMP/sync.conf" || fail "wg syncconf failed"
[ "$(wga show "$ia" peers | sort)" = "$(printf '%s\n' "$pb" "$pd" | sort)" ] || fail "syncconf peers"
wga show "$ia" allowed-ips | grep "^$pd" | grep -q "10.93.5.0/24" || fail "syncconf: d's new prefix"
[ "$(wga show "$ia" dump | grep "^$pb" | cut -f5)" = "$hs" ] || fail "syncconf restarted b's session"
dump_matches_tunctl "$ia"
assert_ping "$a" 10.93.0.2

log "--- an allowed IP another peer has moves to the new one, as with the kernel"
wga set "$ia" peer "$pb" allowed-ips 10.93.0.2/32,10.93.4.0/24 || fail "wg set b's prefixes"
wga show "$ia" allowed-ips | grep "^$pd" | grep -q "10.93.4.0/24" && fail "d kept 10.93.4.0/24"
wga show "$ia" allowed-ips | grep "^$pb" | grep -q "10.93.4.0/24" || fail "b lacks 10.93.4.0/24"
dump_matches_tunctl "$ia"
# What tund keeps of d (iface->cfg) lost it too: a later change to d does not take it back.
tca set-peer "$ia" "$pd" --keepalive 5 >/dev/null || fail "tunctl set-peer d"
wga show "$ia" allowed-ips | grep "^$pb" | grep -q "10.93.4.0/24" || fail "set-peer d took 10.93.4.0/24 back"
wga set "$ia" peer "$pb" allowed-ips 10.93.0.2/32 || fail "wg set b's prefixes back"

log "--- wg set: a new listen port, in place"
wga set "$ia" listen-port 51999 || fail "wg set listen-port failed"
[ "$(wga show "$ia" listen-port)" = 51999 ] || fail "port not 51999"
ip netns exec "$a" ss -Hlun "sport = :51999" | grep -q . || fail "nothing bound on 51999"
dump_matches_tunctl "$ia"
assert_ping "$a" 10.93.0.2 10
log "--- a port in use: errno=-98, nothing changed"
before=$(dump_config "$ia")
ip netns exec "$a" python3 -c 'import socket,time,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",51777)); print("bound",flush=True); time.sleep(20)' >"$E2E_TMP/hold.out" &
holder=$!
E2E_PIDS+=("$holder")
wait_until 5 "port held" grep -q bound "$E2E_TMP/hold.out" || fail "cannot hold a port"
out=$(printf 'set=1\nlisten_port=51777\npublic_key=%s\nremove=true\n\n' \
	"$(echo "$pb" | base64 -d | od -An -tx1 | tr -d ' \n')" |
	python3 "$lib/uapiclient.py" "$uapidir/$ia.sock") || fail "uapiclient failed"
[ "$out" = "errno=-98" ] || fail "port in use: $out"
[ "$(dump_config "$ia")" = "$before" ] || fail "a failed set changed the interface"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true

log "--- wg set: fwmark"
wga set "$ia" fwmark 0x1234 || fail "wg set fwmark failed"
[ "$(wga show "$ia" fwmark)" = 0x1234 ] || fail "fwmark: $(wga show "$ia" fwmark)"
dump_matches_tunctl "$ia"
wga set "$ia" fwmark 0 || fail "wg set fwmark 0 failed"
[ "$(wga show "$ia" fwmark)" = off ] || fail "fwmark not off"

log "--- wg set: a new private key, live; b follows and traffic resumes"
ka2=$(genkey) pa2=$(pubkey "$ka2")
ifindex=$(ip -n "$a" -o link show "$ia" | cut -d: -f1)
wga set "$ia" private-key <(echo "$ka2") || fail "wg set private-key failed"
[ "$(wga show "$ia" public-key)" = "$pa2" ] || fail "public key did not follow"
[ "$(wga show "$ia" private-key)" = "$ka2" ] || fail "private key not the new one"
[ "$(ip -n "$a" -o link show "$ia" | cut -d: -f1)" = "$ifindex" ] || fail "the interface was restarted"
[ "$(tca show --json "$ia" | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["public_key"])')" = "$pa2" ] ||
	fail "tunctl show: old public key"
wgb set "$ib" peer "$pa" remove peer "$pa2" allowed-ips 10.93.0.1/32 endpoint 192.0.2.1:51999 ||
	fail "wg set on b failed"
assert_ping "$a" 10.93.0.2 15
assert_ping "$b" 10.93.0.1 5
dump_matches_tunctl "$ia"
! grep -qF -- "$ka2" "$E2E_TMP/a.log" || fail "the private key appears in the log"

log "--- malformed requests: the protocol's errno or a close; nothing changes"
sockf="$uapidir/$ia.sock"
uapi() { python3 "$lib/uapiclient.py" "$sockf" "$@"; }
before=$(dump_config "$ia")
# A request that never ends, a byte every 2 s: closed at the 30 s deadline (checked at the end).
printf 'set=1\n%s' "$(printf 'fwmark=0\n%.0s' $(seq 30))" |
	python3 "$lib/uapiclient.py" "$sockf" --drip 2 >"$E2E_TMP/drip.out" &
drip=$!
E2E_PIDS+=("$drip")
pbhex=$(echo "$pb" | base64 -d | od -An -tx1 | tr -d ' \n')
[ "$(printf 'set=1\nlisten_port=5\nbogus_key=1\n\n' | uapi)" = "errno=-22" ] || fail "unknown key"
[ "$(printf 'set=1\npublic_key=%s\nbogus=1\n\n' "$pbhex" | uapi)" = "errno=-22" ] || fail "unknown peer key"
[ "$(printf 'set=1\npublic_key=%s\nremove=true\npublic_key=xyz\n\n' "$pbhex" | uapi)" = "errno=-22" ] ||
	fail "bad hex"
[ "$(printf 'set=1\nprivate_key=%s\nlisten_port=70000\n\n' "${pbhex}" | uapi)" = "errno=-22" ] ||
	fail "port out of range"
[ "$(printf 'set=1\npublic_key=%s\nremove=true\nno equals sign\n\n' "$pbhex" | uapi)" = "errno=-71" ] ||
	fail "a line without ="
[ "$(printf 'get=1\nx\n' | uapi)" = "errno=-22" ] || fail "get with trailing bytes"
rc=0; out=$(printf 'hello\n\n' | uapi) || rc=$?
[ "$rc" = 3 ] && [ -z "$out" ] || fail "not a request: rc $rc, '$out'"
rc=0; out=$(printf 'set=1\npublic_key=%s\nremove=true\n' "$pbhex" | uapi --timeout 2) || rc=$?
[ "$rc" = 3 ] || fail "truncated request answered: rc $rc, '$out'"
[ "$(dump_config "$ia")" = "$before" ] || fail "a malformed request changed the interface"
log "--- two requests on one connection"
[ "$(printf 'get=1\n\nget=1\n\n' | uapi --replies 2 | grep -c '^errno=0$')" = 2 ] ||
	fail "two gets on one connection"
log "--- a request that never ends: closed after the idle timeout"
out=$(printf 'set=1\npublic_key=%s\nremove=true\n' "$pbhex" | uapi --hold 20)
[[ $out == "closed after "* ]] || fail "never-ending request: $out"
log "--- 100 MB of garbage, then 100 MB of garbage after set=1, then 100 MB of valid lines"
out=$(uapi --garbage 100 </dev/null)
log "$out"
[[ $out == *"closed after"* ]] && [[ $out != *"closed after 100 MB"* ]] || fail "garbage not closed early: $out"
out=$(printf 'set=1\n' | uapi --garbage 100)
log "$out"
[[ $out == "errno=-"*"closed after"* ]] || fail "garbage after set=1: $out"
out=$({ printf 'set=1\n'; head -c 100M < <(yes listen_port=51999); } | uapi --timeout 30) || true
[ "$out" = "errno=-5" ] || fail "a request over 64 MiB: $out"
wait_until 45 "the drip closed" grep -q . "$E2E_TMP/drip.out" || fail "drip: no answer"
out=$(cat "$E2E_TMP/drip.out")
log "a byte every 2 s: $out"
[[ $out == "closed after "* ]] && [ "${out//[^0-9]/}" -ge 28 ] && [ "${out//[^0-9]/}" -le 40 ] ||
	fail "a request that never ends (a byte every 2 s): $out"
[ "$(dump_config "$ia")" = "$before" ] || fail "garbage changed the interface"
tund_alive a || fail "tund a died"
assert_ping "$a" 10.93.0.2 5
wga show "$ia" >/dev/null || fail "wg show after garbage"

tund_stop a
[ -e "$uapidir/$ia.sock" ] && fail "$ia.sock left behind"
tund_stop b
log "PASS"
