#!/usr/bin/env bash
# Issue 13's functional test: an interface with 20,000 peers is changed
# through each path (add-peer, set-peer, remove-peer, reload) and after each
# change the sessions of the other real peers are still the same sessions:
# not only does a ping get through (a new handshake would make that work
# too), the server's latest handshake of each is unchanged, no new "session
# established" was logged on either side, the peer was not re-created (its
# "added" line is still the only one, its rx_bytes did not go back), and the
# very first pings get through (a session the server had dropped would lose
# them until the client's rekey timeout).
#
#   ns scc1 sc1 10.77.0.2/32 --- scv0 192.0.2.2/30  <-> scv1 192.0.2.1/30  ---+
#   ns scc2 sc2 10.77.0.3/32 --- scv0 192.0.2.6/30  <-> scv2 192.0.2.5/30  ---+ ns scs
#   ns scc3 sc3 10.77.0.4/32 --- scv0 192.0.2.10/30 <-> scv3 192.0.2.9/30  ---+ sc0 10.77.0.1/16
#   ns scc4 sc4 10.77.0.5/32 --- scv0 192.0.2.14/30 <-> scv4 192.0.2.13/30 ---+ udp 51820
#
# The server's file has N peers (TUND_E2E_SCALE_PEERS, default 20,000; under
# the sanitizers 5,000): the clients c1, c2, c3 (real tund daemons, one
# namespace each), the silent named peers s1 (10.77.0.6/32), s2 (10.92.0.0/24)
# and s3 (10.93.0.0/24), and N - 6 silent peers with random keys (nobody has
# their private keys; tund does not check that a key is on the curve) and a
# /32 each in 10.77.0.0/16. Steps:
#   1. add-peer c4, whose client then handshakes and pings;
#   2. set-peer s1 --allowed-ips 10.91.0.0/24 (its route appears, its old /32
#      leaves) and set-peer c2 --keepalive 25 (a real peer changed in place);
#   3. remove-peer s2 (its route goes) and remove-peer c3 (its traffic stops);
#   4. the file rewritten as the interface now runs, but s3 moved to
#      10.94.0.0/24, and `tunctl reload`: exactly one change, s3's route moves.
# Before each step the real sessions are let go quiet (settle): a step that
# holds tund's loop past WireGuard's 15 s "no reply" timer must not count
# as a step that ended a session. The routes checked are those outside the
# interface's own 10.77.0.0/16, which need a route of their own whether or
# not tund routes the covered prefixes.
# Waits are generous polls with deadlines (TUND_E2E_SCALE_WAIT seconds per
# step, default 600): the test checks behaviour, test/bench/scale.sh times it.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3 timeout

if [ -n "${TUND_E2E_SCALE_PEERS:-}" ]; then
	N=$TUND_E2E_SCALE_PEERS
elif [ -n "${ASAN_OPTIONS:-}" ]; then
	N=5000 # the sanitizer pass (CI's second) runs the daemon several times slower
else
	N=20000
fi
WAIT=${TUND_E2E_SCALE_WAIT:-600}
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 7 ] && [ "$N" -le 60000 ] ||
	fail "TUND_E2E_SCALE_PEERS must be 7..60000 (got $N)"
[[ $WAIT =~ ^[0-9]+$ ]] && [ "$WAIT" -ge 10 ] || fail "TUND_E2E_SCALE_WAIT must be >= 10"
log "scale_peers: $N peers, waits bounded by ${WAIT}s"

SOCK="$E2E_TMP/s.sock"
SLOG="$E2E_TMP/s.log"
# ctl ARGS...: tunctl on the server's socket (it gives up after 30 s without a reply).
ctl() { timeout -k 5 "$WAIT" "$TUNCTL" --socket "$SOCK" "$@"; }
now() { date +%s; }

# --- the namespaces --------------------------------------------------------------

ns_new scs
declare -A CNS=() CKEY=() CPUB=() CADDR=()
for k in 1 2 3 4; do
	ns_new "scc$k"
	v="scc$k"
	CNS[$k]=${!v}
	# shellcheck disable=SC2154 # scs is set by ns_new through printf -v
	veth "$scs" "scv$k" "${CNS[$k]}" scv0
	addr "$scs" "scv$k" "192.0.2.$((4 * k - 3))/30"
	addr "${CNS[$k]}" scv0 "192.0.2.$((4 * k - 2))/30"
	CKEY[$k]=$(genkey)
	CPUB[$k]=$(pubkey "${CKEY[$k]}")
	CADDR[$k]=10.77.0.$((k + 1))
done
ks=$(genkey)
ps=$(pubkey "$ks")
ds=$(confdir s)
for k in 1 2 3 4; do
	tunnel_conf "$(confdir "c$k")/sc$k.conf" "${CKEY[$k]}" "${CADDR[$k]}/32" 51820 \
		"$ps" "192.0.2.$((4 * k - 3)):51820" 10.77.0.1/32
