#!/usr/bin/env bash
# tunctl against a live tund over the control socket: every command, human
# and JSON; live add-peer / set-peer / remove-peer with traffic to the new
# peer; reload with a broken file; who may change state (SO_PEERCRED); and
# clients that misbehave (half a line, a 10 MB line, never reading, garbage)
# while the tunnel keeps working and other clients are served.
#
#   a 10.87.0.1 (tund, control socket) ── veth ── b 10.87.0.2 (tund)
#                                          └───── c 10.87.0.3 (tund, added live)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3 setpriv
lib=$(cd "$(dirname "$0")/../lib" && pwd)

ns_new a
ns_new b
ns_new c
run ip -n "$a" link add br0 type bridge
run ip -n "$a" link set br0 up
veth "$a" vb "$b" v0
veth "$a" vc "$c" v0
run ip -n "$a" link set vb master br0
run ip -n "$a" link set vc master br0
addr "$a" br0 192.0.2.1/24
addr "$b" v0 192.0.2.2/24
addr "$c" v0 192.0.2.3/24
ka=$(genkey); kb=$(genkey); kc=$(genkey)
pa=$(pubkey "$ka"); pb=$(pubkey "$kb"); pc=$(pubkey "$kc")
da=$(confdir a); db=$(confdir b); dc=$(confdir c)
write_conf "$da/ct0.conf" <<CONF
# a comment that must survive
[Interface]
PrivateKey = $ka
ListenPort = 51820
Address = 10.87.0.1/24
[Peer]
Name = b
PublicKey = $pb
Endpoint = 192.0.2.2:51820
AllowedIPs = 10.87.0.2/32
CONF
for x in b c; do
	key_var="k$x"
	write_conf "$(eval echo "\$d$x")/ct0.conf" <<CONF
[Interface]
PrivateKey = ${!key_var}
ListenPort = 51820
Address = 10.87.0.$([ $x = b ] && echo 2 || echo 3)/24
[Peer]
PublicKey = $pa
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.87.0.1/32
CONF
done

# The socket lives in a directory others may enter, so the permission test
# reaches SO_PEERCRED; the control group is a number nobody has: 4242.
sockdir=$(mktemp -d /tmp/tund-ctl.$$.XXXXXX)
chmod 755 "$sockdir"
at_exit "rm -rf '$sockdir'"
sock="$sockdir/control.sock"
printf '+ [a] %s --control-socket %s --control-group 4242\n' "$TUND" "$sock" >&2
ip netns exec "$a" "$TUND" --foreground --log-level debug --config-dir "$da" \
	--control-socket "$sock" --control-group 4242 >>"$E2E_TMP/a.log" 2>&1 &
TUND_PID_a=$!
E2E_PIDS+=("$TUND_PID_a")
tund_start "$b" b "$db"
tund_start "$c" c "$dc"
tund_wait_iface "$a" ct0 && tund_wait_iface "$b" ct0 && tund_wait_iface "$c" ct0 || fail "interfaces not up"
wait_until 5 "control socket" test -S "$sock" || fail "no control socket"
assert_ping "$a" 10.87.0.2

T() { "$TUNCTL" --socket "$sock" "$@"; }
# expect RC ARGS...: tunctl's exit status; output in $tmp/out, $tmp/err.
tmp="$E2E_TMP"
expect() {
	local want=$1 rc=0
	shift
	T "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] || fail "tunctl $*: exit $rc, expected $want: $(cat "$tmp/err")"
}
jq_py() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); $1"; }

log "=== socket mode and group"
[ "$(stat -c '%a %g' "$sock")" = "660 4242" ] || fail "socket is $(stat -c '%a %g' "$sock")"

log "=== status and show"
expect 0 status
grep -q "^tund [0-9.]*, up" "$tmp/out" || fail "status: $(cat "$tmp/out")"
grep -q "ct0: port 51820, 1 peer" "$tmp/out" || fail "status: $(cat "$tmp/out")"
expect 0 --json status
jq_py 'assert d["interfaces"][0]["name"] == "ct0" and d["interfaces"][0]["peer_count"] == 1, d'
expect 0 show ct0
grep -q "^interface: ct0" "$tmp/out" && grep -q "public key: $pa" "$tmp/out" &&
	grep -q "^peer: $pb (b)" "$tmp/out" && grep -q "endpoint: 192.0.2.2:51820" "$tmp/out" &&
	grep -q "latest handshake: .* ago" "$tmp/out" && grep -q "transfer: .* received, .* sent" "$tmp/out" ||
	fail "show: $(cat "$tmp/out")"
