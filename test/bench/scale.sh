#!/usr/bin/env bash
# tund with many peers: how long one interface of N random peers (default
# 100,000) takes to come up, its memory, and what the control commands cost
# at that size (issue 13's figures).
#
#   ns s-PID                                             ns c-PID
#   v0 192.0.2.1/24 <----------------------------------> v0 192.0.2.2/24
#   wgs0 10.0.0.1/8 (fd00:13::1/64)    tund     udp 51820 tund  wgc0 10.0.0.2/32
#        N peers: the client's key (10.0.0.2/32) and N-1 random ones
#        (10.0.0.3 ... , /32 each; with --v6 also fd00:13::N/128)
#        (with --no-cover the server has 10.0.0.1/32 (fd00:13::1/128): each
#        peer then gets a route of its own, no address route covers it)
#
# Steps, each bounded by --timeout so that a slow path is reported, not
# waited for: (a) start until the log says "wgs0: up"; (b) VmRSS and VmHWM
# after it; (c) --adds sequential `tunctl add-peer` processes (new random
# keys): per-second rate, tund's CPU per add-peer, and the rate of as many
# `/bin/true` and `tunctl --version` processes (the process start-up bound);
# (d) one `tunctl set-peer` and one `tunctl
# remove-peer`: latency; (e) `tunctl reload` with the file unchanged (which
# drops the peers of (c), added without --save), then with one peer's
# AllowedIPs changed: latency; (f) `tunctl --json show wgs0 >/dev/null`; (g)
# the longest gap between the replies of a ping every 10 ms from the client's
# namespace through the tunnel to 10.0.0.1 while (f) runs again; (h) --batch
# new peers in one `tunctl add-peer wgs0 --from FILE` (tunctl sends them in
# requests of up to 64 KiB, each all or nothing): peers per second; (i) a
# Prometheus scrape of the server's metrics (tund --metrics-listen
# 127.0.0.1:9586, curl), then `tunctl metrics`, each with (g)'s ping running:
# its time, its size and the ping's longest gap. With
# --perf, the add-peer loop of (c) runs under `perf record` (DWARF call
# graphs) of the server tund and the top symbols are printed.
#
# Run by hand as root from an optimised build, never from CTest. See
# test/bench/README.md.

usage() {
	cat <<'EOF'
usage: test/bench/scale.sh [options]
  --peers N       peers in the interface file (default 100000; 5000 with --quick)
  --adds N        tunctl add-peer processes in step (c) (default 200)
  --batch N       peers added by one `tunctl add-peer --from FILE` in step
                  (h) (default 20000; 0: no step (h))
  --timeout S     bound of each step, in seconds (default 300; 60 with --quick)
  --v6            also one IPv6 /128 per peer
  --no-cover      server Address 10.0.0.1/32 (fd00:13::1/128): no address
                  route covers the peers, so each gets a route of its own
  --build DIR     build tree with daemon/tund and ctl/tunctl (default: build-bench)
  --json FILE     also write the figures to FILE as JSON
  --perf          profile tund during the add-peer loop (perf record)
  --quick         5000 peers, for a check of the script itself
  -h, --help      this text
Environment: TUND, TUNCTL (binaries; default from --build).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build="$top/build-bench"
peers=""
adds=200
batch=20000
step_timeout=""
v6=0
cover=1
json=""
perf=0
quick=0
while [ $# -gt 0 ]; do
	case $1 in
	--peers) peers=${2:?--peers needs a count} && shift ;;
	--adds) adds=${2:?--adds needs a count} && shift ;;
	--batch) batch=${2:?--batch needs a count} && shift ;;
	--timeout) step_timeout=${2:?--timeout needs seconds} && shift ;;
	--v6) v6=1 ;;
	--no-cover) cover=0 ;;
	--build) build=${2:?--build needs a directory} && shift ;;
	--json) json=${2:?--json needs a file name} && shift ;;
	--perf) perf=1 ;;
	--quick) quick=1 ;;
	-h | --help) usage && exit 0 ;;
	*) usage >&2 && exit 2 ;;
	esac
	shift
