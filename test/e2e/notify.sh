#!/usr/bin/env bash
# tund tells its service manager how it is doing, through a NOTIFY_SOCKET
# this test listens on as systemd would: READY=1 with a STATUS= summary once
# the interfaces are up, WATCHDOG=1 at half of WATCHDOG_USEC while the loop
# runs, STATUS= again when the summary changes (a peer added, an interface
# created, a link deleted under tund), RELOADING=1 then READY=1 around a
# reload, STOPPING=1 on SIGTERM.
# Without NOTIFY_SOCKET it runs as before. Under journald (JOURNAL_STREAM
# naming its stderr) lines carry <N> priorities; otherwise plain text.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init python3
lib=$(cd "$(dirname "$0")/../lib" && pwd)

ns_new a
k=$(genkey)
da=$(confdir a)
write_conf "$da/nt0.conf" <<CONF
[Interface]
PrivateKey = $k
Address = 10.82.0.1/24
[Peer]
PublicKey = $(pubkey "$(genkey)")
AllowedIPs = 10.82.0.2/32
[Peer]
PublicKey = $(pubkey "$(genkey)")
AllowedIPs = 10.82.0.3/32
CONF
sock="$E2E_TMP/notify.sock" nlog="$E2E_TMP/notify.log"
: >"$nlog"
python3 "$lib/notifysock.py" "$sock" "$nlog" 30 &
lpid=$!
E2E_PIDS+=("$lpid")
wait_until 5 "notify socket" test -S "$sock" || fail "the listener did not start"

# WATCHDOG_USEC=400000: tund must ping every 200 ms.
tund_start "$a" a "$da" NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000
tund_wait_iface "$a" nt0 || fail "nt0 not up"
wait_until 5 "READY=1" grep -q "READY=1" "$nlog" || fail "no READY=1: $(cat "$nlog")"
grep "READY=1" "$nlog" | grep -q "STATUS=1 interface up, 2 peers" || fail "READY without the summary: $(cat "$nlog")"
sleep 2
dogs=$(grep -c "WATCHDOG=1" "$nlog" || true)
log "--- $dogs watchdog pings in about 2 s"
[ "$dogs" -ge 6 ] || fail "expected about 10 watchdog pings in 2 s, got $dogs"
# STATUS= follows changes no request of its own announces: a peer added,
# an interface created, its link deleted under tund (as wg-quick down does).
T() { "$TUNCTL" --socket "$E2E_TMP/a.sock" "$@"; }
T add-peer nt0 --public-key "$(pubkey "$(genkey)")" --allowed-ips 10.82.0.4/32 >/dev/null ||
	fail "add-peer"
wait_until 5 "STATUS with 3 peers" grep -q "STATUS=1 interface up, 3 peers" "$nlog" ||
	fail "STATUS did not follow add-peer: $(grep STATUS "$nlog" | tail -2)"
T create ntx >/dev/null || fail "tunctl create ntx"
wait_until 5 "STATUS with 2 interfaces" grep -q "STATUS=2 interfaces up, 3 peers" "$nlog" ||
	fail "STATUS did not follow create: $(grep STATUS "$nlog" | tail -2)"
run ip -n "$a" link del ntx
wait_until 5 "STATUS after the link was deleted" bash -c \
	"sed -n '/STATUS=2 interfaces up/,\$p' '$nlog' | grep -q 'STATUS=1 interface up, 3 peers'" ||
	fail "STATUS did not follow the deleted link: $(grep STATUS "$nlog" | tail -2)"
# A reload (SIGHUP) is framed by RELOADING=1 ... READY=1.
run kill -HUP "$TUND_PID_a"
wait_until 5 "RELOADING=1" grep -q "RELOADING=1" "$nlog" || fail "no RELOADING=1"
wait_until 5 "READY=1 after the reload" \
	bash -c "sed -n '/RELOADING=1/,\$p' '$nlog' | grep -q 'READY=1'" || fail "no READY=1 after the reload"
tund_stop a
wait "$lpid" || true
grep -q "STOPPING=1" "$nlog" || fail "no STOPPING=1: $(tail -3 "$nlog")"
# READY comes before the first watchdog ping and STOPPING after the last one.
first=$(grep -n -m1 . "$nlog" | cut -d: -f1)
[ "$(sed -n "${first}p" "$nlog" | grep -c READY=1)" = 1 ] || fail "the first message is not READY=1"
tail -1 "$nlog" | grep -q "STOPPING=1" || fail "a message came after STOPPING=1"
cat "$nlog" | head -3 >&2

# Without NOTIFY_SOCKET nothing changes (the other e2e tests run that way),
# and a NOTIFY_SOCKET nobody listens on does not stop tund.
rm -f "$sock"
tund_start "$a" a "$da" NOTIFY_SOCKET="$sock"
tund_wait_iface "$a" nt0 || fail "nt0 not up without a listener"
tund_stop a

log "=== journald: priority prefixes only when stderr is the journal's stream"
: >"$E2E_TMP/j.log"
tund_start "$a" j "$da" JOURNAL_STREAM="$(stat -c '%d:%i' "$E2E_TMP/j.log")"
tund_wait_iface "$a" nt0 || fail "nt0 not up"
tund_stop j
grep -q '^<6>.*starting' "$E2E_TMP/j.log" || fail "no <6> prefix: $(head -2 "$E2E_TMP/j.log")"
! grep -v '^<[3467]>' "$E2E_TMP/j.log" | grep -q . || fail "a line without a prefix"
# An inherited JOURNAL_STREAM that is not stderr: plain lines.
: >"$E2E_TMP/p.log"
tund_start "$a" p "$da" JOURNAL_STREAM=1:1
tund_wait_iface "$a" nt0 || fail "nt0 not up"
tund_stop p
grep -q '^info: .*starting' "$E2E_TMP/p.log" || fail "plain lines: $(head -2 "$E2E_TMP/p.log")"
! grep -q '^<[0-9]>' "$E2E_TMP/p.log" || fail "a priority prefix on a stream that is not the journal"
log "PASS"
