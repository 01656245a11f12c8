#!/usr/bin/env bash
# tund's unit files under a real systemd. A Debian container (box.sh) is
# booted with systemd-nspawn; the build's install tree (cmake --install into
# a DESTDIR, bound in read-only) is copied over its volatile root; then, as
# an operator would:
#   - systemd-sysusers and systemd-tmpfiles make the tund user and group and
#     /etc/tund (root:tund 2770: files made there get group tund);
#   - systemctl start tund: active, running as user tund with exactly
#     CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (/proc/PID/status),
#     systemctl status shows the STATUS= line,
#     the interface from /etc/tund (key from tunctl genkey) is up, tunctl
#     status answers, the journal has tund's priorities;
#   - a second file and systemctl reload: tunctl show has the new interface
#     as soon as systemctl returns, with its localhost tunnels under the
#     sandbox (the nftables table of RedirectToLocalhost, the control port
#     of AllowExpose), its PostUp hook with the two capabilities; tunctl
#     create makes an interface; a broken file makes the reload fail and
#     leaves tund running;
#   - under the unit's sandbox: tunctl add-peer --save writes /etc/tund,
#     LimitNOFILE is 65536, /dev/net/tun is allowed (DeviceAllow= enforced);
#   - the watchdog: a stalled (SIGSTOPped) tund is killed and restarted,
#     with exactly one nftables table of tund's after the restart;
#   - systemctl stop tund: no interface is left, nor tund's own socket,
#     nor an nftables table;
#   - tund.socket: systemd makes the socket (0660, root:tund), tunctl status
#     starts tund.service, which takes it; stopping tund leaves it, and the
#     next tunctl starts tund again; stopping tund.socket removes it.
# Skips (77) without root, systemd-nspawn or debootstrap, for a sanitizer
# build, when debootstrap cannot reach a mirror or the container cannot boot.
#
#   host ─ systemd-nspawn --private-network --volatile=overlay ─ container:
#          systemd (PID 1) ─ tund.service ─ TUN sd0 10.84.0.1/24, sd1 10.84.1.1/24
#                          └ tund.socket /run/tund/control.sock
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/box.sh"
: "${TUND_BUILD_DIR:?}"
TUND_CMAKE=${TUND_CMAKE:-cmake}
e2e_init
require_cmd systemd-nspawn debootstrap nsenter flock ldd dpkg "$TUND_CMAKE"
if ldd "$TUND" | grep -qE 'lib(a|ub|t)san'; then
	skip "a sanitizer build: the container has no sanitizer runtime (run this from a normal build)"
fi
t_start=$(box_now)

log "=== install the build into a DESTDIR"
dest="$E2E_TMP/destdir"
run env DESTDIR="$dest" "$TUND_CMAKE" --install "$TUND_BUILD_DIR" >"$E2E_TMP/install.out" ||
	fail "cmake --install: $(tail -n 5 "$E2E_TMP/install.out")"
chmod 755 "$dest" # it becomes the mode of / when copied over the container's root
unit=$(find "$dest" -name tund.service -path '*/systemd/system/*' | head -n 1)
[ -n "$unit" ] && [ -f "${unit%.service}.socket" ] || fail "no tund.service and tund.socket in the install tree"
tund_bin=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$dest$tund_bin" ] || fail "ExecStart=$tund_bin is not in the install tree"
tunctl_bin=$(find "$dest" -type f -name tunctl -path '*/bin/*' | head -n 1)
[ -x "$tunctl_bin" ] || fail "no tunctl in the install tree"
log "units: ${unit#"$dest"}, ExecStart=$tund_bin, tunctl ${tunctl_bin#"$dest"}"

t=$(box_now)
box_root "$dest$tund_bin" "$tunctl_bin" || skip "debootstrap failed (is a Debian mirror reachable?)"
t_root=$(box_since "$t")
box_boot --bind-ro="$dest:/opt/tund-install" ||
	skip "the container did not boot: $(tail -n 5 "$E2E_TMP/console.log")"
# On failure, the journal is printed with the other *.log files.
at_exit "bxq journalctl --no-pager -o short-monotonic -u tund.service -u tund.socket >'$E2E_TMP/journal.log'"

