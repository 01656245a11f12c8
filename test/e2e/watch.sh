#!/usr/bin/env bash
# tunctl watch: the event stream of a real tund while the test roams a
# peer, forces new handshakes, takes the interface down and up, reloads a
# changed file, adds / sets / removes peers with tunctl and with `wg set`
# over the UAPI socket, and creates and deletes an interface without a
# file. Three watchers on s: every interface --json, its interface in human
# lines, and another interface's (which must see none of it). Each expected
# event is checked with its fields, in order; no key material ever shows.
#
#   s 10.151.0.1 (wts<pid>) ── veth 192.0.2.1 / .2, then .3 ── c 10.151.0.2 (wtc<pid>)
#
# `wg` has /var/run/wireguard compiled in, shared by every namespace: the
# interface names carry the test's pid.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3 wg
lib=$(cd "$(dirname "$0")/../lib" && pwd)
uapidir=/var/run/wireguard
is="wts$$" ic="wtc$$" ix="wtx$$"
at_exit "rm -f '$uapidir/$is.sock' '$uapidir/$ic.sock' '$uapidir/$ix.sock'"

ns_pair s c
ks=$(genkey) kc=$(genkey) kt=$(genkey) kv=$(genkey) kw=$(genkey) kp=$(genkey)
ps=$(pubkey "$ks") pc=$(pubkey "$kc") pt=$(pubkey "$kt") pv=$(pubkey "$kv")
pw=$(pubkey "$kw") pp=$(pubkey "$kp")
psk=$("$TUNCTL" genpsk)
ds=$(confdir s) dc=$(confdir c)
# s has no Endpoint for c: it learns it (and each roam) from c's packets.
write_conf "$ds/$is.conf" <<CONF
[Interface]
PrivateKey = $ks
ListenPort = 51820
Address = 10.151.0.1/24
[Peer]
Name = client
PublicKey = $pc
PresharedKey = $psk
AllowedIPs = 10.151.0.2/32
CONF
write_conf "$dc/$ic.conf" <<CONF
[Interface]
PrivateKey = $kc
Address = 10.151.0.2/24
[Peer]
PublicKey = $ps
PresharedKey = $psk
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.151.0.1/32
CONF
tund_start "$s" s "$ds" TUND_UAPI_DIR="$uapidir"
tund_start "$c" c "$dc" TUND_UAPI_DIR="$uapidir"
tund_wait_iface "$s" "$is" && tund_wait_iface "$c" "$ic" || fail "interfaces not up"
wait_until 5 "UAPI socket" test -S "$uapidir/$is.sock" || fail "no $uapidir/$is.sock"

T() { "$TUNCTL" --socket "$E2E_TMP/s.sock" "$@"; }
Tc() { "$TUNCTL" --socket "$E2E_TMP/c.sock" "$@"; }
wgs() { ip netns exec "$s" wg "$@"; }
all="$E2E_TMP/all.json" human="$E2E_TMP/human.txt" other="$E2E_TMP/other.json"

log "--- three watchers: all (--json), $is (human), another interface (--json)"
T watch --json >"$all" 2>"$E2E_TMP/all.err" &
E2E_PIDS+=("$!")
T watch "$is" >"$human" 2>"$E2E_TMP/human.err" &
E2E_PIDS+=("$!")
T watch --json wtnone$$ >"$other" 2>"$E2E_TMP/other.err" &
E2E_PIDS+=("$!")
# They have subscribed once a probe peer's arrival reaches both.
has() { grep -q -- "$2" "$1"; }
probe_seen() { has "$all" '"peer-added".*"name":"probe"' && has "$human" "peer-added  probe"; }
for i in $(seq 20); do
	T add-peer "$is" --public-key "$pp" --name probe --allowed-ips 10.151.99.1/32 >/dev/null ||
		fail "add-peer probe"
	wait_until 1 "the watchers' first event" probe_seen && break
	T remove-peer "$is" probe >/dev/null
done
probe_seen || fail "the watchers never saw the probe peer"
T remove-peer "$is" probe >/dev/null || fail "remove-peer probe"