done
if [ "$quick" -eq 1 ]; then
	peers=${peers:-5000}
	step_timeout=${step_timeout:-60}
fi
peers=${peers:-100000}
step_timeout=${step_timeout:-300}
# 10.0.0.2 + peers + adds + batch, and 10.0.0.2 + 8000000 for the changed peer, in 10.0.0.0/8.
if ! [[ $peers =~ ^[0-9]+$ ]] || [ "$peers" -lt 2 ] || [ "$peers" -gt 4000000 ]; then
	echo "scale.sh: --peers must be 2..4000000" >&2 && exit 2
fi
if ! [[ $adds =~ ^[0-9]+$ ]] || [ "$adds" -lt 1 ] || [ "$adds" -gt 100000 ]; then
	echo "scale.sh: --adds must be 1..100000" >&2 && exit 2
fi
if ! [[ $batch =~ ^[0-9]+$ ]] || [ "$batch" -gt 1000000 ]; then
	echo "scale.sh: --batch must be 0..1000000" >&2 && exit 2
fi
if ! [[ $step_timeout =~ ^[0-9]+$ ]] || [ "$step_timeout" -lt 5 ] || [ "$step_timeout" -gt 3600 ]; then
	echo "scale.sh: --timeout must be 5..3600 seconds" >&2 && exit 2
fi
[ -z "$json" ] || json=$(realpath -m "$json")

export TUND=${TUND:-$build/daemon/tund}
export TUNCTL=${TUNCTL:-$build/ctl/tunctl}
# shellcheck source-path=SCRIPTDIR source=../lib/netns.sh
. "$here/../lib/netns.sh"

[ "$(id -u)" -eq 0 ] || { echo "scale.sh: needs root (network namespaces)" >&2 && exit 1; }
for f in "$TUND" "$TUNCTL"; do
	[ -x "$f" ] || { echo "scale.sh: no binary at $f (build first, or set TUND/TUNCTL)" >&2 && exit 1; }
done
if [ "$perf" -eq 1 ] && ! command -v perf >/dev/null 2>&1; then
	echo "scale.sh: --perf needs perf (Debian linux-perf)" >&2 && exit 1
fi
e2e_init ping python3 timeout
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# --- results --------------------------------------------------------------------

