#!/usr/bin/env bash
# RedirectToLocalhost (L3 localhost tunnelling) between two tund daemons: the
# server reaches the client's tunnel address on a listed port and lands on
# the client's 127.0.0.1 (IPv4) or ::1 (IPv6), TCP and UDP; a port not
# listed is not redirected; a peer that addresses 127.0.0.1 itself through
# the tunnel is dropped (route_localnet must not open the whole loopback);
# tunctl show (human and JSON); reload changes and removes the rules in
# place, without a handshake, and a bad value keeps them; SIGTERM leaves no
# table, SIGKILL neither (the kernel drops tund's owned table), and a start
# replaces a leftover table of the same name; nft's socket is close-on-exec.
#
#   srv 192.0.2.1 ──────────── veth ──────────── 192.0.2.2 cli
#   rd0 10.91.0.1, fd91::1  ==== tunnel ====  rd0 10.91.0.2, fd91::2
#                                              RedirectToLocalhost = 8000, 8100-8101, 5353/udp
#   cli's loopback: HTTP 127.0.0.1:8000 "v4", [::1]:8000 "v6", 127.0.0.1:8101 "range",
#                   127.0.0.1:9000 "nine" (not listed), UDP 127.0.0.1:5353 and [::1]:5353
. "$(dirname "$0")/../lib/netns.sh"
e2e_init nft python3 curl socat ss

ns_pair srv cli
ks=$(genkey); kc=$(genkey)
ps=$(pubkey "$ks"); pc=$(pubkey "$kc")
ds=$(confdir srv); dc=$(confdir cli)
# The server's AllowedIPs for the client include 127.0.0.1, so that the
# hostile test below can send through the tunnel to the client's loopback.
tunnel_conf "$ds/rd0.conf" "$ks" "10.91.0.1/24, fd91::1/64" 51820 "$pc" 192.0.2.2:51820 \
	"10.91.0.2/32, fd91::2/128, 127.0.0.1/32"
# The client keeps its session alive as a client behind NAT would; that also
# makes a restarted client shake hands at once, rather than the server after
# 15 s of sending into the old session.
cli_conf() { # cli_conf REDIRECT-LINE...
	tunnel_conf "$dc/rd0.conf" "$kc" "10.91.0.2/24, fd91::2/64" 51820 "$ps" 192.0.2.1:51820 \
		"10.91.0.1/32, fd91::1/128" "$@" -- "PersistentKeepalive = 25"
}
cli_conf "RedirectToLocalhost = 8000, 8100-8101" "RedirectToLocalhost = 5353/udp"

# The client's local services, none on the tunnel address.
site() { mkdir -p "$E2E_TMP/$1" && echo "$1" >"$E2E_TMP/$1/index.html"; }
serve() { # serve NAME BIND PORT
	site "$1"
	ip netns exec "$cli" python3 -m http.server --bind "$2" --directory "$E2E_TMP/$1" "$3" \
		>>"$E2E_TMP/http-$1.log" 2>&1 &
	E2E_PIDS+=("$!")
}
serve v4 127.0.0.1 8000
serve v6 ::1 8000
serve range 127.0.0.1 8101
serve nine 127.0.0.1 9000
udp_echo() { # udp_echo SOCAT-ADDRESS REPLY
	ip netns exec "$cli" socat "$1,fork" SYSTEM:"echo $2" &
	E2E_PIDS+=("$!")
}
udp_echo "UDP4-RECVFROM:5353,bind=127.0.0.1" udp-v4
udp_echo "UDP6-RECVFROM:5353,bind=[::1]" udp-v6
wait_until 10 "HTTP servers" eval 'listening "$cli" 8000 && listening "$cli" 8101 &&
	listening "$cli" 9000 && [ "$(ip netns exec "$cli" ss -Hltn "sport = :8000" | wc -l)" = 2 ]' ||
	fail "the HTTP servers did not start"

tund_start "$srv" srv "$ds"
tund_start "$cli" cli "$dc"
tund_wait_iface "$srv" rd0 && tund_wait_iface "$cli" rd0 || fail "interfaces not up"
C() { "$TUNCTL" --socket "$E2E_TMP/cli.sock" "$@"; }