# Helpers that run inside the container.
active() { [ "$(bxq systemctl is-active "$1")" = "$2" ]; }
# (Output is captured before grep: grep -q may exit first, and pipefail.)
journal() { bxq journalctl --no-pager -u tund.service "$@"; }
journal_has() {
	local j
	j=$(journal)
	grep -q -- "$1" <<<"$j"
}
main_pid() { bxq systemctl show -p MainPID --value tund.service; }
status_line() { bxq systemctl status --no-pager -n 0 tund.service | grep 'Status:'; }
# put FILE < text: write FILE inside the container, mode 0640 (and group
# tund, from the setgid /etc/tund), as tund.conf(5) asks.
put() { bxq sh -c "umask 027 && cat >'$1'"; }
newkey() { bxq tunctl genkey; }
pub() { printf '%s\n' "$1" | bxq tunctl pubkey; }

log "=== install: daemon-reload, sysusers, tmpfiles"
bx cp -a /opt/tund-install/. /
bx systemctl daemon-reload
bx systemd-sysusers
bxq getent group tund >/dev/null || fail "systemd-sysusers made no tund group"
bx systemd-tmpfiles --create tund.conf
bxq getent passwd tund >/dev/null || fail "systemd-sysusers made no tund user"
[ "$(bxq id -gn tund)" = tund ] || fail "tund's group is $(bxq id -gn tund)"
[ "$(bxq stat -c '%a %U:%G' /etc/tund)" = "2770 root:tund" ] ||
	fail "/etc/tund: $(bxq stat -c '%a %U:%G' /etc/tund)"
bxq test -c /dev/net/tun || fail "no /dev/net/tun in the container"
# 0600 in the container; udev makes it 0666 on a real host (tund(8), PRIVILEGES).
bx chmod 666 /dev/net/tun

put /etc/tund/sd0.conf <<CONF
[Interface]
PrivateKey = $(newkey)
ListenPort = 51820
Address = 10.84.0.1/24
[Peer]
PublicKey = $(pub "$(newkey)")
AllowedIPs = 10.84.0.2/32
CONF

log "=== systemctl start tund"
bx systemctl start tund.service || fail "start: $(bxq systemctl status --no-pager tund.service)"
active tund.service active || fail "tund is $(bxq systemctl is-active tund.service)"
status_line | grep -qF 'Status: "1 interface up, 1 peer"' || fail "status: $(status_line)"
bxq ip link show sd0 | grep -q ',UP' || fail "sd0 is not up: $(bxq ip link show sd0 2>&1)"
[ "$(bxq stat -c '%a %U:%G' /etc/tund/sd0.conf)" = "640 root:tund" ] ||
	fail "sd0.conf: $(bxq stat -c '%a %U:%G' /etc/tund/sd0.conf)"
