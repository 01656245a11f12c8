#!/usr/bin/env bash
# Throughput, small packets, latency, CPU and memory of tund beside the bare
# underlay and the tunnels users would pick instead, measured in one run on
# this machine with one method.
#
#   ns a-PID                                        ns b-PID
#   veth0   192.0.2.1 2001:db8::1 <------------------> veth0  192.0.2.2 2001:db8::2
#   wgt0      10.201.0.1 fd00:201::1  tund        udp 51820  tund        wgt0 .2
#   wga<pid>  10.202.0.1 fd00:202::1  wg-go       udp 51821  wg-go       wgb<pid> .2
#   wma<pid>  10.203.0.1 fd00:203::1  wg-go-modern udp 51822 wg-go-modern wmb<pid> .2
#   ova<pid>  10.204.0.1 fd00:204::1  openvpn     udp 51823  openvpn     ovb<pid> .2
#   tia<pid>  10.205.0.1 fd00:205::1  tincd       udp+tcp 51824 tincd    tib<pid> .2
#
# Every tunnel has MTU 1420 and runs over the same veth; the idle ones cost
# nothing while another is measured. wg-go is Debian's wireguard-go; wg-go-
# modern is a current upstream binary given as WGGO_MODERN=PATH (both are set
# up with `wg`); openvpn (2.6, TLS peer-to-peer, AES-256-GCM, userspace data
# channel) and tinc (1.0, router mode, aes-256-cbc + sha256) are measured
# when their Debian packages are installed. "relay" is tund's localhost
# tunnel: b publishes 127.0.0.1:5299 through a ([Expose]), and the iperf3
# client in a connects to a's public port 5299, so every byte is relayed by
# both daemons and carried by the tund tunnel; relay/tund is what the relay
# costs.
#
# Metrics, for each path: iperf3 TCP a -> b with 1 and with 4 streams, IPv4
# and IPv6 inside; iperf3 UDP with 64-byte payloads sent as fast as iperf3
# can (packets per second at the receiver, loss); ping RTT idle and under a
# full-speed 1-stream transfer; the daemons' CPU seconds per GB received
# (user + system ticks of both daemons over each run / bytes received); VmRSS
# of every daemon at idle before the runs and after them. The relay path has
# only the IPv4 TCP runs.
#
# Each metric is taken on all paths back to back, one measurement at a time,
# and the whole set is repeated --reps times, so that slow drifts of a shared
# machine hit all paths alike; the report gives the median of the
# repetitions. The ratios are the figures to compare between runs; the
# absolute ones describe only this machine at this moment.
#
# Run by hand as root from a built tree (Release or RelWithDebInfo); never
# from CTest. See test/bench/README.md.

usage() {
	cat <<'EOF'
usage: test/bench/bench.sh [options]
  --build DIR        build tree with daemon/tund and ctl/tunctl
                     (default: build-bench at the top of the source tree)
  --time SECONDS     length of each iperf3 run (default 10; 3 with --quick)
  --pings N          pings per ping measurement, 10 ms apart
                     (default 200; 50 with --quick)
  --reps N           repetitions of every measurement; medians are reported
                     (default 3)
  --paths LIST       comma-separated subset of
                     veth,tund,wggo,wggo-modern,openvpn,tinc,relay
                     (default: all that can run here)
  --tund-args "ARGS" extra arguments for both tund daemons (split on blanks),
                     e.g. --tund-args --no-offload
  --quick            shorter runs, for a smoke test of the script itself
  --json FILE        also write the figures to FILE as JSON
  --force            run even with a sanitizer build (figures are meaningless)
  --perf             after the measurements, one more tund 1-stream run under
                     `perf record` of both daemons; prints the top symbols
  -h, --help         this text
Environment: TUND, TUNCTL (binaries; default from --build); WGGO_MODERN
(a current upstream wireguard-go binary: adds the path wggo-modern).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build-bench"
secs=""
pings=""
reps=3
want_paths=""
tund_args_str=""
quick=0
json=""
force=0
perf=0
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:?--build needs a directory} && shift ;;
	--time) secs=${2:?--time needs seconds} && shift ;;
	--pings) pings=${2:?--pings needs a count} && shift ;;
	--reps) reps=${2:?--reps needs a count} && shift ;;
	--paths) want_paths=${2:?--paths needs a list} && shift ;;
	--tund-args) tund_args_str=${2?--tund-args needs a string} && shift ;;
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
if ! [[ $reps =~ ^[0-9]+$ ]] || [ "$reps" -lt 1 ] || [ "$reps" -gt 100 ]; then
	echo "bench.sh: --reps must be 1..100" >&2
	exit 2
fi
read -r -a tund_args <<<"$tund_args_str"
if [ -n "$json" ]; then
	json=$(realpath -m "$json")
fi

# All paths, in the order of the report's columns.
ALL_PATHS=(veth tund wggo-modern wggo openvpn tinc relay)
if [ -n "$want_paths" ]; then
	IFS=, read -r -a asked <<<"$want_paths"
	for p in "${asked[@]}"; do
		[[ " ${ALL_PATHS[*]} " == *" $p "* ]] ||
			{ echo "bench.sh: unknown path '$p' (known: ${ALL_PATHS[*]})" >&2 && exit 2; }
	done
else
	asked=("${ALL_PATHS[@]}")
fi

export TUND=${TUND:-$build/daemon/tund}
export TUNCTL=${TUNCTL:-$build/ctl/tunctl}
. "$here/../lib/netns.sh"

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
for c in iperf3 ping ss python3; do
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

# --- which paths run ----------------------------------------------------------

