#!/usr/bin/env bash
# tunctl's command line: help, version, exit codes (0 done, 1 failed, 2
# usage), and check-config's output and status on good and broken files.
set -euo pipefail
: "${TUNCTL:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077

# expect RC CMD... : run CMD, check its exit status; stdout in $tmp/out, stderr in $tmp/err.
expect() {
	local want=$1 rc=0
	shift
	"$TUNCTL" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	[ "$rc" = "$want" ] || fail "tunctl $*: exit $rc, expected $want (stderr: $(head -3 "$tmp/err"))"
}

expect 0 --help
grep -q "^Usage: tunctl" "$tmp/out" || fail "--help has no usage line"
cp "$tmp/out" "$tmp/help"
for c in genkey pubkey genpsk check-config help version; do
	grep -q "^  $c " "$tmp/help" || fail "--help does not list $c"
	expect 0 help "$c"
	grep -q "^Usage: tunctl $c" "$tmp/out" || fail "help $c"
	expect 0 "$c" --help
	grep -q "^Usage: tunctl $c" "$tmp/out" || fail "$c --help"
done
expect 0 --version
grep -Eq '^tunctl [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" || fail "--version printed $(cat "$tmp/out")"
expect 0 version --json
grep -Eq '^\{"version":"[0-9.]+"\}$' "$tmp/out" || fail "version --json"

expect 2
grep -q "^Usage: tunctl" "$tmp/err" || fail "no usage on stderr without a command"
expect 2 frobnicate
grep -q "unknown command 'frobnicate'" "$tmp/err" || fail "unknown command message"
expect 2 --frobnicate
expect 2 genkey extra
grep -q "genkey: takes no arguments" "$tmp/err" || fail "extra argument message"
expect 2 pubkey --frobnicate
grep -q "unknown option '--frobnicate'" "$tmp/err" || fail "unknown option message"
expect 2 help frobnicate
# --save belongs to the commands that change a file; elsewhere it is unknown.
expect 2 status --save
grep -q "status: unknown option '--save'" "$tmp/err" || fail "status --save: $(cat "$tmp/err")"
expect 2 unexpose wg0 --save
grep -q "unexpose: expects an interface and a service" "$tmp/err" || fail "unexpose --save: $(cat "$tmp/err")"
expect 2 remove-peer --save --frobnicate wg0 x
grep -q "remove-peer: unknown option '--frobnicate'" "$tmp/err" || fail "remove-peer: $(cat "$tmp/err")"

# check-config: a good file, a broken one, a directory with both.
k=$("$TUNCTL" genkey)
p=$("$TUNCTL" pubkey <<<"$("$TUNCTL" genkey)")
mkdir "$tmp/good" "$tmp/mixed"
cat >"$tmp/good/wg0.conf" <<CONF
[Interface]
PrivateKey = $k
ListenPort = 51820
Address = 10.0.0.1/24

[Peer]
PublicKey = $p
AllowedIPs = 10.0.0.2/32
CONF
cp "$tmp/good/wg0.conf" "$tmp/mixed/"
cat >"$tmp/mixed/bad0.conf" <<CONF
[Interface]
PrivateKey = $k
ListenPort = 70000

[Peer]
PublicKey = $p
AllowedIPs = 10.0.0.300/32
Colour = blue
CONF
expect 0 check-config "$tmp/good/wg0.conf"
grep -q "interface wg0, 1 peer: ok" "$tmp/out" || fail "check-config good: $(cat "$tmp/out")"
[ ! -s "$tmp/err" ] || fail "check-config good printed: $(cat "$tmp/err")"
expect 0 check-config "$tmp/good"
expect 1 check-config "$tmp/mixed"
grep -q "^$tmp/mixed/bad0.conf:3: error: ListenPort" "$tmp/err" || fail "no ListenPort error with line: $(cat "$tmp/err")"
grep -q "^$tmp/mixed/bad0.conf:7: error: AllowedIPs" "$tmp/err" || fail "no AllowedIPs error with line"
grep -q "^$tmp/mixed/bad0.conf:8: error: .*Colour" "$tmp/err" || fail "no unknown-key error with line"
grep -q "^3 errors, 0 warnings$" "$tmp/err" || fail "summary: $(tail -1 "$tmp/err")"
grep -q "wg0.conf: interface wg0, 1 peer: ok" "$tmp/out" || fail "the good file of a mixed dir not reported"
expect 1 check-config "$tmp/does-not-exist"
grep -q "does-not-exist: error: No such file or directory" "$tmp/err" || fail "missing path: $(cat "$tmp/err")"
expect 1 --json check-config "$tmp/mixed"
python3 - "$tmp/out" "$tmp/mixed/bad0.conf" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and d["errors"] == 3 and d["warnings"] == 0, d
assert [i["name"] for i in d["interfaces"]] == ["wg0"], d
lines = sorted(x["line"] for x in d["diagnostics"] if x["file"] == sys.argv[2])
assert lines == [3, 7, 8], lines
PY
# The private key never appears in check-config's output.
expect 0 check-config "$tmp/good" --json
! grep -qF "$k" "$tmp/out" "$tmp/err" || fail "the private key was printed"
echo "PASS"
