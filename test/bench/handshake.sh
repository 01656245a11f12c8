#!/usr/bin/env bash
# Handshake benchmark (issue 13): a server tund with N peers in namespace
# hss-PID, pinned to CPU 0, and in namespace hsf-PID (CPU 1) a flood of
# handshake initiations from many source addresses (bench_handshake flood)
# plus a client tund whose established session pings the server every 10 ms
# through the tunnel while the flood runs. Three phases:
#   A  under-load detection off (TUND_TEST_UNDER_LOAD_THRESHOLD): every
#      initiation is consumed and answered; responses/s is what one core does
#   B  default load meter, a plain flood (no mac2): cookie replies/s
#   C  default load meter, a cookie-aware flood (mac2 after the first reply):
#      responses/s and cookie replies/s, per-source rate limit in force
# Each phase reports the flood's counts, tund's CPU (/proc/PID/stat) per
# message answered, and the ping's replies, loss and longest gap.
# Run by hand as root; see README.md.

usage() {
	cat <<'EOF'
usage: test/bench/handshake.sh [options]
  --peers N        peers in the server's file and the flood (default 2000)
  --sources4 N     IPv4 source addresses, 198.51.100.0 + i (default 256, at most 256)
  --sources6 N     IPv6 sources, 2001:db8:100:i::1, one /64 each (default 1024)
  --duration S     seconds of flood per phase (default 10)
  --rate R         initiations per second offered (default 0: as fast as the
                   peers may, 40 per second each)
  --check-every K  open every Kth response (default 1: all)
  --phases LIST    a subset of A,B,C (default A,B,C)
  --build DIR      build tree (default build-rel)
  --perf           profile tund during phase A (perf record, needs perf)
  -h, --help       this text
Environment: TUND, TUNCTL, BENCH (binaries; default from --build).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build-rel"
peers=2000
n4=256
n6=1024
duration=10
rate=0
check=1
phases=A,B,C
perf=0
while [ $# -gt 0 ]; do
	case $1 in
	--peers) peers=${2:?} && shift ;;
	--sources4) n4=${2:?} && shift ;;
	--sources6) n6=${2:?} && shift ;;
	--duration) duration=${2:?} && shift ;;
	--rate) rate=${2:?} && shift ;;
	--check-every) check=${2:?} && shift ;;
	--phases) phases=${2:?} && shift ;;
	--build) build=${2:?} && shift ;;
	--perf) perf=1 ;;
	-h | --help) usage && exit 0 ;;
	*) usage >&2 && exit 2 ;;
	esac
	shift
done
for v in peers n4 n6 duration rate check; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "handshake.sh: $v must be a number" >&2 && exit 2; }
done
[ "$peers" -ge 1 ] && [ "$peers" -le 20000 ] || { echo "handshake.sh: --peers 1..20000" >&2 && exit 2; }
[ "$n4" -le 256 ] && [ "$n6" -le 4096 ] && [ $((n4 + n6)) -ge 1 ] ||
	{ echo "handshake.sh: --sources4 0..256, --sources6 0..4096, not both 0" >&2 && exit 2; }
[ "$duration" -ge 1 ] && [ "$duration" -le 120 ] || { echo "handshake.sh: --duration 1..120" >&2 && exit 2; }

export TUND=${TUND:-$build/daemon/tund}
export TUNCTL=${TUNCTL:-$build/ctl/tunctl}
BENCH=${BENCH:-$build/test/bench/bench_handshake}
. "$here/../lib/netns.sh"

[ "$(id -u)" -eq 0 ] || { echo "handshake.sh: needs root (network namespaces)" >&2 && exit 1; }
for f in "$TUND" "$TUNCTL" "$BENCH"; do
	[ -x "$f" ] || { echo "handshake.sh: no binary at $f (build first)" >&2 && exit 1; }