# unavailable PATH: why PATH cannot run on this machine (empty: it can).
unavailable() {
	case $1 in
	wggo)
		command -v wg >/dev/null 2>&1 || { echo "wg is not installed" && return; }
		command -v wireguard-go >/dev/null 2>&1 || echo "Debian's wireguard-go is not installed"
		;;
	wggo-modern)
		command -v wg >/dev/null 2>&1 || { echo "wg is not installed" && return; }
		if [ -z "${WGGO_MODERN:-}" ]; then
			echo "WGGO_MODERN is not set"
		elif [ ! -x "$WGGO_MODERN" ]; then
			echo "WGGO_MODERN=$WGGO_MODERN is not an executable"
		fi
		;;
	openvpn) command -v openvpn >/dev/null 2>&1 || echo "openvpn is not installed (apt-get install openvpn)" ;;
	tinc) command -v tincd >/dev/null 2>&1 || echo "tincd is not installed (apt-get install tinc)" ;;
	esac
}
PATHS=()
SKIPPED=()
for p in "${ALL_PATHS[@]}"; do # in the report's order, whatever the order asked
	[[ " ${asked[*]} " == *" $p "* ]] || continue
	why=$(unavailable "$p")
	if [ -n "$why" ]; then
		SKIPPED+=("$p: $why")
		echo "bench.sh: path $p skipped: $why" >&2
	else
		PATHS+=("$p")
	fi
