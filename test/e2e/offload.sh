#!/usr/bin/env bash
# The batched data path end to end: TUN super-packets cut and sealed into
# UDP GSO sends, UDP GRO reads opened and glued back into TUN super-packets,
# and the plain path with --no-offload, with 1 GB through each.
#
#   ns a                                        ns b
#   wgt4 10.4.0.1/24 fd00:4::1/64               wgt4 10.4.0.2/24 fd00:4::2/64
#   wgt6 10.6.0.1/24 fd00:6::1/64               wgt6 10.6.0.2/24 fd00:6::2/64
#   tund ---- veth 192.0.2.1/24, 2001:db8::1 <-> 192.0.2.2/24, 2001:db8::2 ---- tund
#
# Rounds (daemons restarted between them):
#   1. offloads on both sides: 1 GB IPv4-in-IPv4 a->b, 1 GB IPv6-in-IPv6 b->a;
#      the underlay must carry far fewer packets than 1420-byte datagrams
#      would need (GSO at work), and both daemons report what they got;
#   2. --no-offload on both: the same two 1 GB transfers;
#   3. a with offloads, b without: 256 MB each way (the two paths interoperate).
# Every transfer is compared by SHA-256; ping and 64-byte UDP keep working.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init socat ping ss sha256sum python3

# 1 GB each; under the sanitizers (CI's second pass, ten times slower) a
# quarter of it: the normal pass is the one that moves the gigabytes.
if [ -n "${ASAN_OPTIONS:-}" ]; then
	MB=${TUND_E2E_OFFLOAD_MB:-256}
else
	MB=${TUND_E2E_OFFLOAD_MB:-1024}
fi

dual_stack_pair

# stream FROM TO DST MB PORT: MB megabytes of random bytes over TCP, generated
# and hashed on the fly (no file), compared by SHA-256 on arrival.
stream() {
	local from=$1 to=$2 dst=$3 mb=$4 port=$5 tcp=TCP host=$3
	if [[ $dst == *:* ]]; then
		tcp=TCP6 host="[$dst]"
	fi
	local sent="$E2E_TMP/sent.$port" got="$E2E_TMP/got.$port"
	rm -f "$sent" "$got"
	ip netns exec "$to" bash -c "socat -u $tcp-LISTEN:$port,reuseaddr,bind=$host - | sha256sum >'$got'" &
	local lpid=$!
	E2E_PIDS+=("$lpid")
	wait_until 5 "listener on $dst:$port" listening "$to" "$port" || fail "no listener"
	local t0 t1
	t0=$(date +%s.%N)
	n "$from" bash -c "head -c $((mb * 1024 * 1024)) /dev/urandom | tee >(sha256sum >'$sent') |
		timeout 300 socat -u - $tcp:$host:$port" || fail "transfer to $dst failed"
	wait "$lpid" || fail "receiver of $dst failed"
	t1=$(date +%s.%N)
	wait_until 5 "sender's hash" test -s "$sent" || fail "no hash of what was sent"
	[ "$(cat "$sent")" = "$(cat "$got")" ] || fail "$mb MB to $dst: checksum mismatch"
	log "$mb MB to $dst: checksum ok, $(awk "BEGIN{printf \"%.0f\", $mb * 8 / ($t1 - $t0)}") Mbit/s"
}

# veth_tx_ns NS: packets sent on the underlay so far.
veth_tx_ns() { ip netns exec "$1" cat /sys/class/net/v0/statistics/tx_packets; }

# small_udp FROM TO DST PORT: 64-byte datagrams arrive (a packet, not a
# super-packet, path). The receiver is stopped once they have, so the next
# round may bind the same address again.
small_udp() {
	local from=$1 to=$2 dst=$3 port=$4 udp=UDP host=$3 out="$E2E_TMP/udp.$4"
	if [[ $dst == *:* ]]; then
		udp=UDP6 host="[$dst]"
	fi
	rm -f "$out"
	ip netns exec "$to" timeout 10 socat -u "$udp-RECV:$port,bind=$host" "OPEN:$out,creat,append" &
	local rpid=$!
	E2E_PIDS+=("$rpid")
	wait_until 5 "UDP receiver on $dst:$port" udp_bound "$to" "$port" || fail "no UDP receiver"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		head -c 64 /dev/zero | ip netns exec "$from" socat -u - "$udp-SENDTO:$host:$port"
	done
	wait_until 5 "64-byte datagrams to $dst" test -s "$out" || fail "no UDP datagram reached $dst"
	kill "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null || true
}

# udp_bound NS PORT: something in NS is bound to UDP port PORT.
udp_bound() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }

start_both() {
	local args_a=$1 args_b=$2
	# shellcheck disable=SC2206 # word splitting of the option lists is the point
	TUND_ARGS=($args_a)
	tund_start "$a" a "$da"
	# shellcheck disable=SC2206
	TUND_ARGS=($args_b)
	tund_start "$b" b "$db"
	TUND_ARGS=()
	for ns in "$a" "$b"; do
		tund_wait_iface "$ns" wgt4 || fail "wgt4 not up"
		tund_wait_iface "$ns" wgt6 || fail "wgt6 not up"
	done
	assert_ping "$a" 10.4.0.2
	assert_ping "$b" fd00:6::1
}

restart_both() {
	tund_stop a
	tund_stop b
	: >"$E2E_TMP/a.log"
	: >"$E2E_TMP/b.log"
	start_both "$1" "$2"
}

log "--- round 1: offloads on both sides"
start_both "" ""
grep -q "wgt4: up, .*offloads: tun vnet+tso" "$E2E_TMP/a.log" ||
	fail "a did not get TUN offloads: $(grep 'up, listening' "$E2E_TMP/a.log")"
grep -q "offloads: .*udp gso+gro" "$E2E_TMP/b.log" || fail "b did not get UDP GSO and GRO"
tx0=$(veth_tx_ns "$a")
stream "$a" "$b" 10.4.0.2 "$MB" 5001
tx1=$(veth_tx_ns "$a")
# 1 GB in 1420-byte datagrams is over 750,000 packets; GSO sends tens of KiB each.
limit=$((MB * 1024 * 1024 / 1400 / 4))
log "underlay packets from a for $MB MB: $((tx1 - tx0)) (one per datagram would be $((MB * 1024 * 1024 / 1400)))"
[ $((tx1 - tx0)) -lt "$limit" ] || fail "the underlay carried $((tx1 - tx0)) packets: GSO is not used"
stream "$b" "$a" fd00:6::1 "$MB" 5002
small_udp "$a" "$b" 10.4.0.2 5301
small_udp "$b" "$a" fd00:6::1 5302
tund_alive a && tund_alive b || fail "a daemon died"

log "--- round 2: --no-offload on both sides"
restart_both --no-offload --no-offload
grep -q "wgt4: up, .*offloads: none" "$E2E_TMP/a.log" || fail "a used offloads despite --no-offload"
stream "$a" "$b" 10.4.0.2 "$MB" 5003
stream "$b" "$a" fd00:6::1 "$MB" 5004
small_udp "$a" "$b" 10.4.0.2 5303

log "--- round 3: offloads on a only"
restart_both "" --no-offload
stream "$a" "$b" fd00:4::2 $((MB / 4)) 5005
stream "$b" "$a" 10.6.0.1 $((MB / 4)) 5006
tund_alive a && tund_alive b || fail "a daemon died"
log "PASS"
