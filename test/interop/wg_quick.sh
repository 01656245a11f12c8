#!/usr/bin/env bash
# wg-quick (Debian's wireguard-tools) with tund as its userspace
# implementation, against wireguard-go:
#   WG_QUICK_USERSPACE_IMPLEMENTATION=tund-wg wg-quick up wqN.conf
# brings up an interface tund made without a file (tund-wg), configured by
# wg over tund's UAPI socket and by ip; PostUp runs; traffic flows to
# wireguard-go; wg show and tunctl show agree; `wg-quick strip` and a
# `wg-quick save` round trip (down, up from the saved file, traffic again);
# `wg-quick down` deletes the link, PostDown runs, and tund forgets the
# interface and its UAPI socket.
#
# The file has no DNS line: wg-quick would hand it to resolvconf, which
# changes the host's resolver (and Debian's test hosts have none).
#
# Needs tund's UAPI support (wg show IFACE working against tund): without
# it the test is skipped (77) once tund-wg has been checked.
#
#   ns t (tund, wg-quick)                        ns g (wireguard-go)
#   wq<pid> 10.91.0.1/24                         wgo<pid> 10.91.0.2/24
#   veth 192.0.2.1/24 <------------------------> veth 192.0.2.2/24
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/wggo.sh"
e2e_init ping wg wg-quick wireguard-go python3
TUND_WG=${TUND_WG:-$(dirname "$TUNCTL")/tund-wg}
[ -x "$TUND_WG" ] || skip "tund-wg not found ($TUND_WG)"
[ ! -e /sys/module/wireguard ] ||
	skip "the kernel has a WireGuard module: wg-quick would not run its userspace implementation"