done
e2e_init ping taskset timeout
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || log "handshake.sh: one CPU only: tund and the flood share it"
cpu_s=0
cpu_f=$((ncpu >= 2 ? 1 : 0))
tck=$(getconf CLK_TCK)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# --- underlay: server 192.0.2.1 / 2001:db8::1, flood 192.0.2.2 / 2001:db8::2 + sources ---
ns_new hss
ns_new hsf
veth "$hss" v0 "$hsf" v0
addr "$hss" v0 192.0.2.1/24 2001:db8::1/64
addr "$hsf" v0 192.0.2.2/24 2001:db8::2/64
{
	for ((i = 0; i < n4; i++)); do echo "addr add 198.51.100.$i/32 dev v0"; done
	for ((i = 0; i < n6; i++)); do printf 'addr add 2001:db8:100:%x::1/128 dev v0 nodad\n' "$i"; done
} >"$E2E_TMP/addrs"
run ip -n "$hsf" -batch "$E2E_TMP/addrs"
run ip -n "$hss" route add 198.51.100.0/24 via 192.0.2.2
run ip -n "$hss" -6 route add 2001:db8:100::/48 via 2001:db8::2
for ((i = 0; i < 50; i++)); do
	ip netns exec "$hss" ping -c 1 -W 1 -q 2001:db8::2 >/dev/null 2>&1 && break
	sleep 0.1
done

# --- keys and files ---
t0=$(date +%s.%N)
run "$BENCH" keys "$peers" "$E2E_TMP/keys"
ks=$(genkey)
kc=$(genkey)
ps=$(pubkey "$ks")
pc=$(pubkey "$kc")
ds=$(confdir s)
dc=$(confdir c)
{
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\nAddress = 10.13.0.1/16\n\n' "$ks"
	printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.13.0.2/32\n\n' "$pc"
	awk '{ printf "[Peer]\nPublicKey = %s\n\n", $2 }' "$E2E_TMP/keys"
} | write_conf "$ds/hs0.conf"
printf '[Interface]\nPrivateKey = %s\nListenPort = 51821\nAddress = 10.13.0.2/16\n\n[Peer]\nPublicKey = %s\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.13.0.1/32\n' \
	"$kc" "$ps" | write_conf "$dc/hsc0.conf"
log "handshake.sh: $peers keys and the files in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

PID_s=""
start_server() { # [ENV=VALUE...]
	printf '+ [hss] taskset -c %s %s --threads 1 (%s)\n' "$cpu_s" "$TUND" "$*" >&2
	env "$@" ip netns exec "$hss" taskset -c "$cpu_s" "$TUND" --foreground --log-level info \
		--threads 1 --config-dir "$ds" --control-socket "$E2E_TMP/s.sock" >>"$E2E_TMP/s.log" 2>&1 &
	PID_s=$!
	E2E_PIDS+=("$PID_s")
	wait_until 60 "hs0 up" grep -q 'hs0: up' "$E2E_TMP/s.log" || fail "server tund did not come up"
}
stop_server() {
	kill -TERM "$PID_s" 2>/dev/null
	wait "$PID_s" 2>/dev/null || true
	mv "$E2E_TMP/s.log" "$E2E_TMP/s.log.$PID_s"
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

ip netns exec "$hsf" taskset -c "$cpu_f" "$TUND" --foreground --log-level info --threads 1 \
	--config-dir "$dc" --control-socket "$E2E_TMP/c.sock" >>"$E2E_TMP/c.log" 2>&1 &
E2E_PIDS+=("$!")

# ping_gaps FILE: of `ping -D` output, the longest gap between two replies
# (ms), the replies, and the pings sent (ping's summary line).
ping_gaps() {
	awk '/bytes from/ { t = substr($1, 2, length($1) - 2) + 0
		if (n++) { g = (t - last) * 1000; if (g > max) max = g }
		last = t }
		/packets transmitted/ { sent = $1 }
		END { printf "%.1f %d %d\n", max, n, sent }' "$1"
}

