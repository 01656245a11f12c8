#!/usr/bin/env bash
# Throughput and latency of tund beside the bare underlay and wireguard-go,
# measured in one run on this machine with one method.
#
#   ns a-PID                                       ns b-PID
#   wgt0      10.201.0.1/24  tund  <-- udp 51820 -->  tund  wgt0      10.201.0.2/24
#   wga<pid>  10.202.0.1/24  wg-go <-- udp 51821 -->  wg-go wgb<pid>  10.202.0.2/24
#   veth0     192.0.2.1/24   <------------------------------> veth0  192.0.2.2/24
#
# Both tunnels have MTU 1420 and run over the same veth; the idle one costs
# nothing while the other is measured. A fourth path, "relay", is tund's
# localhost tunnel: b publishes 127.0.0.1:5299 through a ([Expose]), and the
# iperf3 client in a connects to a's public port 5299, so every byte is
# relayed by both daemons and carried by the same tund tunnel; relay/tund is
# what the relay costs. Each metric is taken on the paths back to back
# (veth, tund, wireguard-go, relay), one measurement at a time,
# so that slow drifts of a shared machine hit all three alike: the ratios
# are the figures to compare between runs, the absolute ones describe only
# this machine at this moment.
#
# Metrics: iperf3 TCP a -> b with 1 stream and with 4 streams, ping RTT
# (min/avg/max/mdev from ping's summary; not for the relay), the daemons' CPU
# time during the TCP runs, and VmRSS/VmHWM of every daemon after the run.
#
# Run by hand as root from a built tree (Release or RelWithDebInfo):
#     test/bench/bench.sh [--build DIR] [--time SECONDS] [--quick] [--json FILE]
# TUND and TUNCTL override the binaries taken from the build directory.

usage() {
	cat <<'EOF'
usage: test/bench/bench.sh [options]
  --build DIR       build tree with daemon/tund and ctl/tunctl
                    (default: build-bench at the top of the source tree)
  --time SECONDS    length of each iperf3 run (default 10; 3 with --quick)
  --pings N         pings per path, 10 ms apart (default 200; 50 with --quick)
  --quick           shorter runs, for a smoke test of the script itself
  --json FILE       also write the figures to FILE as JSON
  --force           run even with a sanitizer build (figures are meaningless)
  --perf            after the measurements, one more tund 1-stream run under
                    `perf record` of both daemons; prints the top symbols
  -h, --help        this text
Environment: TUND, TUNCTL (binaries; default from --build).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build-bench"
secs=""
pings=""
quick=0
json=""
force=0
perf=0
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:?--build needs a directory} && shift ;;
	--time) secs=${2:?--time needs seconds} && shift ;;
	--pings) pings=${2:?--pings needs a count} && shift ;;
	--quick) quick=1 ;;
	--json) json=${2:?--json needs a file name} && shift ;;
	--force) force=1 ;;
	--perf) perf=1 ;;
	-h | --help) usage && exit 0 ;;
	*) usage >&2 && exit 2 ;;
	esac
	shift
done
if [ "$quick" -eq 1 ]; then
	secs=${secs:-3}
	pings=${pings:-50}
fi
secs=${secs:-10}
pings=${pings:-200}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ] || [ "$secs" -gt 600 ]; then
	echo "bench.sh: --time must be 1..600 seconds" >&2
	exit 2
fi
if ! [[ $pings =~ ^[0-9]+$ ]] || [ "$pings" -lt 5 ] || [ "$pings" -gt 10000 ]; then
	echo "bench.sh: --pings must be 5..10000" >&2
	exit 2
fi
if [ -n "$json" ]; then
	json=$(realpath -m "$json")
fi

export TUND=${TUND:-$build/daemon/tund}
export TUNCTL=${TUNCTL:-$build/ctl/tunctl}
. "$here/../lib/netns.sh"
. "$here/../lib/wggo.sh"

# --- the binary must be an optimised one --------------------------------------