# fetch HOST PORT: the page the server gets (2 s at most).
url() { if [[ $1 == *:* ]]; then echo "http://[$1]:$2/"; else echo "http://$1:$2/"; fi; }
fetch() { ip netns exec "$srv" curl -gsS --max-time 2 "$(url "$1" "$2")"; }
refused() { ! ip netns exec "$srv" curl -gs --max-time 2 -o /dev/null "$(url "$1" "$2")"; }
# udp HOST PORT: the answer to one datagram (2 s at most).
udp() {
	local a=UDP4:$1:$2
	[[ $1 != *:* ]] || a="UDP6:[$1]:$2"
	echo ping | ip netns exec "$srv" socat -t2 -T2 - "$a"
}
# udp_answers HOST PORT WANT: a datagram gets WANT back; asked again for 10 s,
# as a UDP client does (on a loaded machine one answer may come too late).
udp_is() { [ "$(udp "$1" "$2")" = "$3" ]; }
udp_answers() { wait_until 10 "UDP $1:$2 answered" udp_is "$1" "$2" "$3"; }
# tables NS: the nftables tables of tund in NS, one per line.
tables() { ip netns exec "$1" nft list tables | grep -E ' tund[-_]' || true; }
localnet() { ip netns exec "$cli" cat /proc/sys/net/ipv4/conf/rd0/route_localnet; }
lo6_route() { ip -n "$cli" -6 route show table local | grep -q '^local ::1 dev rd0'; }
handshake() {
	C --json show rd0 | python3 -c 'import json, sys
print(json.load(sys.stdin)["interfaces"][0]["peers"][0]["latest_handshake"])'
}
reloads() { grep -c "reload done" "$E2E_TMP/cli.log" || true; }
reload_cli() { # reload_cli EXPECTED-EXIT: tunctl reload, then wait for the log line
	local before rc=0
	before=$(reloads)
	C reload >"$E2E_TMP/out" 2>&1 || rc=$?
	[ "$rc" = "$1" ] || fail "tunctl reload: exit $rc, expected $1: $(cat "$E2E_TMP/out")"
	wait_until 5 "reload done" eval '[ "$(reloads)" -gt "$before" ]' || fail "reload not done"
}

log "=== the rules are in: one table, route_localnet, the ::1 route"
wait_until 10 "first page" fetch 10.91.0.2 8000 || fail "no redirect on 10.91.0.2:8000"
[ "$(tables "$cli")" = "table inet tund-rd0" ] || fail "tables: $(tables "$cli")"
[ -z "$(tables "$srv")" ] || fail "the server has a table it was not asked for"
[ "$(localnet)" = 1 ] || fail "route_localnet is $(localnet)"
lo6_route || fail "no local ::1 route through rd0: $(ip -n "$cli" -6 route show table local)"
tund_log_has cli "rd0: RedirectToLocalhost 8000/tcp, 8100-8101/tcp, 5353/udp to 127.0.0.1 and ::1" ||
	fail "no log line for the redirect"

log "=== TCP and UDP reach the client's loopback, IPv4 and IPv6"
[ "$(fetch 10.91.0.2 8000)" = v4 ] || fail "10.91.0.2:8000 did not reach 127.0.0.1:8000"
[ "$(fetch fd91::2 8000)" = v6 ] || fail "[fd91::2]:8000 did not reach [::1]:8000"
[ "$(fetch 10.91.0.2 8101)" = range ] || fail "8101 (in 8100-8101) was not redirected"
udp_answers 10.91.0.2 5353 udp-v4 || fail "UDP 10.91.0.2:5353 did not reach 127.0.0.1:5353"
udp_answers fd91::2 5353 udp-v6 || fail "UDP [fd91::2]:5353 did not reach [::1]:5353"
log "=== a port not listed is not redirected"
refused 10.91.0.2 9000 || fail "9000 is not listed but reached the client's loopback"
refused fd91::2 9000 || fail "[fd91::2]:9000 got an answer"
[ -z "$(udp 10.91.0.2 5354 2>/dev/null)" ] || fail "UDP 5354 got an answer"

