# shellcheck shell=bash
# The three-namespace topology of the localhost-tunnel tests, sourced after
# netns.sh:
#
#   user 198.51.100.2 ── veth ── 198.51.100.1  srv  192.0.2.1 ── veth ── 192.0.2.2  cli
#        2001:db8:1::2               2001:db8:1::1
#                                     tund0 10.90.0.1  ==== tunnel ====  tund0 10.90.0.2
#                                           fd90::1                            fd90::2
#                                     (AllowExpose)                      ([Expose web])
#
# "user" reaches the server's public address only: no route to cli, and srv
# does not forward. cli runs the local services on 127.0.0.1.
# expose_setup writes both interface files (SERVER_EXTRA and CLIENT_EXTRA are
# appended to them; NONLOCAL_BIND=1 sets net.ipv{4,6}.ip_nonlocal_bind in srv
# and cli) and starts both daemons; afterwards S and C run tunctl
# against the server's and the client's daemon.

EXPOSE_TOOL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/exposetool.py"

expose_setup() {
	ns_new user
	ns_new srv
	ns_new cli
	veth "$user" v0 "$srv" vu
	veth "$srv" vc "$cli" v0
	addr "$user" v0 198.51.100.2/24 2001:db8:1::2/64
	addr "$srv" vu 198.51.100.1/24 2001:db8:1::1/64
	addr "$srv" vc 192.0.2.1/24
	addr "$cli" v0 192.0.2.2/24
	ip netns exec "$srv" sysctl -qw net.ipv4.ip_forward=0
	if [ -n "${NONLOCAL_BIND:-}" ]; then # as on keepalived/haproxy hosts: bind() to any address
		for ns in "$srv" "$cli"; do
			ip netns exec "$ns" sysctl -qw net.ipv4.ip_nonlocal_bind=1 net.ipv6.ip_nonlocal_bind=1
		done
	fi
	ks=$(genkey)
	kc=$(genkey)
	ps=$(pubkey "$ks")
	pcl=$(pubkey "$kc")
	dsrv=$(confdir srv)
	dcli=$(confdir cli)
	expose_write_server "8000-8099, 9000"
	write_conf "$dcli/tund0.conf" <<CONF
[Interface]
PrivateKey = $kc
Address = 10.90.0.2/24, fd90::2/64

[Peer]
Name = server
PublicKey = $ps
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.90.0.1/32, fd90::1/128
PersistentKeepalive = 25

[Expose web]
LocalPort = 8000
Peer = server
PublicPort = 8080
${CLIENT_EXTRA:-}
CONF
	tund_start "$srv" srv "$dsrv"
	tund_start "$cli" cli "$dcli"
	tund_wait_iface "$srv" tund0 && tund_wait_iface "$cli" tund0 || fail "interfaces not up"
}

# expose_write_server ALLOW [CLIENT_ALLOWED_IPS [MORE]]: the server's file, with
# AllowExpose = ALLOW for the client (and the lines of PEER_EXTRA in its
# [Peer]); MORE (other [Peer] sections) at the end.
expose_write_server() {
	write_conf "$dsrv/tund0.conf" <<CONF
[Interface]
PrivateKey = $ks
ListenPort = 51820
Address = 10.90.0.1/24, fd90::1/64
ExposeGracePeriod = 3
${SERVER_EXTRA:-}

[Peer]
Name = laptop
PublicKey = $pcl
AllowedIPs = ${2:-10.90.0.2/32, fd90::2/128}
AllowExpose = $1
${PEER_EXTRA:-}
${3:-}
CONF
}

S() { "$TUNCTL" --socket "$E2E_TMP/srv.sock" "$@"; }
C() { "$TUNCTL" --socket "$E2E_TMP/cli.sock" "$@"; }

# expose_state NAME: the client's state of service NAME ("active", ...).
expose_state() {
	C --json show tund0 | python3 -c '
import json, sys
for s in json.load(sys.stdin)["interfaces"][0]["exposes"]:
    if s["name"] == sys.argv[1]:
        print(s["state"])' "$1"
}
expose_is() { [ "$(expose_state "$1")" = "$2" ]; }

# fd_count NAME / rss_kib NAME: open descriptors and resident memory of a daemon.
fd_count() {
	local var="TUND_PID_$1"
	ls "/proc/${!var}/fd" | wc -l
}
rss_kib() {
	local var="TUND_PID_$1"
	awk '/^VmRSS:/ {print $2}' "/proc/${!var}/status"
}

# bg NS NAME CMD...: run CMD in NS in the background, output in $E2E_TMP/NAME.log; PID in BG_PID.
bg() {
	local ns=$1 name=$2
	shift 2
	printf '+ [%s] %s & (log %s.log)\n' "${ns%-$$}" "$*" "$name" >&2
	ip netns exec "$ns" "$@" >"$E2E_TMP/$name.log" 2>&1 &
	BG_PID=$!
	E2E_PIDS+=("$BG_PID")
}

# stop_bg PID: stop a background helper we started and reap it.
stop_bg() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