done
[ ${#PATHS[@]} -gt 0 ] || { echo "bench.sh: no path left to measure" >&2 && exit 1; }
has_path() { [[ " ${PATHS[*]} " == *" $1 "* ]]; }
# The relay path rides on the tund pair.
need_tund=0
if has_path tund || has_path relay; then
	need_tund=1
fi

e2e_init iperf3 ping ss python3

RESULTS="$E2E_TMP/results.tsv"
: >"$RESULTS"
rep=0
# put PATH KEY VALUE: record one figure of the current repetition.
put() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$rep" >>"$RESULTS"; }
MISSED=()
# missed WHAT: a measurement that gave no figure; the run goes on, the report
# lists it and the script ends with status 1.
missed() {
	local what
	what=$(printf '%s' "$*" | tr -s '\n' ' ')
	MISSED+=("$what")
	log "WARNING: $what"
}

# Per path: the two daemons' PIDs, the addresses of b inside the tunnel, and
# the interfaces whose MTU must be 1420.
declare -A PIDS DST4 DST6 IFACES
PIDS[veth]=""
DST4[veth]=192.0.2.2
DST6[veth]=2001:db8::2

# --- topology -------------------------------------------------------------------

ns_new a
ns_new b
veth "$a" veth0 "$b" veth0
addr "$a" veth0 192.0.2.1/24 2001:db8::1/64
addr "$b" veth0 192.0.2.2/24 2001:db8::2/64
assert_ping "$a" 192.0.2.2

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

# bench_tund_start NS NAME CONFDIR: tund_start with --tund-args. Sets
# TUND_PID_<NAME>; a daemon that exits at once (an option it does not know)
# fails the run with its log.
bench_tund_start() {
	local ns=$1 name=$2 dir=$3 logf="$E2E_TMP/$2.log" sock="$E2E_TMP/$2.sock" pid
	printf '+ [%s] %s %s --foreground --config-dir %s --control-socket %s (log %s)\n' \
		"${ns%-"$$"}" "$TUND" "${tund_args[*]}" "$dir" "$sock" "$logf" >&2
	ip netns exec "$ns" "$TUND" "${tund_args[@]}" --foreground --log-level debug \
		--config-dir "$dir" --control-socket "$sock" >>"$logf" 2>&1 &
	pid=$!
	E2E_PIDS+=("$pid")
	printf -v "TUND_PID_$name" '%s' "$pid"
	wait_until 10 "tund $name up" tund_started "$name" "$pid" || true
	kill -0 "$pid" 2>/dev/null ||
		fail "tund $name exited at start (--tund-args '${tund_args[*]}'?): $(head -n 2 "$logf")"
	tund_log_has "$name" starting || fail "tund $name did not start: $(tail -n 3 "$logf")"
}
# tund_started NAME PID: the daemon logged its start, or is gone already.
tund_started() { tund_log_has "$1" starting || ! kill -0 "$2" 2>/dev/null; }

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
setup_tund() {
	local ka kb da db
	log "--- tund pair on wgt0 (udp 51820)"
	ka=$(genkey)
	kb=$(genkey)
	da=$(confdir ta)
	db=$(confdir tb)
	tund_conf "$da/wgt0.conf" "$ka" "10.201.0.1/24, fd00:201::1/64" "$(pubkey "$kb")" \
		192.0.2.2:51820 "10.201.0.2/32, fd00:201::2/128" "AllowExpose = $relay_port"
	tund_conf "$db/wgt0.conf" "$kb" "10.201.0.2/24, fd00:201::2/64" "$(pubkey "$ka")" \
		192.0.2.1:51820 "10.201.0.1/32, fd00:201::1/128" \
		"[Expose bench]
LocalPort = $relay_port
Peer = $(pubkey "$ka")"
	bench_tund_start "$a" ta "$da"
	bench_tund_start "$b" tb "$db"
	tund_wait_iface "$a" wgt0 || fail "wgt0 not up in a: $(tail -n 3 "$E2E_TMP/ta.log")"
	tund_wait_iface "$b" wgt0 || fail "wgt0 not up in b: $(tail -n 3 "$E2E_TMP/tb.log")"
	wait_until 20 "the relay path published" relay_active || fail "b's [Expose] not published"
	# shellcheck disable=SC2154 # set by bench_tund_start through printf -v
	PIDS[tund]="$(real_pid "$TUND_PID_ta" tund) $(real_pid "$TUND_PID_tb" tund)"
	PIDS[relay]=${PIDS[tund]}
	DST4[tund]=10.201.0.2
	DST6[tund]=fd00:201::2
	DST4[relay]=127.0.0.1
	IFACES[tund]="$a:wgt0 $b:wgt0"
}
# relay_active: b's service is published on a's port.
relay_active() {
	"$TUNCTL" --socket "$E2E_TMP/tb.sock" --json show wgt0 |
		python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["interfaces"][0]["exposes"][0]["state"] != "active")'
}

# wggo_bin_start NS IFNAME BINARY: a wireguard-go BINARY in the foreground in NS,
# on TUN device IFNAME (unique: its UAPI socket is shared by all namespaces).
# Prints nothing; appends its PID to E2E_PIDS.
wggo_bin_start() {
	local ns=$1 ifname=$2 bin=$3 logf="$E2E_TMP/wggo-$2.log"
	printf '+ [%s] %s -f %s (log %s)\n' "${ns%-"$$"}" "$bin" "$ifname" "$logf" >&2
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 LOG_LEVEL=debug \
		ip netns exec "$ns" "$bin" -f "$ifname" >>"$logf" 2>&1 &
	E2E_PIDS+=("$!")
	at_exit "rm -f /var/run/wireguard/$ifname.sock"
	wait_until 10 "$bin $ifname" test -S "/var/run/wireguard/$ifname.sock" ||
		fail "$bin did not start: $(tail -n 3 "$logf")"
}

# wggo_conf NS IF KEYFILE PORT ADDR4 ADDR6 PEERKEYFILE ENDPOINT ALLOWED
wggo_conf() {
	n "$1" wg set "$2" private-key "$3" listen-port "$4" \
		peer "$(wg pubkey <"$7")" endpoint "$8" allowed-ips "$9"
	addr "$1" "$2" "$5" "$6"
	run ip -n "$1" link set "$2" mtu 1420 up
}

# setup_wggo PATH BINARY PREFIX PORT NET: a pair of wireguard-go BINARY on
# interfaces PREFIX{a,b}PID, UDP PORT, 10.NET.0.x and fd00:NET::x inside.
setup_wggo() {
	local path=$1 bin=$2 ifa="${3}a$$" ifb="${3}b$$" port=$4 net=$5 pa pb comm
	ifa=${ifa:0:15}
	ifb=${ifb:0:15}
	log "--- $path pair ($bin, udp $port)"
	(umask 077 && wg genkey >"$E2E_TMP/$ifa.key" && wg genkey >"$E2E_TMP/$ifb.key")
	wggo_bin_start "$a" "$ifa" "$bin"
	pa=${E2E_PIDS[-1]}
	wggo_bin_start "$b" "$ifb" "$bin"
	pb=${E2E_PIDS[-1]}
	wggo_conf "$a" "$ifa" "$E2E_TMP/$ifa.key" "$port" "10.$net.0.1/24" "fd00:$net::1/64" \
		"$E2E_TMP/$ifb.key" "192.0.2.2:$port" "10.$net.0.2/32,fd00:$net::2/128"
	wggo_conf "$b" "$ifb" "$E2E_TMP/$ifb.key" "$port" "10.$net.0.2/24" "fd00:$net::2/64" \
		"$E2E_TMP/$ifa.key" "192.0.2.1:$port" "10.$net.0.1/32,fd00:$net::1/128"
	comm=$(basename "$bin" | cut -c1-15)
	PIDS[$path]="$(real_pid "$pa" "$comm") $(real_pid "$pb" "$comm")"
	DST4[$path]=10.$net.0.2
	DST6[$path]=fd00:$net::2
	IFACES[$path]="$a:$ifa $b:$ifb"
}

# openvpn_start NS SIDE ROLE LOCAL REMOTE PEERFP: one end of the OpenVPN pair
# (b is the TLS server); its PID in $ovpn_pid, its TUN device in $ovpn_dev.
openvpn_start() {
	local ns=$1 s=$2 role=$3 me=$4 peer=$5 fp=$6 d="$E2E_TMP/openvpn" i=1 j=2
	local -a extra=()
	if [ "$s" = b ]; then
		i=2 j=1
	fi
	if [ "$role" = --tls-server ]; then
		extra=(--dh none)
	fi
	ovpn_dev="ov$s$$" && ovpn_dev=${ovpn_dev:0:15}
	printf '+ [%s] openvpn %s --dev %s (log %s)\n' "${ns%-"$$"}" "$role" "$ovpn_dev" \
		"$E2E_TMP/openvpn-$s.log" >&2
	ip netns exec "$ns" openvpn --verb 3 --dev "$ovpn_dev" --dev-type tun --proto udp4 \
		--local "$me" --port 51823 --remote "$peer" "$role" "${extra[@]}" \
		--cert "$d/$s.crt" --key "$d/$s.key" --peer-fingerprint "$fp" \
		--data-ciphers AES-256-GCM --data-ciphers-fallback AES-256-GCM \
		--ifconfig "10.204.0.$i" "10.204.0.$j" --ifconfig-ipv6 "fd00:204::$i/64" "fd00:204::$j" \
		--tun-mtu 1420 --disable-dco >>"$E2E_TMP/openvpn-$s.log" 2>&1 &
	ovpn_pid=$!
	E2E_PIDS+=("$ovpn_pid")
}

# setup_openvpn: OpenVPN 2.6 peer to peer over UDP 51823, TLS with a
# self-signed certificate on each side pinned by --peer-fingerprint (static-key
# mode cannot use AES-256-GCM), the data channel in userspace (--disable-dco:
# the kernel module is not on every machine; the figure is reproducible).
setup_openvpn() {
	local d="$E2E_TMP/openvpn" s fa fb pa pb deva devb
	log "--- openvpn pair (udp 51823)"
	mkdir -p "$d"
	for s in a b; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/$s.key" -out "$d/$s.crt" -days 2 -subj "/CN=bench-$s" 2>/dev/null ||
			fail "openssl cannot make a certificate for openvpn"
	done
	fa=$(openssl x509 -in "$d/a.crt" -noout -fingerprint -sha256) && fa=${fa#*=}
	fb=$(openssl x509 -in "$d/b.crt" -noout -fingerprint -sha256) && fb=${fb#*=}
	openvpn_start "$b" b --tls-server 192.0.2.2 192.0.2.1 "$fa"
	pb=$ovpn_pid devb=$ovpn_dev
	openvpn_start "$a" a --tls-client 192.0.2.1 192.0.2.2 "$fb"
	pa=$ovpn_pid deva=$ovpn_dev
	for s in a b; do
		wait_until 30 "openvpn $s connected" grep -q "Initialization Sequence Completed" \
			"$E2E_TMP/openvpn-$s.log" || fail "openvpn $s did not connect"
	done
	grep -q "Data Channel: cipher 'AES-256-GCM'" "$E2E_TMP/openvpn-a.log" ||
		fail "openvpn did not choose AES-256-GCM: $(grep 'Data Channel' "$E2E_TMP/openvpn-a.log")"
	PIDS[openvpn]="$(real_pid "$pa" openvpn) $(real_pid "$pb" openvpn)"
	DST4[openvpn]=10.204.0.2
	DST6[openvpn]=fd00:204::2
	IFACES[openvpn]="$a:$deva $b:$devb"
}

# setup_tinc: tinc 1.0 in router mode, a connects to b on port 51824 (TCP for
# the meta connection, UDP for the data). PMTUDiscovery is off: while it
# probes (tens of seconds) tinc sends large packets over the TCP meta
# connection, which would measure that instead; packets of a 1420-byte tunnel
# fit the 1500-byte veth anyway.
setup_tinc() {
	local s me ifs d pa pb
	log "--- tinc pair (udp/tcp 51824)"
	for s in a b; do
		d="$E2E_TMP/tinc-$s"
		mkdir -p "$d/hosts"
		ifs="ti$s$$" && ifs=${ifs:0:15}
		me=1
		if [ "$s" = b ]; then
			me=2
		fi
		printf 'Name = %s\nInterface = %s\nMode = router\nAddressFamily = ipv4\n' "$s" "$ifs" \
			>"$d/tinc.conf"
		if [ "$s" = a ]; then
			echo "ConnectTo = b" >>"$d/tinc.conf"
		fi
		printf 'Address = 192.0.2.%s\nPort = 51824\nSubnet = 10.205.0.%s/32\nSubnet = fd00:205::%s/128\n' \
			"$me" "$me" "$me" >"$d/hosts/$s"
		printf 'Cipher = aes-256-cbc\nDigest = sha256\nPMTUDiscovery = no\n' >>"$d/hosts/$s"
		cat >"$d/tinc-up" <<UP
#!/bin/sh
ip addr add 10.205.0.$me/24 dev "\$INTERFACE"
ip addr add fd00:205::$me/64 dev "\$INTERFACE" nodad
ip link set "\$INTERFACE" mtu 1420 up
UP
		chmod 755 "$d/tinc-up"
		tincd -c "$d" -K2048 </dev/null >"$E2E_TMP/tinc-keygen-$s.log" 2>&1 ||
			fail "tincd cannot generate keys: $(tail -n 3 "$E2E_TMP/tinc-keygen-$s.log")"
		IFACES[tinc]="${IFACES[tinc]:-} ${!s}:$ifs"
	done
	cp "$E2E_TMP/tinc-a/hosts/a" "$E2E_TMP/tinc-b/hosts/a"
	cp "$E2E_TMP/tinc-b/hosts/b" "$E2E_TMP/tinc-a/hosts/b"
	for s in b a; do
		d="$E2E_TMP/tinc-$s"
		printf '+ [%s] tincd -c %s -D (log %s)\n' "$s" "$d" "$E2E_TMP/tinc-$s.log" >&2
		ip netns exec "${!s}" tincd -c "$d" -D -d 1 --pidfile="$d/tinc.pid" \
			>>"$E2E_TMP/tinc-$s.log" 2>&1 &
		E2E_PIDS+=("$!")
		printf -v "p$s" '%s' "$!"
		# b listens before a connects, so a's first attempt succeeds.
		ifs="ti$s$$" && ifs=${ifs:0:15}
		wait_until 10 "tinc $s interface" iface_is_up "${!s}" "$ifs" ||
			fail "tinc $s did not start: $(tail -n 3 "$E2E_TMP/tinc-$s.log")"
	done
	PIDS[tinc]="$(real_pid "$pa" tincd) $(real_pid "$pb" tincd)"
	DST4[tinc]=10.205.0.2
	DST6[tinc]=fd00:205::2
}

if [ "$need_tund" -eq 1 ]; then
	setup_tund
fi
if has_path wggo; then
	setup_wggo wggo "$(command -v wireguard-go)" wg 51821 202
fi
if has_path wggo-modern; then
	setup_wggo wggo-modern "$WGGO_MODERN" wm 51822 203
fi
if has_path openvpn; then
	setup_openvpn
fi
if has_path tinc; then
	setup_tinc
fi

for path in "${PATHS[@]}"; do
	for pair in ${IFACES[$path]:-}; do
		m=$(ip -n "${pair%%:*}" -o link show "${pair#*:}" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
		[ "$m" = 1420 ] ||
			fail "$path: ${pair#*:} has MTU $m, not 1420: the comparison would be unfair"
	done
done

log "--- handshakes"
for path in "${PATHS[@]}"; do
	[ "$path" = relay ] && continue
	assert_ping "$a" "${DST4[$path]}" 30
	assert_ping "$a" "${DST6[$path]}" 10
done

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

# next_port: a fresh iperf3 port in $port, away from the relay's.
port=5300
next_port() {
	port=$((port + 1))
	[ "$port" -lt 6000 ] || port=5301
}

# iperf_server PATH DST PORT: start `iperf3 -s -1` in b on DST:PORT; its PID in
# $srv_pid. Returns 1 (recorded as missed) if it does not listen.
iperf_server() {
	ip netns exec "$b" iperf3 -s -1 -B "$2" -p "$3" >"$E2E_TMP/iperf-server-$1.log" 2>&1 &
	srv_pid=$!
	E2E_PIDS+=("$srv_pid")
	if ! wait_until 5 "iperf3 server on $2:$3" listening "$b" "$3"; then
		reap "$srv_pid" 1
		missed "$1: the iperf3 server on $2:$3 did not start"
		return 1
	fi
}

# iperf_run PATH KEY DST [IPERF3 ARGS...]: one iperf3 test a -> b of --time
# seconds, recorded under PATH/KEY: TCP Mbit/s at the receiver and the
# sender's retransmits, or (with -u) packets/s at the receiver and loss; the
# daemons' CPU in % of a core and per GB or per packet received.
iperf_run() {
	local path=$1 key=$2 dst=$3 p out t0 t1 c0 c1 rc=0
	shift 3
	local -a pids
	read -r -a pids <<<"${PIDS[$path]:-}"
	next_port
	p=$port
	if [ "$path" = relay ]; then # a's public port, relayed to b's 127.0.0.1
		p=$relay_port
	fi
	out="$E2E_TMP/iperf-$path-$key-$rep.json"
	iperf_server "$path" "$dst" "$p" || return 0
	c0=$(cpu_ticks "${pids[@]}")
	t0=$(date +%s.%N)
	log "+ [a] iperf3 -c $dst -p $p -t $secs $* -J"
	ip netns exec "$a" timeout --foreground -k 5 $((secs + 30)) \
		iperf3 -c "$dst" -p "$p" -t "$secs" "$@" -J >"$out" 2>"$out.err" || rc=$?
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "${pids[@]}")
	reap "$srv_pid" 5
	if [ "$rc" -ne 0 ]; then
		missed "$path $key (repetition $rep): iperf3 failed:" \
			"$(grep -h '"error"' "$out" | head -n 1) $(head -c 200 "$out.err")"
		return 0
	fi
	python3 - "$out" "$path" "$key" "$rep" "$((c1 - c0))" "$clk_tck" "$t0" "$t1" "${#pids[@]}" \
		>>"$RESULTS" <<'PY' || missed "$path $key (repetition $rep): unreadable iperf3 output"
import json, sys
out, path, key, rep, ticks, hz, t0, t1, ndaemons = sys.argv[1:]
end = json.load(open(out))["end"]
rcv = end["sum_received"]
cpu_s = int(ticks) / int(hz)
def put(k, v):
    print(f"{path}\t{key}_{k}\t{v:.6g}\t{rep}")
if "retransmits" in end.get("sum_sent", {}) or "lost_packets" not in rcv:
    put("mbps", rcv["bits_per_second"] / 1e6)
    put("retransmits", end["sum_sent"].get("retransmits", 0))
    if int(ndaemons) and rcv["bytes"]:
        put("cpu_s_per_gb", cpu_s / (rcv["bytes"] / 1e9))
else:
    got = rcv["packets"] - rcv["lost_packets"]
    put("kpps", got / rcv["seconds"] / 1e3)
    put("loss_pct", rcv["lost_percent"])
    if int(ndaemons) and got:
        put("cpu_us_per_pkt", cpu_s * 1e6 / got)
if int(ndaemons):
    put("cpu_pct", 100 * cpu_s / (float(t1) - float(t0)))
PY
	log "$path $key: $(grep -P "^$path\t${key}_(mbps|kpps)\t.*\t$rep\$" "$RESULTS" | cut -f2,3 | tr '\t' =)"
}

# ping_record PATH KEY DST: PINGS pings 10 ms apart from a, ping's own summary
# recorded under PATH/KEY.
ping_record() {
	local path=$1 key=$2 dst=$3 out
	out=$(n "$a" timeout --foreground -k 5 $((pings / 50 + 30)) \
		ping -n -q -c "$pings" -i 0.01 -W 1 "$dst") || true
	if ! [[ $out =~ ([0-9.]+)%\ packet\ loss ]]; then
		missed "$path $key (repetition $rep): no ping summary in: $out"
		return 0
	fi
	put "$path" "${key}_loss_pct" "${BASH_REMATCH[1]}"
	if ! [[ $out =~ =\ ([0-9.]+)/([0-9.]+)/([0-9.]+)/([0-9.]+)\ ms ]]; then
		missed "$path $key (repetition $rep): no ping reply: $out"
		return 0
	fi
	put "$path" "${key}_min_ms" "${BASH_REMATCH[1]}"
	put "$path" "${key}_avg_ms" "${BASH_REMATCH[2]}"
	put "$path" "${key}_max_ms" "${BASH_REMATCH[3]}"
	put "$path" "${key}_mdev_ms" "${BASH_REMATCH[4]}"
	log "$path $key: ${BASH_REMATCH[2]} ms avg"
}

# transfer_flowing PORT: iperf3's control and data connections from a are up.
transfer_flowing() {
	[ "$(ip netns exec "$a" ss -Htn state established "dport = :$1" | wc -l)" -ge 2 ]
}

# ping_loaded PATH DST: ping_record while a 1-stream iperf3 a -> b runs at full
# speed over the same path. The transfer is started first and stopped when
# the pings are done; it can never outlive its bound.
ping_loaded() {
	local path=$1 dst=$2 cpid bound=$((pings / 50 + 10))
	next_port
	iperf_server "$path-load" "$dst" "$port" || return 0
	ip netns exec "$a" timeout -k 5 $((bound + 10)) iperf3 -c "$dst" -p "$port" -t "$bound" \
		>"$E2E_TMP/iperf-load-$path.log" 2>&1 &
	cpid=$!
	E2E_PIDS+=("$cpid")
	if wait_until 5 "the loading transfer over $path" transfer_flowing "$port"; then
		sleep 0.5 # past slow start: the queues are full when the pings begin
		ping_record "$path" ping_load "$dst"
	else
		missed "$path ping_load (repetition $rep): the loading transfer did not start"
	fi
	kill -TERM "$cpid" 2>/dev/null || true
	reap "$cpid" 5
	reap "$srv_pid" 5
}

# status_kib PID FIELD: a Vm* field of /proc/PID/status, in KiB.
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# memory WHEN: VmRSS (and after the runs VmHWM) of every daemon, in KiB.
memory() {
	local path k pids
	for path in tund wggo-modern wggo openvpn tinc; do
		[ -n "${PIDS[$path]:-}" ] || continue
		read -r -a pids <<<"${PIDS[$path]}"
		for k in VmRSS VmHWM; do
			[ "$1" = after ] || [ "$k" = VmRSS ] || continue
			put "$path" "mem_a_$1_${k}_kib" "$(status_kib "${pids[0]}" "$k")"
			put "$path" "mem_b_$1_${k}_kib" "$(status_kib "${pids[1]}" "$k")"
		done
	done
}

# measure METRIC PATH: one measurement of METRIC on PATH, if PATH has it.
measure() {
	local metric=$1 path=$2 dst4=${DST4[$2]:-} dst6=${DST6[$2]:-}
	case $metric in
	tcp1_v4) iperf_run "$path" "$metric" "$dst4" -P 1 ;;
	tcp4_v4) iperf_run "$path" "$metric" "$dst4" -P 4 ;;
	tcp1_v6) [ -z "$dst6" ] || iperf_run "$path" "$metric" "$dst6" -P 1 ;;
	tcp4_v6) [ -z "$dst6" ] || iperf_run "$path" "$metric" "$dst6" -P 4 ;;
	udp64) [ "$path" = relay ] || iperf_run "$path" "$metric" "$dst4" -u -l 64 -b 0 ;;
	ping_idle) [ "$path" = relay ] || ping_record "$path" "$metric" "$dst4" ;;
	ping_load) [ "$path" = relay ] || ping_loaded "$path" "$dst4" ;;
	esac
}
METRICS=(tcp1_v4 tcp4_v4 tcp1_v6 tcp4_v6 udp64 ping_idle ping_load)

