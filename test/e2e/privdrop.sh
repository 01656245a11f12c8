#!/usr/bin/env bash
# Least privilege: tund started by hand as root with --user drops to that
# user after set-up, keeping CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only, and
# everything still works. A test user (useradd, removed at cleanup) with its
# own group; the configuration directory root:GROUP 2770, files 0640.
#   - /proc/PID/status: Uid, Gid and Groups are the user's; CapEff, CapPrm,
#     CapInh, CapAmb and CapBnd are exactly CAP_NET_ADMIN|CAP_NET_BIND_SERVICE;
#   - a tunnel between it and a second (root) tund carries pings;
#   - reload adds a peer and an interface whose port is below 1024, with an
#     FwMark (SO_MARK), RedirectToLocalhost (nftables), routes, a /0 route
#     (policy rules, the src_valid_mark sysctl), and a PostUp
#     hook that runs with the capabilities (its CapEff and CapAmb);
#   - tunctl add-peer --save rewrites the group-readable file; a file others
#     can read is still warned about;
#   - root and the daemon's user get through the UAPI sockets (made before
#     and after the drop);
#   - tunctl create makes a TUN device and its UAPI socket after the drop;
#   - a localhost tunnel publishes a service on port 80 of the dropped tund;
#   - --user for an unknown user, and a tund that is not root: clear errors.
# /dev/net/tun is 0600 on test machines (udev makes it 0666 on real hosts): a
# private mount namespace binds a 0666 node of the same device over it.
#
#   pva 192.0.2.1 ─ veth ─ 192.0.2.2 pvb
#   pv0 10.71.0.1 (tund --user)  ══  pv0 10.71.0.2 (tund as root)
#   pv1 10.71.1.1 :853 (reload), pv2 (tunctl create)
#   public port 80 on pva  ──  [Expose web] 127.0.0.1:8000 on pvb
. "$(dirname "$0")/../lib/netns.sh"
e2e_init python3 curl socat useradd userdel setpriv unshare mknod
t_start=$(date +%s)

u="pvu$$"
run useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u"
at_exit "userdel -f '$u' >/dev/null 2>&1 || true"
uid=$(id -u "$u") gid=$(id -g "$u")
want_caps=0000000000001400 # CAP_NET_ADMIN (12) | CAP_NET_BIND_SERVICE (10)

ns_pair pva pvb
ka=$(genkey) kb=$(genkey)
pa=$(pubkey "$ka") pb=$(pubkey "$kb")
kc=$(genkey)
pc=$(pubkey "$kc")

# The dropped daemon's files: E2E_TMP is 0700 root; a world-traversable tree beside it.
chmod 711 "$E2E_TMP"
da="$E2E_TMP/pva.d" run_a="$E2E_TMP/pva-run" hooks="$E2E_TMP/pva-hooks"
mkdir -p "$da" "$run_a" "$hooks"
chown root:"$u" "$da"
chmod 2770 "$da"
chmod 755 "$run_a"
chown "$u":"$u" "$hooks"
# put FILE < text: root:GROUP 0640, as tund.conf(5) asks under User=tund.
put() {
	write_conf "$1"
	chgrp "$u" "$1"
	chmod 640 "$1"
}
put "$da/pv0.conf" <<CONF
[Interface]
PrivateKey = $ka
ListenPort = 51820
Address = 10.71.0.1/24
[Peer]
Name = laptop
PublicKey = $pb
AllowedIPs = 10.71.0.2/32
AllowExpose = 80
CONF
db=$(confdir pvb)
write_conf "$db/pv0.conf" <<CONF
[Interface]
PrivateKey = $kb
Address = 10.71.0.2/24
[Peer]
Name = server
PublicKey = $pa
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.71.0.0/24, 10.71.1.0/24
PersistentKeepalive = 25
CONF

# /dev/net/tun, 0666, in a private mount namespace for the dropped tund only.
cat >"$E2E_TMP/tun-0666.sh" <<'SH'
set -e
mount -t tmpfs -o mode=0755 tmpfs "$1"
mknod -m 0666 "$1/tun" c 10 200
mount --bind "$1/tun" /dev/net/tun
shift
exec "$@"
SH
mkdir -p "$E2E_TMP/devnet"
sock_a="$run_a/control.sock"
logf="$E2E_TMP/pva.log"
log "+ [pva] tund --user $u (log $logf)"
env TUND_UAPI_DIR="$run_a/uapi" unshare -m --propagation private \
	bash "$E2E_TMP/tun-0666.sh" "$E2E_TMP/devnet" ip netns exec "$pva" "$TUND" --foreground \
	--log-level debug --config-dir "$da" --control-socket "$sock_a" --control-group "$u" \
	--user "$u" >>"$logf" 2>&1 &
