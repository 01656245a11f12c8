#!/usr/bin/env bash
# Interfaces without a file (tund-wg, tunctl create) and links deleted under
# tund, without wg's UAPI (test/interop/wg_quick.sh drives wg-quick):
#  - tund-wg IFACE creates an empty interface (link down, MTU 1420, no key,
#    no port); tunctl show says it has no file; bad names, taken names, a
#    device or a file of that name, tund not running: clear errors, exit codes;
#  - a reload keeps it, and refuses a file of its name while it exists;
#  - the link up gives it a port; `ip link del` makes tund forget it: gone
#    from show, no descriptor left behind, the file's interface beside it
#    still carries traffic;
#  - tunctl delete / down; tund-wg from another namespace cleans up;
#  - link events lost (tund stopped while 800 veths come and go, then a
#    deletion): the resync finds the link gone;
#  - a file's interface whose link is deleted goes down as by tunctl down,
#    stays down over a reload, and tunctl up brings it back.
#
#   t 10.92.0.1 (tund: wq1 from a file, the others without) ── veth ── p 10.92.0.2 (tund)
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3
TUND_WG=${TUND_WG:-$(dirname "$TUNCTL")/tund-wg}
[ -x "$TUND_WG" ] || skip "tund-wg not found ($TUND_WG)"

ns_pair t p
kt=$(genkey) kp=$(genkey)
pt=$(pubkey "$kt") pp=$(pubkey "$kp")
dt=$(confdir t) dp=$(confdir p)
tunnel_conf "$dt/wq1.conf" "$kt" 10.92.0.1/24 51820 "$pp" 192.0.2.2:51820 10.92.0.2/32
tunnel_conf "$dp/wq1.conf" "$kp" 10.92.0.2/24 51820 "$pt" 192.0.2.1:51820 10.92.0.1/32
tund_start "$t" t "$dt"
tund_start "$p" p "$dp"
tund_wait_iface "$t" wq1 && tund_wait_iface "$p" wq1 || fail "wq1 not up"
assert_ping "$t" 10.92.0.2
sock="$E2E_TMP/t.sock"
export TUND_CONTROL_SOCKET=$sock # for tund-wg and tunctl alike

# Names unique to this run: a UAPI socket of tund's would be global.
A="wq$$a" B="wq$$b" C="wq$$c"
at_exit "rm -f /var/run/wireguard/$A.sock /var/run/wireguard/$B.sock /var/run/wireguard/$C.sock"
out="$E2E_TMP/out" err="$E2E_TMP/err"
# expect RC CMD...: CMD's exit status is RC; its output in $out and $err.
expect() {
	local want=$1 rc=0
	shift
	printf '+ %s\n' "$*" >&2
	"$@" >"$out" 2>"$err" || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, expected $want: $(cat "$err")"
}
err_has() { grep -qF -- "$1" "$err" || fail "stderr does not say '$1': $(cat "$err")"; }
T() { "$TUNCTL" "$@"; }
fds() { ls "/proc/$TUND_PID_t/fd" | wc -l; }
listed() { T --json show | python3 -c 'import json, sys
sys.exit(0 if sys.argv[1] in [i["name"] for i in json.load(sys.stdin)["interfaces"]] else 1)' "$1"; }
json_field() { # json_field IFACE FIELD: show --json's value of FIELD, as JSON
	T --json show "$1" | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)["interfaces"][0].get(sys.argv[1], "absent")))' "$2"
}