# Rough length of the run: iperf3 needs about 2 s around each test, a ping
# summary 1 s, a loaded ping 2 s more.
est=0
for path in "${PATHS[@]}"; do
	if [ "$path" = relay ]; then
		est=$((est + 2 * (secs + 2)))
	else
		est=$((est + 5 * (secs + 2) + 2 * (pings / 100 + 1) + 2))
	fi
done
est=$((est * reps))

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
memory idle
log "=== measuring ${PATHS[*]}: $reps repetitions, $secs s per iperf3 run, $pings pings;" \
	"about $(((est + 59) / 60)) min"
for ((rep = 1; rep <= reps; rep++)); do
	log "=== repetition $rep of $reps"
	for metric in "${METRICS[@]}"; do
		for path in "${PATHS[@]}"; do
			measure "$metric" "$path"
		done
	done
done
rep=0
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
memory after

# profile: a separate tund run under perf, so that sampling never skews the
# figures above.
profile() {
	local data="$E2E_TMP/perf.data" ppid pids
	command -v perf >/dev/null 2>&1 || { log "perf is not installed: no profile" && return 0; }
	[ -n "${PIDS[tund]:-}" ] || { log "no tund pair: no profile" && return 0; }
	read -r -a pids <<<"${PIDS[tund]}"
	log "=== profile: tund 1 stream under perf record"
	perf record -F 999 -g -o "$data" -p "$(IFS=, && echo "${pids[*]}")" >"$E2E_TMP/perf.log" 2>&1 &
	ppid=$!
	E2E_PIDS+=("$ppid")
	sleep 0.5
	PIDS[profile]=${PIDS[tund]}
	iperf_run profile tcp1_v4 "${DST4[tund]}" -P 1
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

if [ "$need_tund" -eq 1 ] && { ! tund_alive ta || ! tund_alive tb; }; then
	fail "a tund daemon died during the run"
fi
for path in "${PATHS[@]}"; do
	for pid in ${PIDS[$path]:-}; do
		kill -0 "$pid" 2>/dev/null || missed "$path: daemon PID $pid died during the run"
	done
done

# --- report -------------------------------------------------------------------------

# up_line NAME: the interface's "up" line in a tund log (it says which kernel
# offloads were granted), without the time stamp.
up_line() { sed -n 's/^.*\(wgt0: up, .*\)$/\1/p' "$E2E_TMP/$1.log" | head -n 1; }
tund_up=""
if [ "$need_tund" -eq 1 ]; then
	tund_up="a: $(up_line ta)"$'\n'"b: $(up_line tb)"
fi
version_of() {
	case $1 in
	wggo) echo "Debian's wireguard-go $(dpkg-query -W -f '${Version}' wireguard-go 2>/dev/null || echo '?')" ;;
	wggo-modern) echo "$WGGO_MODERN: $("$WGGO_MODERN" --version 2>&1 | head -n 1)" ;;
	openvpn) openvpn --version 2>&1 | head -n 1 | cut -d' ' -f1-2 ;;
	tinc) tincd --version 2>&1 | head -n 1 ;;
	esac
}
versions=""
for path in "${PATHS[@]}"; do
	v=$(version_of "$path")
	[ -z "$v" ] || versions+="$path=$v"$'\n'
