#!/usr/bin/env bash
# A watcher that subscribes and never reads, while thousands of events come
# in bulk (tunctl add-peer --from, twice: 4,000 peer-added then 4,000
# peer-changed): tund goes on answering status and carrying pings, drops
# the slow watcher with a last {"event":"overflow"} line once it is 256 KiB
# behind (it reads that line, then the end of the connection), and a
# second, normal watcher gets every event.
#
#   a 10.152.0.1 (wtq0) ── veth 192.0.2.1 / .2 ── b 10.152.0.2 (wtq0)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3
lib=$(cd "$(dirname "$0")/../lib" && pwd)
N=4000

ns_pair a b
ka=$(genkey) kb=$(genkey) kp=$(genkey)
pa=$(pubkey "$ka") pb=$(pubkey "$kb") pp=$(pubkey "$kp")
da=$(confdir a) db=$(confdir b)
tunnel_conf "$da/wtq0.conf" "$ka" 10.152.0.1/24 51820 "$pb" 192.0.2.2:51820 10.152.0.2/32
tunnel_conf "$db/wtq0.conf" "$kb" 10.152.0.2/24 51820 "$pa" 192.0.2.1:51820 10.152.0.1/32
tund_start "$a" a "$da"
tund_start "$b" b "$db"
tund_wait_iface "$a" wtq0 && tund_wait_iface "$b" wtq0 || fail "interfaces not up"
assert_ping "$a" 10.152.0.2

T() { "$TUNCTL" --socket "$E2E_TMP/a.sock" "$@"; }
has() { grep -q -- "$2" "$1"; }
normal="$E2E_TMP/normal.json" slow="$E2E_TMP/slow.out"

log "--- a slow watcher (a 4 KiB receive buffer, never reads) and a normal one"
python3 "$lib/watchclient.py" slow "$E2E_TMP/a.sock" "$E2E_TMP/slow.ready" "$E2E_TMP/slow.go" \
	"$slow" --rcvbuf 4096 --limit 120 &
slow_pid=$!
E2E_PIDS+=("$slow_pid")
wait_until 10 "the slow watcher subscribed" test -f "$E2E_TMP/slow.ready" || fail "slow watcher"
T watch --json wtq0 >"$normal" 2>"$E2E_TMP/normal.err" &
E2E_PIDS+=("$!")
for i in $(seq 20); do
	T add-peer wtq0 --public-key "$pp" --name probe --allowed-ips 10.152.99.1/32 >/dev/null ||
		fail "add-peer probe"
	wait_until 1 "the normal watcher's first event" has "$normal" '"name":"probe"' && break
	T remove-peer wtq0 probe >/dev/null
done
has "$normal" '"name":"probe"' || fail "the normal watcher saw nothing"
T remove-peer wtq0 probe >/dev/null || fail "remove-peer probe"

python3 - "$N" >"$E2E_TMP/list" <<'PY'
import base64, os, sys
for n in range(int(sys.argv[1])):
    key = base64.b64encode(os.urandom(32)).decode()
    print("[Peer]\nPublicKey = %s\nAllowedIPs = 10.152.%d.%d/32" % (key, 100 + n // 250, n % 250 + 1))
PY
sed 's/^AllowedIPs = .*/&\nPersistentKeepalive = 0\nEndpoint = 198.51.100.9:9/' "$E2E_TMP/list" \
	>"$E2E_TMP/list2"

log "--- $N peers added, then all of them changed, pinging and asking status meanwhile"
n "$a" ping -i 0.1 -c 100 -W 1 10.152.0.2 >"$E2E_TMP/ping.out" 2>&1 &
ping_pid=$!
E2E_PIDS+=("$ping_pid")
t0=$(date +%s.%N)
T add-peer wtq0 --from "$E2E_TMP/list" >/dev/null || fail "add-peer --from"
T status >/dev/null || fail "status after the first batch"
T add-peer wtq0 --from "$E2E_TMP/list2" >/dev/null || fail "add-peer --from (changes)"
t1=$(date +%s.%N)
log "two batches of $N in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
for i in 1 2 3; do
	timeout 5 "$TUNCTL" --socket "$E2E_TMP/a.sock" status >/dev/null || fail "status $i"
done
assert_ping "$a" 10.152.0.2
wait "$ping_pid"
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$E2E_TMP/ping.out")
log "pings during the batches: $loss% lost"
awk "BEGIN{exit !($loss < 10)}" || fail "pings lost during the batches: $loss%"
tund_log_has a "a watcher fell 256 KiB behind" || fail "tund did not drop the slow watcher"

log "--- the slow watcher reads at last: events, the overflow line, the end"
touch "$E2E_TMP/slow.go"
wait "$slow_pid" || fail "the slow watcher's client failed"
tail -c 300 "$slow" >&2
[ "$(tail -n 1 "$slow")" = EOF ] || fail "the slow watcher was not disconnected"
tail -n 2 "$slow" | head -n 1 | grep -q '^{"event":"overflow","time":[0-9.]*,' ||
	fail "no overflow line last"
got=$(grep -c '"event":"peer-added"' "$slow")
log "the slow watcher got $got events before the overflow"
[ "$got" -lt "$N" ] || fail "the slow watcher got every event: no overflow?"
python3 - "$slow" <<'PY' || fail "the slow watcher's lines are not whole JSON lines"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "" and lines[-2] == "EOF", lines[-3:]
for l in lines[:-2]:
    json.loads(l)
PY

log "--- the normal watcher got every event, and no overflow"
wait_until 10 "every event" test "$(grep -c '"event":"peer-changed"' "$normal")" -ge "$N" ||
	fail "the normal watcher got $(grep -c '"peer-changed"' "$normal") peer-changed of $N"
[ "$(grep -c '"event":"peer-added"' "$normal")" = $((N + 1)) ] ||
	fail "the normal watcher got $(grep -c '"peer-added"' "$normal") peer-added, expected $((N + 1))"
has "$normal" overflow && fail "the normal watcher overflowed"
[ "$(grep -c '"endpoint-changed"' "$normal")" = "$N" ] || fail "endpoint-changed events missing"
tund_alive a || fail "tund died"
tund_stop b
tund_stop a
log "PASS"