# sanitizer_in FILE: name the sanitizer runtime FILE is linked with, if any.
sanitizer_in() {
	local syms
	syms=$({ nm -D "$1" 2>/dev/null || strings -a "$1"; } | grep -oE '__(asan|tsan|msan)_init|__ubsan_handle_[a-z_]+' | head -n 1)
	case $syms in
	__asan_init) echo AddressSanitizer ;;
	__tsan_init) echo ThreadSanitizer ;;
	__msan_init) echo MemorySanitizer ;;
	__ubsan_handle_*) echo UndefinedBehaviorSanitizer ;;
	esac
}

build_type=unknown
check_binary() {
	local san cache
	[ -x "$TUND" ] || { echo "bench.sh: no tund binary at $TUND (build first, or set TUND)" >&2 && exit 1; }
	[ -x "$TUNCTL" ] || { echo "bench.sh: no tunctl binary at $TUNCTL (build first, or set TUNCTL)" >&2 && exit 1; }
	san=$(sanitizer_in "$TUND")
	if [ -n "$san" ]; then
		if [ "$force" -eq 1 ]; then
			echo "bench.sh: WARNING: $TUND is built with $san; the figures mean nothing" >&2
		else
			echo "bench.sh: $TUND is built with $san: use a Release or RelWithDebInfo build (--force to run anyway)" >&2
			exit 1
		fi
	fi
	cache="$(dirname "$(dirname "$TUND")")/CMakeCache.txt"
	if [ -f "$cache" ]; then
		build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
		build_type=${build_type:-none}
	fi
	case $build_type in
	Release | RelWithDebInfo | MinSizeRel | unknown) ;;
	*) echo "bench.sh: WARNING: $TUND comes from a '$build_type' build, not Release/RelWithDebInfo" >&2 ;;
	esac
}

[ "$(id -u)" -eq 0 ] || { echo "bench.sh: needs root (network namespaces)" >&2 && exit 1; }
check_binary
for c in iperf3 ping ss wg wireguard-go python3; do
	if ! command -v "$c" >/dev/null 2>&1; then
		if [ "$c" = iperf3 ]; then
			echo "bench.sh: iperf3 missing, installing it (it belongs in scripts/deps.sh)" >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y iperf3 >&2 ||
				{ echo "bench.sh: cannot install iperf3" >&2 && exit 1; }
		else
			echo "bench.sh: $c is not installed (scripts/deps.sh)" >&2
			exit 1
		fi
	fi
done
e2e_init iperf3 ping ss wg wireguard-go python3

RESULTS="$E2E_TMP/results.tsv"
: >"$RESULTS"
# put PATH KEY VALUE: record one figure.
put() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

# --- topology -------------------------------------------------------------------

ns_new a
ns_new b
veth "$a" veth0 "$b" veth0
addr "$a" veth0 192.0.2.1/24
addr "$b" veth0 192.0.2.2/24
assert_ping "$a" 192.0.2.2

log "--- tund pair on wgt0 (udp 51820)"
ka=$(genkey)
kb=$(genkey)
da=$(confdir ta)
db=$(confdir tb)
# tund_conf FILE PRIV ADDR PEERPUB ENDPOINT ALLOWED EXTRA
tund_conf() {
	write_conf "$1" <<CONF
[Interface]
PrivateKey = $2
ListenPort = 51820
Address = $3
MTU = 1420

[Peer]
PublicKey = $4
Endpoint = $5
AllowedIPs = $6
$7
CONF
}
relay_port=5299
tund_conf "$da/wgt0.conf" "$ka" 10.201.0.1/24 "$(pubkey "$kb")" 192.0.2.2:51820 10.201.0.2/32 \
	"AllowExpose = $relay_port"
tund_conf "$db/wgt0.conf" "$kb" 10.201.0.2/24 "$(pubkey "$ka")" 192.0.2.1:51820 10.201.0.1/32 \
	"[Expose bench]