done

BENCH_TUND=$TUND BENCH_BUILD_TYPE=$build_type BENCH_SECS=$secs BENCH_PINGS=$pings \
	BENCH_REPS=$reps BENCH_PATHS="${PATHS[*]}" BENCH_SKIPPED="$(printf '%s\n' "${SKIPPED[@]}")" \
	BENCH_MISSED="$(printf '%s\n' "${MISSED[@]}")" BENCH_TUND_ARGS="${tund_args[*]}" \
	BENCH_TUND_UP="$tund_up" BENCH_VERSIONS="$versions" \
	BENCH_LOAD="$load_before -> $load_after" BENCH_KERNEL=$(uname -r) BENCH_CPUS=$(nproc) \
	BENCH_CPU_MODEL=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1) \
	BENCH_TUND_VERSION=$("$TUND" --version 2>&1 | head -n 1) \
	BENCH_IPERF=$(iperf3 --version 2>&1 | head -n 1) \
	python3 - "$RESULTS" "$json" <<'PY'
import json, os, statistics, sys
from datetime import datetime, timezone

res_file, json_file = sys.argv[1:]
E = os.environ
paths = E["BENCH_PATHS"].split()
lines = lambda k: [l for l in E[k].split("\n") if l]
samples = {}
for line in open(res_file):
    path, key, val, rep = line.rstrip("\n").split("\t")
    samples.setdefault(path, {}).setdefault(key, []).append(float(val))