declare -A R=()   # metric -> value
ORDER=()          # metrics in the order of the report
NOTES=()          # what could not be measured, and why
REMARKS=()        # how a figure was taken, where that is not the obvious way
put() {
	[ -n "${R[$1]+x}" ] || ORDER+=("$1")
	R[$1]=$2
}
note() {
	NOTES+=("$1")
	log "scale.sh: NOT MEASURED: $1"
}
remark() {
	REMARKS+=("$1")
	log "scale.sh: remark: $1"
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# over T0 LIMIT: more than LIMIT seconds have passed since T0.
over() { awk -v a="$1" -v b="$(now)" -v l="$2" 'BEGIN { exit !(b - a > l) }'; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# ctl ARGS...: tunctl on the server's socket, bounded by --timeout.
ctl() { timeout -k 5 "$step_timeout" "$TUNCTL" --socket "$E2E_TMP/s.sock" "$@"; }
# timed VAR ARGS...: run tunctl ARGS (output discarded); VAR gets its seconds,
# or stays unset (and a note says why) when it failed or timed out.
timed() {
	local var=$1 t0 rc=0
	shift
	t0=$(now)
	ctl "$@" >/dev/null 2>"$E2E_TMP/ctl.err" || rc=$?
	if [ "$rc" -eq 0 ]; then
		put "$var" "$(since "$t0")"
	elif [ "$rc" -eq 124 ]; then
		note "$var: tunctl $1 did not finish within ${step_timeout}s"
	else
		note "$var: tunctl $1 failed (status $rc): $(head -c 300 "$E2E_TMP/ctl.err")"
	fi
}

# reloads_done: how many reloads tund has finished (its "reload done" lines).
reloads_done() { grep -c 'reload done' "$E2E_TMP/s.log" || true; }
# wait_reloads N T0: until tund finished N reloads, at most --timeout after T0.
wait_reloads() {
	while [ "$(reloads_done)" -lt "$1" ]; do
		over "$2" "$step_timeout" && return 1
		kill -0 "$PID_s" 2>/dev/null || return 1
		sleep 0.02
	done
}

# timed_reload VAR: `tunctl reload`, timed until tund logs its "reload done":
# tunctl gives up after 30 s without a reply (ctl/client.c), tund goes on.
# A reload still running from before is waited for first (not timed): tund
# takes requests in order, so it would be in this one's figure.
RELOADS=0
timed_reload() {
	local var=$1 t0 rc=0
	if ! wait_reloads "$RELOADS" "$(now)"; then
		note "$var: the reload before it was still running after another ${step_timeout}s"
		return
	fi
	RELOADS=$((RELOADS + 1))
	t0=$(now)
	ctl reload >/dev/null 2>"$E2E_TMP/ctl.err" || rc=$?
	if ! wait_reloads "$RELOADS" "$t0"; then
		note "$var: tund did not log \"reload done\" within ${step_timeout}s (tunctl status $rc)"
		return
	fi
	put "$var" "$(since "$t0")"
	[ "$rc" -eq 0 ] ||
		remark "$var: tunctl reload exited with status $rc ($(head -c 200 "$E2E_TMP/ctl.err")); the time is until tund's \"reload done\" line"
}

# --- keys and the interface file -----------------------------------------------

# gen_keys N FILE [FIRST]: N random public keys, one a line (valid base64
# keys; tund does not check that a peer's key is on the curve, and needs none
# of these peers to answer). With FIRST, each line also has the allowed IPs
# of peer number FIRST, FIRST + 1, ... (see server_conf), for add-peer.
gen_keys() {
	python3 - "$1" "$2" "${3:-}" "$v6" <<'PY'
import base64, ipaddress, os, sys
n, path, first, v6 = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "1"
base4, base6 = ipaddress.IPv4Address("10.0.0.2"), ipaddress.IPv6Address("fd00:13::2")
raw = os.urandom(32 * n)
with open(path, "w") as f:
    for i in range(n):
        line = base64.b64encode(raw[32 * i:32 * i + 32]).decode()
        if first:
            j = int(first) + i
            line += " %s/32" % (base4 + j) + (",%s/128" % (base6 + j) if v6 else "")
        f.write(line + "\n")
PY
}

# server_conf FILE PRIVATE KEYS_FILE [CHANGED]: the server's interface file;
# the first key of KEYS_FILE is the client's. Peer number I has 10.0.0.2 + I
# (and fd00:13::2 + I). CHANGED (a peer index) gets
# another address, for the reload of step (e).
server_conf() {
	python3 - "$@" "$v6" "$cover" <<'PY' | write_conf "$1"
import ipaddress, sys
_, priv, keys_file, changed, v6, cover = sys.argv[1:7]
plen4, plen6 = ("8", "64") if cover == "1" else ("32", "128")
changed = int(changed) if changed else -1
base4, base6 = ipaddress.IPv4Address("10.0.0.2"), ipaddress.IPv6Address("fd00:13::2")
out = ["[Interface]", "PrivateKey = " + priv, "ListenPort = 51820",
       "Address = 10.0.0.1/" + plen4 + (", fd00:13::1/" + plen6 if v6 == "1" else ""), "MTU = 1420", ""]
with open(keys_file) as f:
    for i, key in enumerate(f.read().split()):
        j = i + 8000000 if i == changed else i
        allowed = "%s/32" % (base4 + j)
        if v6 == "1":
            allowed += ", %s/128" % (base6 + j)
        out += ["[Peer]", "PublicKey = " + key, "AllowedIPs = " + allowed, ""]
print("\n".join(out))
PY
}

# --- the two namespaces -----------------------------------------------------------

ns_new s
ns_new c
# shellcheck disable=SC2154 # s and c are set by ns_new through printf -v
veth "$s" v0 "$c" v0
addr "$s" v0 192.0.2.1/24
addr "$c" v0 192.0.2.2/24

ds=$(confdir s)
dc=$(confdir c)
ks=$(genkey)
kc=$(genkey)
t0=$(now)
gen_keys "$peers" "$E2E_TMP/keys"
gen_keys "$adds" "$E2E_TMP/add-keys" "$peers"
# Peer 0 is the client: its real key replaces the first random one.
sed -i "1s|.*|$(pubkey "$kc")|" "$E2E_TMP/keys"
server_conf "$ds/wgs0.conf" "$ks" "$E2E_TMP/keys" ""
put gen_s "$(since "$t0")"
put file_bytes "$(stat -c %s "$ds/wgs0.conf")"
log "scale.sh: $peers peers written in ${R[gen_s]} s ($(du -h "$ds/wgs0.conf" | cut -f1))"
tunnel_conf "$dc/wgc0.conf" "$kc" "10.0.0.2/32" "" "$(pubkey "$ks")" 192.0.2.1:51820 10.0.0.1/32

# start_daemon NS NAME CONFDIR: tund in NS, logging to NAME.log; sets PID_NAME
# (the daemon's own PID: `ip netns exec` runs it in place).
PID_s=""
start_daemon() {
	local ns=$1 name=$2 dir=$3
	printf '+ [%s] %s --foreground --config-dir %s --control-socket %s (log %s)\n' \
		"${ns%-"$$"}" "$TUND" "$dir" "$E2E_TMP/$name.sock" "$E2E_TMP/$name.log" >&2
	local -a extra=()
	[ "$name" != s ] || extra=(--metrics-listen 127.0.0.1:9586) # step (i)
	ip netns exec "$ns" "$TUND" --foreground --log-level info --config-dir "$dir" \
		--control-socket "$E2E_TMP/$name.sock" "${extra[@]}" >>"$E2E_TMP/$name.log" 2>&1 &
	E2E_PIDS+=("$!")
	printf -v "PID_$name" '%s' "$!"
}

# --- (a) start, (b) memory ----------------------------------------------------------

log "--- (a) start with $peers peers (bound ${step_timeout}s)"
t0=$(now)
start_daemon "$s" s "$ds"
up=0
for ((i = 0; i < step_timeout * 50; i++)); do
	if grep -q 'wgs0: up' "$E2E_TMP/s.log"; then
		up=1 && break
	fi
	kill -0 "$PID_s" 2>/dev/null || break
	over "$t0" "$step_timeout" && break
	sleep 0.02
done
if [ "$up" -eq 0 ]; then
	if kill -0 "$PID_s" 2>/dev/null; then
		note "start: wgs0 not up within ${step_timeout}s"
	else
		note "start: tund exited: $(tail -n 3 "$E2E_TMP/s.log")"
	fi
	note "every other step: tund did not come up"
else
	put start_s "$(since "$t0")"
	log "scale.sh: up after ${R[start_s]} s: $(sed -n 's/^.*\(wgs0: up, .*\)$/\1/p' "$E2E_TMP/s.log")"
	put vmrss_kib "$(status_kib "$PID_s" VmRSS)"
	put vmhwm_kib "$(status_kib "$PID_s" VmHWM)"
fi

# --- (c) add-peer processes -----------------------------------------------------------

# The bound is checked with bash's own clock: a date and an awk per add-peer
# (now, over) were more than half of each round, not tund's or tunctl's.
add_loop() {
	local t0 i=0 key allowed rc end_us c0
	c0=$(cpu_ticks "$PID_s")
	t0=$(now)
	end_us=$((${EPOCHREALTIME/./} + step_timeout * 1000000))
	while read -r key allowed; do
		rc=0
		ctl add-peer wgs0 --public-key "$key" --allowed-ips "$allowed" \
			>/dev/null 2>"$E2E_TMP/ctl.err" || rc=$?
		if [ "$rc" -ne 0 ]; then
			note "add_peer: add-peer number $((i + 1)) failed (status $rc): $(head -c 300 "$E2E_TMP/ctl.err")"
			break
		fi
		i=$((i + 1))
		if [ "${EPOCHREALTIME/./}" -gt "$end_us" ]; then
			[ "$i" -ge "$adds" ] ||
				note "add_peer: stopped after $i of $adds add-peer processes (${step_timeout}s bound)"
			break
		fi
	done <"$E2E_TMP/add-keys"
	put add_peer_count "$i"
	put add_peer_s "$(since "$t0")"
	if [ "$i" -gt 0 ]; then
		put add_peer_per_s "$(awk -v n="$i" -v s="${R[add_peer_s]}" 'BEGIN { printf "%.2f", n / s }')"
		put add_peer_mean_s "$(awk -v n="$i" -v s="${R[add_peer_s]}" 'BEGIN { printf "%.4f", s / n }')"
		put add_peer_tund_cpu_ms "$(awk -v n="$i" -v a="$c0" -v b="$(cpu_ticks "$PID_s")" \
			-v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')"
		proc_rate proc_true_per_s "$i" /bin/true
		proc_rate proc_tunctl_version_per_s "$i" "$TUNCTL" --version
	fi
}

# cpu_ticks PID: the process's utime + stime, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# proc_rate VAR N CMD...: N runs of CMD one after another, in the same loop
# shape as add_loop (timeout around each): the process start-up bound that
# step (c)'s rate is to be read against.
proc_rate() {
	local var=$1 n=$2 t0 j
	shift 2
	t0=$(now)
	for ((j = 0; j < n; j++)); do
		timeout -k 5 "$step_timeout" "$@" >/dev/null 2>&1 || true
	done
	put "$var" "$(awk -v n="$n" -v s="$(since "$t0")" 'BEGIN { printf "%.2f", n / s }')"
}

# profile_adds: add_loop under perf record of the server tund (DWARF call
# graphs: an optimised build has no frame pointers).
profile_adds() {
	local ppid
	perf record -F 99 --call-graph dwarf,16384 -o "$E2E_TMP/perf.data" -p "$PID_s" \
		>"$E2E_TMP/perf.log" 2>&1 &
	ppid=$!
	E2E_PIDS+=("$ppid")
	sleep 0.5
	add_loop
	kill -INT "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null || true
	log "--- perf: tund during the add-peer loop, top symbols by self time, then with children"
	{ timeout -k 5 "$step_timeout" perf report -i "$E2E_TMP/perf.data" --no-children \
		--stdio --sort symbol -g none 2>/dev/null || true; } |
		grep -E '^ +[0-9.]+%' | head -n 10 >&2 || true
	{ timeout -k 5 "$step_timeout" perf report -i "$E2E_TMP/perf.data" --children \
		--stdio --sort symbol -g none 2>/dev/null || true; } |
		grep -E '^ +[0-9.]+%' | head -n 15 >&2 || true
}

if [ "$up" -eq 1 ]; then
	log "--- (c) $adds tunctl add-peer processes, one after another (bound ${step_timeout}s)"
	if [ "$perf" -eq 1 ]; then
		profile_adds
	else
		add_loop
	fi
	put vmrss_after_adds_kib "$(status_kib "$PID_s" VmRSS)"

	# --- (d) set-peer, remove-peer ------------------------------------------------
	log "--- (d) set-peer and remove-peer"
	timed set_peer_s set-peer wgs0 "$(sed -n 2p "$E2E_TMP/keys")" --keepalive 25
	timed remove_peer_s remove-peer wgs0 "$(sed -n 3p "$E2E_TMP/keys")"

	# --- (e) reload -------------------------------------------------------------
	log "--- (e) reload: file unchanged (drops the added peers), then one peer changed"
	timed_reload reload_unchanged_s
	server_conf "$ds/wgs0.conf" "$ks" "$E2E_TMP/keys" $((peers - 1))
	timed_reload reload_one_changed_s

	# --- (f) show -----------------------------------------------------------------
	log "--- (f) tunctl --json show wgs0 >/dev/null"
	timed show_json_s --json show wgs0
fi

# --- (g) ping through the client while show runs --------------------------------------

# ping_gaps FILE: of `ping -D` output, the longest gap between two replies
# (ms), the replies, and the highest sequence number answered.
ping_gaps() {
	awk '/bytes from/ { t = substr($1, 2, length($1) - 2) + 0
		if (n++) { g = (t - last) * 1000; if (g > max) max = g }
		last = t
		if (match($0, /icmp_seq=[0-9]+/)) { q = substr($0, RSTART + 9, RLENGTH - 9) + 0; if (q > seq) seq = q } }
		END { printf "%.1f %d %d\n", max, n, seq }' "$1"
}

ping_during_show() {
	local ping_pid t0 gap replies seq bound
	start_daemon "$c" c "$dc"
	wait_until 20 "the client's handshake" ping_ok "$c" 10.0.0.1 ||
		{ note "ping: no reply through the tunnel within 20 s" && return; }
	bound=$((step_timeout + 5))
	ip netns exec "$c" ping -D -n -i 0.01 -W 1 -w "$bound" 10.0.0.1 >"$E2E_TMP/ping.txt" 2>&1 &
	ping_pid=$!
	E2E_PIDS+=("$ping_pid")
	sleep 1
	t0=$(now)
	ctl --json show wgs0 | wc -c >"$E2E_TMP/show-bytes" ||
		note "ping: the show during the ping failed or timed out"
	put show_json_during_ping_s "$(since "$t0")"
	put show_json_bytes "$(cat "$E2E_TMP/show-bytes")"
	sleep 1
	kill -INT "$ping_pid" 2>/dev/null
	wait "$ping_pid" 2>/dev/null || true
	read -r gap replies seq < <(ping_gaps "$E2E_TMP/ping.txt")
	if [ "$replies" -lt 2 ]; then
		note "ping: fewer than 2 replies during show"
		return
	fi
	put ping_longest_gap_ms "$gap"
	put ping_replies "$replies"
	put ping_lost "$((seq - replies))"
}

if [ "$up" -eq 1 ]; then
	log "--- (g) ping every 10 ms through the client peer while show runs"
	ping_during_show
fi

# --- (i) a metrics scrape, over HTTP and through tunctl, during the ping -----------

# ping_during PREFIX CMD...: (g)'s ping while CMD runs (its output counted):
# PREFIX_s, PREFIX_bytes, PREFIX_ping_longest_gap_ms, PREFIX_ping_lost.
ping_during() {
	local prefix=$1 ping_pid t0 gap replies seq rc=0
	shift
	ip netns exec "$c" ping -D -n -i 0.01 -W 1 -w $((step_timeout + 5)) 10.0.0.1 >"$E2E_TMP/ping.txt" 2>&1 &
	ping_pid=$!
	E2E_PIDS+=("$ping_pid")
	sleep 1
	t0=$(now)
	"$@" 2>"$E2E_TMP/ctl.err" | wc -c >"$E2E_TMP/bytes" || rc=$?
	[ "$rc" -eq 0 ] || note "$prefix: failed or timed out: $(head -c 300 "$E2E_TMP/ctl.err")"
	put "${prefix}_s" "$(since "$t0")"
	put "${prefix}_bytes" "$(cat "$E2E_TMP/bytes")"
	sleep 1
	kill -INT "$ping_pid" 2>/dev/null
	wait "$ping_pid" 2>/dev/null || true
	read -r gap replies seq < <(ping_gaps "$E2E_TMP/ping.txt")
	if [ "$replies" -lt 2 ]; then
		note "$prefix: fewer than 2 ping replies"
		return
	fi
	put "${prefix}_ping_longest_gap_ms" "$gap"
	put "${prefix}_ping_lost" "$((seq - replies))"
}

if [ "$up" -eq 1 ] && command -v curl >/dev/null 2>&1; then
	log "--- (i) a metrics scrape (curl, then tunctl metrics) while the ping runs"
	ping_during metrics_http ip netns exec "$s" timeout "$step_timeout" curl -sS --fail \
		http://127.0.0.1:9586/metrics
	ping_during metrics_ctl ctl metrics wgs0
elif [ "$up" -eq 1 ]; then
	note "metrics: curl is not installed"
fi

# --- (h) many peers through one tunctl add-peer --from -------------------------------

# batch_add: --batch new peers (numbered after the file's and the add-peer
# processes') as [Peer] sections in a file, added by one tunctl.
batch_add() {
	local t0 rc=0
	gen_keys "$batch" "$E2E_TMP/batch-keys" $((peers + adds))
	awk -v v6="$v6" '{ a = $2; sub(",", ", ", a)
		printf "[Peer]\nPublicKey = %s\nAllowedIPs = %s\n\n", $1, a }' \
		"$E2E_TMP/batch-keys" >"$E2E_TMP/batch.conf"
	t0=$(now)
	ctl add-peer wgs0 --from "$E2E_TMP/batch.conf" >/dev/null 2>"$E2E_TMP/ctl.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		note "batch: tunctl add-peer --from failed or timed out (status $rc): $(head -c 300 "$E2E_TMP/ctl.err")"
		return
	fi
	put batch_peers "$batch"
	put batch_s "$(since "$t0")"
	put batch_peers_per_s "$(awk -v n="$batch" -v s="${R[batch_s]}" 'BEGIN { printf "%.0f", n / s }')"
	put vmrss_after_batch_kib "$(status_kib "$PID_s" VmRSS)"
}