LocalPort = $relay_port
Peer = $(pubkey "$ka")"
tund_start "$a" ta "$da"
tund_start "$b" tb "$db"
tund_wait_iface "$a" wgt0 || fail "wgt0 not up in a"
tund_wait_iface "$b" wgt0 || fail "wgt0 not up in b"
# relay_active: b's service is published on a's port.
relay_active() {
	"$TUNCTL" --socket "$E2E_TMP/tb.sock" --json show wgt0 |
		python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["interfaces"][0]["exposes"][0]["state"] != "active")'
}
wait_until 20 "the relay path published" relay_active || fail "b's [Expose] not published"

log "--- wireguard-go pair (udp 51821)"
wga="wga$$"
wgb="wgb$$"
wga=${wga:0:15}
wgb=${wgb:0:15}
wka="$E2E_TMP/wga.key"
wkb="$E2E_TMP/wgb.key"
(umask 077 && wg genkey >"$wka" && wg genkey >"$wkb")
wggo_start "$a" "$wga"
WGGO_PID_a=${E2E_PIDS[-1]}
wggo_start "$b" "$wgb"
WGGO_PID_b=${E2E_PIDS[-1]}
# wggo_conf NS IF KEYFILE ADDR PEERKEYFILE ENDPOINT ALLOWED
wggo_conf() {
	n "$1" wg set "$2" private-key "$3" listen-port 51821 \
		peer "$(wg pubkey <"$5")" endpoint "$6" allowed-ips "$7"
	addr "$1" "$2" "$4"
	run ip -n "$1" link set "$2" mtu 1420 up
}
wggo_conf "$a" "$wga" "$wka" 10.202.0.1/24 "$wkb" 192.0.2.2:51821 10.202.0.2/32
wggo_conf "$b" "$wgb" "$wkb" 10.202.0.2/24 "$wka" 192.0.2.1:51821 10.202.0.1/32

