#!/usr/bin/env bash
# Restarts and crashes. Either side restarts and traffic resumes within the
# protocol's retry intervals; a daemon killed with SIGKILL (no cleanup at
# all) starts again over its own leftovers; SIGTERM undoes routes, policy
# rules and hooks and exits 0.
#
#   server 10.70.0.1 ── veth 192.0.2.1/24 <-> 192.0.2.2/24 ── client 10.70.0.2
#   The client routes everything through the tunnel (AllowedIPs 0.0.0.0/0,
#   Table=auto: wg-quick's fwmark policy routing), with PostUp/PostDown hooks.
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping

ns_pair s c

ks=$(genkey); kc=$(genkey)
ds=$(confdir s); dc=$(confdir c)
marks="$E2E_TMP/marks"
mkdir -p "$marks"
tunnel_conf "$ds/rs0.conf" "$ks" 10.70.0.1/24 51820 "$(pubkey "$kc")" 192.0.2.2:51821 10.70.0.2/32
tunnel_conf "$dc/rs0.conf" "$kc" 10.70.0.2/24 51821 "$(pubkey "$ks")" 192.0.2.1:51820 0.0.0.0/0 \
	"PostUp = touch $marks/%i.up" "PostDown = rm -f $marks/%i.up"

# The client's routing state, minus what changes between runs.
client_rules() { ip -n "$c" -4 rule show | sort; }
client_routes() { ip -n "$c" -4 route show table all | grep -v '^local\|^broadcast' | sort; }
rules_before=$(client_rules)

tund_start "$s" s "$ds"
tund_start "$c" c "$dc"
tund_wait_iface "$s" rs0 && tund_wait_iface "$c" rs0 || fail "interfaces not up"
assert_ping "$c" 10.70.0.1
[ -e "$marks/rs0.up" ] || fail "PostUp did not run with %i expanded"
client_rules | grep -q "not from all fwmark" || fail "no policy rule for the /0 route: $(client_rules)"
rules_up=$(client_rules)
routes_up=$(client_routes)

# pings_resume NS DST SECONDS: a ping every 200 ms until one is answered.
pings_resume() {
	local start=$SECONDS
	wait_until "$3" "pings from ${1%-$$} to $2" ping_ok "$1" "$2" || return 1
	log "--- traffic resumed after $((SECONDS - start)) s"
}

log "=== the server restarts; the client keeps sending"
tund_stop s
tund_start "$s" s "$ds"
tund_wait_iface "$s" rs0 || fail "server interface not up after restart"
# The server has the client's endpoint and initiates at its first packet.
pings_resume "$s" 10.70.0.2 10 || fail "server -> client did not resume"
assert_ping "$c" 10.70.0.1

log "=== the client restarts"
tund_stop c
[ ! -e "$marks/rs0.up" ] || fail "PostDown did not run on SIGTERM"
[ "$(client_rules)" = "$rules_before" ] || fail "policy rules left after SIGTERM: $(client_rules)"
tund_start "$c" c "$dc"
tund_wait_iface "$c" rs0 || fail "client interface not up after restart"
pings_resume "$c" 10.70.0.1 10 || fail "client -> server did not resume"

log "=== the server restarts and only the client sends"
# The client's session is stale: with no reply to its data, it starts a new
# handshake after keepalive-timeout + rekey-timeout (15 s).
tund_stop s
tund_start "$s" s "$ds"
tund_wait_iface "$s" rs0 || fail "server interface not up after restart"
pings_resume "$c" 10.70.0.1 25 || fail "client -> server did not resume within 25 s"

log "=== the client is killed with SIGKILL and started again"
run kill -KILL "$TUND_PID_c"
wait "$TUND_PID_c" 2>/dev/null || true
# Left behind: policy rules and routes in other tables, and the PostUp mark.
[ -e "$marks/rs0.up" ] || fail "test setup: the mark should survive a SIGKILL"
tund_start "$c" c "$dc"
tund_wait_iface "$c" rs0 || fail "client interface not up after a crash"
pings_resume "$c" 10.70.0.1 25 || fail "client -> server did not resume after a crash"
[ "$(client_rules)" = "$rules_up" ] || fail "policy rules after crash+restart differ:
$(client_rules)
--- expected
$rules_up"
[ "$(client_routes)" = "$routes_up" ] || fail "routes after crash+restart differ:
$(client_routes)
--- expected
$routes_up"
tund_stop c
[ "$(client_rules)" = "$rules_before" ] || fail "policy rules left after the final SIGTERM: $(client_rules)"
tund_alive s || fail "the server died"
log "PASS"
