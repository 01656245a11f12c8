#!/usr/bin/env bash
# tunctl add-peer / set-peer / remove-peer --save: each save changes exactly
# the intended lines of the interface file (checked as a diff against the
# file before), keeps its mode and owner, and leaves tund and the file in
# agreement (reload: no change). After a restart the saved peers are there
# and traffic flows to the added one. A file edited on disk since tund
# loaded it is never overwritten; a directory tund cannot write gives
# save_failed with the change live and the file as it was.
#
#   a 10.90.0.1 (tund, sv0.conf edited by --save) ── veth ── b 10.90.0.2 (tund)
#   192.0.2.1                                                192.0.2.2
. "$(dirname "$0")/../lib/netns.sh"
e2e_init ping python3 diff unshare mount

ns_new a
ns_new b
veth "$a" v0 "$b" v0
addr "$a" v0 192.0.2.1/24
addr "$b" v0 192.0.2.2/24
ka=$(genkey); kb=$(genkey)
pa=$(pubkey "$ka"); pb=$(pubkey "$kb")
pgone=$(pubkey "$(genkey)"); pother=$(pubkey "$(genkey)"); px=$(pubkey "$(genkey)")
da=$(confdir a); db=$(confdir b)
psk=$("$TUNCTL" genpsk)
(umask 077 && echo "$psk" >"$E2E_TMP/a.psk" && echo "$psk" >"$E2E_TMP/b.psk")
conf=$(realpath "$da")/sv0.conf

# Comments of both kinds, blank lines, trailing blanks, inline comments, a
# setting on two lines: all of it must come through the saves.
write_conf "$conf" <<CONF
# sv0: the --save test's interface.
# Comments, blank lines and spacing must survive every save.
[Interface]
PrivateKey = $ka
ListenPort = 51820   # fixed, so that b can find it
Address = 10.90.0.1/24  

; this peer is removed with remove-peer --save
[Peer]
Name = gone
PublicKey = $pgone
AllowedIPs = 10.90.0.50/32 # one of two lines
AllowedIPs = 10.90.1.0/24

# set-peer changes this one
[Peer]
Name = other
PublicKey = $pother
AllowedIPs = 10.90.0.60/32
Endpoint = 192.0.2.60:51820

# the end
CONF
run chown 4321:4321 "$conf"
write_conf "$db/sv0.conf" <<CONF
[Interface]
PrivateKey = $kb
ListenPort = 51820
Address = 10.90.0.2/24
[Peer]
PublicKey = $pa
PresharedKeyFile = $E2E_TMP/b.psk
Endpoint = 192.0.2.1:51820
AllowedIPs = 10.90.0.1/32
CONF

tund_start "$a" a "$da"
tund_start "$b" b "$db"
tund_wait_iface "$a" sv0 && tund_wait_iface "$b" sv0 || fail "interfaces not up"
sock="$E2E_TMP/a.sock"
T() { "$TUNCTL" --socket "$sock" "$@"; }
wait_until 5 "control socket" T status || fail "no control socket"

tmp=$E2E_TMP
# expect RC ARGS...: tunctl's exit status; output in $tmp/out, $tmp/err.
expect() {
	local want=$1 rc=0
	shift
	printf '+ tunctl %s\n' "$*" >&2
	T "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = "$want" ] || fail "tunctl $*: exit $rc, expected $want: $(cat "$tmp/err" "$tmp/out")"
}
jq_py() { python3 -c "import json,sys; d=json.load(open('$tmp/out')); $1"; }
# saved_diff BEFORE EXPECTED: the file differs from BEFORE by exactly EXPECTED (diff's output).
saved_diff() {
	local got
	got=$(diff "$1" "$conf" || true)
	[ "$got" = "$2" ] || fail "the save changed other lines than intended:
$got
--- expected:
$2"
}
assert_mode() {
	[ "$(stat -c '%a %u %g' "$conf")" = "600 4321 4321" ] ||
		fail "the save did not keep mode and owner: $(stat -c '%a %u %g' "$conf")"
	[ -z "$(find "$da" -name '.*save*')" ] || fail "a temporary file was left: $(ls -a "$da")"
}
assert_no_change() {
	expect 0 reload
	[ "$(cat "$tmp/out")" = "no change" ] || fail "reload after a save changed something: $(cat "$tmp/out")"
}

log "=== add-peer --save"
cp -p "$conf" "$tmp/v0"
expect 0 add-peer sv0 --public-key "$pb" --name b --allowed-ips 10.90.0.2/32 \
	--endpoint 192.0.2.2:51820 --preshared-key-file "$tmp/a.psk" --save
[ "$(cat "$tmp/out")" = "saved to $conf" ] || fail "add-peer --save said: $(cat "$tmp/out")"
saved_diff "$tmp/v0" "22a23,29
> 
> [Peer]
> Name = b
> PublicKey = $pb
> PresharedKeyFile = $(realpath "$tmp/a.psk")
> AllowedIPs = 10.90.0.2/32
> Endpoint = 192.0.2.2:51820"
! grep -qF "$psk" "$conf" || fail "the preshared key itself was written into the file"
assert_mode
assert_ping "$a" 10.90.0.2
assert_no_change

