#!/usr/bin/env bash
# Prometheus metrics: tund --metrics-listen and tunctl metrics.
#
#   ns mta: tund, mt0 10.157.0.1/24, metrics on 127.0.0.1:9586 and [::1]:9586
#   ns mtb: tund, mt0 10.157.0.2/24, metrics on 192.0.2.2:9586 (not loopback: a warning)
#   joined by a veth, 192.0.2.1/24 <-> 192.0.2.2/24
#
# Proves: the text is well-formed exposition format 0.0.4 (test/lib/promtext.py:
# HELP and TYPE once before each family's samples, families not interleaved,
# valid names, label escaping, counters in _total), over HTTP and through the
# control socket, with the same families; the peer's Name comes back as
# friendly_name; the exporter's per-peer series follow traffic
# (latest handshake set by the handshake, bytes grow with a transfer);
# handshake counters move; HEAD, 404, 405; garbage, a huge head, half a
# request, slowloris past the connection cap and a slow reader
# (test/lib/httpabuse.py) neither crash tund nor disturb a ping across the
# tunnel; promtool (if installed) accepts the text.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init socat ping curl python3
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
PROM="python3 $LIB/promtext.py"

ns_pair mta mtb
ka=$(genkey) kb=$(genkey)
pa=$(pubkey "$ka") pb=$(pubkey "$kb")
da=$(confdir a) db=$(confdir b)
# Name= allows only A-Z a-z 0-9 . _ - (no quote or backslash to escape:
# test_metrics checks the escaping).
tunnel_conf "$da/mt0.conf" "$ka" 10.157.0.1/24 51820 "$pb" 192.0.2.2:51820 "10.157.0.2/32, fd00:157::2/128" \
	-- 'Name = b.the-peer_1'
tunnel_conf "$db/mt0.conf" "$kb" 10.157.0.2/24 51820 "$pa" 192.0.2.1:51820 10.157.0.1/32

TUND_ARGS=(--metrics-listen 127.0.0.1:9586 --metrics-listen '[::1]:9586')
tund_start "$mta" a "$da"
TUND_ARGS=(--metrics-listen 192.0.2.2:9586)
tund_start "$mtb" b "$db"
TUND_ARGS=()
tund_wait_iface "$mta" mt0 || fail "mt0 not up in mta"
tund_wait_iface "$mtb" mt0 || fail "mt0 not up in mtb"
tund_log_has a "metrics: listening on http://127.0.0.1:9586/metrics" || fail "a does not say where metrics are"
tund_log_has a "not a loopback" && fail "a warned about a loopback address"
tund_log_has b "192.0.2.2:9586 is not a loopback address" || fail "b did not warn about a non-loopback address"

# scrape NAME URL: the body into $E2E_TMP/NAME.prom, checked; the headers into NAME.hdr.
scrape() {
	n "$mta" curl -sS --max-time 10 -D "$E2E_TMP/$1.hdr" -o "$E2E_TMP/$1.prom" "$2" || fail "curl $2 failed"
	grep -q '^HTTP/1.1 200' "$E2E_TMP/$1.hdr" || fail "$2: not 200: $(head -1 "$E2E_TMP/$1.hdr")"
	grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$E2E_TMP/$1.hdr" ||
		fail "$2: wrong Content-Type"
	$PROM check "$E2E_TMP/$1.prom" || fail "$2: not well-formed exposition format"
}
# get FILE NAME [LABEL=VALUE...]: one sample's value (peer b's on a unless labels say otherwise).
get() { $PROM get "$@"; }
peer_b=(interface=mt0 "public_key=$pb" "allowed_ips=10.157.0.2/32,fd00:157::2/128" friendly_name=b.the-peer_1)

log "--- before any traffic: the peer's series, zero"
scrape before http://127.0.0.1:9586/metrics
[ "$(get "$E2E_TMP/before.prom" wireguard_latest_handshake_seconds "${peer_b[@]}")" = 0 ] ||
	fail "a handshake before any traffic"
[ "$(get "$E2E_TMP/before.prom" tund_peers interface=mt0)" = 1 ] || fail "tund_peers is not 1"
get "$E2E_TMP/before.prom" tund_build_info >/dev/null || fail "no tund_build_info"
grep -qF 'friendly_name="b.the-peer_1"}' "$E2E_TMP/before.prom" || fail "no friendly_name, or not the last label"

log "--- a ping: handshake, sessions, handshake counters"
assert_ping "$mta" 10.157.0.2
scrape ping http://127.0.0.1:9586/metrics
hs=$(get "$E2E_TMP/ping.prom" wireguard_latest_handshake_seconds "${peer_b[@]}")
now=$(date +%s)
[ "$hs" -gt $((now - 60)) ] && [ "$hs" -le $((now + 1)) ] || fail "latest handshake $hs is not about now ($now)"
[ "$(get "$E2E_TMP/ping.prom" tund_sessions interface=mt0)" = 1 ] || fail "tund_sessions is not 1"
[ "$(get "$E2E_TMP/ping.prom" tund_handshakes_sent_total interface=mt0 type=initiation)" -ge 1 ] ||
	fail "no initiation counted as sent"
