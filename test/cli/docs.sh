#!/usr/bin/env bash
# The documentation against the code: the man pages render without a
# warning; tunctl.8 describes exactly the commands and options tunctl lists,
# tund.8 exactly tund's options, tund.conf.5 exactly the keys of
# key tables of common/config_ini*.c and peer_settings.c (in their sections, "repeatable" where the
# table says so); the example configurations load without an error or a
# warning and their keys pair up; the bash completion offers every command;
# and `cmake --install` into a DESTDIR puts each file where GNUInstallDirs
# says. docs/architecture.md's module tables name every source file of
# common/, daemon/ (subfolders too) and ctl/, and docs/control-protocol.md
# has a section for every command of the daemon's command table. No root,
# no daemon. Exits 77 when neither groff nor mandoc is there
# to render the pages (after running every other check).
set -euo pipefail
: "${TUND:?}" "${TUNCTL:?}" "${TUND_SOURCE_DIR:?}"
src=$TUND_SOURCE_DIR
build=${TUND_BUILD_DIR:-$(cd "$(dirname "$TUNCTL")/.." && pwd)}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077

pages=(docs/tund.8 docs/tunctl.8 docs/tund-wg.8 docs/tund.conf.5)
version=$("$TUNCTL" --version | awk '{print $2}')

# ---- 1. The pages render cleanly (source and configured copies) ----
linted=""
for p in "${pages[@]}"; do
	[ -f "$build/$p" ] || fail "$build/$p was not generated from $p"
	! grep -q '@[A-Z_]*@' "$build/$p" || fail "$build/$p has an unsubstituted @VARIABLE@"
	grep -q "tund $version" "$build/$p" || fail "$build/$p does not carry version $version"
	for f in "$src/$p" "$build/$p"; do
		if have groff; then
			groff -man -Tutf8 -ww -z "$f" 2>"$tmp/lint" || fail "groff failed on $f"
			[ ! -s "$tmp/lint" ] || fail "groff warns about $f: $(cat "$tmp/lint")"
			linted=1
		fi
		if have mandoc; then
			mandoc -Tlint -Wwarning "$f" >"$tmp/lint" 2>&1 ||
				fail "mandoc -Tlint: $(cat "$tmp/lint")"
			linted=1
		fi
	done
	if have man; then
		MANWIDTH=80 man --warnings -l "$build/$p" >/dev/null 2>"$tmp/lint" ||
			fail "man -l $p failed: $(cat "$tmp/lint")"
		[ ! -s "$tmp/lint" ] || fail "man -l warns about $p: $(cat "$tmp/lint")"
	fi
done

