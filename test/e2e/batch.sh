#!/usr/bin/env bash
# tunctl add-peer --from: a few hundred [Peer] sections from a file and from
# stdin arrive (show lists them with their allowed IPs); a list with an error
# at peer 57, or one key twice, changes nothing and names it; a peer the
# interface has is updated like set-peer; a request the daemon refuses in
# its middle (the interface's own key) is undone whole.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init python3

ns_new bt
ka=$(genkey); pa=$(pubkey "$ka")
d=$(confdir bt)
write_conf "$d/bt0.conf" <<CONF
[Interface]
PrivateKey = $ka
ListenPort = 51820
Address = 10.88.0.1/16
CONF
tund_start "$bt" bt "$d"
tund_wait_iface "$bt" bt0 || fail "interface not up"
sock="$E2E_TMP/bt.sock"
tmp="$E2E_TMP"
T() { "$TUNCTL" --socket "$sock" "$@"; }
expect() {
	local want=$1 rc=0
	shift
	T "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] || fail "tunctl $*: exit $rc, expected $want: $(cat "$tmp/err")"
}
# peers FIRST COUNT [BAD]: [Peer] sections with random keys, 10.88.X.Y/32
# each; BAD (1-based) gets a broken key.
peers() {
	python3 - "$@" <<'PY'
import base64, os, sys
first, count = int(sys.argv[1]), int(sys.argv[2])
bad = int(sys.argv[3]) if len(sys.argv) > 3 else 0
for i in range(count):
    n = first + i
    key = base64.b64encode(os.urandom(32)).decode()
    if i + 1 == bad:
        key = key[:-3] + "!!="
    print("[Peer]\n# peer %d\nPublicKey = %s\nAllowedIPs = 10.88.%d.%d/32, fd88::%x/128"
          % (n, key, n // 250 + 1, n % 250 + 1, n))
    if n % 7 == 0:
        print("PersistentKeepalive = 25\nName = p%d" % n)
PY
}
count() { T --json show bt0 | python3 -c "import json,sys; print(len(json.load(sys.stdin)['interfaces'][0]['peers']))"; }

log "=== a list from a file arrives whole"
peers 0 300 >"$tmp/list1"
expect 0 add-peer bt0 --from "$tmp/list1"
grep -q "^300 peers added, 0 updated" "$tmp/out" || fail "add: $(cat "$tmp/out")"
[ "$(count)" = 300 ] || fail "show lists $(count) peers, expected 300"
k=$(sed -n 's/^PublicKey = //p' "$tmp/list1" | sed -n 43p)
expect 0 --json show bt0
python3 - "$tmp/out" "$k" <<'PY' || fail "peer 42 is not as the list says"
import json, sys
d = json.load(open(sys.argv[1]))
p = [p for p in d["interfaces"][0]["peers"] if p["public_key"] == sys.argv[2]][0]
assert p["allowed_ips"] == ["10.88.1.43/32", "fd88::2a/128"], p
assert p.get("persistent_keepalive") == 25 and p.get("name") == "p42", p
PY

log "=== from stdin, more than one request"
peers 300 700 >"$tmp/list2"
T add-peer bt0 --from - <"$tmp/list2" >"$tmp/out" 2>"$tmp/err" || fail "stdin: $(cat "$tmp/err")"
grep -q "^700 peers added" "$tmp/out" || fail "stdin: $(cat "$tmp/out")"
[ "$(count)" = 1000 ] || fail "show lists $(count) peers, expected 1000"

log "=== an error at peer 57 changes nothing and names it"
peers 2000 100 57 >"$tmp/bad"
expect 1 add-peer bt0 --from "$tmp/bad"
line=$(grep -n '!!=$' "$tmp/bad" | cut -d: -f1)
grep -q "$tmp/bad:$line: error: PublicKey" "$tmp/err" || fail "bad key: $(cat "$tmp/err")"
[ "$(count)" = 1000 ] || fail "a broken list changed the interface"

log "=== one key twice in a list"
peers 2100 10 >"$tmp/dup0"
{ cat "$tmp/dup0"; sed -n 1,3p "$tmp/dup0"; } >"$tmp/dup"
expect 1 add-peer bt0 --from "$tmp/dup"
grep -qi "PublicKey" "$tmp/err" || fail "duplicate: $(cat "$tmp/err")"
[ "$(count)" = 1000 ] || fail "a list with a duplicate changed the interface"

log "=== a peer the interface has is updated like set-peer"
kx=$(sed -n 's/^PublicKey = //p' "$tmp/list1" | sed -n 5p)
{ peers 2200 3; printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.88.200.1/32\n' "$kx"; } >"$tmp/upd"
expect 0 add-peer bt0 --from "$tmp/upd"
grep -q "^3 peers added, 1 updated" "$tmp/out" || fail "update: $(cat "$tmp/out")"
expect 0 --json show bt0
python3 - "$tmp/out" "$kx" <<'PY' || fail "the updated peer is not as the list says"
import json, sys
d = json.load(open(sys.argv[1]))
p = [p for p in d["interfaces"][0]["peers"] if p["public_key"] == sys.argv[2]][0]
assert p["allowed_ips"] == ["10.88.200.1/32"], p
PY

log "=== refused in the daemon mid-request: undone whole"
{ peers 2300 56; printf '[Peer]\nPublicKey = %s\n' "$pa"; peers 2400 10; } >"$tmp/own"
before=$(count)
r6() { ip -n "$bt" -6 route show dev bt0 | grep -c '^fd88::'; }
before6=$(r6)
[ "$before6" = $((before - 1)) ] || fail "$before6 IPv6 routes for $before peers (one has none)"
expect 1 add-peer bt0 --from "$tmp/own"
grep -q "peers\[56\]" "$tmp/err" && grep -q "own public key" "$tmp/err" &&
	grep -q "nothing was changed" "$tmp/err" || fail "own key: $(cat "$tmp/err")"
[ "$(count)" = "$before" ] || fail "a refused request left $(( $(count) - before )) peers"
# the IPv6 prefixes are outside Address: routed, and none of the undone request's stay
[ "$(r6)" = "$before6" ] || fail "$(r6) IPv6 routes after an undone request, $before6 before"

log "=== usage"
expect 2 add-peer bt0 --from "$tmp/list1" --save
expect 2 add-peer bt0 --from "$tmp/list1" --name x
printf '[Interface]\nListenPort = 1\n' >"$tmp/iface"
expect 1 add-peer bt0 --from "$tmp/iface"
grep -q "only \[Peer\] sections" "$tmp/err" || fail "[Interface]: $(cat "$tmp/err")"
log "ok"