med = {p: {k: statistics.median(v) for k, v in ks.items()} for p, ks in samples.items()}
# Report and JSON names of the paths.
label = {"veth": "veth", "tund": "tund", "wggo-modern": "wg-go-modern", "wggo": "wg-go",
         "openvpn": "openvpn", "tinc": "tinc", "relay": "relay"}
jname = {"veth": "veth", "tund": "tund", "wggo-modern": "wireguard-go-modern",
         "wggo": "wireguard-go", "openvpn": "openvpn", "tinc": "tinc", "relay": "relay"}
versions = dict(l.split("=", 1) for l in lines("BENCH_VERSIONS"))
meta = {
    "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    "tund": E["BENCH_TUND"], "tund_version": E["BENCH_TUND_VERSION"],
    "build_type": E["BENCH_BUILD_TYPE"], "tund_args": E["BENCH_TUND_ARGS"],
    "tund_up": lines("BENCH_TUND_UP"),
    "paths": [jname[p] for p in paths],
    "versions": {jname[p]: v for p, v in versions.items()},
    "iperf3": E["BENCH_IPERF"], "kernel": E["BENCH_KERNEL"], "cpus": int(E["BENCH_CPUS"]),
    "cpu_model": E["BENCH_CPU_MODEL"], "loadavg": E["BENCH_LOAD"],
    "iperf_seconds": int(E["BENCH_SECS"]), "pings": int(E["BENCH_PINGS"]),
    "repetitions": int(E["BENCH_REPS"]),
    "skipped": lines("BENCH_SKIPPED"), "missed": lines("BENCH_MISSED"),
    "tunnel_mtu": 1420,
}

