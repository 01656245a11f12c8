# shellcheck shell=bash
# Helpers to run wireguard-go (Debian's package, configured with `wg`) as the
# other side of interop tests. Source after netns.sh.

# wggo_start NS IFNAME: start wireguard-go in the foreground inside NS.
# Its UAPI socket is /var/run/wireguard/IFNAME.sock (shared by all
# namespaces), so IFNAME must be unique: use one with $$ in it.
wggo_start() {
	local ns=$1 ifname=$2 logf="$E2E_TMP/wggo-$2.log"
	printf '+ [%s] wireguard-go -f %s (log %s)\n' "${ns%-$$}" "$ifname" "$logf" >&2
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL=debug \
		ip netns exec "$ns" wireguard-go -f "$ifname" >>"$logf" 2>&1 &
	E2E_PIDS+=("$!")
	at_exit "rm -f /var/run/wireguard/$ifname.sock"
	wait_until 10 "wireguard-go $ifname" test -S "/var/run/wireguard/$ifname.sock" ||
		fail "wireguard-go did not start"
}

# wg_latest_handshake NS IFNAME PUBKEY: seconds since epoch of the last handshake (0 = never).
wg_latest_handshake() {
	ip netns exec "$1" wg show "$2" latest-handshakes | awk -v k="$3" '$1 == k { print $2 }'
}