done

# --- the server's file -------------------------------------------------------------

S1=$(pubkey "$(genkey)") S2=$(pubkey "$(genkey)") S3=$(pubkey "$(genkey)")
t0=$(now)
python3 - "$N" "$E2E_TMP/silent" <<'PY'
import base64, ipaddress, os, sys
n, path = int(sys.argv[1]), sys.argv[2]
first = ipaddress.IPv4Address("10.77.0.16")
raw = os.urandom(32 * n)
with open(path, "w") as f:
    for i in range(n - 6):
        f.write("[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n\n"
                % (base64.b64encode(raw[32 * i:32 * i + 32]).decode(), first + i))
PY
# server_conf PEER_LINES...: sc0.conf with the named peers given (each "Name KEY
# ALLOWED [KEEPALIVE]") and then the silent ones.
server_conf() {
	local p name key allowed ka
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.77.0.1/16\n\n' "$ks"
		for p in "$@"; do
			read -r name key allowed ka <<<"$p"
			printf '[Peer]\nName = %s\nPublicKey = %s\nAllowedIPs = %s\n' "$name" "$key" "$allowed"
			[ -z "$ka" ] || printf 'PersistentKeepalive = %s\n' "$ka"
			printf '\n'
		done
		cat "$E2E_TMP/silent"
	} | write_conf "$ds/sc0.conf"
}
server_conf "c1 ${CPUB[1]} 10.77.0.2/32" "c2 ${CPUB[2]} 10.77.0.3/32" "c3 ${CPUB[3]} 10.77.0.4/32" \
	"s1 $S1 10.77.0.6/32" "s2 $S2 10.92.0.0/24" "s3 $S3 10.93.0.0/24"
log "scale_peers: the file of $N peers written in $(($(now) - t0)) s ($(du -h "$ds/sc0.conf" | cut -f1))"

# --- helpers -------------------------------------------------------------------------

# peer_count: the interface's peer count, from status (no peer list).
peer_count() {
	ctl --json status | python3 -c '
import json, sys
for i in json.load(sys.stdin)["interfaces"]:
    if i["name"] == "sc0":
        print(i["peer_count"])'
}
assert_peer_count() {
	local got
	got=$(peer_count) || fail "tunctl status failed"
	[ "$got" = "$1" ] || fail "sc0 has $got peers, expected $1"
	log "scale_peers: sc0 has $got peers"
}

# show_named FILE: `tunctl --json show sc0`, and the named peers of it into
# FILE, a line each: name latest_handshake rx_bytes persistent_keepalive allowed_ips.
show_named() {
	ctl --json show sc0 >"$E2E_TMP/show.json" || fail "tunctl --json show sc0 failed"
	python3 - "$E2E_TMP/show.json" >"$1" <<'PY' || fail "cannot read the show reply"
import json, sys
ifc = json.load(open(sys.argv[1]))["interfaces"][0]
named = [p for p in ifc["peers"] if p["name"]]
if len(ifc["peers"]) != ifc["peer_count"]:
    sys.exit("show: %d peers listed, peer_count %d" % (len(ifc["peers"]), ifc["peer_count"]))
for p in named:
    print(p["name"], p["latest_handshake"], p["rx_bytes"], p["persistent_keepalive"],
          ",".join(p["allowed_ips"]) or "-")
PY
}
# field FILE NAME COLUMN: one value of show_named's FILE ("" when the peer is absent).
field() { awk -v n="$2" -v c="$3" '$1 == n { print $c }' "$1"; }

# The log lines that say a session began or the peer was (re)made.
srv_sessions() { grep -cE "sc0: peer [0-9]+ $1( \([^)]*\))?: session established" "$SLOG" || true; }
srv_added() { grep -cE "sc0: peer [0-9]+ $1( \([^)]*\))?: added" "$SLOG" || true; }
cli_sessions() { grep -c "session established" "$E2E_TMP/c$1.log" || true; }

srv_keepalives() { grep -cE "sc0: peer [0-9]+ $1( \([^)]*\))?: sending keepalive" "$SLOG" || true; }

# settle K...: let the sessions of clients K go quiet. After data one way, the
# other side owes a keepalive within 10 s, or the sender starts a new
# handshake at 15 s (as WireGuard does); a step that holds tund's loop longer
# than that (add-peer took 8 s at 20,000 peers) would then make a new
# handshake that the step itself did not cause. So: one ping from the server
# to each, and wait until the server has sent the keepalive that closes the
# exchange; nothing is then pending on either side.
declare -A KA=()
settle() {
	local k
	for k in "$@"; do
		KA[$k]=$(srv_keepalives "c$k")
		nq "$scs" ping -c 1 -W 2 -q "${CADDR[$k]}" >/dev/null || fail "the server cannot reach c$k"
	done
	wait_until 30 "the keepalives that close the exchanges" keepalives_sent "$@" ||
		fail "the server sent no keepalive to c$* after a ping"
	sleep 0.5 # for the keepalive to arrive
}
keepalives_sent() {
	local k
	for k in "$@"; do
		[ "$(srv_keepalives "c$k")" -gt "${KA[$k]}" ] || return 1
	done
}