def get(path, key):
    return med.get(path, {}).get(key)

def ratio(a, b):
    return a / b if a is not None and b else None

def fmt(v, nd=1):
    if v is None:
        return "-"
    return f"{v:,.{nd}f}" if nd else f"{v:,.0f}"

rows = []  # key, label in the tables, label in the ratio table, decimals
for ip in ("v4", "v6"):
    for s, sl in (("tcp1", "1 stream"), ("tcp4", "4 streams")):
        k, t = f"{s}_{ip}", f"TCP {sl} IP{ip}"
        rows += [(f"{k}_mbps", f"{t} (Mbit/s)", f"{t} Mbit/s", 0),
                 (f"{k}_retransmits", "  retransmits", None, 0),
                 (f"{k}_cpu_s_per_gb", "  daemons' CPU s/GB", f"{t} CPU s/GB", 1)]
rows += [("udp64_kpps", "UDP 64 B (kpackets/s received)", "UDP 64 B kpackets/s", 1),
         ("udp64_loss_pct", "  loss (%)", None, 1),
         ("udp64_cpu_us_per_pkt", "  daemons' CPU us/packet", "UDP 64 B CPU us/packet", 2),
         ("ping_idle_avg_ms", "ping idle avg (ms)", "ping idle avg", 3),
         ("ping_idle_mdev_ms", "  mdev (ms)", None, 3),
         ("ping_idle_loss_pct", "  loss (%)", None, 1),
         ("ping_load_avg_ms", "ping under load avg (ms)", "ping under load avg", 3),
         ("ping_load_max_ms", "  max (ms)", None, 3),
         ("ping_load_loss_pct", "  loss (%)", None, 1)]
