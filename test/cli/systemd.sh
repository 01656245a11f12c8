#!/usr/bin/env bash
# The unit files pass `systemd-analyze verify` (with their commands pointed
# at the tund and tunctl under test) and ask for what DESIGN.md promises:
# Type=notify, a watchdog, user tund with the two capabilities (ambient too)
# and the hardening options; sysusers.d makes the user, tmpfiles.d gives
# /etc/tund to group tund;
# tund.socket offers tund's default control socket, 0660, group tund.
set -euo pipefail
: "${TUND:?}" "${TUNCTL:?}" "${TUND_BUILD_DIR:?}"
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
unit="$TUND_BUILD_DIR/systemd/tund.service"
socket="$TUND_BUILD_DIR/systemd/tund.socket"
[ -f "$unit" ] || fail "$unit was not generated"
[ -f "$socket" ] || fail "$socket was not generated"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e "s|^ExecStart=[^ ]*|ExecStart=$TUND|" -e "s|^ExecReload=[^ ]*|ExecReload=$TUNCTL|" \
	"$unit" >"$tmp/tund.service"
cp "$socket" "$tmp/tund.socket"
out=$(systemd-analyze verify --man=no "$tmp/tund.service" "$tmp/tund.socket" 2>&1) ||
	fail "verify failed: $out"
# Warnings about our units (not about unrelated host units) fail the test.
if grep -E "tund\.(service|socket)" <<<"$out"; then
	fail "systemd-analyze complained about tund.service or tund.socket"
fi
for want in Type=notify WatchdogSec= "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
	NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	"DeviceAllow=/dev/net/tun rw" RestrictAddressFamilies= SystemCallFilter= \
	RuntimeDirectory=tund ConfigurationDirectory=tund RuntimeDirectoryPreserve=yes \
	ReadWritePaths=/etc/tund LimitNOFILE=65536 User=tund Group=tund \
	"AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE"; do
	grep -qF -- "$want" "$unit" || fail "tund.service lacks $want"
done
# Reload through tunctl, which waits for tund's answer, not a bare SIGHUP.
grep -qE "^ExecReload=/.*/tunctl reload$" "$unit" || fail "ExecReload is not tunctl reload"
# The socket unit listens where tund and tunctl look by default.
default_sock=$("$TUNCTL" --help 2>&1 | grep -oE "/[^ ,)]*control\.sock" | head -1)
[ -n "$default_sock" ] || fail "tunctl --help names no default socket"
for want in "ListenStream=$default_sock" SocketMode=0660 SocketGroup=tund RemoveOnStop=yes \
	WantedBy=sockets.target; do
	grep -qxF -- "$want" "$socket" || fail "tund.socket lacks $want"
done
src=$(dirname "$0")/../../systemd
grep -qE '^u tund ' "$src/tund.sysusers" || fail "tund.sysusers makes no user tund"
grep -qE '^d /etc/tund 2770 root tund ' "$src/tund.tmpfiles" || fail "tund.tmpfiles: /etc/tund is not root:tund 2770"
# The security score systemd computes is printed for the record.
systemd-analyze security --offline=yes "$tmp/tund.service" 2>/dev/null | tail -1 || true
echo PASS
