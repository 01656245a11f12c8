#!/usr/bin/env bash
# tunctl genkey/pubkey/genpsk print what wg does: wg and tunctl agree on each
# other's keys, generated keys are clamped, and bad input gets exit 1 and a
# reason, never a key.
set -euo pipefail
: "${TUNCTL:?}"
command -v wg >/dev/null || { echo "SKIP: wg (wireguard-tools) is not installed"; exit 77; }

fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077

# Both directions, several keys each.
for i in $(seq 1 20); do
	k=$("$TUNCTL" genkey)
	[ "$("$TUNCTL" pubkey <<<"$k")" = "$(wg pubkey <<<"$k")" ] || fail "pubkey differs for a tunctl key"
	k=$(wg genkey)
	[ "$("$TUNCTL" pubkey <<<"$k")" = "$(wg pubkey <<<"$k")" ] || fail "pubkey differs for a wg key"
	# wg must accept a tunctl public key and a tunctl PSK as they are.
	p=$("$TUNCTL" genpsk)
	[[ "$p" =~ ^[A-Za-z0-9+/]{43}=$ ]] || fail "genpsk printed '$p'"
done

# Known vector: RFC 7748 section 6.1, Alice's private key (wg clamps on use too).
priv=dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=
pub=hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=
[ "$("$TUNCTL" pubkey <<<"$priv")" = "$pub" ] || fail "RFC 7748 public key mismatch"
# No trailing newline on stdin, and CRLF, are accepted like wg does.
[ "$(printf %s "$priv" | "$TUNCTL" pubkey)" = "$pub" ] || fail "key without newline"
[ "$(printf '%s\r\n' "$priv" | "$TUNCTL" pubkey)" = "$pub" ] || fail "key with CRLF"

# Generated private keys are clamped as Curve25519 requires.
for i in $(seq 1 20); do
	"$TUNCTL" genkey | base64 -d >"$tmp/raw"
	[ "$(stat -c %s "$tmp/raw")" = 32 ] || fail "genkey is not 32 bytes"
	first=$(od -An -tu1 -N1 "$tmp/raw" | tr -d ' ')
	last=$(od -An -tu1 -j31 -N1 "$tmp/raw" | tr -d ' ')
	[ $((first & 7)) = 0 ] && [ $((last & 128)) = 0 ] && [ $((last & 64)) = 64 ] ||
		fail "genkey output is not clamped ($first ... $last)"
done

# Output is exactly one line: 44 characters and a newline, like wg.
"$TUNCTL" genkey >"$tmp/k"
[ "$(stat -c %s "$tmp/k")" = 45 ] || fail "genkey output is not 45 bytes"
"$TUNCTL" pubkey <"$tmp/k" >"$tmp/p"
[ "$(stat -c %s "$tmp/p")" = 45 ] || fail "pubkey output is not 45 bytes"
"$TUNCTL" genpsk >"$tmp/s"
[ "$(stat -c %s "$tmp/s")" = 45 ] || fail "genpsk output is not 45 bytes"

# JSON output.
j=$("$TUNCTL" --json pubkey <<<"$priv")
[ "$j" = "{\"public_key\":\"$pub\"}" ] || fail "--json pubkey printed '$j'"

# Bad input: exit 1, a reason on stderr, nothing on stdout.
bad() {
	local input=$1 why=$2 out rc=0
	out=$(printf '%s' "$input" | "$TUNCTL" pubkey 2>"$tmp/err") || rc=$?
	[ "$rc" = 1 ] || fail "pubkey on '$input': exit $rc, expected 1"
	[ -z "$out" ] || fail "pubkey on '$input' printed '$out'"
	grep -q "$why" "$tmp/err" || fail "pubkey on '$input': stderr '$(cat "$tmp/err")' lacks '$why'"
}
bad "" "must be 44 characters"
bad "abc" "must be 44 characters"
bad "${priv%=}" "must be 44 characters"
bad "${priv}x" "must be 44 characters"
bad "$priv $priv" "must be 44 characters"
bad "!${priv:1}" "not valid base64"
bad "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=" "not a canonical"

# A secret written where others can read it is warned about, as wg does.
umask 022
"$TUNCTL" genkey >"$tmp/shared" 2>"$tmp/err"
grep -q "group or others can read" "$tmp/err" || fail "no warning for a world-readable key file"
umask 077
"$TUNCTL" genkey >"$tmp/private" 2>"$tmp/err"
[ ! -s "$tmp/err" ] || fail "unexpected warning: $(cat "$tmp/err")"
echo "PASS"