expect 0 show --json
jq_py "p = d['interfaces'][0]['peers'][0]; assert p['public_key'] == '$pb' and p['allowed_ips'] == ['10.87.0.2/32'] and p['latest_handshake'] > 0 and p['rx_bytes'] > 0, p"
! grep -qF "$ka" "$tmp/out" || fail "show printed the private key"
expect 1 show nosuch0
grep -q 'no interface "nosuch0"' "$tmp/err" || fail "show nosuch0: $(cat "$tmp/err")"

log "=== add-peer live, then traffic to the new peer"
psk=$("$TUNCTL" genpsk)
(umask 077 && echo "$psk" >"$tmp/psk")
expect 2 add-peer ct0 --name c
expect 1 add-peer ct0 --public-key "not-a-key"
grep -q "public key must be 44 characters" "$tmp/err" || fail "bad key message: $(cat "$tmp/err")"
expect 1 add-peer ct0 --public-key "$pc" --allowed-ips 10.87.0.3/33
expect 0 add-peer ct0 --public-key "$pc" --name c --allowed-ips 10.87.0.3/32 \
	--endpoint 192.0.2.3:51820 --keepalive 25
expect 1 add-peer ct0 --public-key "$pc"
grep -q "already has this peer" "$tmp/err" || fail "duplicate add: $(cat "$tmp/err")"
wait_until 10 "ping c" ping_ok "$a" 10.87.0.3 || fail "no traffic to the peer added live"
assert_ping "$c" 10.87.0.1
expect 0 show ct0
grep -q "peer: $pc (c)" "$tmp/out" && grep -q "persistent keepalive: every 25 seconds" "$tmp/out" ||
	fail "show after add: $(cat "$tmp/out")"

log "=== set-peer changes in place and keeps the session"
sessions=$(grep -c "session established" "$E2E_TMP/a.log")
expect 0 set-peer ct0 c --allowed-ips 10.87.0.3/32,10.88.0.0/24 --keepalive 0
ip -n "$a" route show dev ct0 | grep -q "10.88.0.0/24" || fail "no route for the new allowed IP"
assert_ping "$a" 10.87.0.3
[ "$(grep -c "session established" "$E2E_TMP/a.log")" = "$sessions" ] || fail "set-peer started a new session"

log "=== an allowed IP with host bits: masked, as in a file, with the file's warning"
expect 0 set-peer ct0 c --allowed-ips 10.87.0.3/32,10.89.0.7/24
grep -qxF 'tunctl: set-peer: warning: AllowedIPs: "10.89.0.7/24" has host bits set; using 10.89.0.0/24' "$tmp/err" ||
	fail "set-peer with host bits: $(cat "$tmp/err")"
expect 0 --json show ct0
jq_py "p = [p for p in d['interfaces'][0]['peers'] if p['name'] == 'c'][0]; assert p['allowed_ips'] == ['10.87.0.3/32', '10.89.0.0/24'], p"
ip -n "$a" route show dev ct0 | grep -q "^10.89.0.0/24" || fail "no route for the masked allowed IP"
expect 0 --json set-peer ct0 c --allowed-ips 10.87.0.3/32,10.89.0.0/24
jq_py "assert 'warnings' not in d, d"
[ ! -s "$tmp/err" ] || fail "set-peer without host bits warned: $(cat "$tmp/err")"
expect 1 set-peer ct0 nobody --keepalive 5
expect 2 set-peer ct0 c --public-key "$pb"

log "=== remove-peer"
expect 0 remove-peer ct0 c
assert_no_ping "$a" 10.87.0.3
expect 1 remove-peer ct0 c

log "=== log-level"
expect 0 log-level warn
expect 1 log-level loud
expect 0 log-level debug

log "=== reload through tunctl, with a broken file"
printf 'Colour = blue\n' >>"$da/ct0.conf"
expect 1 reload
grep -q "ct0.conf:$(wc -l <"$da/ct0.conf"): error: unknown key \"Colour\"" "$tmp/err" ||
	fail "reload error without file:line: $(cat "$tmp/err")"
assert_ping "$a" 10.87.0.2
sed -i '$d' "$da/ct0.conf"
expect 0 reload
grep -q "no change" "$tmp/out" || fail "reload of the unchanged file: $(cat "$tmp/out")"