log "=== tund-wg creates an empty interface without a file"
fds0=$(fds)
expect 0 ip netns exec "$t" "$TUND_WG" "$A"
grep -q 'mtu 1420 .*state DOWN' <<<"$(ip -n "$t" link show "$A")" || fail "$A: $(ip -n "$t" link show "$A")"
grep -q 'tun type tun' <<<"$(ip -n "$t" -d link show "$A")" || fail "$A is not a TUN device"
expect 0 T show "$A"
grep -qx '  file: (none, created by tund-wg)' "$out" || fail "show: $(cat "$out")"
grep -qx '  private key: (none)' "$out" || fail "show: $(cat "$out")"
grep -qx '  listening port: 0' "$out" || fail "show: $(cat "$out")"
[ "$(json_field "$A" file)" = null ] || fail "show --json: file is $(json_field "$A" file)"
[ "$(json_field "$A" peer_count)" = 0 ] || fail "show --json: peer_count"
[ "$(json_field "$A" public_key)" = null ] || fail "show --json: a public key"
[ "$(json_field wq1 file)" = "\"$dt/wq1.conf\"" ] || fail "wq1's file: $(json_field wq1 file)"
expect 0 T show wq1
grep -qx "  file: $dt/wq1.conf" "$out" || fail "show wq1: $(cat "$out")"
tund_log_has t "$A: created without a file" || fail "no creation line in the log"

log "=== names: taken, invalid, a device's, a file's; tund not running"
expect 1 ip netns exec "$t" "$TUND_WG" "$A"
err_has "tund-wg: create: $A exists already (created by tund-wg)"
expect 1 ip netns exec "$t" "$TUND_WG" wq1
err_has "wq1 exists already, from $dt/wq1.conf"
expect 1 ip netns exec "$t" "$TUND_WG" v0
err_has "a network device v0 exists already"
expect 2 ip netns exec "$t" "$TUND_WG" 'wq/1'
err_has 'is not an interface name'
expect 2 ip netns exec "$t" "$TUND_WG" wq456789abcdef16
err_has 'is not an interface name'
expect 2 ip netns exec "$t" "$TUND_WG"
expect 2 ip netns exec "$t" "$TUND_WG" a b
expect 1 T create 'wq 1'
err_has 'is not an interface name'
tunnel_conf "$dt/$C.conf" "$kt" "" "" "$pp" "" 10.93.0.2/32 # not loaded: no reload before rm
run T down wq1 >/dev/null
expect 1 T create wq1
err_has "wq1 has a file, $dt/wq1.conf: tunctl up wq1 brings it up"
run T up wq1 >/dev/null
tund_wait_iface "$t" wq1 || fail "wq1 not back up"
expect 1 T create "$C"
err_has "has a file"
rm -f "$dt/$C.conf"
nobody="$E2E_TMP/nobody.sock"
expect 3 env TUND_CONTROL_SOCKET="$nobody" ip netns exec "$t" "$TUND_WG" "$B"
err_has "tund-wg: tund is not running (no one listens on $nobody)"
expect 3 ip netns exec "$t" "$TUND_WG" -s "$nobody" "$B"
expect 3 env TUND_CONTROL_SOCKET="$nobody" "$TUNCTL" status
err_has "tunctl: tund is not running (no one listens on $nobody)"
expect 0 env TUND_CONTROL_SOCKET="$nobody" "$TUNCTL" --socket "$sock" status # --socket wins
# From a namespace where tund is not: the interface would be out of wg-quick's sight.
expect 1 "$TUND_WG" "$B"
err_has "tund created $B in another network namespace than this one; deleting it again"
! listed "$B" || fail "$B was left behind"
! ip -n "$t" link show "$B" >/dev/null 2>&1 || fail "$B's device was left behind"

log "=== a reload keeps it, and refuses a file of its name while it exists"
expect 0 T reload
listed "$A" || fail "a reload removed $A"
tunnel_conf "$dt/$A.conf" "$kt" 10.94.0.1/24 "" "$pp" "" 10.94.0.2/32
expect 1 T reload
err_has "interface $A exists without a file (created by tund-wg); this file is not applied"
[ "$(json_field "$A" file)" = null ] || fail "the file was applied to $A"
expect 1 T up "$A"
err_has "$A exists without a file (created by tund-wg)"
rm -f "$dt/$A.conf"
expect 0 T reload