log "--- a handshake: c pings s; s learns c's endpoint"
assert_ping "$c" 10.151.0.1
wait_until 5 "handshake-completed" has "$all" '"handshake-completed"' || fail "no handshake event"

log "--- c roams to 192.0.2.3"
run ip -n "$c" addr del 192.0.2.2/24 dev v0
run ip -n "$c" addr add 192.0.2.3/24 dev v0
assert_ping "$c" 10.151.0.1
wait_until 5 "endpoint-changed to .3" has "$all" '"new":"192.0.2.3:' || fail "no roaming event"

log "--- s's interface down and up (config load)"
T down "$is" >/dev/null || fail "tunctl down"
T up "$is" >/dev/null || fail "tunctl up"
tund_wait_iface "$s" "$is" || fail "$is not back"

log "--- a new handshake: c's interface down and up"
Tc down "$ic" >/dev/null || fail "tunctl down on c"
Tc up "$ic" >/dev/null || fail "tunctl up on c"
tund_wait_iface "$c" "$ic" || fail "$ic not back"
assert_ping "$c" 10.151.0.1

wait_until 5 "a handshake after s came back" test "$(grep -c '"handshake-completed"' "$all")" -ge 2 ||
	fail "no handshake after up"
log "--- reload with a changed file: client's keepalive, a third peer"
write_conf "$ds/$is.conf" <<CONF
[Interface]
PrivateKey = $ks
ListenPort = 51820
Address = 10.151.0.1/24
[Peer]
Name = client
PublicKey = $pc
PresharedKey = $psk
AllowedIPs = 10.151.0.2/32
PersistentKeepalive = 25
[Peer]
Name = third
PublicKey = $pt
AllowedIPs = 10.151.0.3/32
Endpoint = 198.51.100.3:51820
CONF
T reload >/dev/null || fail "tunctl reload"

log "--- tunctl add-peer, set-peer, remove-peer"
T add-peer "$is" --public-key "$pv" --name viactl --allowed-ips 10.151.0.4/32 >/dev/null ||
	fail "add-peer"
T set-peer "$is" viactl --endpoint 198.51.100.4:4000 >/dev/null || fail "set-peer"
T remove-peer "$is" viactl >/dev/null || fail "remove-peer"

log "--- wg set over the UAPI socket"
wgs set "$is" peer "$pw" allowed-ips 10.151.0.5/32 || fail "wg set add"
wgs set "$is" peer "$pw" endpoint 198.51.100.5:5000 || fail "wg set endpoint"
wgs set "$is" peer "$pw" remove || fail "wg set remove"

log "--- an interface without a file: created, deleted"
T create "$ix" >/dev/null || fail "tunctl create"
T delete "$ix" >/dev/null || fail "tunctl delete"
wait_until 5 "interface-deleted" has "$all" '"interface-deleted"' || fail "no interface-deleted"

log "--- the --json watcher's events, in order"
python3 "$lib/watchclient.py" expect "$all" \
	"peer-added,interface=$is,peer=$pp,name=probe,allowed_ips=10.151.99.1/32" \
	"peer-removed,interface=$is,peer=$pp,name=probe" \
	"endpoint-changed,interface=$is,peer=$pc,name=client,old=null,new=192.0.2.2:*" \
	"handshake-completed,interface=$is,peer=$pc,name=client" \
	"endpoint-changed,interface=$is,name=client,old=192.0.2.2:*,new=192.0.2.3:*" \
	"interface-down,interface=$is,link_deleted=False" \
	"peer-added,interface=$is,peer=$pc,name=client,endpoint=null" \
	"interface-up,interface=$is" \
	"handshake-completed,interface=$is,name=client" \
	"peer-changed,interface=$is,peer=$pc,name=client,persistent_keepalive=25" \
	"peer-added,interface=$is,peer=$pt,name=third,endpoint=198.51.100.3:51820" \
	"!endpoint-changed,peer=$pt" \
	"interface-reloaded,interface=$is" \
	"peer-added,interface=$is,peer=$pv,name=viactl,endpoint=null" \
	"endpoint-changed,interface=$is,peer=$pv,old=null,new=198.51.100.4:4000" \
	"peer-changed,interface=$is,peer=$pv,endpoint=198.51.100.4:4000" \
	"peer-removed,interface=$is,peer=$pv,name=viactl" \
	"peer-added,interface=$is,peer=$pw,name=null,allowed_ips=10.151.0.5/32" \
	"endpoint-changed,interface=$is,peer=$pw,new=198.51.100.5:5000" \
	"peer-changed,interface=$is,peer=$pw" \
	"peer-removed,interface=$is,peer=$pw" \
	"interface-up,interface=$ix" \
	"interface-created,interface=$ix" \
	"interface-down,interface=$ix" \
	"interface-deleted,interface=$ix" ||
	fail "the event stream is not as expected"