# tp_dump PAGE: one line per .TP tag of a page: SECTION<tab>TAG<tab>DESCRIPTION,
# in plain text. Read from the roff source: rendered text cannot tell a tag
# from a paragraph at the same indent.
tp_dump() {
	python3 - "$1" <<'PY'
import re, sys

def args(s):
    return [m.group(1) if m.group(1) is not None else m.group(2)
            for m in re.finditer(r'"((?:[^"]|"")*)"|(\S+)', s)]

def text(line):
    if line.startswith("."):
        macro, _, rest = line[1:].partition(" ")
        a = args(rest)
        if macro in ("B", "I", "SM"):
            line = " ".join(a)
        elif macro in ("BR", "BI", "IB", "IR", "RB", "RI"):
            line = "".join(a)
        else:
            return ""
    line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", line)
    for esc, plain in (("\\-", "-"), ("\\&", ""), ("\\%", ""), ("\\(aq", "'"),
                       ("\\(dq", '"'), ("\\(lq", '"'), ("\\(rq", '"'), ("\\ ", " "),
                       ("\\e", "\\")):
        line = line.replace(esc, plain)
    return line.strip()

section, entry, depth, want_tag = "", None, 0, False
entries = []
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith('.\\"'):
        continue
    if want_tag:
        if entry is not None and entry["desc"] == "":
            entry["tags"].append(text(line))  # consecutive tags, one description
        else:
            entry = {"section": section, "tags": [text(line)], "desc": ""}
            entries.append(entry)
        want_tag = False
        continue
    macro = line.split(" ", 1)[0]
    if macro in (".SH", ".SS"):
        section, entry, depth = text(".B " + line[4:]), None, 0
    elif macro == ".RS":
        depth += 1
    elif macro == ".RE":
        depth -= 1
    elif macro == ".TP" and depth == 0:
        want_tag = True
    elif macro in (".PP", ".LP", ".P") and depth == 0:
        entry = None
    elif entry is not None:
        t = text(line)
        if t:
            entry["desc"] += " " + t
for e in entries:
    for t in e["tags"]:
        print(f"{e['section']}\t{t}\t{e['desc'].strip()}")
PY
}
# tags FILE SECTION: the first words of that section's tags.
tags() { awk -F'\t' -v s="$2" '$1 == s {split($2, w, " "); sub(/,$/, "", w[1]); print w[1]}' "$1"; }
# same_set NAME A B: the word lists A and B hold the same words.
same_set() {
	local a b
	a=$(tr ' ' '\n' <<<"$2" | grep . | sort -u || true)
	b=$(tr ' ' '\n' <<<"$3" | grep . | sort -u || true)
	[ "$a" = "$b" ] || fail "$1: the code has [$(tr '\n' ' ' <<<"$a")], the page [$(tr '\n' ' ' <<<"$b")]"
}
# help_lines CMD: CMD --help with each wrapped line joined to the one before.
help_lines() {
	"$1" --help | awk '/^    / && !/^ +--/ && l != "" {sub(/^ +/, " "); l = l $0; next}
		{if (l != "") print l; l = $0} END {if (l != "") print l}'
}
# options CMD: "-x, --long" (or "--long" for a long-only option) for each
# option a --help prints.
options() { help_lines "$1" | grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' | sed 's/^ *//'; }
# check_defaults CMD PAGE: each "(default X)" of CMD --help is in PAGE's option.
check_defaults() {
	help_lines "$1" | sed -nE 's/^  -[A-Za-z], (--[a-z-]+) .*\(default ([^)]+)\)$/\1 \2/p' \
		>"$tmp/defaults"
	[ -s "$tmp/defaults" ] || fail "could not read the defaults from '$1 --help'"
	while read -r o d; do
		awk -F'\t' -v o="$o" '$1 == "OPTIONS" && index($2, o) {print $3}' "$2" |
			grep -qE "The default is $d[.,]?( |$)" ||
			fail "$(basename "$2" .tp) does not give $o's default, $d"
	done <"$tmp/defaults"
}
for p in "${pages[@]}"; do
	tp_dump "$src/$p" >"$tmp/$(basename "$p").tp"
	[ -s "$tmp/$(basename "$p").tp" ] || fail "no .TP tags read from $p"
done

# ---- 2. tunctl.8: commands, options, exit codes ----
commands=$("$TUNCTL" help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}')
[ "$(wc -w <<<"$commands")" -ge 6 ] || fail "could not read the commands from 'tunctl help'"
same_set "tunctl commands (tunctl.8 COMMANDS)" "$commands" "$(tags "$tmp/tunctl.8.tp" COMMANDS)"
options "$TUNCTL" >"$tmp/opts"
[ -s "$tmp/opts" ] || fail "could not read the options from 'tunctl --help'"
awk -F'\t' '$1 == "OPTIONS" {print $2}' "$tmp/tunctl.8.tp" >"$tmp/doc"
same_set "tunctl options (tunctl.8 OPTIONS)" "$(tr -d ', ' <"$tmp/opts")" \
	"$(grep -oE '^(-[A-Za-z], )?--[a-z-]+' "$tmp/doc" | tr -d ', ')"
[ "$(wc -l <"$tmp/doc")" = "$(wc -l <"$tmp/opts")" ] ||
	fail "tunctl.8 OPTIONS: $(cat "$tmp/doc")"
codes=$("$TUNCTL" --help | sed -n '/^Exit status: /,/^$/p' | tr '\n' ' ' |
	sed 's/^Exit status: //' | grep -oE '(^|, )[0-9]+' | tr -dc '0-9\n')
[ -n "$codes" ] || fail "could not read the exit codes from 'tunctl --help'"
same_set "tunctl exit codes (tunctl.8 EXIT STATUS)" "$codes" "$(tags "$tmp/tunctl.8.tp" 'EXIT STATUS')"
check_defaults "$TUNCTL" "$tmp/tunctl.8.tp"

# ---- 3. tund.8: options, defaults, environment ----
options "$TUND" >"$tmp/opts"
[ "$(wc -l <"$tmp/opts")" -ge 6 ] || fail "could not read the options from 'tund --help'"
awk -F'\t' '$1 == "OPTIONS" {print $2}' "$tmp/tund.8.tp" >"$tmp/doc"
same_set "tund options (tund.8 OPTIONS)" "$(tr -d ', ' <"$tmp/opts")" \
	"$(grep -oE '^(-[A-Za-z], )?--[a-z-]+' "$tmp/doc" | tr -d ', ')"
[ "$(wc -l <"$tmp/doc")" = "$(wc -l <"$tmp/opts")" ] || fail "tund.8 OPTIONS: $(cat "$tmp/doc")"
# Each option's argument name and default, as --help gives them.
help_lines "$TUND" | sed -nE 's/^  (-[A-Za-z], --[a-z-]+ [A-Z]+) .*/\1/p' >"$tmp/witharg"
[ -s "$tmp/witharg" ] || fail "could not read the option arguments from 'tund --help'"
while read -r o; do
	grep -qxF -- "$o" "$tmp/doc" || fail "tund.8 OPTIONS has no tag '$o'"
done <"$tmp/witharg"
check_defaults "$TUND" "$tmp/tund.8.tp"
cat "$src"/daemon/*.c "$src"/common/*.c | grep -oE 'getenv\("[A-Z_]+"\)' |
	sed 's/getenv("//; s/")//' | sort -u >"$tmp/env"
[ -s "$tmp/env" ] || fail "found no getenv() in daemon/ and common/"
while read -r v; do
	case $v in
	TUND_TEST_*)
		! grep -q "$v" "$src/docs/tund.8" || fail "tund.8 documents the test-only variable $v"
		;;
	*) tags "$tmp/tund.8.tp" ENVIRONMENT | grep -qx "$v" || fail "tund.8 ENVIRONMENT lacks $v" ;;
	esac
done <"$tmp/env"
grep -q 'TUND_TEST_\*' "$src/docs/tund.8" || fail "tund.8 lacks the TUND_TEST_* warning"

# ---- 4. tund.conf.5: the key table, key by key, section by section ----
python3 - "$tmp/tund.conf.5.tp" "$src"/common/config_ini*.c "$src"/common/peer_settings.c <<'PY'
import re, sys

code = "".join(open(f).read() for f in sys.argv[2:])
table = re.findall(r'\{SEC_(INTERFACE|PEER|EXPOSE), "(\w+)", (true|false), \w+\}', code)
# [Peer] keys: the table of peer settings
table += re.findall(r'\{PEER_SETTING_()\w+, "(\w+)", (true|false),', code)
table = [("PEER" if s == "" else s, k, rep) for s, k, rep in table]
assert len(table) >= 15, f"only {len(table)} keys found in the key table"
want = {(s, k): rep == "true" for s, k, rep in table}
sections = {"[Interface] SECTION": "INTERFACE", "[Peer] SECTION": "PEER",
            "[Expose NAME] SECTION": "EXPOSE"}
got = {}
for line in open(sys.argv[1]).read().splitlines():
    sec, tag, desc = line.split("\t")
    m = re.match(r"(\w+) = ", tag)
    if sec in sections and m:
        got[(sections[sec], m.group(1))] = desc
errors = []
for key, rep in sorted(want.items()):
    if key not in got:
        errors.append(f"tund.conf.5 does not describe {key[1]} in [{key[0].title()}]")
    elif ("(repeatable.)" in got[key]) != rep:
        errors.append(f"tund.conf.5: {key[1]} is {'' if rep else 'not '}repeatable in the code")
for key in sorted(set(got) - set(want)):
    errors.append(f"tund.conf.5 describes {key[1]} in [{key[0].title()}], which the loader does not accept")
if errors:
    sys.exit("FAIL: " + "\n      ".join(errors))
PY

# ---- 5. The example configurations ----
mkdir "$tmp/ex"
install -m 600 "$src/conf/server.conf" "$src/conf/client.conf" "$tmp/ex/"
check_clean() {
	local rc=0
	"$TUNCTL" check-config "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" = 0 ] || fail "check-config $*: exit $rc: $(cat "$tmp/err")"
	[ ! -s "$tmp/err" ] || fail "check-config $*: $(cat "$tmp/err")"
}
check_clean "$tmp/ex/server.conf" "$tmp/ex/client.conf"
grep -qx "$tmp/ex/server.conf: interface server, 2 peers: ok" "$tmp/out" || fail "server.conf: $(cat "$tmp/out")"
grep -qx "$tmp/ex/client.conf: interface client, 1 peer: ok" "$tmp/out" || fail "client.conf: $(cat "$tmp/out")"
"$TUNCTL" --json check-config "$tmp/ex" >"$tmp/json"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["ok"] and d["errors"] == 0 and d["warnings"] == 0 and len(d["interfaces"]) == 2, d' "$tmp/json"
# The commented-out alternatives (NAT hooks, split tunnel) load cleanly too.
sed -E 's/^# ((PostUp|PostDown|AllowedIPs) = )/\1/' "$tmp/ex/server.conf" >"$tmp/ex/alt0.conf"
sed -E 's/^# ((PostUp|PostDown|AllowedIPs) = )/\1/' "$tmp/ex/client.conf" >"$tmp/ex/alt1.conf"
cmp -s "$tmp/ex/alt0.conf" "$tmp/ex/server.conf" && fail "server.conf has no commented-out hooks"
check_clean "$tmp/ex/alt0.conf" "$tmp/ex/alt1.conf"

# The two files are two ends of one tunnel: keys, preshared key, addresses.
pub() { "$TUNCTL" pubkey <<<"$1"; }
server_priv="" client_priv="" client_addr="" client_peer0_PublicKey="" client_peer0_PresharedKey=""
eval "$(python3 - "$tmp/ex/server.conf" "$tmp/ex/client.conf" <<'PY'
import shlex, sys

def load(path):
    secs = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            secs.append((line, {}))
        elif "=" in line:
            k, v = (x.strip() for x in line.split("=", 1))
            secs[-1][1].setdefault(k, []).extend(x.strip() for x in v.split(",") if x.strip())
    return secs

for name, path in (("server", sys.argv[1]), ("client", sys.argv[2])):
    secs = load(path)
    iface = [d for s, d in secs if s == "[Interface]"][0]
    peers = [d for s, d in secs if s == "[Peer]"]
    print(f"{name}_priv={shlex.quote(iface['PrivateKey'][0])}")
    print(f"{name}_addr={shlex.quote(' '.join(iface['Address']))}")
    for i, p in enumerate(peers):
        for k in ("PublicKey", "PresharedKey", "AllowedIPs"):
            print(f"{name}_peer{i}_{k}={shlex.quote(' '.join(p.get(k, [])))}")
PY
)"
server_pub=$(pub "$server_priv")
client_pub=$(pub "$client_priv")
[ "$client_peer0_PublicKey" = "$server_pub" ] || fail "client.conf's [Peer] is not server.conf's public key"
laptop=""
for i in 0 1; do
	v=server_peer${i}_PublicKey
	if [ "${!v}" = "$client_pub" ]; then
		laptop=$i
	fi
done
[ -n "$laptop" ] || fail "server.conf has no [Peer] with client.conf's public key"
v=server_peer${laptop}_PresharedKey
[ "${!v}" = "$client_peer0_PresharedKey" ] || fail "the two files' PresharedKey differ"
grep -qF "$server_pub" "$tmp/ex/server.conf" || fail "server.conf's comment does not give its public key"
grep -qF "$client_pub" "$tmp/ex/client.conf" || fail "client.conf's comment does not give its public key"
v=server_peer${laptop}_AllowedIPs
python3 - "$client_addr" "${!v}" <<'PY' || fail "client.conf's Address is outside the server's AllowedIPs for it"
import ipaddress, sys
nets = [ipaddress.ip_network(n) for n in sys.argv[2].split()]
for a in sys.argv[1].split():
    ip = ipaddress.ip_interface(a).ip
    assert any(ip in n for n in nets), a
PY

# ---- 6. The bash completion offers what tunctl has ----
complete_words() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tunctl
		printf "%s\n" "${COMPREPLY[@]}"' _ "$src/contrib/bash-completion/tunctl" "$@"
}
commands=$("$TUNCTL" help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}')
same_set "tunctl commands (completion)" "$commands" "$(complete_words tunctl '')"
same_set "tunctl commands (completion of help)" "$commands" "$(complete_words tunctl help '')"
same_set "tunctl long options (completion)" \
	"$(options "$TUNCTL" | awk '{print $2}')" \
	"$(complete_words tunctl --)"
complete_words tunctl check-config "$tmp/ex/ser" | grep -qx "$tmp/ex/server.conf" ||
	fail "completion of check-config does not offer server.conf"
[ -z "$(complete_words tunctl genkey '')" ] || fail "completion offers arguments to genkey"

# ---- 7. Install rules: everything lands under DESTDIR, where expected ----
dest=$tmp/dest
DESTDIR=$dest "${TUND_CMAKE:-cmake}" --install "$build" --prefix /usr >"$tmp/install.log" 2>&1 ||
	fail "cmake --install: $(tail -5 "$tmp/install.log")"
grep -E -- '-- (Installing|Up-to-date): ' "$tmp/install.log" | sed -E 's/^-- [A-Za-z-]+: //' |
	grep -v "^$dest/" && fail "cmake --install wrote outside DESTDIR (above)"
at() {
	case $1 in
	/*) echo "$dest$1" ;;
	*) echo "$dest/usr/$1" ;;
	esac
}
mandir=$(at "${TUND_INSTALL_MANDIR:-share/man}")
docdir=$(at "${TUND_INSTALL_DOCDIR:-share/doc/tund}")
datadir=$(at "${TUND_INSTALL_DATADIR:-share}")
for f in "$(at "${TUND_INSTALL_SBINDIR:-sbin}")/tund" "$(at "${TUND_INSTALL_BINDIR:-bin}")/tunctl" \
	"$(at "${TUND_INSTALL_BINDIR:-bin}")/tund-wg"; do
	[ -x "$f" ] || fail "not installed: $f"
done
cmp "$mandir/man8/tund.8" "$build/docs/tund.8" || fail "man8/tund.8"
cmp "$mandir/man8/tunctl.8" "$build/docs/tunctl.8" || fail "man8/tunctl.8"
cmp "$mandir/man8/tund-wg.8" "$build/docs/tund-wg.8" || fail "man8/tund-wg.8"
cmp "$mandir/man5/tund.conf.5" "$build/docs/tund.conf.5" || fail "man5/tund.conf.5"
cmp "$docdir/examples/server.conf" "$src/conf/server.conf" || fail "examples/server.conf"
cmp "$docdir/examples/client.conf" "$src/conf/client.conf" || fail "examples/client.conf"
cmp "$datadir/bash-completion/completions/tunctl" "$src/contrib/bash-completion/tunctl" ||
	fail "bash completion"
# An example installed where tund reads its files would come up as an interface.
! find "$dest" -path '*/etc/tund/*.conf' | grep . || fail "a .conf file was installed into etc/tund"

# ---- 8. docs/architecture.md names every source file ----
# In the module table of its directory ("`daemon/` (library ..." starts the
# daemon's), by name or by path below that directory (expose/relay.c). A
# header is covered by the row of its .c; a header without one needs its own.
python3 - "$src" <<'PY' || fail "docs/architecture.md's module tables (above)"
import os, re, sys

src = sys.argv[1]
dirs = ("common", "daemon", "ctl")
text = open(os.path.join(src, "docs/architecture.md")).read()
m = re.search(r"^## Modules\n(.*?)(?=^## )", text, re.S | re.M)
assert m, "docs/architecture.md has no '## Modules' section"
named, cur = {d: set() for d in dirs}, None
for line in m.group(1).splitlines():
    head = re.match(r"`(\w+)(/[\w/]+)?/` ", line)  # `daemon/` or `daemon/expose/`
    if head and head.group(1) in dirs:
        cur = head.group(1)
    elif cur and line.startswith("|"):
        named[cur].update(re.findall(r"`([\w./-]+\.[ch])`", line.split("|")[1]))
missing = []
for d in dirs:
    assert named[d], f"found no module table for {d}/ in docs/architecture.md"
    root = os.path.join(src, d)
    files = sorted(os.path.relpath(os.path.join(dp, f), root)
                   for dp, _, fs in os.walk(root) for f in fs if f.endswith((".c", ".h")))
    assert files, f"found no source files in {d}/"
    for rel in files:
        alts = {rel, os.path.basename(rel)}
        if rel.endswith(".h") and rel[:-2] + ".c" in files:
            alts |= {rel[:-2] + ".c", os.path.basename(rel)[:-2] + ".c"}
        if not alts & named[d]:
            missing.append(f"{d}/{rel}")
if missing:
    sys.exit("FAIL: not in docs/architecture.md's module tables: " + " ".join(missing))
PY

# ---- 9. docs/control-protocol.md has every control command ----
# The names are the string literals that open an entry of a command table
# in daemon/ (an initializer, positional or .name =, that also holds a cmd_*
# function or a true/false flag), in whatever file the table lives.
python3 - "$src" <<'PY' || fail "docs/control-protocol.md's commands (above)"
import os, re, sys

src = sys.argv[1]
entry = re.compile(r'\{\s*(?:\.name\s*=\s*)?"([a-z][a-z0-9-]*)"\s*,'
                   r'(?=[^{}"]*\b(?:cmd_\w+|true|false)\b)[^{}"]*\}')
names = set()
for dp, _, fs in os.walk(os.path.join(src, "daemon")):
    for f in fs:
        if f.endswith(".c"):
            names.update(entry.findall(open(os.path.join(dp, f)).read()))
if len(names) < 8:
    sys.exit(f"FAIL: read only {len(names)} control commands from daemon/ ({sorted(names)}):"
             " has the command table changed shape? Fix the pattern in test/cli/docs.sh")
doc = open(os.path.join(src, "docs/control-protocol.md")).read()
missing = sorted(n for n in names if not re.search(r"^#+ .*`%s`" % re.escape(n), doc, re.M))
if missing:
    sys.exit("FAIL: docs/control-protocol.md has no section for " + ", ".join(missing))
PY

if [ -z "$linted" ]; then
	echo "SKIP: neither groff nor mandoc is installed; the man pages were not rendered"
	exit 77
fi
echo "PASS"