log "=== the link up gives it a port; ip link del makes tund forget it"
run ip -n "$t" link set "$A" mtu 1400 up
wait_until 5 "$A listening" bash -c "[ \"\$(\"$TUNCTL\" --json show $A | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"interfaces\"][0][\"listen_port\"])')\" != 0 ]" ||
	fail "$A did not start listening when its link went up"
run ip -n "$t" link del "$A"
wait_until 5 "$A forgotten" bash -c "! \"$TUNCTL\" show $A" || fail "tund still lists $A"
tund_log_has t "$A: its link was deleted; forgetting it" || fail "no log line for $A's deletion"
tund_alive t || fail "tund died"
[ "$(fds)" = "$fds0" ] || fail "tund holds $(fds) descriptors, $fds0 before $A"
assert_ping "$t" 10.92.0.2
expect 1 T show "$A"
err_has "no interface \"$A\" is up"

log "=== tunctl create, delete, down"
expect 0 T create "$B"
ip -n "$t" link show "$B" >/dev/null || fail "tunctl create made no $B"
extra=$(pubkey "$(genkey)")
expect 1 T add-peer "$B" --public-key "$extra" --allowed-ips 10.95.0.2/32 --save
err_has "$B has no file (it was created by tund-wg); nothing was changed"
expect 0 T add-peer "$B" --public-key "$extra" --allowed-ips 10.95.0.2/32
expect 0 T show "$B"
grep -qx "peer: $extra" "$out" || fail "show $B: $(cat "$out")"
! grep -q . <<<"$(ip -n "$t" route show dev "$B")" || fail "tund added routes to $B (Table = off)"
expect 1 T delete wq1
err_has "wq1 has a file, $dt/wq1.conf: tunctl down wq1 takes it down"
expect 0 T delete "$B"
! ip -n "$t" link show "$B" >/dev/null 2>&1 || fail "$B's device is still there"
! listed "$B" || fail "$B still listed"
expect 1 T delete "$B"
expect 0 ip netns exec "$t" "$TUND_WG" "$B"
expect 0 T down "$B"
grep -q "$B: deleted (it had no file)" "$out" || fail "down: $(cat "$out")"
expect 0 ip netns exec "$t" "$TUND_WG" "$B" # nothing holds its name down
expect 0 T delete "$B"
[ "$(fds)" = "$fds0" ] || fail "tund holds $(fds) descriptors, $fds0 before"

log "=== link events lost (the socket's buffer overflowed): every interface's link checked"
expect 0 ip netns exec "$t" "$TUND_WG" "$C"
run kill -STOP "$TUND_PID_t"
at_exit "kill -CONT $TUND_PID_t"
# The buffer fills with these first, so that the deletion of $C after them is lost.
for i in $(seq 400); do echo "link add wqd$i type veth peer name wqe$i"; done >"$E2E_TMP/batch"
for i in $(seq 400); do echo "link del wqd$i"; done >>"$E2E_TMP/batch"
run ip -n "$t" -batch "$E2E_TMP/batch"
run ip -n "$t" link del "$C"
run kill -CONT "$TUND_PID_t"
wait_until 10 "$C forgotten" bash -c "! \"$TUNCTL\" show $C" || fail "tund still lists $C"
tund_log_has t "link events were lost" || fail "the events were not lost: the test proves nothing"
listed wq1 || fail "wq1 was taken down"
assert_ping "$t" 10.92.0.2

log "=== a file's interface whose link is deleted goes down until tunctl up"
run ip -n "$t" link del wq1
wait_until 5 "wq1 taken down" bash -c "! \"$TUNCTL\" show wq1" || fail "tund still lists wq1"
tund_log_has t "wq1: its link was deleted; taking it down, as tunctl down does" ||
	fail "no warning for wq1"
expect 0 T reload
! listed wq1 || fail "a reload brought wq1 back"
expect 0 T up wq1
tund_wait_iface "$t" wq1 || fail "wq1 not back up"
assert_ping "$t" 10.92.0.2
tund_stop t
log "PASS"