# Least privilege: user tund, CAP_NET_ADMIN (12) and CAP_NET_BIND_SERVICE (10) only.
status_field() { bxq awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
pid=$(main_pid)
tund_uid=$(bxq id -u tund)
[ "$(status_field "$pid" Uid)" = "$tund_uid" ] || fail "tund's Uid is $(status_field "$pid" Uid), not tund's ($tund_uid)"
for f in CapEff CapPrm CapAmb CapBnd; do
	[ "$(status_field "$pid" $f)" = 0000000000001400 ] ||
		fail "tund's $f is $(status_field "$pid" $f), not CAP_NET_ADMIN|CAP_NET_BIND_SERVICE"
done
bx tunctl status | grep -q "^1 interface" || fail "tunctl status: $(bxq tunctl status 2>&1)"
# Without tund.socket tund made the socket itself: 0660 and the tund group.
[ "$(bxq stat -c '%a %G' /run/tund/control.sock)" = "660 tund" ] ||
	fail "tund's own socket: $(bxq stat -c '%a %G' /run/tund/control.sock)"
wait_until 5 "the journal" journal_has "starting" || fail "nothing in the journal"
j=$(journal -o json)
grep '"MESSAGE":"tund .* starting' <<<"$j" | grep -q '"PRIORITY":"6"' ||
	fail "the start message is not at priority 6 (info) in the journal"

log "=== a second file with localhost tunnels, systemctl reload"
put /etc/tund/sd1.conf <<CONF
[Interface]
PrivateKey = $(newkey)
ListenPort = 51821
Address = 10.84.1.1/24
RedirectToLocalhost = 8000
PostUp = grep ^Cap /proc/self/status >/run/tund/%i.caps
[Peer]
PublicKey = $(pub "$(newkey)")
AllowedIPs = 10.84.1.2/32
AllowExpose = 8000-8099
CONF
# tund's nftables tables (RedirectToLocalhost), one line each.
nft_tables() { bxq nft list tables | grep -E ' tund[-_]' || true; }
bx systemctl reload tund.service || fail "reload: $(bxq systemctl status --no-pager tund.service)"
# No waiting: ExecReload (tunctl reload) returned when tund had answered.
bx tunctl show sd1 >/dev/null || fail "sd1 is not there right after systemctl reload"
bxq ip link show sd1 | grep -q ',UP' || fail "sd1 is not up"
status_line | grep -qF '"2 interfaces up, 2 peers"' || fail "status after the reload: $(status_line)"
# Under the unit's sandbox: the nftables table, and the control port on the tunnel address.
[ "$(nft_tables)" = "table inet tund-sd1" ] || fail "tund's nftables tables: $(nft_tables)"
bxq ss -Hltn 'sport = :51821' | grep -qE '10\.84\.1\.1(%sd1)?:51821' ||
	fail "no localhost-tunnel control port: $(bxq ss -Hltn 2>&1)"
# Hooks run with the daemon's privileges: user tund, the two capabilities.
bxq grep -qx 'CapEff:.0000000000001400' /run/tund/sd1.caps ||
	fail "sd1's PostUp hook: $(bxq cat /run/tund/sd1.caps 2>&1)"
[ "$(bxq stat -c %U /run/tund/sd1.caps)" = tund ] || fail "the hook did not run as tund"
# An interface without a file, made after start-up: TUN, netlink, its UAPI socket.
bx tunctl create sd9 || fail "tunctl create under User=tund"
bxq ip link show sd9 >/dev/null || fail "tunctl create made no sd9"
[ "$(bxq stat -c '%U %a' /run/wireguard/sd9.sock)" = "tund 600" ] ||
	fail "sd9's UAPI socket: $(bxq stat -c '%U %a' /run/wireguard/sd9.sock 2>&1)"
bx tunctl delete sd9 || fail "tunctl delete sd9"

log "=== a broken file: the reload fails, tund runs on"
printf '[Interface]\nPrivateKey = not-a-key\n' | put /etc/tund/sd2.conf
if bx systemctl reload tund.service; then
	fail "systemctl reload succeeded with a broken file"
fi
active tund.service active || fail "tund is $(bxq systemctl is-active tund.service) after a failed reload"
wait_until 5 "the error in the journal" journal_has "sd2.conf:2" || fail "no sd2.conf:2 error in the journal"
bx tunctl show sd0 >/dev/null || fail "sd0 is gone after a failed reload"
bx rm /etc/tund/sd2.conf

log "=== the sandbox: --save writes /etc/tund, LimitNOFILE, the watchdog"
if bxq tunctl add-peer --help 2>&1 | grep -q -- --save; then
	k3=$(pub "$(newkey)")
	bx tunctl add-peer sd0 --public-key "$k3" --allowed-ips 10.84.0.3/32 --save ||
		fail "add-peer --save under the unit's sandbox failed"
	bxq grep -qF "$k3" /etc/tund/sd0.conf || fail "--save did not write /etc/tund/sd0.conf"
else
	log "(this tunctl has no add-peer --save: left out)"
fi
# LimitNOFILE=65536, or as close as the container's hard limit allows (systemd
# clamps; nspawn asks for 524288 but may not raise the test's own limit).
[ "$(bxq systemctl show -p LimitNOFILE --value tund.service)" = 65536 ] || fail "LimitNOFILE is not 65536"
pid=$(main_pid)
nofile() { bxq awk -v f="$2" '/^Max open files/ { print $f }' "/proc/$1/limits"; }
cap=$(nofile 1 5)
want=$((cap < 65536 ? cap : 65536))
[ "$(nofile "$pid" 4)" = "$want" ] || fail "tund's descriptor limit is $(nofile "$pid" 4), expected $want"
[ "$want" = 65536 ] || log "(the container's hard limit is $cap: tund's limit is $want)"
# A 2 s watchdog (and no core file) for this part only; a stopped loop sends
# no WATCHDOG=1: systemd aborts tund and Restart=on-failure starts it again.
bxq mkdir -p /run/systemd/system/tund.service.d
printf '[Service]\nWatchdogSec=2s\nLimitCORE=0\n' | bxq sh -c 'cat >/run/systemd/system/tund.service.d/watchdog.conf'
bx systemctl daemon-reload
bx systemctl restart tund.service || fail "restart with WatchdogSec=2s"
pid=$(main_pid)
restarts=$(bxq systemctl show -p NRestarts --value tund.service)
bx kill -STOP "$pid"
restarted() { [ "$(main_pid)" != "$pid" ] && [ "$(main_pid)" != 0 ] && active tund.service active; }
wait_until 20 "a restart after the watchdog fired" restarted || fail "the watchdog did not restart tund"
[ "$(bxq systemctl show -p NRestarts --value tund.service)" -gt "$restarts" ] || fail "NRestarts did not grow"
wait_until 5 "the watchdog in the journal" journal_has "[Ww]atchdog timeout" ||
	fail "the journal does not mention the watchdog"
bx rm -r /run/systemd/system/tund.service.d
bx systemctl daemon-reload
bx tunctl show sd1 >/dev/null || fail "sd1 did not come back after the restart"
# The aborted tund's table went with its netlink socket; the new one made one.
[ "$(nft_tables)" = "table inet tund-sd1" ] || fail "tables after the crash and restart: $(nft_tables)"

# As tund(8) says: while tund runs with a socket of its own, systemd refuses
# to start tund.socket (rather than take the path from under it).
if bx systemctl start tund.socket 2>/dev/null; then
	fail "tund.socket started while tund.service ran with its own socket"
fi
bx tunctl status >/dev/null || fail "tund stopped answering after the refused tund.socket"

log "=== systemctl stop tund"
bx systemctl stop tund.service
active tund.service inactive || fail "tund is $(bxq systemctl is-active tund.service) after stop"
bxq ip link show sd0 >/dev/null 2>&1 && fail "sd0 is left after stop"
bxq ip link show sd1 >/dev/null 2>&1 && fail "sd1 is left after stop"
[ -z "$(nft_tables)" ] || fail "tund's nftables table is left after stop: $(nft_tables)"
bxq test -e /run/tund/control.sock && fail "tund left its own socket behind"

log "=== tund.socket: socket activation"
bx systemctl start tund.socket
active tund.service inactive || fail "tund.service started with the socket"
sock_stat() { bxq stat -c '%i %a %U:%G %F' /run/tund/control.sock; }
before=$(sock_stat)
[ "${before#* }" = "660 root:tund socket" ] || fail "the socket systemd made: $before"
bx tunctl status | grep -q "^2 interfaces" || fail "tunctl status through tund.socket: $(bxq tunctl status 2>&1)"
active tund.service active || fail "the connection did not start tund.service"
wait_until 5 "the passed socket in the journal" \
	journal_has "listening on /run/tund/control.sock (passed by systemd)" ||
	fail "tund did not take the passed socket"
status_line | grep -qF '"2 interfaces up' || fail "status under activation: $(status_line)"
bx systemctl reload tund.service || fail "reload under socket activation"
[ "$(sock_stat)" = "$before" ] || fail "the socket changed: $before -> $(sock_stat)"
bx systemctl stop tund.service
[ "$(sock_stat)" = "$before" ] || fail "stopping tund took the socket: $(sock_stat 2>&1)"
bxq ip link show sd0 >/dev/null 2>&1 && fail "sd0 is left after stop"
bx tunctl status >/dev/null || fail "the second connection did not start tund again"
active tund.service active || fail "tund.service is not active again"
bx systemctl stop tund.service tund.socket
bxq test -e /run/tund/control.sock && fail "the socket is left after tund.socket stopped"
active tund.socket inactive || fail "tund.socket is $(bxq systemctl is-active tund.socket)"

log "time: $(box_since "$t_start") s in all, of which the root ${t_root} s"
log "PASS"