[ "$(get "$E2E_TMP/ping.prom" tund_handshakes_received_total interface=mt0 type=response)" -ge 1 ] ||
	fail "no response counted as received"
sent1=$(get "$E2E_TMP/ping.prom" wireguard_sent_bytes_total "${peer_b[@]}")
recv1=$(get "$E2E_TMP/ping.prom" wireguard_received_bytes_total "${peer_b[@]}")
[ "$sent1" -gt 0 ] && [ "$recv1" -gt 0 ] || fail "no bytes counted after a ping ($sent1 sent, $recv1 received)"

log "--- 4 MB a -> b: the bytes follow"
transfer "$mta" "$mtb" 10.157.0.2 4 5157
scrape xfer 'http://[::1]:9586/metrics?ignored=1'
sent2=$(get "$E2E_TMP/xfer.prom" wireguard_sent_bytes_total "${peer_b[@]}")
[ "$sent2" -ge $((sent1 + 4 * 1024 * 1024)) ] || fail "sent bytes $sent1 -> $sent2 after 4 MB"
recv2=$(get "$E2E_TMP/xfer.prom" wireguard_received_bytes_total "${peer_b[@]}")
[ "$recv2" -gt "$recv1" ] || fail "received bytes did not grow ($recv1 -> $recv2)"

log "--- tunctl metrics: the same families, the same text format"
ip netns exec "$mta" "$TUNCTL" --socket "$E2E_TMP/a.sock" metrics >"$E2E_TMP/ctl.prom" || fail "tunctl metrics failed"
$PROM check "$E2E_TMP/ctl.prom" || fail "tunctl metrics: not well-formed"
diff <($PROM families "$E2E_TMP/ctl.prom") <($PROM families "$E2E_TMP/xfer.prom") || fail "families differ"
[ "$(get "$E2E_TMP/ctl.prom" wireguard_sent_bytes_total "${peer_b[@]}")" -ge "$sent2" ] || fail "tunctl's sent bytes went back"
ip netns exec "$mta" "$TUNCTL" --socket "$E2E_TMP/a.sock" metrics mt0 >"$E2E_TMP/ctl1.prom" || fail "tunctl metrics mt0 failed"
$PROM check "$E2E_TMP/ctl1.prom" || fail "tunctl metrics mt0: not well-formed"
ip netns exec "$mta" "$TUNCTL" --socket "$E2E_TMP/a.sock" --json metrics |
	python3 -c 'import json,sys; assert json.load(sys.stdin)["text"].startswith("# HELP ")' ||
	fail "tunctl --json metrics is not {\"text\": ...}"
if ip netns exec "$mta" "$TUNCTL" --socket "$E2E_TMP/a.sock" metrics nosuch0 >/dev/null 2>&1; then
	fail "tunctl metrics of a missing interface succeeded"
fi

log "--- HEAD, 404, 405"
code() { ip netns exec "$mta" curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code -I http://127.0.0.1:9586/metrics)" = 200 ] || fail "HEAD /metrics is not 200"
[ -z "$(ip netns exec "$mta" curl -s --max-time 5 -I http://127.0.0.1:9586/metrics | tr -d '\r' | sed '1,/^$/d')" ] ||
	fail "HEAD has a body"
[ "$(code http://127.0.0.1:9586/)" = 404 ] || fail "/ is not 404"
[ "$(code http://127.0.0.1:9586/metricsx)" = 404 ] || fail "/metricsx is not 404"
[ "$(code -X POST -d x http://127.0.0.1:9586/metrics)" = 405 ] || fail "POST is not 405"

log "--- bad clients while a ping crosses the tunnel"
n "$mta" ping -c 300 -i 0.05 -W 1 -q 10.157.0.2 >"$E2E_TMP/ping.out" 2>&1 &
ping_pid=$!
E2E_PIDS+=("$ping_pid")
n "$mta" timeout 60 python3 "$LIB/httpabuse.py" 127.0.0.1 9586 || fail "a bad client was handled wrongly"
wait "$ping_pid" || true
grep -q ' 0% packet loss' "$E2E_TMP/ping.out" || fail "the ping lost packets: $(grep loss "$E2E_TMP/ping.out")"
tund_alive a || fail "tund a died"
scrape after http://127.0.0.1:9586/metrics

if command -v promtool >/dev/null 2>&1; then
	log "--- promtool check metrics"
	promtool check metrics <"$E2E_TMP/after.prom" || fail "promtool rejects the text"
else
	log "--- promtool is not installed: skipped"
fi

log "--- no private key in the text or the logs"
for k in "$ka" "$kb"; do
	! grep -qF -- "$k" "$E2E_TMP"/*.prom "$E2E_TMP/a.log" "$E2E_TMP/b.log" || fail "a private key leaked"
done
tund_stop a
tund_stop b
log "PASS"