log "=== down and up"
expect 0 down ct0
grep -q "ct0: down (tunctl down)" "$tmp/out" || fail "down: $(cat "$tmp/out")"
! nq "$a" ip link show ct0 >/dev/null 2>&1 || fail "ct0 is still there after down"
expect 0 reload
! nq "$a" ip link show ct0 >/dev/null 2>&1 || fail "a reload brought ct0 back up"
expect 1 down ct0
grep -q "no interface ct0 is up" "$tmp/err" || fail "down twice: $(cat "$tmp/err")"
expect 0 up ct0
grep -q "ct0: up (tunctl up)" "$tmp/out" || fail "up: $(cat "$tmp/out")"
assert_ping "$a" 10.87.0.2
expect 1 up ct0
grep -q "ct0 is up already" "$tmp/err" || fail "up twice: $(cat "$tmp/err")"
expect 1 up nosuch
grep -q "no file $da/nosuch.conf" "$tmp/err" || fail "up of a missing file: $(cat "$tmp/err")"
expect 2 up
expect 1 up ../ct0
grep -q "not an interface name" "$tmp/err" || fail "up ../ct0: $(cat "$tmp/err")"
printf '[Interface]\nPrivateKey = %s\nListenPort = 51830\nMTU = 9\n' "$kc" >"$da/bad0.conf"
chmod 600 "$da/bad0.conf"
expect 1 reload
expect 1 up bad0
grep -q "bad0.conf:4: error: MTU" "$tmp/err" || fail "up of a broken file: $(cat "$tmp/err")"
rm "$da/bad0.conf"
expect 1 --json up ct0
jq_py "assert d['ok'] is False and d['error']['code'] == 'exists', d"
expect 0 --json down ct0
jq_py "assert d['changes'] == ['ct0: down (tunctl down)'], d"
expect 0 --json up ct0
jq_py "assert d['interface'] == 'ct0', d"
assert_ping "$a" 10.87.0.2
expect 0 reload

log "=== who may change state"
nobody() { setpriv --reuid=65534 --regid="$1" --clear-groups -- "$TUNCTL" --socket "$sock" "${@:2}"; }
chmod 666 "$sock" # let uid 65534 connect, so that SO_PEERCRED decides
rc=0; nobody 65534 show ct0 >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "an unprivileged user cannot show: $(cat "$tmp/err")"
rc=0; nobody 65534 add-peer ct0 --public-key "$pc" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 4 ] || fail "an unprivileged add-peer: exit $rc"
grep -q "only root or the control group" "$tmp/err" || fail "permission message: $(cat "$tmp/err")"
rc=0; nobody 4242 log-level debug >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "the control group cannot change state: $(cat "$tmp/err")"
rc=0
setpriv --reuid=65534 --regid=65534 --groups=4242 -- "$TUNCTL" --socket "$sock" log-level info \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 0 ] || fail "a supplementary member of the control group cannot change state: $(cat "$tmp/err")"
chmod 660 "$sock"

log "=== misbehaving clients"
python3 "$lib/ctlclient.py" "$sock" partial 20 &
E2E_PIDS+=("$!")
python3 "$lib/ctlclient.py" "$sock" noread 100000 20 >"$tmp/noread" &
E2E_PIDS+=("$!")
sleep 1
expect 0 status # served while the others hang
reply=$(python3 "$lib/ctlclient.py" "$sock" huge 10)
[[ "$reply" == *request_too_large* ]] || fail "a 10 MB line got: $reply"
for bad in 'garbage' '[1,2]' '{"command":42}' '{"version":99,"command":"status"}' \
	'{"version":1,"command":"frobnicate"}' '{"version":1,"command":"show","args":[]}' \
	'{"version":1,"command":"add-peer","args":{"interface":"ct0","public_key":7}}'; do
	reply=$(python3 "$lib/ctlclient.py" "$sock" raw "$bad")
	[[ "$reply" == *'"ok":false'* && "$reply" == *'"code":'* ]] || fail "reply to $bad: $reply"
done
assert_ping "$a" 10.87.0.2
expect 0 show ct0
tund_alive a || fail "tund died"
log "--- the non-reading client queued $(cat "$tmp/noread") requests"

log "=== tunctl when tund is not there"
rc=0; "$TUNCTL" --socket "$sockdir/nothing.sock" status 2>"$tmp/err" || rc=$?
[ "$rc" = 3 ] || fail "exit $rc without a daemon"
grep -q "tund is not running" "$tmp/err" || fail "message: $(cat "$tmp/err")"

log "=== a second tund on the same socket refuses to start"
rc=0
timeout 10 ip netns exec "$a" "$TUND" --foreground --config-dir "$dc" --control-socket "$sock" \
	>"$tmp/second.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a second tund exited $rc"
grep -q "another tund is running there" "$tmp/second.log" || fail "$(cat "$tmp/second.log")"
tund_stop a
[ ! -e "$sock" ] || fail "the socket file is left after SIGTERM"
log "PASS"