ns_pair t g
wq="wq$$"
wgif="wgo$$"
wgif=${wgif:0:15}
at_exit "rm -f /var/run/wireguard/$wq.sock"
kq=$(wg genkey) kg=$(wg genkey)
pq=$(wg pubkey <<<"$kq") pg=$(wg pubkey <<<"$kg")
dt=$(confdir t)
# wg has /var/run/wireguard compiled in (a tund with UAPI support may default to another for tests).
tund_start "$t" t "$dt" TUND_UAPI_DIR=/var/run/wireguard
sock="$E2E_TMP/t.sock"
T() { "$TUNCTL" --socket "$sock" "$@"; }
listed() { T --json show | python3 -c 'import json, sys
sys.exit(0 if sys.argv[1] in [i["name"] for i in json.load(sys.stdin)["interfaces"]] else 1)' "$1"; }

log "=== tund-wg: the interface and its UAPI socket"
n "$t" env TUND_CONTROL_SOCKET="$sock" "$TUND_WG" "$wq" || fail "tund-wg $wq failed"
if ! nq "$t" wg show "$wq" >/dev/null 2>&1; then
	run ip -n "$t" link del "$wq"
	skip "wg show $wq does not work against tund (no UAPI socket /var/run/wireguard/$wq.sock: this tund has no UAPI support); the wg-quick part is skipped"
fi
[ -S "/var/run/wireguard/$wq.sock" ] || fail "no socket /var/run/wireguard/$wq.sock"
run ip -n "$t" link del "$wq"
wait_until 5 "tund forgets $wq" bash -c "! \"$TUNCTL\" --socket \"$sock\" show $wq" ||
	fail "tund still lists $wq"
wait_until 5 "$wq's UAPI socket gone" bash -c "[ ! -e /var/run/wireguard/$wq.sock ]" ||
	fail "/var/run/wireguard/$wq.sock left behind"

log "=== wireguard-go's side"
wg_key="$E2E_TMP/wg.key"
(umask 077 && echo "$kg" >"$wg_key")
wggo_start "$g" "$wgif"
n "$g" wg set "$wgif" private-key "$wg_key" listen-port 51820 peer "$pq" allowed-ips 10.91.0.1/32
addr "$g" "$wgif" 10.91.0.2/24
run ip -n "$g" link set "$wgif" mtu 1420 up

log "=== wg-quick up"
wqdir="$E2E_TMP/wireguard"
mkdir -m 700 "$wqdir"
conf="$wqdir/$wq.conf"
write_conf "$conf" <<CONF
[Interface]
Address = 10.91.0.1/24
PrivateKey = $kq
ListenPort = 51820
PostUp = echo "up %i" > $E2E_TMP/hook.up
PostDown = echo "down %i" > $E2E_TMP/hook.down

[Peer]
PublicKey = $pg
AllowedIPs = 10.91.0.2/32
Endpoint = 192.0.2.2:51820
CONF
# wg_quick ACTION: wg-quick ACTION $conf in t, with tund-wg as its implementation.
wg_quick() {
	n "$t" env WG_QUICK_USERSPACE_IMPLEMENTATION="$TUND_WG" TUND_CONTROL_SOCKET="$sock" \
		wg-quick "$1" "$conf"
}
wg_quick up || fail "wg-quick up failed"
at_exit "ip netns exec '$t' ip link del '$wq'"
[ "$(cat "$E2E_TMP/hook.up")" = "up $wq" ] || fail "PostUp did not run"
T show "$wq" >"$E2E_TMP/show" || fail "tunctl show $wq"
grep -qx '  file: (none, created by tund-wg)' "$E2E_TMP/show" || fail "show: $(cat "$E2E_TMP/show")"
grep -qx "  public key: $pq" "$E2E_TMP/show" || fail "show: $(cat "$E2E_TMP/show")"
grep -qx '  listening port: 51820' "$E2E_TMP/show" || fail "show: $(cat "$E2E_TMP/show")"
grep -qx "peer: $pg" "$E2E_TMP/show" || fail "show: $(cat "$E2E_TMP/show")"
grep -qx '  allowed ips: 10.91.0.2/32' "$E2E_TMP/show" || fail "show: $(cat "$E2E_TMP/show")"
grep -q 'inet 10.91.0.1/24' <<<"$(ip -n "$t" addr show dev "$wq")" || fail "wg-quick set no address"
grep -q ',UP' <<<"$(ip -n "$t" link show "$wq")" || fail "$wq is not up"

log "=== traffic to wireguard-go"
assert_ping "$t" 10.91.0.2
assert_ping "$g" 10.91.0.1
[ "$(wg_latest_handshake "$t" "$wq" "$pg")" -gt 0 ] || fail "wg show: no handshake with $pg"
[ "$(wg_latest_handshake "$g" "$wgif" "$pq")" -gt 0 ] || fail "wireguard-go saw no handshake"
transfer "$t" "$g" 10.91.0.2 5 5001
n "$t" wg show "$wq" transfer | awk -v k="$pg" '$1 == k && $3 > 5000000 {ok = 1} END {exit !ok}' ||
	fail "wg show: transfer does not count the 5 MB sent"

log "=== wg set and tunctl see one interface"
extra=$(wg genkey | wg pubkey)
n "$t" wg set "$wq" peer "$extra" allowed-ips 10.91.0.9/32
grep -qx "peer: $extra" <<<"$(T show "$wq")" || fail "tunctl show lacks the peer wg set added"
run T remove-peer "$wq" "$extra" >/dev/null
! grep -qx "$extra" <<<"$(nq "$t" wg show "$wq" peers)" || fail "wg show still lists the removed peer"
assert_ping "$t" 10.91.0.2

log "=== wg-quick strip and save"
wg_quick strip >"$E2E_TMP/strip" || fail "wg-quick strip"
grep -qx "PrivateKey = $kq" "$E2E_TMP/strip" || fail "strip: $(cat "$E2E_TMP/strip")"
! grep -qiE '^(Address|PostUp|PostDown) ' "$E2E_TMP/strip" || fail "strip kept wg-quick's keys"
cp "$conf" "$E2E_TMP/orig.conf"
wg_quick save || fail "wg-quick save"
grep -qx 'Address = 10.91.0.1/24' "$conf" || fail "save: $(cat "$conf")"
grep -qxF "PostUp = echo \"up %i\" > $E2E_TMP/hook.up" "$conf" || fail "save lost PostUp: $(cat "$conf")"
wg_quick strip >"$E2E_TMP/strip2" || fail "wg-quick strip (saved)"
# wg showconf writes the keys in its own order: compare the lines of each section as sets.
sections() { awk '/^\[/ {s = $0} /=/ {print s " " $0}' "$1" | sort; }
diff <(sections "$E2E_TMP/strip") <(sections "$E2E_TMP/strip2") >&2 ||
	fail "wg-quick save did not write back what was set"

log "=== wg-quick down: tund forgets the interface"
rm -f "$E2E_TMP/hook.down"
wg_quick down || fail "wg-quick down failed"
[ "$(cat "$E2E_TMP/hook.down")" = "down $wq" ] || fail "PostDown did not run"
! ip -n "$t" link show "$wq" >/dev/null 2>&1 || fail "$wq still exists"
wait_until 5 "tund forgets $wq" bash -c "! \"$TUNCTL\" --socket \"$sock\" show $wq" ||
	fail "tund still lists $wq"
tund_log_has t "$wq: its link was deleted; forgetting it" || fail "no log line for $wq"
[ ! -e "/var/run/wireguard/$wq.sock" ] || fail "/var/run/wireguard/$wq.sock left behind"
! grep -qw "$wq" <<<"$(nq "$t" wg show interfaces)" || fail "wg show interfaces still lists $wq"
tund_alive t || fail "tund died"

log "=== up again from the saved file"
wg_quick up || fail "wg-quick up (saved file) failed"
assert_ping "$t" 10.91.0.2
wg_quick down || fail "wg-quick down failed"
wait_until 5 "tund forgets $wq" bash -c "! \"$TUNCTL\" --socket \"$sock\" show $wq" ||
	fail "tund still lists $wq"
tund_stop t
log "PASS"