if [ "$up" -eq 1 ] && [ "$batch" -gt 0 ]; then
	log "--- (h) $batch peers through one tunctl add-peer --from (bound ${step_timeout}s)"
	batch_add
fi
kill -0 "$PID_s" 2>/dev/null || note "tund exited during the run: $(tail -n 3 "$E2E_TMP/s.log")"

# --- report -------------------------------------------------------------------------

load=$(cut -d' ' -f1-3 /proc/loadavg)
{
	printf '\ntund with %s peers%s (%s), %s cores, load average at the start %s, at the end %s\n' \
		"$peers" "$([ "$v6" -eq 1 ] && echo ', IPv4 and IPv6 each')" "$TUND" "$(nproc)" "$load0" "$load"
	printf '%-28s %s\n' metric value
	for k in "${ORDER[@]}"; do
		printf '%-28s %s\n' "$k" "${R[$k]}"
	done
	if [ "${#REMARKS[@]}" -gt 0 ]; then
		printf '\nremarks:\n'
		printf '  %s\n' "${REMARKS[@]}"
	fi
	if [ "${#NOTES[@]}" -gt 0 ]; then
		printf '\nnot measured:\n'
		printf '  %s\n' "${NOTES[@]}"
	fi
}
if [ -n "$json" ]; then
	{
		for k in "${ORDER[@]}"; do printf 'R\t%s\t%s\n' "$k" "${R[$k]}"; done
		for n in "${NOTES[@]}"; do printf 'N\t%s\n' "$n"; done
		for n in "${REMARKS[@]}"; do printf 'M\t%s\n' "$n"; done
	} | python3 -c '
import json, sys
out = {"peers": int(sys.argv[1]), "adds": int(sys.argv[2]), "v6": sys.argv[3] == "1",
       "timeout_s": int(sys.argv[4]), "load_start": sys.argv[8], "load_end": sys.argv[5], "tund": sys.argv[6],
       "figures": {}, "not_measured": [], "remarks": []}
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if f[0] == "R":
        try:
            out["figures"][f[1]] = float(f[2])
        except ValueError:
            out["figures"][f[1]] = f[2]
    else:
        out["not_measured" if f[0] == "N" else "remarks"].append(f[1])
with open(sys.argv[7], "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
' "$peers" "$adds" "$v6" "$step_timeout" "$load" "$TUND" "$json" "$load0"
	log "scale.sh: figures written to $json"
fi
[ "${#NOTES[@]}" -eq 0 ]