log "=== set-peer --save"
cp -p "$conf" "$tmp/v1"
expect 0 --json set-peer sv0 other --endpoint 192.0.2.61:51820 --keepalive 25 --save
jq_py "assert d['saved'] == '$conf', d"
saved_diff "$tmp/v1" "20c20,21
< Endpoint = 192.0.2.60:51820
---
> Endpoint = 192.0.2.61:51820
> PersistentKeepalive = 25"
assert_mode
assert_no_change

log "=== remove-peer --save: the section and the comment above it go"
cp -p "$conf" "$tmp/v2"
expect 0 remove-peer sv0 gone --save
saved_diff "$tmp/v2" "8,14d7
< ; this peer is removed with remove-peer --save
< [Peer]
< Name = gone
< PublicKey = $pgone
< AllowedIPs = 10.90.0.50/32 # one of two lines
< AllowedIPs = 10.90.1.0/24
< "
assert_mode
assert_no_change
# Without --save nothing is written.
cp -p "$conf" "$tmp/v3"
expect 0 set-peer sv0 other --keepalive 7
cmp "$tmp/v3" "$conf" || fail "set-peer without --save wrote the file"
expect 0 set-peer sv0 other --keepalive 25

log "=== restart: the saved peers are there, traffic flows to the added one"
tund_stop a
tund_start "$a" a "$da"
tund_wait_iface "$a" sv0 || fail "sv0 not up after the restart"
wait_until 5 "control socket" T status || fail "no control socket after the restart"
expect 0 --json show sv0
jq_py "
p = {x['name']: x for x in d['interfaces'][0]['peers']}
assert sorted(p) == ['b', 'other'], p
assert p['b']['public_key'] == '$pb' and p['b']['allowed_ips'] == ['10.90.0.2/32'], p
assert p['b']['preshared_key'] is True and p['b']['endpoint'] == '192.0.2.2:51820', p
assert p['other']['endpoint'] == '192.0.2.61:51820' and p['other']['persistent_keepalive'] == 25, p"
assert_ping "$a" 10.90.0.2
assert_no_change

log "=== a file edited on disk since the load is not overwritten"
printf '# the operator was here\n' >>"$conf"
cp -p "$conf" "$tmp/edited"
expect 1 --json add-peer sv0 --public-key "$px" --allowed-ips 10.90.0.70/32 --save
jq_py "e = d['error']; assert e['code'] == 'save_refused', e
assert 'sv0.conf changed on disk since it was loaded; run tunctl reload first' in e['message'], e"
cmp "$tmp/edited" "$conf" || fail "the operator's edit was overwritten"
expect 0 --json show sv0
jq_py "assert '$px' not in [x['public_key'] for x in d['interfaces'][0]['peers']], d"
assert_no_change # the edit was a comment
expect 0 add-peer sv0 --public-key "$px" --allowed-ips 10.90.0.70/32 --save
saved_diff "$tmp/edited" "24a25,28
> 
> [Peer]
> PublicKey = $px
> AllowedIPs = 10.90.0.70/32"
expect 0 remove-peer sv0 "$px" --save
cmp "$tmp/edited" "$conf" || fail "add-peer then remove-peer --save did not give the file back"

log "=== a directory tund cannot write: save_failed, the change live, the file as it was"
tund_stop a
printf '+ [a] unshare -m: mount --bind -o ro %s; %s ... (log %s)\n' "$da" "$TUND" "$tmp/a.log" >&2
unshare -m sh -c 'mount --bind -o ro "$1" "$1" && exec ip netns exec "$2" "$3" --foreground \
	--log-level debug --config-dir "$1" --control-socket "$4"' _ "$da" "$a" "$TUND" "$sock" \
	>>"$tmp/a.log" 2>&1 &
TUND_PID_a=$!
E2E_PIDS+=("$TUND_PID_a")
wait_until 10 "control socket" T status || fail "tund did not start on the read-only directory"
tund_wait_iface "$a" sv0 || fail "sv0 not up on the read-only directory"
expect 1 --json add-peer sv0 --public-key "$px" --allowed-ips 10.90.0.70/32 --save
jq_py "e = d['error']; assert e['code'] == 'save_failed', e
assert e['message'].startswith('the change is live but not saved: cannot create a temporary file in $(realpath "$da"): Read-only file system'), e"
expect 0 --json show sv0
jq_py "assert '$px' in [x['public_key'] for x in d['interfaces'][0]['peers']], d"
cmp "$tmp/edited" "$conf" || fail "the file changed although the save failed"
assert_ping "$a" 10.90.0.2
tund_stop a
tund_alive b || fail "tund b died"
log "PASS"
