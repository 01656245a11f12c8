#!/usr/bin/env bash
# The unit file passes `systemd-analyze verify` (with its ExecStart pointed
# at the tund under test) and asks for what DESIGN.md promises: Type=notify,
# a watchdog, the two capabilities and the hardening options.
set -euo pipefail
: "${TUND:?}" "${TUND_BUILD_DIR:?}"
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
unit="$TUND_BUILD_DIR/systemd/tund.service"
[ -f "$unit" ] || fail "$unit was not generated"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$TUND|" "$unit" >"$tmp/tund.service"
out=$(systemd-analyze verify --man=no "$tmp/tund.service" 2>&1) || fail "verify failed: $out"
# Warnings about our unit (not about unrelated host units) fail the test.
if grep -F "tund.service" <<<"$out"; then
	fail "systemd-analyze complained about tund.service"
fi
for want in Type=notify WatchdogSec= "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE" \
	NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	"DeviceAllow=/dev/net/tun rw" RestrictAddressFamilies= SystemCallFilter= \
	RuntimeDirectory=tund ConfigurationDirectory=tund; do
	grep -qF -- "$want" "$unit" || fail "tund.service lacks $want"
done
# The security score systemd computes is printed for the record.
systemd-analyze security --offline=yes "$tmp/tund.service" 2>/dev/null | tail -1 || true
echo PASS