log "=== a peer addressing 127.0.0.1 through the tunnel is dropped"
# The server routes 127.0.0.1 into the tunnel (its own loopback rule moved
# after ours); a probe table on the client counts what arrives for it.
run ip -n "$srv" rule add to 127.0.0.1 lookup 100 pref 10
run ip -n "$srv" rule del pref 0
run ip -n "$srv" rule add lookup local pref 50
run ip -n "$srv" route add 127.0.0.1/32 dev rd0 src 10.91.0.1 table 100
n "$srv" sysctl -qw net.ipv4.conf.rd0.route_localnet=1
n "$cli" nft add table inet probe
n "$cli" nft add chain inet probe c '{ type filter hook prerouting priority -400; }'
n "$cli" nft add rule inet probe c iifname rd0 ip daddr 127.0.0.1 tcp dport 9000 counter
! ip netns exec "$srv" curl -s --max-time 2 -o /dev/null http://127.0.0.1:9000/ ||
	fail "the server reached the client's 127.0.0.1:9000 directly"
# A SYN still in a busy daemon's queue when curl gives up is counted a little later.
wait_until 5 "the probe counting" eval "ip netns exec '$cli' nft list chain inet probe c | grep -q 'packets [1-9]'" ||
	fail "the probe saw nothing: the test did not send through the tunnel"
n "$cli" nft delete table inet probe
run ip -n "$srv" route del 127.0.0.1/32 dev rd0 table 100
run ip -n "$srv" rule add lookup local pref 0
run ip -n "$srv" rule del pref 50
run ip -n "$srv" rule del pref 10

log "=== tunctl show, human and JSON"
C show rd0 >"$E2E_TMP/out"
grep -qx "  redirect to localhost: 8000/tcp, 8100-8101/tcp, 5353/udp (127.0.0.1 and ::1)" \
	"$E2E_TMP/out" || fail "show: $(cat "$E2E_TMP/out")"
C --json show rd0 | python3 -c '
import json, sys
i = json.load(sys.stdin)["interfaces"][0]
r = [(p["protocol"], p["first_port"], p["last_port"]) for p in i["redirect_to_localhost"]]
assert r == [("tcp", 8000, 8000), ("tcp", 8100, 8101), ("udp", 5353, 5353)], r
assert i["redirect_ipv6"] is True, i' || fail "show --json"
"$TUNCTL" --socket "$E2E_TMP/srv.sock" show rd0 | grep -q "redirect" && fail "srv shows a redirect"

log "=== reload: new ports in place, no handshake, no restart"
hs=$(handshake)
ifindex() { ip -n "$cli" -o link show rd0 | cut -d: -f1; }
ifi=$(ifindex)
sleep 1.1 # a new handshake would show as a later second
cli_conf "RedirectToLocalhost = 9000, 5353/udp"
reload_cli 0
tund_log_has cli "rd0: RedirectToLocalhost 9000/tcp, 5353/udp to 127.0.0.1 and ::1" ||
	fail "reload did not log the new ports"
[ "$(fetch 10.91.0.2 9000)" = nine ] || fail "9000 not redirected after reload"
refused 10.91.0.2 8000 || fail "8000 still redirected after reload"
udp_answers 10.91.0.2 5353 udp-v4 || fail "UDP lost by the reload"
[ "$(tables "$cli")" = "table inet tund-rd0" ] || fail "tables after reload: $(tables "$cli")"
[ "$(handshake)" = "$hs" ] || fail "the reload made a new handshake ($hs -> $(handshake))"
! tund_log_has cli "restarting" && [ "$(ifindex)" = "$ifi" ] ||
	fail "the reload restarted the interface"

log "=== reload with a bad port: an error with file and line, the rules stay"
cli_conf "RedirectToLocalhost = 9000, 70000"
reload_cli 1
bad=$(grep -n RedirectToLocalhost "$dc/rd0.conf" | cut -d: -f1)
tund_log_has cli "rd0.conf:$bad: RedirectToLocalhost: \"70000\": a port is 1-65535" ||
	fail "no file:line error for 70000"