# snapshot K...: let clients K's sessions settle, and remember what says "the same session".
declare -A B_LH=() B_RX=() B_SS=() B_AD=() B_CS=()
snapshot() {
	local k
	settle "$@"
	show_named "$E2E_TMP/before"
	for k in "$@"; do
		B_LH[$k]=$(field "$E2E_TMP/before" "c$k" 2)
		B_RX[$k]=$(field "$E2E_TMP/before" "c$k" 3)
		B_SS[$k]=$(srv_sessions "c$k")
		B_AD[$k]=$(srv_added "c$k")
		B_CS[$k]=$(cli_sessions "$k")
		[ -n "${B_LH[$k]}" ] && [ "${B_LH[$k]}" -gt 0 ] || fail "c$k has no session to watch"
	done
}

# same_session K WHEN: client K's session is the one of the snapshot. A new
# handshake is allowed only once the session is old enough for the client to
# rekey by itself (REKEY_AFTER_TIME, 120 s; with 10 s to spare): a slow step
# must not turn a legitimate rekey into a failure. Even then the peer must
# not have been re-made.
same_session() {
	local k=$1 when=$2 lh rx age
	lh=$(field "$E2E_TMP/after" "c$k" 2)
	rx=$(field "$E2E_TMP/after" "c$k" 3)
	[ -n "$lh" ] || fail "$when: c$k is gone from the server"
	[ "$(srv_added "c$k")" = "${B_AD[$k]}" ] || fail "$when: the server re-made peer c$k (a new 'added' line)"
	[ "$rx" -ge "${B_RX[$k]}" ] || fail "$when: c$k's rx_bytes went back from ${B_RX[$k]} to $rx (peer re-made)"
	age=$(($(now) - B_LH[$k]))
	if [ "$lh" != "${B_LH[$k]}" ] || [ "$(srv_sessions "c$k")" != "${B_SS[$k]}" ] ||
		[ "$(cli_sessions "$k")" != "${B_CS[$k]}" ]; then
		[ "$age" -ge 110 ] ||
			fail "$when: c$k has a new session (latest handshake ${B_LH[$k]} -> $lh, server sessions ${B_SS[$k]} -> $(srv_sessions "c$k"), client sessions ${B_CS[$k]} -> $(cli_sessions "$k")) though its session was only ${age}s old"
		log "scale_peers: $when: c$k rekeyed, its session being ${age}s old (allowed after 110 s)"
		return
	fi
}

# survivors WHEN K...: after a step, clients K still have the sessions of the
# snapshot: checked before any new traffic, then three pings that must all
# get through at once (no handshake needed), then checked again.
survivors() {
	local when=$1 k list
	shift
	show_named "$E2E_TMP/after"
	for k in "$@"; do
		same_session "$k" "$when"
	done
	for k in "$@"; do
		n "${CNS[$k]}" ping -c 3 -i 0.2 -W 1 -q 10.77.0.1 >/dev/null ||
			fail "$when: c$k lost pings: its session did not survive"
		nq "$scs" ping -c 1 -W 1 -q "${CADDR[$k]}" >/dev/null ||
			fail "$when: the server cannot reach c$k"
	done
	show_named "$E2E_TMP/after"
	for k in "$@"; do
		same_session "$k" "$when (after pings)"
	done
	list=$(printf 'c%s ' "$@")
	log "scale_peers: $when: the sessions of ${list% } survived"
}

has_route() { [ -n "$(ip -n "$scs" route show "$1" dev sc0 2>/dev/null)" ]; }
assert_route() { has_route "$1" || fail "$2: no route for $1 dev sc0"; }
assert_no_route() { ! has_route "$1" || fail "$2: a route for $1 dev sc0 is left"; }

client_up() {
	tund_start "${CNS[$1]}" "c$1" "$E2E_TMP/c$1.d"
	tund_wait_iface "${CNS[$1]}" "sc$1" || fail "sc$1 not up"
	assert_ping "${CNS[$1]}" 10.77.0.1 30
}

# --- start ---------------------------------------------------------------------------

log "=== start with $N peers"
t0=$(now)
tund_start "$scs" s "$ds"
wait_until "$WAIT" "sc0 up with $N peers" tund_log_has s "sc0: up" || fail "sc0 not up after ${WAIT}s"
log "scale_peers: sc0 up after $(($(now) - t0)) s"
assert_peer_count "$N"
for k in 1 2 3; do client_up "$k"; done
assert_route 10.92.0.0/24 start
assert_route 10.93.0.0/24 start