TUND_PID_pva=$!
E2E_PIDS+=("$TUND_PID_pva")
wait_until 10 "tund pva up" tund_log_has pva "running as $u" || fail "tund pva did not drop to $u"
tund_start "$pvb" pvb "$db"
A() { "$TUNCTL" --socket "$sock_a" "$@"; }
B() { "$TUNCTL" --socket "$E2E_TMP/pvb.sock" "$@"; }
tund_wait_iface "$pva" pv0 && tund_wait_iface "$pvb" pv0 || fail "interfaces not up"

log "=== /proc/PID/status of the dropped tund"
st="/proc/$TUND_PID_pva/status"
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$st"; }
[ "$(field Uid)" = "$uid $uid $uid $uid" ] || fail "Uid: $(field Uid), expected $uid"
[ "$(field Gid)" = "$gid $gid $gid $gid" ] || fail "Gid: $(field Gid), expected $gid"
[ "$(field Groups)" = "$gid" ] || fail "Groups: $(field Groups), expected $gid"
for f in CapEff CapPrm CapInh CapAmb CapBnd; do
	[ "$(field $f)" = "$want_caps" ] || fail "$f: $(field $f), expected $want_caps"
done
[ "$(stat -c '%a %G' "$sock_a")" = "660 $u" ] || fail "control socket: $(stat -c '%a %G' "$sock_a")"
[ "$(stat -c '%U' "$run_a/uapi")" = "$u" ] || fail "the UAPI directory is not the user's"

! grep -q "pv0.conf.*readable by group" "$logf" || fail "pv0.conf (group $u, 0640) was warned about"

log "=== the tunnel"
wait_until 10 "ping through pv0" ping_ok "$pvb" 10.71.0.1 || fail "no ping through the dropped tund"

log "=== reload: a peer and an interface with a port below 1024, FwMark, RedirectToLocalhost"
put "$da/pv0.conf" <<CONF
$(cat "$da/pv0.conf")
[Peer]
PublicKey = $pc
AllowedIPs = 10.71.0.3/32
CONF
put "$da/pv1.conf" <<CONF
[Interface]
PrivateKey = $(genkey)
ListenPort = 853
FwMark = 0x71
Address = 10.71.1.1/24
RedirectToLocalhost = 8000
PostUp = grep ^Cap /proc/self/status >$hooks/%i.caps
[Peer]
PublicKey = $pb
AllowedIPs = 10.71.1.2/32, 10.71.9.0/24, 0.0.0.0/0
CONF
ip netns exec "$pva" sysctl -qw net.ipv4.conf.all.src_valid_mark=0
A reload >"$E2E_TMP/reload.out" 2>&1 || fail "reload: $(cat "$E2E_TMP/reload.out")"
A show pv0 | grep -qF "$pc" || fail "reload did not add the peer to pv0"
tund_wait_iface "$pva" pv1 || fail "reload did not bring pv1 up"
ip netns exec "$pva" ss -Hlun 'sport = :853' | grep -q . || fail "pv1 does not listen on 853"
ip -n "$pva" route show table all 10.71.9.0/24 | grep -q pv1 || fail "no route for pv1's peer"
ip -n "$pva" route show table all default | grep -q pv1 || fail "no /0 route through pv1"
ip -n "$pva" rule show | grep -q 'not from all fwmark 0x71' || fail "no policy rule for pv1's /0: $(ip -n "$pva" rule show)"
[ "$(ip netns exec "$pva" sysctl -n net.ipv4.conf.all.src_valid_mark)" = 1 ] ||
	fail "the /0 route did not set src_valid_mark"
ip netns exec "$pva" nft list tables | grep -q 'tund-pv1' || fail "no nftables table for pv1"
A --json show pv1 | grep -q '"fwmark": *113\|"fwmark": *"0x71"' ||
	A show pv1 | grep -qi 'fwmark: 0x71' || fail "pv1's fwmark: $(A show pv1)"
grep -qx "CapEff:	$want_caps" "$hooks/pv1.caps" && grep -qx "CapAmb:	$want_caps" "$hooks/pv1.caps" ||
	fail "pv1's PostUp hook's capabilities: $(cat "$hooks/pv1.caps" 2>&1)"

