#!/usr/bin/env bash
# An Endpoint given as a name follows DNS (daemon/peer_dns.c): a DNS server
# in a's namespace whose answer the test changes (it reads the A record from
# a file at each query), and two daemons.
#  - the server moves to a new underlay address and the name with it: the
#    client follows within a few ResolveIntervals and traffic resumes;
#  - the server roams (its packets come from a new address) while the name
#    still gives the old one: the roamed address stays;
#  - with ResolveInterval = 3600 (a reload, which keeps the session), the
#    server moves again: failing handshakes trigger a lookup at once;
#  - the name stops resolving: the endpoint in force stays, one warning;
#  - set-peer gives another name: its first answer replaces the live endpoint.
#
#   dna 10.153.0.1 (tund, Endpoint = srv.dn.test) ── veth 192.0.2.1 <-> 192.0.2.2 ── dnb 10.153.0.2
#   DNS: 127.0.0.1:53 in dna, answering from $E2E_TMP/answer
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3
tmp="$E2E_TMP"

ns_new dna
ns_new dnb
a=$dna b=$dnb
veth "$a" dnv0 "$b" dnv0
addr "$a" dnv0 192.0.2.1/24
addr "$b" dnv0 192.0.2.2/24
# Removing the primary address must keep the secondary that replaces it.
n "$b" sysctl -qw net.ipv4.conf.dnv0.promote_secondaries=1
mkdir -p "/etc/netns/$a"
at_exit "rm -rf '/etc/netns/$a'"
printf '127.0.0.1 localhost\n' >"/etc/netns/$a/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$a/resolv.conf"
printf '192.0.2.2\n' >"$tmp/answer"
: >"$tmp/queries"
# The DNS server: srv.dn.test IN A is the file's address (TTL 0), nothing
# for AAAA (alt.dn.test alike), NXDOMAIN when the file is empty or for
# any other name.
ip netns exec "$a" python3 -c '
import socket, struct, sys, time
answer_file, log_file = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
s.settimeout(1)
end = time.monotonic() + 300
while time.monotonic() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    if len(q) < 17:
        continue
    i, labels = 12, []
    while i < len(q) and q[i] != 0 and len(labels) < 16:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace").lower())
        i += 1 + q[i]
    if i + 5 > len(q):
        continue
    qend = i + 5
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    name = ".".join(labels)
    with open(answer_file) as f:
        addr = f.read().strip()
    with open(log_file, "a") as f:
        f.write("%s %d %s\n" % (name, qtype, addr))
    rcode, answers = 0, b""
    if name not in ("srv.dn.test", "alt.dn.test") or not addr:
        rcode = 3
    elif qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + socket.inet_aton(addr)
    flags = 0x8180 | rcode | (q[2] & 1) << 8
    head = q[:2] + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0)
    s.sendto(head + q[12:qend] + answers, peer)
' "$tmp/answer" "$tmp/queries" &
E2E_PIDS+=("$!")
wait_until 10 "the DNS server" bash -c "ip netns exec '$a' ss -Hlun 'sport = :53' | grep -q 53" ||
	fail "the DNS server did not start"
n "$a" getent ahostsv4 srv.dn.test | grep -q 192.0.2.2 || fail "the DNS server does not answer"

ka=$(genkey); kb=$(genkey)
da=$(confdir a); db=$(confdir b)
conf_a() {
	tunnel_conf "$da/dn0.conf" "$ka" 10.153.0.1/24 "" "$(pubkey "$kb")" srv.dn.test:51820 \
		10.153.0.2/32 "ResolveInterval = $1" -- "Name = srv"
}
conf_a 1
tunnel_conf "$db/dn0.conf" "$kb" 10.153.0.2/24 51820 "$(pubkey "$ka")" "" 10.153.0.1/32
# a's protocol timers twice as fast: failing handshakes show in seconds.
tund_start "$a" a "$da" TUND_TEST_TIME_SCALE=0.5
tund_start "$b" b "$db"
tund_wait_iface "$a" dn0 && tund_wait_iface "$b" dn0 || fail "interfaces not up"
T() { "$TUNCTL" --socket "$tmp/a.sock" "$@"; }
# tunctl watch's events of a (the endpoint-changed of a new answer).
python3 "$(dirname "$0")/../lib/watchclient.py" follow "$tmp/a.sock" "$tmp/watching" \
	"$tmp/events" &
E2E_PIDS+=("$!")
wait_until 10 "a watcher of a" test -f "$tmp/watching" || fail "watch on a"
# What a's show says of its peer's endpoint: the address in use (the name).
endpoint() { T show dn0 | grep "endpoint:"; }
endpoint_is() { T show dn0 | grep -qF "endpoint: $1 (srv.dn.test:51820)"; }
# move NS FROM TO: the underlay address FROM of NS becomes TO.
move() {
	addr "$1" dnv0 "$3/24"
	run ip -n "$1" addr del "$2/24" dev dnv0
}

