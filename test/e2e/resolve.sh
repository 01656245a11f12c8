#!/usr/bin/env bash
# Endpoint names are resolved without blocking the loop: a name from the
# namespace's hosts file works end to end; a name whose DNS server never
# answers (a sink in b) leaves tunctl answering and the tunnel carrying
# traffic while the resolver waits, then a warning; a peer removed, and a
# daemon stopped, while their lookup is out are no trouble.
#
#   a 10.83.0.1 (tund) ── veth 192.0.2.1 <-> 192.0.2.2, DNS sink 192.0.2.53 ── b 10.83.0.2
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3
tmp="$E2E_TMP"

ns_new a
ns_new b
veth "$a" v0 "$b" v0
addr "$a" v0 192.0.2.1/24
addr "$b" v0 192.0.2.2/24 192.0.2.53/24
# `ip netns exec` puts /etc/netns/NS/* over /etc/* for the commands it runs.
mkdir -p "/etc/netns/$a"
at_exit "rm -rf '/etc/netns/$a'"
printf '192.0.2.2 peer-b.tund.test\n' >"/etc/netns/$a/hosts"
printf 'nameserver 192.0.2.53\noptions timeout:2 attempts:2\n' >"/etc/netns/$a/resolv.conf"
# The DNS server that never answers.
ip netns exec "$b" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.53", 53))
end = time.monotonic() + 120
while time.monotonic() < end:
    s.settimeout(1)
    try:
        s.recv(512)
    except socket.timeout:
        pass
' &
E2E_PIDS+=("$!")
wait_until 10 "the DNS sink" bash -c "ip netns exec '$b' ss -Hlun 'sport = :53' | grep -q 53" ||
	fail "the DNS sink did not start"

ka=$(genkey); kb=$(genkey)
da=$(confdir a); db=$(confdir b)
tunnel_conf "$da/rv0.conf" "$ka" 10.83.0.1/24 "" "$(pubkey "$kb")" peer-b.tund.test:51820 \
	10.83.0.2/32 -- "Name = b"
tunnel_conf "$db/rv0.conf" "$kb" 10.83.0.2/24 51820 "$(pubkey "$ka")" "" 10.83.0.1/32
tund_start "$a" a "$da"
tund_start "$b" b "$db"
tund_wait_iface "$a" rv0 && tund_wait_iface "$b" rv0 || fail "interfaces not up"

log "=== a name from the hosts file"
assert_ping "$a" 10.83.0.2
tund_log_has a "endpoint peer-b.tund.test resolved to 192.0.2.2:51820" || fail "no resolution logged"

log "=== a name the DNS server never answers"
T() { "$TUNCTL" --socket "$E2E_TMP/a.sock" "$@"; }
# In the background: a daemon that resolved in its loop would not answer
# it, nor the status below, for as long as glibc waits for the sink (~4 s).
T add-peer rv0 --public-key "$(pubkey "$(genkey)")" --name slow \
	--endpoint slow.tund.test:51820 --allowed-ips 10.83.0.3/32 &
addpid=$!
E2E_PIDS+=("$addpid")
sleep 0.3
start=$(date +%s%N)
T status >/dev/null || fail "status"
ms=$((($(date +%s%N) - start) / 1000000))
log "--- status answered in $ms ms during the lookup"
[ "$ms" -lt 1000 ] || fail "status took $ms ms: the loop is blocked"
wait "$addpid" || fail "add-peer"
tund_log_has a "resolving endpoint slow.tund.test" || fail "the lookup did not start"
n "$a" ping -c 10 -i 0.2 -W 1 -q 10.83.0.2 || fail "pings lost during the lookup"
! tund_log_has a "cannot resolve endpoint slow.tund.test" || fail "the lookup ended too soon to test"
wait_until 15 "the lookup to fail" tund_log_has a "cannot resolve endpoint slow.tund.test" ||
	fail "no warning after the lookup failed"

log "=== a peer removed while its lookup is out"
T add-peer rv0 --public-key "$(pubkey "$(genkey)")" --name gone --endpoint gone.tund.test:51820 ||
	fail "add-peer"
T remove-peer rv0 gone || fail "remove-peer"
sleep 6
! tund_log_has a "gone.tund.test port" || fail "the removed peer's lookup came back to it"
tund_alive a || fail "tund died"
assert_ping "$a" 10.83.0.2

log "=== stopping while a lookup is out"
T add-peer rv0 --public-key "$(pubkey "$(genkey)")" --endpoint late.tund.test:51820 || fail "add-peer"
start=$(date +%s%N)
tund_stop a
ms=$((($(date +%s%N) - start) / 1000000))
log "--- stopped in $ms ms"
[ "$ms" -lt 3000 ] || fail "stopping took $ms ms"
tund_stop b
log "PASS"