declare -a REPORT=() MEMORY=()
status=0
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
phase() { # NAME FLOOD-OPTIONS...
	local name=$1 pp t1 t2 m1 m2 res gap replies seq fpid=""
	shift
	wait_until 20 "the client's session" ping_ok "$hsf" 10.13.0.1 ||
		{ log "phase $name: no ping through the tunnel" && status=1 && return; }
	ip netns exec "$hsf" ping -D -n -i 0.01 -w $((duration + 3)) 10.13.0.1 >"$E2E_TMP/ping.$name" 2>&1 &
	pp=$!
	E2E_PIDS+=("$pp")
	sleep 0.5
	m1=$(rss_kib "$PID_s")
	t1=$(ticks "$PID_s")
	if [ "$name" = A ] && [ "$perf" -eq 1 ]; then
		perf record -q -g -o "$E2E_TMP/perf.data" -p "$PID_s" -- sleep "$duration" >/dev/null 2>&1 &
		fpid=$!
	fi
	ip netns exec "$hsf" taskset -c "$cpu_f" "$BENCH" flood --server-pub "$ps" --keys "$E2E_TMP/keys" \
		--peers "$peers" --target4 192.0.2.1:51820 --target6 '[2001:db8::1]:51820' \
		--src4 198.51.100.0 --n4 "$n4" --src6 2001:db8:100:: --n6 "$n6" --rate "$rate" \
		--duration "$duration" --check-every "$check" "$@" >"$E2E_TMP/flood.$name" 2>"$E2E_TMP/flood.$name.err" ||
		{ log "phase $name: the flood reported invalid replies or failed" && status=1; }
	t2=$(ticks "$PID_s")
	m2=$(rss_kib "$PID_s")
	MEMORY+=("$(awk -v name="$name" -v a="$m1" -v b="$m2" -v n="$peers" 'BEGIN {
		printf "%s: VmRSS %d -> %d KiB, %+.0f bytes per peer", name, a, b, (b - a) * 1024 / n }')")
	[ -z "$fpid" ] || wait "$fpid" || true
	kill -INT "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null || true
	res=$(grep '^RESULT' "$E2E_TMP/flood.$name" || true)
	read -r gap replies seq < <(ping_gaps "$E2E_TMP/ping.$name")
	log "phase $name: $res"
	REPORT+=("$(awk -v name="$name" -v res="$res" -v ticks=$((t2 - t1)) -v tck="$tck" -v gap="$gap" \
		-v replies="$replies" -v seq="$seq" -v dur="$duration" 'BEGIN {
		n = split(res, kv, " "); for (i = 2; i <= n; i++) { split(kv[i], p, "="); r[p[1]] = p[2] }
		cpu = ticks / tck; answered = r["responses"] + r["cookies"]
		printf "%-2s %9.0f %9.0f %9.0f %6s/%-6s %8.0f %6.1f%% %8.2f %7d %5d %8.1f",
			name, r["sent_per_s"], r["responses_per_s"], r["cookies_per_s"], r["valid"] + r["cookies_ok"],
			r["checked"] + r["cookies"] - r["cookies_stale"],
			answered ? cpu / answered * 1e6 : 0, cpu / (dur + 0.5) * 100, cpu, replies, seq - replies, gap }')")
}

IFS=, read -r -a plist <<<"$phases"
started=""
for p in "${plist[@]}"; do
	case $p in
	A)
		[ -z "$started" ] || stop_server
		start_server TUND_TEST_UNDER_LOAD_THRESHOLD=1000000000
		started=A
		phase A
		;;
	B | C)
		if [ "$started" != BC ]; then
			[ -z "$started" ] || stop_server
			start_server
			started=BC
		fi
		if [ "$p" = B ]; then phase B; else phase C --cookie; fi
		;;
	*) echo "handshake.sh: unknown phase $p" >&2 && exit 2 ;;
	esac
done

printf '\nhandshake.sh: %s peers, %s+%s sources, %s s per phase, rate %s, tund on CPU %s, flood on CPU %s\n' \
	"$peers" "$n4" "$n6" "$duration" "$rate" "$cpu_s" "$cpu_f"
printf 'load average before: %s, after: %s\n' "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-2s %9s %9s %9s %13s %8s %7s %8s %7s %5s %8s\n' ph sent/s resp/s cookie/s valid/chk \
	us/answer cpu cpu_s replies lost gap_ms
printf '%s\n' "${REPORT[@]}"
echo "A: load meter off, all consumed; B: under load, plain flood; C: under load, cookie-aware flood"
echo "us/answer: tund CPU per response or cookie reply sent; cpu: tund's share of one core"
printf '%s\n' "${MEMORY[@]}"
echo "(in A every peer ends the phase with a session: what a session adds to a peer)"
if [ "$perf" -eq 1 ] && [ -f "$E2E_TMP/perf.data" ]; then
	perf report -i "$E2E_TMP/perf.data" --no-children --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -25
fi
exit "$status"
