#!/usr/bin/env bash
# tunctl watch: the two events the protocol's timers give, between real
# daemons. c runs with TUND_TEST_TIME_SCALE=0.02 (test-only), so that
# REKEY_ATTEMPT_TIME (90 s) is 1.8 s and REJECT_AFTER_TIME * 3 (540 s) is
# 10.8 s:
#   - a session that carries no more traffic is expired (its keys zeroed):
#     session-expired;
#   - with s gone, a ping makes c try handshakes until it gives up:
#     handshake-failing, with the packets it dropped.
#
#   s 10.162.0.1 (wms<pid>) ── veth 192.0.2.1 / .2 ── c 10.162.0.2 (wmc<pid>)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3
lib=$(cd "$(dirname "$0")/../lib" && pwd)
is="wms$$" ic="wmc$$"

ns_pair s c
ks=$(genkey) kc=$(genkey)
ps=$(pubkey "$ks") pc=$(pubkey "$kc")
ds=$(confdir s) dc=$(confdir c)
write_conf "$ds/$is.conf" <<CONF
[Interface]
PrivateKey = $ks
ListenPort = 51820
Address = 10.162.0.1/24
[Peer]
PublicKey = $pc
AllowedIPs = 10.162.0.2/32
CONF
write_conf "$dc/$ic.conf" <<CONF
[Interface]
PrivateKey = $kc
Address = 10.162.0.2/24
[Peer]
Name = server
PublicKey = $ps
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.162.0.1/32
CONF
tund_start "$s" s "$ds"
tund_start "$c" c "$dc" TUND_TEST_TIME_SCALE=0.02
tund_wait_iface "$s" "$is" && tund_wait_iface "$c" "$ic" || fail "interfaces not up"

events="$E2E_TMP/events.json"
python3 "$lib/watchclient.py" follow "$E2E_TMP/c.sock" "$E2E_TMP/ready" "$events" &
E2E_PIDS+=("$!")
wait_until 10 "the watcher's subscription" test -e "$E2E_TMP/ready" || fail "the watcher did not subscribe"
has() { grep -q -- "$1" "$events"; }

log "--- a session, then no traffic: its keys are zeroed after 3 x REJECT_AFTER_TIME"
assert_ping "$c" 10.162.0.1
wait_until 5 "handshake-completed" has '"handshake-completed"' || fail "no handshake event"
wait_until 30 "session-expired" has '"session-expired"' || fail "no session-expired event"

log "--- s gone: c's handshakes fail until REKEY_ATTEMPT_TIME"
tund_stop s
ip netns exec "$c" ping -c 3 -i 0.2 -W 1 10.162.0.1 >/dev/null 2>&1 &&
	fail "a ping got through with s stopped"
wait_until 15 "handshake-failing" has '"handshake-failing"' || fail "no handshake-failing event"

python3 "$lib/watchclient.py" expect "$events" \
	"handshake-completed,interface=$ic,peer=$ps,name=server" \
	"session-expired,interface=$ic,peer=$ps,name=server" \
	"handshake-failing,interface=$ic,peer=$ps,name=server,attempts=*,seconds=*" ||
	fail "the event stream is not as expected"
python3 - "$events" <<'PY' || fail "handshake-failing's figures"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
f = [e for e in ev if e["event"] == "handshake-failing"][0]
assert f["attempts"] >= 2, f
assert 1.5 <= f["seconds"] <= 2.0, f  # 90 s scaled by 0.02
assert f["dropped_packets"] >= 1, f   # the pings that waited for a session
PY
tund_alive c || fail "tund c died"
tund_stop c
log "PASS"