# Times are Unix seconds, in order.
python3 - "$all" <<'PY' || fail "the events' times"
import json, sys
t = [json.loads(l)["time"] for l in open(sys.argv[1]) if l.strip()]
assert all(isinstance(x, (int, float)) and x > 1e9 for x in t), t
assert t == sorted(t), t
PY

log "--- no key material in any event"
for k in "$ks" "$kc" "$kt" "$kv" "$kw" "$kp" "$psk"; do
	grep -qF -- "$k" "$all" "$human" "$other" && fail "a private or preshared key in the events"
done
grep -qi 'preshared\|private' "$all" && fail "a key field in the events"

log "--- the human watcher: its interface only, one line per event"
cat "$human" >&2
grep -q "^[0-9-]* [0-9:]*  $is  handshake-completed  client\$" "$human" ||
	fail "no human handshake line"
grep -q "  $is  endpoint-changed  client  old=192.0.2.2:[0-9]*  new=192.0.2.3:" "$human" ||
	fail "no human roaming line"
grep -q "  $is  peer-added  ${pw:0:8}…  endpoint=none  allowed_ips=10.151.0.5/32" "$human" ||
	fail "no human line with a short key"
grep -q "$ix" "$human" && fail "the human watcher of $is saw $ix's events"
[ -s "$other" ] && fail "the watcher of another interface saw: $(head -3 "$other")"

log "--- 64 watchers at most (3 here and 61 more), then a clear error"
python3 "$lib/watchclient.py" many "$E2E_TMP/s.sock" 62 "$E2E_TMP/many" "$E2E_TMP/many.go" &
many_pid=$!
E2E_PIDS+=("$many_pid")
wait_until 10 "62 watch connections" test -f "$E2E_TMP/many" || fail "many watchers"
out=$(cat "$E2E_TMP/many")
[ "$(tr ' ' '\n' <<<"$out" | grep -c '^ok$')" = 61 ] || fail "expected 61 more watchers: $out"
[ "$(tr ' ' '\n' <<<"$out" | tail -1)" = too_many_watchers ] || fail "no too_many_watchers: $out"
rc=0
timeout 5 "$TUNCTL" --socket "$E2E_TMP/s.sock" watch >/dev/null 2>"$E2E_TMP/err" || rc=$?
[ "$rc" = 1 ] || fail "a 65th tunctl watch: exit $rc, expected 1"
grep -q "64 clients watch already" "$E2E_TMP/err" || fail "no clear error: $(cat "$E2E_TMP/err")"
T status >/dev/null || fail "status with 64 watchers"
assert_ping "$c" 10.151.0.1

log "--- watchers that disconnect are cleaned up: room for a new one"
touch "$E2E_TMP/many.go"
wait "$many_pid" || fail "the many watchers' client failed"
rc=0
wait_until 5 "room for a watcher" bash -c \
	"timeout 1 '$TUNCTL' --socket '$E2E_TMP/s.sock' watch >/dev/null 2>&1; [ \$? = 124 ]" ||
	fail "no room for a watcher after 61 left"
T set-peer "$is" client --keepalive 0 >/dev/null || fail "set-peer after"
wait_until 5 "an event after it all" has "$human" "peer-changed  client  .*persistent_keepalive=0" ||
	fail "the first watchers stopped getting events"
tund_stop c
tund_stop s
tund_log_has s "ERROR" && grep ERROR "$E2E_TMP/s.log" >&2
log "PASS"
