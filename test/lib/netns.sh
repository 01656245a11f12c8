# shellcheck shell=bash
# Helpers for tund's end-to-end tests: namespaces, veth links, tund daemons,
# waiting on conditions, and cleanup that runs even when a test fails.
#
# Source it from a test script:
#     . "$(dirname "$0")/../lib/netns.sh"
# Then: e2e_init (checks root and tools, sets the EXIT trap), ns_new, veth,
# tund_conf, tund_start, wait_until, ... Every helper that changes something
# echoes the command it runs, prefixed with "+", so a failing log reads like
# a transcript. Names contain $$ so parallel runs never collide.

set -euo pipefail

TUND=${TUND:-tund}
TUNCTL=${TUNCTL:-tunctl}
E2E_TMP=""
E2E_NAMESPACES=()
E2E_PIDS=()
E2E_CLEANUPS=()
TUND_ARGS=()

log() { printf '%s\n' "$*" >&2; }
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}
skip() {
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}
run() {
	printf '+ %s\n' "$*" >&2
	"$@"
}
# n NS CMD...: run CMD inside namespace NS (echoed).
n() {
	local ns=$1
	shift
	printf '+ [%s] %s\n' "${ns%-$$}" "$*" >&2
	ip netns exec "$ns" "$@"
}
# nq NS CMD...: the same, quietly (for polling).
nq() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

