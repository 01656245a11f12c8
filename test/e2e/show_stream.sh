#!/usr/bin/env bash
# show with thousands of peers is streamed in pieces as the client reads: a
# client that reads slowly holds neither the loop, nor other clients, nor the
# tunnel; peers added and removed while a reply is under way leave it valid
# JSON; the next request on the same connection is answered after it.
#
#   a 10.88.0.1 (tund, 1 real peer + 5000 made-up ones) ── veth ── b 10.88.0.2
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3
lib=$(cd "$(dirname "$0")/../lib" && pwd)
tmp="$E2E_TMP"
N=5000

ns_pair a b
ka=$(genkey); kb=$(genkey)
pa=$(pubkey "$ka"); pb=$(pubkey "$kb")
da=$(confdir a); db=$(confdir b)
tunnel_conf "$da/ss0.conf" "$ka" 10.88.0.1/16 51820 "$pb" 192.0.2.2:51820 10.88.0.2/32 -- "Name = b"
# Made-up peers: random public keys, one /32 each, never reachable.
python3 - "$N" "$tmp/keys" >>"$da/ss0.conf" <<'PY'
import base64, os, sys
n, keys = int(sys.argv[1]), open(sys.argv[2], "w")
for i in range(n):
    k = base64.b64encode(os.urandom(32)).decode()
    keys.write(k + "\n")
    print(f"[Peer]\nName = p{i}\nPublicKey = {k}\nAllowedIPs = 10.89.{i // 250}.{i % 250 + 1}/32")
PY
tunnel_conf "$db/ss0.conf" "$kb" 10.88.0.2/16 51820 "$pa" 192.0.2.1:51820 10.88.0.1/32
tund_start "$a" a "$da"
tund_start "$b" b "$db"
# 5,001 peers take a while to set up under ASan on a loaded machine.
wait_until 90 "ss0 up in a" iface_is_up "$a" ss0 && tund_wait_iface "$b" ss0 ||
	fail "interfaces not up"
assert_ping "$a" 10.88.0.2
sock="$E2E_TMP/a.sock"
T() { "$TUNCTL" --socket "$sock" "$@"; }

log "=== show --json of $((N + 1)) peers: every key once"
T --json show ss0 >"$tmp/show.json"
python3 - "$tmp/show.json" "$tmp/keys" "$pb" <<'PY' || fail "show --json"
import json, sys
d = json.load(open(sys.argv[1]))
want = set(open(sys.argv[2]).read().split()) | {sys.argv[3]}
(ifc,) = d["interfaces"]
got = [p["public_key"] for p in ifc["peers"]]
assert ifc["peer_count"] == len(want) and len(got) == len(want) and set(got) == want, \
    (ifc["peer_count"], len(got))
assert [p["name"] for p in ifc["peers"][1:4]] == ["p0", "p1", "p2"], "not in creation order"
PY
T show >"$tmp/show.txt"
[ "$(grep -c '^peer: ' "$tmp/show.txt")" = $((N + 1)) ] ||
	fail "human show lists $(grep -c '^peer: ' "$tmp/show.txt") peers"

log "=== a slow reader: 8 KiB every 0.1 s"
python3 "$lib/ctlclient.py" "$sock" slowshow 8192 0.1 60 "$tmp/slow.out" "$tmp/slow.started" >"$tmp/slow.n" &
slow=$!
E2E_PIDS+=("$slow")
# Python's start-up alone can take over a second on a loaded machine: wait
# for the stream's first bytes, not for a fixed time.
wait_until 20 "the slow reader's first bytes" test -e "$tmp/slow.started" ||
	fail "the slow reader got nothing"
# While it reads (about 1 MB at 80 KB/s), peers change behind and ahead of
# it, other clients are served at once, the tunnel carries traffic.
T remove-peer ss0 p4900 >/dev/null || fail "remove-peer during the stream"
T remove-peer ss0 p10 >/dev/null || fail "remove-peer during the stream"
T add-peer ss0 --public-key "$(pubkey "$(genkey)")" --name late >/dev/null ||
	fail "add-peer during the stream"
for i in 1 2 3 4 5; do
	start=$(date +%s%N)
	T status >/dev/null || fail "status while a show is streamed"
	ms=$((($(date +%s%N) - start) / 1000000))
	log "--- status answered in $ms ms"
	[ "$ms" -lt 2000 ] || fail "status took $ms ms while a show was streamed"
done
assert_ping "$a" 10.88.0.2
kill -0 "$slow" 2>/dev/null || fail "the slow reader finished before the test was done with it"
wait "$slow" || fail "the slow reader failed"
log "--- the slow reader got $(cat "$tmp/slow.n") bytes"
python3 - "$tmp/slow.out" "$N" <<'PY' || fail "the streamed reply"
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert len(lines) == 3 and lines[2] == b"", [len(l) for l in lines]
show, status = json.loads(lines[0]), json.loads(lines[1])
assert show["ok"] and status["ok"] and "uptime" in status["result"], (show.get("error"), status)
peers = show["result"]["interfaces"][0]["peers"]
names = [p["name"] for p in peers]
# Removed after the stream had passed p10: still there; p4900 was ahead: gone.
assert "p10" in names and "p4900" not in names, "peer changes mid-stream"
assert "late" in names, "a peer added mid-stream is written at the end"
assert len(names) == len(set(p["public_key"] for p in peers)), "a peer twice"
PY
tund_alive a || fail "tund died"
tund_stop a
tund_stop b
log "PASS"