log "=== add-peer c4"
snapshot 1 2 3
t0=$(now)
run ctl add-peer sc0 --public-key "${CPUB[4]}" --name c4 --allowed-ips 10.77.0.5/32 >/dev/null ||
	fail "add-peer failed"
log "scale_peers: add-peer took $(($(now) - t0)) s"
survivors add-peer 1 2 3
client_up 4
assert_peer_count $((N + 1))

log "=== set-peer: a silent peer's AllowedIPs, a real peer's keepalive"
snapshot 1 2 3 4
t0=$(now)
run ctl set-peer sc0 s1 --allowed-ips 10.91.0.0/24 >/dev/null || fail "set-peer s1 failed"
run ctl set-peer sc0 c2 --keepalive 25 >/dev/null || fail "set-peer c2 failed"
log "scale_peers: the two set-peer took $(($(now) - t0)) s"
survivors set-peer 1 2 3 4
[ "$(field "$E2E_TMP/after" s1 5)" = 10.91.0.0/24 ] ||
	fail "set-peer: s1's allowed IPs are $(field "$E2E_TMP/after" s1 5)"
[ "$(field "$E2E_TMP/after" c2 4)" = 25 ] || fail "set-peer: c2's keepalive is $(field "$E2E_TMP/after" c2 4)"
assert_route 10.91.0.0/24 set-peer
assert_no_route 10.77.0.6/32 set-peer
assert_peer_count $((N + 1))

log "=== remove-peer: a silent peer and a real one"
snapshot 1 2 4
t0=$(now)
run ctl remove-peer sc0 s2 >/dev/null || fail "remove-peer s2 failed"
run ctl remove-peer sc0 c3 >/dev/null || fail "remove-peer c3 failed"
log "scale_peers: the two remove-peer took $(($(now) - t0)) s"
survivors remove-peer 1 2 4
[ -z "$(field "$E2E_TMP/after" s2 1)" ] || fail "remove-peer: s2 is still shown"
[ -z "$(field "$E2E_TMP/after" c3 1)" ] || fail "remove-peer: c3 is still shown"
assert_no_route 10.92.0.0/24 remove-peer
assert_no_ping "${CNS[3]}" 10.77.0.1
assert_no_ping "$scs" "${CADDR[3]}"
assert_peer_count $((N - 1))

log "=== reload of the file as it runs, but s3 moved"
server_conf "c1 ${CPUB[1]} 10.77.0.2/32" "c2 ${CPUB[2]} 10.77.0.3/32 25" "c4 ${CPUB[4]} 10.77.0.5/32" \
	"s1 $S1 10.91.0.0/24" "s3 $S3 10.94.0.0/24"
snapshot 1 2 4
reloads=$(grep -c "reload done" "$SLOG" || true)
t0=$(now)
# tunctl gives up after 30 s without a reply, tund goes on: its log says when it is done.
rc=0
run ctl --json reload >"$E2E_TMP/reload.json" 2>"$E2E_TMP/reload.err" || rc=$?
reload_done() { [ "$(grep -c "reload done" "$SLOG")" -gt "$reloads" ]; }
wait_until "$WAIT" "reload done" reload_done || fail "the reload did not finish in ${WAIT}s"
log "scale_peers: reload took $(($(now) - t0)) s"
grep "reload done" "$SLOG" | tail -n 1 | grep -q "reload done: 1 change, 0 failures" ||
	fail "reload: $(grep "reload done" "$SLOG" | tail -n 1) (expected only s3 changed)"
if [ "$rc" -eq 0 ]; then
	python3 - "$E2E_TMP/reload.json" <<'PY' || fail "reload: wrong changes"
import json, sys
changes = json.load(open(sys.argv[1]))["changes"]
if changes != ["sc0: peer s3 updated"]:
    sys.exit("changes: %r" % changes)
PY
else
	log "scale_peers: tunctl reload gave up (status $rc: $(head -c 200 "$E2E_TMP/reload.err")); checked tund's log"
	tund_log_has s "sc0: peer s3 updated" || fail "reload: no 'peer s3 updated' in the log"
fi
survivors reload 1 2 4
[ "$(field "$E2E_TMP/after" s3 5)" = 10.94.0.0/24 ] || fail "reload: s3's allowed IPs are $(field "$E2E_TMP/after" s3 5)"
assert_route 10.94.0.0/24 reload
assert_no_route 10.93.0.0/24 reload
assert_route 10.91.0.0/24 reload
assert_peer_count $((N - 1))

tund_alive s || fail "the server's tund died"
tund_stop s
log "PASS"