log "=== the UAPI sockets: root (as wg) and the daemon's own user may get"
uapi_get() { printf 'get=1\n\n' | "$@" socat -t 5 - "UNIX-CONNECT:$sock" 2>&1; }
for sock in "$run_a/uapi/pv0.sock" "$run_a/uapi/pv1.sock"; do
	uapi_get | grep -qx 'errno=0' || fail "root's get on $sock: $(uapi_get)"
	uapi_get setpriv --reuid="$uid" --regid="$gid" --clear-groups | grep -qx 'errno=0' ||
		fail "the daemon's user's get on $sock: $(uapi_get setpriv --reuid="$uid" --regid="$gid" --clear-groups)"
done

log "=== add-peer --save rewrites the group-readable file; others-readable is warned about"
kd=$(pubkey "$(genkey)")
A add-peer pv0 --public-key "$kd" --allowed-ips 10.71.0.4/32 --save >"$E2E_TMP/save.out" 2>&1 ||
	fail "add-peer --save: $(cat "$E2E_TMP/save.out")"
grep -qF "$kd" "$da/pv0.conf" || fail "--save did not write pv0.conf"
[ "$(stat -c '%a %G' "$da/pv0.conf")" = "640 $u" ] || fail "pv0.conf after --save: $(stat -c '%a %U:%G' "$da/pv0.conf")"
chmod 644 "$da/pv1.conf"
A reload >"$E2E_TMP/reload.out" 2>&1 || fail "reload: $(cat "$E2E_TMP/reload.out")"
grep -q "pv1.conf.*readable by group or others" "$E2E_TMP/reload.out" "$logf" ||
	fail "no warning for an others-readable file: $(cat "$E2E_TMP/reload.out")"
! grep -q "pv0.conf.*readable by group or others" "$E2E_TMP/reload.out" "$logf" ||
	fail "a warning for pv0.conf, which only the daemon's group reads"
chmod 640 "$da/pv1.conf"

log "=== tunctl create after the drop"
wait_until 10 "ping through pv0 beside the /0" ping_ok "$pvb" 10.71.0.1 || fail "no ping through pv0 after the /0"
A create pv2 >"$E2E_TMP/create.out" 2>&1 || fail "tunctl create: $(cat "$E2E_TMP/create.out")"
ip -n "$pva" link show pv2 >/dev/null || fail "no pv2 link"
[ -S "$run_a/uapi/pv2.sock" ] || fail "no UAPI socket for pv2"
[ "$(stat -c '%U %a' "$run_a/uapi/pv2.sock")" = "$u 600" ] || fail "pv2.sock: $(stat -c '%U %a' "$run_a/uapi/pv2.sock")"
A delete pv2 >/dev/null || fail "tunctl delete pv2"

log "=== a localhost tunnel: port 80 published on the dropped tund"
put_b() { write_conf "$db/pv0.conf"; }
put_b <<CONF
$(cat "$db/pv0.conf")
[Expose web]
LocalPort = 8000
Peer = server
PublicPort = 80
ServerAddress = 10.71.0.1
CONF
echo "through the dropped tund" >"$E2E_TMP/index.html"
ip netns exec "$pvb" python3 -m http.server --bind 127.0.0.1 --directory "$E2E_TMP" 8000 \
	>"$E2E_TMP/http.log" 2>&1 &
E2E_PIDS+=("$!")
wait_until 10 "the HTTP server" listening "$pvb" 8000 || fail "the HTTP server did not start"
B reload >/dev/null || fail "reload of pvb"
wait_until 20 "port 80 on pva" listening "$pva" 80 || fail "port 80 is not published: $(A show pv0)"
[ "$(ip netns exec "$pvb" curl -sS --max-time 10 http://192.0.2.1/index.html)" = "through the dropped tund" ] ||
	fail "nothing through the published port"

log "=== errors: an unknown user, a tund that is not root"
rc=0
"$TUND" --foreground --config-dir "$da" --control-socket "$E2E_TMP/x.sock" --user "no-such-user-$$" \
	>"$E2E_TMP/err.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q -- "--user no-such-user-$$: no such user" "$E2E_TMP/err.out" ||
	fail "unknown user: exit $rc: $(cat "$E2E_TMP/err.out")"
rc=0
setpriv --reuid="$uid" --regid="$gid" --clear-groups "$TUND" --foreground --config-dir "$da" \
	--control-socket "$E2E_TMP/x.sock" --user "$u" >"$E2E_TMP/err.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "must be started as root" "$E2E_TMP/err.out" ||
	fail "not root: exit $rc: $(cat "$E2E_TMP/err.out")"

tund_alive pva || fail "the dropped tund died"
tund_stop pvb
tund_stop pva
log "time: $(($(date +%s) - t_start)) s"
log "PASS"