e2e_cleanup() {
	local rc=$? i pid
	set +e
	for ((i = ${#E2E_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${E2E_CLEANUPS[i]}" >/dev/null 2>&1
	done
	# Only processes that are still this shell's children: a PID that was
	# already waited for may belong to someone else by now.
	local -a live=()
	local alive
	alive=" $(jobs -p | tr '\n' ' ') "
	for pid in "${E2E_PIDS[@]}"; do
		[[ "$alive" == *" $pid "* ]] && live+=("$pid")
	done
	for pid in "${live[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${live[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${E2E_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$E2E_TMP" ]; then
		for f in "$E2E_TMP"/*.log; do
			[ -f "$f" ] || continue
			printf '\n===== %s (last 60 lines) =====\n' "$(basename "$f")" >&2
			tail -n 60 "$f" >&2
		done
	fi
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	exit "$rc"
}

# e2e_init [TOOLS...]: skip (77) unless root with /dev/net/tun and the tools.
e2e_init() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	require_cmd ip "$@"
	[ -x "$TUND" ] || command -v "$TUND" >/dev/null || skip "tund binary not found ($TUND)"
	E2E_TMP=$(mktemp -d "/tmp/tund-e2e.$$.XXXXXX")
	chmod 700 "$E2E_TMP"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

# at_exit CMD: run CMD (a string) at cleanup, before namespaces go.
at_exit() { E2E_CLEANUPS+=("$1"); }

# ns_new NAME: create namespace NAME-$$ with lo up, and set the shell
# variable NAME to its full name (not in a subshell: cleanup must know it).
ns_new() {
	local ns="$1-$$"
	run ip netns add "$ns"
	E2E_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

# veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
veth() {
	run ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# addr NS IF ADDR/LEN...: add addresses without duplicate address detection.
addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		if [[ $a == *:* ]]; then
			run ip -n "$ns" addr add "$a" dev "$dev" nodad
		else
			run ip -n "$ns" addr add "$a" dev "$dev"
		fi
	done
}

genkey() { "$TUNCTL" genkey; }
pubkey() { printf '%s\n' "$1" | "$TUNCTL" pubkey; }

# conf_path NAME IFACE: where a daemon NAME keeps its config for IFACE.
confdir() {
	local d="$E2E_TMP/$1.d"
	mkdir -p "$d"
	chmod 700 "$d"
	echo "$d"
}

# write_conf FILE < text: write a config file with mode 0600.
write_conf() {
	(umask 077 && cat >"$1")
}

# tund_start NS NAME CONFDIR [EXTRA ENV...]: start tund in NS, log to $E2E_TMP/NAME.log.
# Sets TUND_PID_<NAME>. Waits until the control socket or the interface exists.
# TUND_ARGS (an array, may be unset) holds extra command-line options.
tund_start() {
	local ns=$1 name=$2 dir=$3
	shift 3
	local logf="$E2E_TMP/$name.log" sock="$E2E_TMP/$name.sock"
	local -a extra=("${TUND_ARGS[@]}")
	printf '+ [%s] %s --foreground --config-dir %s --control-socket %s %s(log %s)\n' \
		"${ns%-$$}" "$TUND" "$dir" "$sock" "${extra[*]:+${extra[*]} }" "$logf" >&2
	# `wg`'s UAPI sockets in the test's own directory, unless EXTRA ENV says
	# otherwise (TUND_UAPI_DIR=/var/run/wireguard for the real `wg`).
	env TUND_UAPI_DIR="$E2E_TMP/uapi-$name" "$@" ip netns exec "$ns" "$TUND" --foreground --log-level debug \
		--config-dir "$dir" --control-socket "$sock" "${extra[@]}" >>"$logf" 2>&1 &
	local pid=$!
	E2E_PIDS+=("$pid")
	printf -v "TUND_PID_$name" '%s' "$pid"
	wait_until 10 "tund $name up" tund_log_has "$name" "starting" || fail "tund $name did not start"
}

# tund_wait_iface NS IFACE: wait until IFACE exists and is up in NS.
tund_wait_iface() {
	wait_until 10 "$2 up in ${1%-$$}" iface_is_up "$1" "$2"
}
iface_is_up() { ip -n "$1" link show "$2" 2>/dev/null | grep -q ',UP'; }

# tund_stop NAME: SIGTERM the daemon and wait for it to exit; fails if it crashed.
tund_stop() {
	local var="TUND_PID_$1" pid rc=0
	pid=${!var}
	run kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "tund $1 exited with status $rc"
}

# tund_alive NAME: the daemon is still running.
tund_alive() {
	local var="TUND_PID_$1"
	kill -0 "${!var}" 2>/dev/null
}

tund_log_has() { grep -q -- "$2" "$E2E_TMP/$1.log" 2>/dev/null; }

# wait_until SECONDS WHAT CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	log "timed out after ${secs}s waiting for: $what"
	return 1
}

# ping_ok NS ADDR: three quick pings get an answer.
ping_ok() {
	ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1
}

# assert_ping NS ADDR [SECONDS]: wait (handshake) until ADDR answers, then 5 pings with no loss.
assert_ping() {
	local ns=$1 dst=$2 secs=${3:-10}
	wait_until "$secs" "ping $dst from ${ns%-$$}" ping_ok "$ns" "$dst" || fail "no ping reply from $dst"
	n "$ns" ping -c 5 -i 0.05 -W 1 -q "$dst" >/dev/null || fail "ping $dst lost packets"
}

# assert_no_ping NS ADDR: nothing gets through for 3 seconds.
assert_no_ping() {
	if ip netns exec "$1" ping -c 3 -i 0.5 -W 1 -q "$2" >/dev/null 2>&1; then
		fail "ping $2 from ${1%-$$} got through but must not"
	fi
}

# transfer NS_FROM NS_TO DST_ADDR MB [PORT]: send MB megabytes of random data over TCP,
# compare SHA-256 on arrival.
transfer() {
	local from=$1 to=$2 dst=$3 mb=$4 port=${5:-5001}
	local src="$E2E_TMP/xfer-src.$port" out="$E2E_TMP/xfer-out.$port"
	local tcp=TCP host=$dst
	if [[ $dst == *:* ]]; then
		tcp=TCP6 host="[$dst]"
	fi
	head -c "$((mb * 1024 * 1024))" /dev/urandom >"$src"
	rm -f "$out"
	ip netns exec "$to" socat -u "$tcp-LISTEN:$port,reuseaddr,bind=$host" "OPEN:$out,creat,trunc" &
	local lpid=$!
	E2E_PIDS+=("$lpid")
	wait_until 5 "listener on $dst:$port" listening "$to" "$port" || fail "listener did not start"
	local t0 t1
	t0=$(date +%s.%N)
	n "$from" timeout 120 socat -u "OPEN:$src" "$tcp:$host:$port" || fail "transfer to $dst failed"
	wait "$lpid" || fail "receiver failed"
	t1=$(date +%s.%N)
	local a b
	a=$(sha256sum <"$src" | cut -d' ' -f1)
	b=$(sha256sum <"$out" | cut -d' ' -f1)
	[ "$a" = "$b" ] || fail "transfer to $dst: checksum mismatch ($(stat -c %s "$out") bytes arrived)"
	log "transfer of ${mb} MB to $dst ok in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
	rm -f "$src" "$out"
}
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

# ns_pair A B: the usual two-node underlay. Namespaces A and B as ns_new makes
# them (the shell variables A and B get their full names), joined by a veth
# v0 with 192.0.2.1/24 on A's end and 192.0.2.2/24 on B's.
ns_pair() {
	ns_new "$1"
	ns_new "$2"
	veth "${!1}" v0 "${!2}" v0
	addr "${!1}" v0 192.0.2.1/24
	addr "${!2}" v0 192.0.2.2/24
}

# dual_stack_pair: ns_pair a b with IPv6 too (2001:db8::1 and ::2 on v0), keys
# ka/kb (public pa/pb), config dirs da/db, and in each two interfaces carrying
# IPv4 and IPv6 inside: wgt4 over the IPv4 underlay (10.4.0.x, fd00:4::x, UDP
# 51820) and wgt6 over the IPv6 one (10.6.0.x, fd00:6::x, UDP 51821); a is .1.
dual_stack_pair() {
	ns_pair a b
	addr "$a" v0 2001:db8::1/64
	addr "$b" v0 2001:db8::2/64
	ka=$(genkey) kb=$(genkey)
	pa=$(pubkey "$ka") pb=$(pubkey "$kb")
	da=$(confdir a) db=$(confdir b)
	tunnel_conf "$da/wgt4.conf" "$ka" "10.4.0.1/24, fd00:4::1/64" 51820 "$pb" 192.0.2.2:51820 "10.4.0.2/32, fd00:4::2/128"
	tunnel_conf "$da/wgt6.conf" "$ka" "10.6.0.1/24, fd00:6::1/64" 51821 "$pb" "[2001:db8::2]:51821" "10.6.0.2/32, fd00:6::2/128"
	tunnel_conf "$db/wgt4.conf" "$kb" "10.4.0.2/24, fd00:4::2/64" 51820 "$pa" 192.0.2.1:51820 "10.4.0.1/32, fd00:4::1/128"
	tunnel_conf "$db/wgt6.conf" "$kb" "10.6.0.2/24, fd00:6::2/64" 51821 "$pa" "[2001:db8::1]:51821" "10.6.0.1/32, fd00:6::1/128"
}

# tunnel_conf FILE KEY ADDRESS LISTENPORT PEER_PUBKEY ENDPOINT ALLOWEDIPS [LINE...] [-- LINE...]:
# write (as write_conf) an interface file with one [Peer]. An empty ADDRESS,
# LISTENPORT or ENDPOINT leaves its line out. Extra "Key = value" LINEs go into
# [Interface], those after "--" into [Peer]; empty ones are left out.
tunnel_conf() {
	local file=$1 key=$2 address=$3 port=$4 peer=$5 endpoint=$6 allowed=$7
	local -a iface_lines=()
	shift 7
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		iface_lines+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	{
		printf '[Interface]\nPrivateKey = %s\n' "$key"
		[ -z "$port" ] || printf 'ListenPort = %s\n' "$port"
		[ -z "$address" ] || printf 'Address = %s\n' "$address"
		printf '%s\n' "${iface_lines[@]}"
		printf '[Peer]\nPublicKey = %s\n' "$peer"
		[ -z "$endpoint" ] || printf 'Endpoint = %s\n' "$endpoint"
		printf 'AllowedIPs = %s\n' "$allowed"
		printf '%s\n' "$@"
	} | grep -v '^$' | write_conf "$file"
}

# paced_transfer_start NS_FROM NS_TO DST_ADDR MB BYTES_PER_S [PORT]: start sending MB
# megabytes of random data over TCP, paced at BYTES_PER_S (slowcat.py), in the
# background, so the test can ping, reload or roam meanwhile.
# paced_transfer_wait [CONTEXT]: wait for it to finish and compare SHA-256;
# CONTEXT ("during rekeys") ends the failure messages.
paced_transfer_start() {
	local from=$1 to=$2 dst=$3 mb=$4 rate=$5 port=${6:-5001} lib
	local tcp=TCP host=$dst
	if [[ $dst == *:* ]]; then
		tcp=TCP6 host="[$dst]"
	fi
	lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	E2E_PACED_SRC="$E2E_TMP/paced-src.$port" E2E_PACED_OUT="$E2E_TMP/paced-out.$port"
	head -c "$((mb * 1024 * 1024))" /dev/urandom >"$E2E_PACED_SRC"
	rm -f "$E2E_PACED_OUT"
	ip netns exec "$to" socat -u "$tcp-LISTEN:$port,reuseaddr,bind=$host" \
		"OPEN:$E2E_PACED_OUT,creat,trunc" &
	E2E_PACED_RPID=$!
	E2E_PIDS+=("$E2E_PACED_RPID")
	wait_until 5 listener listening "$to" "$port" || fail "no listener"
	n "$from" bash -c \
		"python3 '$lib/slowcat.py' $rate <'$E2E_PACED_SRC' | timeout 60 socat -u - $tcp:$host:$port" &
	E2E_PACED_SPID=$!
	E2E_PIDS+=("$E2E_PACED_SPID")
}
paced_transfer_wait() {
	local ctx=${1:+ $1}
	wait "$E2E_PACED_SPID" || fail "the transfer failed$ctx"
	wait "$E2E_PACED_RPID" || fail "the receiver failed$ctx"
	[ "$(sha256sum <"$E2E_PACED_SRC")" = "$(sha256sum <"$E2E_PACED_OUT")" ] ||
		fail "checksum mismatch$ctx"
	rm -f "$E2E_PACED_SRC" "$E2E_PACED_OUT"
}