for pair in "$a wgt0" "$b wgt0" "$a $wga" "$b $wgb"; do
	# shellcheck disable=SC2086
	set -- $pair
	m=$(ip -n "$1" -o link show "$2" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
	[ "$m" = 1420 ] || fail "$2 in ${1%-"$$"} has MTU $m, not 1420: the comparison would be unfair"
done

log "--- handshakes"
assert_ping "$a" 10.201.0.2
assert_ping "$a" 10.202.0.2

# real_pid PID NAME: the daemon's own PID. `ip netns exec` executes the command
# in place, so this is PID itself; look one level down should it ever fork.
real_pid() {
	local pid=$1 name=$2 child kids=()
	if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
		echo "$pid"
		return
	fi
	read -r -a kids <"/proc/$pid/task/$pid/children" || true
	for child in "${kids[@]}"; do
		if [ "$(cat "/proc/$child/comm" 2>/dev/null)" = "$name" ]; then
			echo "$child"
			return
		fi
	done
	fail "cannot find the $name process under PID $pid"
}
# shellcheck disable=SC2154 # set by tund_start through printf -v
tund_pids=("$(real_pid "$TUND_PID_ta" tund)" "$(real_pid "$TUND_PID_tb" tund)")
wggo_pids=("$(real_pid "$WGGO_PID_a" wireguard-go)" "$(real_pid "$WGGO_PID_b" wireguard-go)")

# --- measurements -----------------------------------------------------------------

# cpu_ticks PIDS...: user + system clock ticks of all threads of PIDS together.
cpu_ticks() {
	local pid sum=0 st
	for pid in "$@"; do
		st=$(cat "/proc/$pid/stat") || fail "PID $pid is gone"
		# Fields after the ")" that ends comm: utime is the 12th, stime the 13th.
		st=${st##*) }
		# shellcheck disable=SC2086
		set -- $st
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}
clk_tck=$(getconf CLK_TCK)

# reap PID SECONDS: wait up to SECONDS for PID (a child) to end, then kill it.
reap() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

port=5200
# tcp PATH DST STREAMS KEY [DAEMON PIDS...]: one iperf3 run a -> b, recorded
# under PATH/KEY (Mbit/s at the receiver, sender retransmits, daemon CPU).
tcp() {
	local path=$1 dst=$2 streams=$3 key=$4
	shift 4
	port=$((port + 1))
	local out="$E2E_TMP/iperf-$path-$key.json" srv spid t0 t1 c0=0 c1=0 p=$port
	if [ "$path" = relay ]; then # a's public port, relayed to b's 127.0.0.1
		p=$relay_port
	fi
	srv="$E2E_TMP/iperf-server-$path-$key.log"
	ip netns exec "$b" iperf3 -s -1 -B "$dst" -p "$p" >"$srv" 2>&1 &
	spid=$!
	E2E_PIDS+=("$spid")
	wait_until 5 "iperf3 server on $dst:$p" listening "$b" "$p" || fail "iperf3 server did not start"
	if [ $# -gt 0 ]; then c0=$(cpu_ticks "$@"); fi
	t0=$(date +%s.%N)
	n "$a" timeout --foreground -k 5 $((secs + 30)) iperf3 -c "$dst" -p "$p" -t "$secs" -P "$streams" -J >"$out" ||
		fail "iperf3 over $path ($streams streams) failed: $(head -c 400 "$out")"
	t1=$(date +%s.%N)
	if [ $# -gt 0 ]; then c1=$(cpu_ticks "$@"); fi
	reap "$spid" 5
	python3 - "$out" "$path" "$key" >>"$RESULTS" <<'PY'
import json, sys
out, path, key = sys.argv[1:]
end = json.load(open(out))["end"]
print(f"{path}\t{key}_mbps\t{end['sum_received']['bits_per_second'] / 1e6:.1f}")
print(f"{path}\t{key}_retransmits\t{end['sum_sent'].get('retransmits', 0)}")
PY
	if [ $# -gt 0 ]; then
		put "$path" "${key}_cpu_pct" "$(awk -v d=$((c1 - c0)) -v hz="$clk_tck" -v t0="$t0" -v t1="$t1" \
			'BEGIN { printf "%.0f", 100 * d / hz / (t1 - t0) }')"
	fi
	log "$path $key: $(grep -P "^$path\t${key}_mbps\t" "$RESULTS" | cut -f3) Mbit/s"
}

# rtt PATH DST: PINGS pings 10 ms apart, ping's own summary recorded.
rtt() {
	local path=$1 dst=$2 out
	out=$(n "$a" timeout --foreground -k 5 $((pings / 50 + 30)) ping -n -q -c "$pings" -i 0.01 -W 1 "$dst") || true
	[[ $out =~ ([0-9.]+)%\ packet\ loss ]] || fail "ping over $path: no summary in: $out"
	put "$path" ping_loss_pct "${BASH_REMATCH[1]}"
	[[ $out =~ =\ ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+)\ ms ]] || fail "ping over $path: no reply: $out"
	put "$path" rtt_min_ms "${BASH_REMATCH[1]}"
	put "$path" rtt_avg_ms "${BASH_REMATCH[2]}"
	put "$path" rtt_max_ms "${BASH_REMATCH[3]}"
	put "$path" rtt_mdev_ms "${BASH_REMATCH[4]}"
	log "$path rtt: ${BASH_REMATCH[2]} ms avg"
}

# memory PATH WHO PID: VmRSS and VmHWM in KiB.
memory() {
	local k
	for k in VmRSS VmHWM; do
		put "$1" "${2}_${k}_kib" "$(awk -v k="$k:" '$1 == k { print $2 }' "/proc/$3/status")"
	done
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "=== measuring: $secs s per iperf3 run, $pings pings per path"
for streams in 1 4; do
	tcp veth 192.0.2.2 "$streams" "tcp$streams"
	tcp tund 10.201.0.2 "$streams" "tcp$streams" "${tund_pids[@]}"
	tcp wggo 10.202.0.2 "$streams" "tcp$streams" "${wggo_pids[@]}"
	tcp relay 127.0.0.1 "$streams" "tcp$streams" "${tund_pids[@]}"
done
rtt veth 192.0.2.2
rtt tund 10.201.0.2
rtt wggo 10.202.0.2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

memory tund a "${tund_pids[0]}"
memory tund b "${tund_pids[1]}"
memory wggo a "${wggo_pids[0]}"
memory wggo b "${wggo_pids[1]}"
# profile: a separate tund run under perf, so that sampling never skews the
# figures above.
profile() {
	local data="$E2E_TMP/perf.data" ppid
	command -v perf >/dev/null 2>&1 || { log "perf is not installed: no profile" && return 0; }
	log "=== profile: tund 1 stream under perf record"
	perf record -F 999 -g -o "$data" -p "$(IFS=, && echo "${tund_pids[*]}")" >"$E2E_TMP/perf.log" 2>&1 &
	ppid=$!
	E2E_PIDS+=("$ppid")
	sleep 0.5
	tcp profile 10.201.0.2 1 tcp1 "${tund_pids[@]}"
	kill -INT "$ppid" 2>/dev/null || true
	reap "$ppid" 10
	echo
	echo "perf, both tund daemons during one 1-stream run: self time by object, then by symbol"
	perf report -i "$data" --stdio --no-children --sort dso 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 8
	perf report -i "$data" --stdio --no-children --sort dso,sym --percent-limit 0.7 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 40
}
if [ "$perf" -eq 1 ]; then
	profile >"$E2E_TMP/profile.txt"
fi

if ! tund_alive ta || ! tund_alive tb; then
	fail "a tund daemon died during the run"
fi

# --- report -------------------------------------------------------------------------

BENCH_TUND=$TUND BENCH_BUILD_TYPE=$build_type BENCH_SECS=$secs BENCH_PINGS=$pings \
	BENCH_LOAD="$load_before -> $load_after" BENCH_KERNEL=$(uname -r) BENCH_CPUS=$(nproc) \
	BENCH_CPU_MODEL=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1) \
	BENCH_TUND_VERSION=$("$TUND" --version 2>&1 | head -n 1) \
	BENCH_WGGO_VERSION=$(dpkg-query -W -f '${Version}' wireguard-go 2>/dev/null || echo unknown) \
	BENCH_IPERF=$(iperf3 --version 2>&1 | head -n 1) \
	python3 - "$RESULTS" "$json" <<'PY'
import json, os, sys
from datetime import datetime, timezone

res_file, json_file = sys.argv[1:]
R = {}
for line in open(res_file):
    path, key, val = line.rstrip("\n").split("\t")
    R.setdefault(path, {})[key] = float(val)
E = os.environ
meta = {
    "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    "tund": E["BENCH_TUND"], "tund_version": E["BENCH_TUND_VERSION"],
    "build_type": E["BENCH_BUILD_TYPE"], "wireguard_go": E["BENCH_WGGO_VERSION"],
    "iperf3": E["BENCH_IPERF"], "kernel": E["BENCH_KERNEL"], "cpus": int(E["BENCH_CPUS"]),
    "cpu_model": E["BENCH_CPU_MODEL"], "loadavg": E["BENCH_LOAD"],
    "iperf_seconds": int(E["BENCH_SECS"]), "pings": int(E["BENCH_PINGS"]),
    "tunnel_mtu": 1420,
}

def ratio(a, b):
    return a / b if a is not None and b else None

def get(path, key):
    return R.get(path, {}).get(key)

def fmt(v, nd=1):
    if v is None:
        return "-"
    return f"{v:.{nd}f}" if nd else f"{v:.0f}"

rows = [  # key, label, decimals
    ("tcp1_mbps", "TCP 1 stream (Mbit/s)", 0),
    ("tcp1_retransmits", "  retransmits", 0),
    ("tcp1_cpu_pct", "  daemons' CPU (% of a core)", 0),
    ("tcp4_mbps", "TCP 4 streams (Mbit/s)", 0),
    ("tcp4_retransmits", "  retransmits", 0),
    ("tcp4_cpu_pct", "  daemons' CPU (% of a core)", 0),
    ("rtt_min_ms", "RTT min (ms)", 3),
    ("rtt_avg_ms", "RTT avg (ms)", 3),
    ("rtt_max_ms", "RTT max (ms)", 3),
    ("rtt_mdev_ms", "RTT mdev (ms)", 3),
    ("ping_loss_pct", "ping loss (%)", 1),
]
ratio_keys = {"tcp1_mbps", "tcp4_mbps", "tcp1_cpu_pct", "tcp4_cpu_pct",
              "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_mdev_ms"}
print()
print(f"tund benchmark, {meta['date']}: {meta['cpus']} CPUs ({meta['cpu_model']}), kernel {meta['kernel']}")
print(f"tund {meta['tund']} ({meta['build_type']}), wireguard-go {meta['wireguard_go']}, {meta['iperf3']}")
print(f"iperf3 {meta['iperf_seconds']} s per run a -> b, {meta['pings']} pings at 10 ms; "
      f"tunnel MTU 1420 over veth MTU 1500; load average {meta['loadavg']}")
print()
hdr = (f"{'':30}{'veth':>10}{'tund':>10}{'wg-go':>10}{'relay':>10}"
       f"{'tund/veth':>11}{'tund/wg-go':>12}{'relay/tund':>12}")
print(hdr)
print("-" * len(hdr))
ratios = {}
for key, label, nd in rows:
    v, t, g, x = get("veth", key), get("tund", key), get("wggo", key), get("relay", key)
    rv = rg = rx = None
    if key in ratio_keys:
        rv, rg, rx = ratio(t, v), ratio(t, g), ratio(x, t)
        ratios[key] = {"tund/veth": rv, "tund/wireguard-go": rg, "relay/tund": rx}
    print(f"{label:30}{fmt(v, nd):>10}{fmt(t, nd):>10}{fmt(g, nd):>10}{fmt(x, nd):>10}"
          f"{fmt(rv, 2):>11}{fmt(rg, 2):>12}{fmt(rx, 2):>12}")
print()
print("Throughput ratios: higher is better for tund; RTT and CPU ratios: lower is better.")
print("CPU is that of both daemons of the path during the run (200% = both cores busy).")
print("relay: iperf3 through a's public port, relayed by both daemons over the tund tunnel.")
print()
mhdr = f"{'memory after the run (KiB)':30}{'a':>10}{'b':>10}"
print(mhdr)
print("-" * len(mhdr))
mem = {}
for who, name in (("tund", "tund"), ("wggo", "wireguard-go")):
    for k in ("VmRSS", "VmHWM"):
        va, vb = get(who, f"a_{k}_kib"), get(who, f"b_{k}_kib")
        mem.setdefault(name, {})[k] = {"a": va, "b": vb}
        print(f"{name + ' ' + k:30}{fmt(va, 0):>10}{fmt(vb, 0):>10}")
for k in ("VmRSS", "VmHWM"):
    t = (get("tund", f"a_{k}_kib") + get("tund", f"b_{k}_kib")) / 2
    g = (get("wggo", f"a_{k}_kib") + get("wggo", f"b_{k}_kib")) / 2
    ratios[k] = {"tund/wireguard-go": ratio(t, g)}
    print(f"{'tund/wg-go ' + k:30}{fmt(ratio(t, g), 2):>10}")

if json_file:
    doc = {"meta": meta,
           "results": {"veth": R.get("veth", {}), "tund": {k: v for k, v in R.get("tund", {}).items() if "_kib" not in k},
                       "wireguard-go": {k: v for k, v in R.get("wggo", {}).items() if "_kib" not in k},
                       "relay": R.get("relay", {})},
           "memory_kib": mem, "ratios": ratios}
    with open(json_file, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"\nfigures written to {json_file}")
PY

if [ -s "$E2E_TMP/profile.txt" ]; then
	cat "$E2E_TMP/profile.txt"
fi

tund_stop ta
tund_stop tb