[ "$(fetch 10.91.0.2 9000)" = nine ] || fail "a bad file changed the rules"

log "=== reload without the key: table, route_localnet and ::1 route go"
cli_conf
reload_cli 0
[ -z "$(tables "$cli")" ] || fail "table left after the key was removed: $(tables "$cli")"
[ "$(localnet)" = 0 ] || fail "route_localnet left at $(localnet)"
! lo6_route || fail "the ::1 route was left"
refused 10.91.0.2 9000 || fail "9000 still redirected"
C show rd0 | grep -q redirect && fail "show still lists a redirect"
cli_conf "RedirectToLocalhost = 8000"
reload_cli 0
[ "$(fetch fd91::2 8000)" = v6 ] || fail "no IPv6 redirect after adding the key back"
[ "$(handshake)" = "$hs" ] || fail "reloads made a new handshake"

log "=== nft's socket is close-on-exec (a hook's child must not keep the table alive)"
python3 - "$TUND_PID_cli" "$cli" <<'PY' || fail "tund's netfilter socket is inherited by hooks"
import os, subprocess, sys
pid, ns = sys.argv[1], sys.argv[2]
lines = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/netlink"],
                       capture_output=True, text=True, check=True).stdout.splitlines()[1:]
inodes = {l.split()[-1] for l in lines if l.split()[1] == "12"}  # NETLINK_NETFILTER
found = 0
for fd in os.listdir(f"/proc/{pid}/fd"):
    link = os.readlink(f"/proc/{pid}/fd/{fd}")
    if link.startswith("socket:[") and link[8:-1] in inodes:
        flags = open(f"/proc/{pid}/fdinfo/{fd}").read().split("flags:")[1].split()[0]
        assert int(flags, 8) & 0o2000000, f"fd {fd} lacks O_CLOEXEC ({flags})"
        found += 1
assert found >= 1, "no netfilter socket found"
PY

log "=== SIGTERM: no table is left"
tund_stop cli
[ -z "$(tables "$cli")" ] || fail "table left after SIGTERM: $(tables "$cli")"

log "=== a start replaces a leftover table of the same name"
n "$cli" nft add table inet tund-rd0
n "$cli" nft add chain inet tund-rd0 stale '{ type nat hook prerouting priority dstnat; }'
tund_start "$cli" cli2 "$dc"
C() { "$TUNCTL" --socket "$E2E_TMP/cli2.sock" "$@"; }
wait_until 10 "redirect after start" fetch 10.91.0.2 8000 || fail "no redirect after start"
[ "$(tables "$cli")" = "table inet tund-rd0" ] || fail "tables: $(tables "$cli")"
ip netns exec "$cli" nft list table inet tund-rd0 >"$E2E_TMP/out"
grep -q "flags owner" "$E2E_TMP/out" && grep -q "chain to_localhost" "$E2E_TMP/out" &&
	! grep -q "chain stale" "$E2E_TMP/out" || fail "the leftover was not replaced: $(cat "$E2E_TMP/out")"

log "=== SIGKILL: the kernel drops the owned table; a restart has exactly one"
run kill -KILL "$TUND_PID_cli2"
wait "$TUND_PID_cli2" 2>/dev/null || true
wait_until 5 "no table after SIGKILL" eval '[ -z "$(tables "$cli")" ]' ||
	fail "table left after SIGKILL: $(tables "$cli")"
tund_start "$cli" cli3 "$dc"
wait_until 10 "redirect after restart" fetch 10.91.0.2 8000 || fail "no redirect after restart"
[ "$(fetch fd91::2 8000)" = v6 ] || fail "no IPv6 redirect after restart"
[ "$(tables "$cli")" = "table inet tund-rd0" ] || fail "tables after restart: $(tables "$cli")"
tund_stop cli3
[ -z "$(tables "$cli")" ] || fail "table left at the end"
tund_alive srv || fail "srv died"
log "PASS"