log "=== the name resolves; the session comes up"
assert_ping "$a" 10.153.0.2
endpoint_is 192.0.2.2:51820 || fail "show: $(endpoint)"
T --json show dn0 | grep -qF '"endpoint":"192.0.2.2:51820"' || fail "show's JSON"
T --json show dn0 | grep -qF '"endpoint_name":"srv.dn.test:51820"' || fail "show's JSON"
T show dn0 | grep -q "endpoint names: resolved every 1 seconds" || fail "show's interval"

log "=== the server moves and the name with it: the client follows"
# b restarts at its new address: it knows no endpoint of a and has no
# session, so it cannot teach a the address by roaming; only the name can.
tund_stop b
move "$b" 192.0.2.2 192.0.2.3
printf '192.0.2.3\n' >"$tmp/answer"
tund_start "$b" b "$db"
tund_wait_iface "$b" dn0 || fail "b not up again"
wait_until 10 "a's endpoint to follow the name" endpoint_is 192.0.2.3:51820 ||
	fail "a did not follow the name: $(endpoint)"
tund_log_has a "endpoint srv.dn.test now resolves to 192.0.2.3:51820" || fail "not logged"
python3 "$(dirname "$0")/../lib/watchclient.py" expect "$tmp/events" \
	"endpoint-changed,interface=dn0,old=192.0.2.2:51820,new=192.0.2.3:51820" ||
	fail "no endpoint-changed event for the name's new answer"
assert_ping "$a" 10.153.0.2 10

log "=== the server roams; the name's stale answer does not pull it back"
move "$b" 192.0.2.3 192.0.2.4
# b speaks first, from its new address: a learns it by roaming.
wait_until 10 "b to reach a from 192.0.2.4" ping_ok "$b" 10.153.0.1 || fail "b cannot reach a"
wait_until 5 "a to roam" endpoint_is 192.0.2.4:51820 || fail "a did not roam: $(endpoint)"
q0=$(wc -l <"$tmp/queries")
sleep 4
q1=$(wc -l <"$tmp/queries")
[ "$q1" -ge "$((q0 + 4))" ] || fail "a looked the name up $((q1 - q0)) times in 4 s, not every second"
endpoint_is 192.0.2.4:51820 || fail "the stale answer replaced the roamed endpoint: $(endpoint)"
assert_ping "$a" 10.153.0.2 5

log "=== a reload to ResolveInterval = 3600 keeps the endpoint and the session"
hs0=$(T --json show dn0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["peers"][0]["latest_handshake"])')
conf_a 3600
T reload >/dev/null || fail "reload"
T show dn0 | grep -q "endpoint names: resolved every 3600 seconds" || fail "the interval did not change"
endpoint_is 192.0.2.4:51820 || fail "reload changed the endpoint: $(endpoint)"
hs1=$(T --json show dn0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["peers"][0]["latest_handshake"])')
[ "$hs0" = "$hs1" ] || fail "reload made a new session ($hs0 -> $hs1)"

log "=== the server moves again: failing handshakes trigger a lookup at once"
# b restarts at its new address, as above.
tund_stop b
move "$b" 192.0.2.4 192.0.2.5
printf '192.0.2.5\n' >"$tmp/answer"
tund_start "$b" b "$db"
tund_wait_iface "$b" dn0 || fail "b not up again"
# a sends (to the old address), hears nothing, retries its handshake.
n "$a" ping -c 1 -W 1 10.153.0.2 >/dev/null 2>&1 || true
wait_until 25 "a to follow the name after failed handshakes" endpoint_is 192.0.2.5:51820 ||
	fail "a did not look the name up: $(endpoint)"
tund_log_has a "handshakes are failing; resolving endpoint srv.dn.test again" || fail "not logged"
assert_ping "$a" 10.153.0.2 15

log "=== the name stops resolving: the endpoint stays, one warning"
conf_a 1
T reload >/dev/null || fail "reload"
: >"$tmp/answer"
sleep 4
endpoint_is 192.0.2.5:51820 || fail "the endpoint changed: $(endpoint)"
nwarn=$(grep -c "cannot resolve endpoint srv.dn.test port 51820; keeping the endpoint in force" "$tmp/a.log")
[ "$nwarn" -eq 1 ] || fail "$nwarn warnings for a name that stopped resolving (want 1)"
assert_ping "$a" 10.153.0.2 5
printf '192.0.2.5\n' >"$tmp/answer"
wait_until 5 "the name to resolve again" tund_log_has a "endpoint srv.dn.test resolves again" ||
	fail "not logged"

log "=== set-peer gives another name: its answer replaces the live endpoint"
printf '192.0.2.9\n' >"$tmp/answer"
T set-peer dn0 srv --endpoint alt.dn.test:51820 >/dev/null || fail "set-peer"
wait_until 5 "the new name's address" bash -c \
	"'$TUNCTL' --socket '$tmp/a.sock' show dn0 | grep -qF 'endpoint: 192.0.2.9:51820 (alt.dn.test:51820)'" ||
	fail "set-peer's name not in force: $(endpoint)"

tund_alive a || fail "tund a died"
tund_stop a
tund_stop b
log "PASS"