# Memory: the mean of the two daemons of a path.
for p in med:
    for when, k in (("idle", "VmRSS"), ("after", "VmRSS"), ("after", "VmHWM")):
        a, b = get(p, f"mem_a_{when}_{k}_kib"), get(p, f"mem_b_{when}_{k}_kib")
        if a is not None and b is not None:
            med[p][f"{k}_{when}_kib"] = (a + b) / 2
rows += [("VmRSS_idle_kib", "VmRSS idle, before (KiB)", "VmRSS before", 0),
         ("VmRSS_after_kib", "VmRSS idle, after (KiB)", "VmRSS after", 0),
         ("VmHWM_after_kib", "VmHWM after (KiB)", "VmHWM after", 0)]

W = 13
print()
print(f"tund benchmark, {meta['date']}: {meta['cpus']} CPUs ({meta['cpu_model']}), kernel {meta['kernel']}")
print(f"tund {meta['tund']} ({meta['build_type']})"
      + (f", --tund-args '{meta['tund_args']}'" if meta["tund_args"] else ""))
for l in meta["tund_up"]:
    print(f"  tund {l}")
for p, v in versions.items():
    print(f"  {label[p]}: {v}")
print(f"{meta['iperf3']}, {meta['iperf_seconds']} s per run a -> b; {meta['pings']} pings at 10 ms; "
      f"median of {meta['repetitions']} repetition(s)")
print(f"tunnel MTU 1420 over veth MTU 1500; load average {meta['loadavg']}")
for s in meta["skipped"]:
    print(f"skipped: {s}")
print()
hdr = f"{'':32}" + "".join(f"{label[p]:>{W}}" for p in paths)
print(hdr)
print("-" * len(hdr))
for key, text, _, nd in rows:
    vals = [get(p, key) for p in paths]
    if all(v is None for v in vals):
        continue
    print(f"{text:32}" + "".join(f"{fmt(v, nd):>{W}}" for v in vals))
print()
print("CPU: user + system time of both daemons of the path over each run, per GB (TCP)")
print("or per packet (UDP) received. Memory: mean of the two daemons, KiB.")

# Ratios of the medians. Throughput and packets/s: higher is better for the
# first path; CPU, RTT and memory: lower is better.
pairs = [("tund", "veth"), ("tund", "wggo-modern"), ("tund", "wggo"), ("tund", "openvpn"),
         ("tund", "tinc"), ("relay", "tund")]
pairs = [(x, y) for x, y in pairs if x in paths and y in paths]
ratios = {}
if pairs:
    print()
    hdr = f"{'ratio of the medians':32}" + "".join(f"{label[x] + '/' + label[y]:>19}" for x, y in pairs)
    print(hdr)
    print("-" * len(hdr))
    for key, _, text, nd in rows:
        if text is None:
            continue
        rs = [ratio(get(x, key), get(y, key)) for x, y in pairs]
        for (x, y), r in zip(pairs, rs):
            if r is not None:
                ratios.setdefault(f"{jname[x]}/{jname[y]}", {})[key] = r
        if any(r is not None for r in rs):
            print(f"{text:32}" + "".join(f"{fmt(r, 2):>19}" for r in rs))
    print()
    print("Mbit/s and kpackets/s: above 1 is better for the first; CPU, RTT, memory: below 1.")

memory = {}
for p in paths:
    for who in ("a", "b"):
        for when, k in (("idle", "VmRSS"), ("after", "VmRSS"), ("after", "VmHWM")):
            v = get(p, f"mem_{who}_{when}_{k}_kib")
            if v is not None:
                memory.setdefault(jname[p], {}).setdefault(who, {})[f"{k}_{when}"] = v
if memory:
    print()
    mh = f"{'memory of each daemon (KiB)':32}" + "".join(
        f"{h:>{W}}" for h in ("a idle", "b idle", "a after", "b after", "a VmHWM", "b VmHWM"))
    print(mh)
    print("-" * len(mh))
    for p in paths:
        m = memory.get(jname[p])
        if not m:
            continue
        cells = [m[w].get(k) for k in ("VmRSS_idle", "VmRSS_after", "VmHWM_after") for w in ("a", "b")]
        print(f"{label[p]:32}" + "".join(f"{fmt(v, 0):>{W}}" for v in cells))

if meta["missed"]:
    print()
    print(f"{len(meta['missed'])} measurement(s) gave no figure:")
    for m in meta["missed"]:
        print(f"  {m}")

if json_file:
    strip = lambda d: {k: v for k, v in d.items() if not k.startswith("mem_")}
    doc = {"meta": meta,
           "results": {jname[p]: strip(med.get(p, {})) for p in paths},
           "samples": {jname[p]: strip(samples.get(p, {})) for p in paths},
           "memory_kib": memory, "ratios": ratios}
    with open(json_file, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"\nfigures written to {json_file}")
PY

if [ -s "$E2E_TMP/profile.txt" ]; then
	cat "$E2E_TMP/profile.txt"
fi

if [ "$need_tund" -eq 1 ]; then
	tund_stop ta
	tund_stop tb
fi
[ ${#MISSED[@]} -eq 0 ] || exit 1
