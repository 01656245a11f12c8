#!/usr/bin/env bash
# The shape of the tree, checked from the sources alone (no build, no root):
#  1. no include cycle among daemon/'s modules (a .c, its .h and its
#     internal x_int.h are one module; only quoted includes that resolve to
#     a daemon/ header count): every strongly connected component of the
#     include graph is one module;
#  2. the WireGuard core, daemon/ but for daemon/expose/ and the files that
#     put core and tunnels together (main.c, daemon.c, control*.c, metrics.c), includes
#     no header of daemon/expose/, the localhost tunnels: an interface
#     reaches them only through the struct iface_hooks (iface.h) it is given;
#  3. no .c or .h file in common/, daemon/ or ctl/ is over 800 lines.
# Prints every violation, then fails if there was one.
set -euo pipefail
: "${TUND_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
exec python3 - "$TUND_SOURCE_DIR" <<'PY'
import os, re, sys

src = sys.argv[1]
MAX_LINES = 800
daemon = os.path.join(src, "daemon")
tunnels = "expose"  # daemon/expose/: the localhost tunnels
include_dirs = ["", tunnels]  # daemon/ and daemon/expose/ (CMake include dirs)
failed = False


def fail(msg):
    global failed
    failed = True
    print("FAIL: " + msg)


files = []
for root, _, names in os.walk(daemon):
    for n in names:
        if n.endswith((".c", ".h")):
            files.append(os.path.relpath(os.path.join(root, n), daemon))
files.sort()
if len(files) < 20 or not any(f.startswith(tunnels + "/") for f in files):
    print("FAIL: %s does not look like tund's daemon/ (%d files)" % (daemon, len(files)))
    sys.exit(1)
headers = {f for f in files if f.endswith(".h")}
inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def resolve(including, name):
    """The daemon/ header a quoted include finds first, or None (common/, system)."""
    for d in [os.path.dirname(including)] + include_dirs:
        cand = os.path.normpath(os.path.join(d, name))
        if cand in headers:
            return cand
    return None


def module(f):
    m = os.path.splitext(f)[0]
    return m[:-4] if m.endswith("_int") else m


edges = {}   # module -> {module: "file -> header"}
includes = {}
for f in files:
    with open(os.path.join(daemon, f), encoding="utf-8") as fh:
        text = fh.read()
    includes[f] = [h for h in (resolve(f, n) for n in inc_re.findall(text)) if h]
    m = module(f)
    edges.setdefault(m, {})
    for h in includes[f]:
        if module(h) != m:
            edges[m].setdefault(module(h), "%s includes %s" % (f, h))

# Tarjan's strongly connected components, iteratively.
index, low, on_stack, stack, sccs, counter = {}, {}, set(), [], [], [0]
for start in sorted(edges):
    if start in index:
        continue
    work = [(start, iter(sorted(edges[start])))]
    index[start] = low[start] = counter[0]
    counter[0] += 1
    stack.append(start)
    on_stack.add(start)
    while work:
        v, it = work[-1]
        for w in it:
            if w not in index:
                index[w] = low[w] = counter[0]
                counter[0] += 1
                stack.append(w)
                on_stack.add(w)
                work.append((w, iter(sorted(edges.get(w, {})))))
                break
            if w in on_stack:
                low[v] = min(low[v], index[w])
        else:
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                sccs.append(sorted(comp))
for comp in sccs:
    if len(comp) > 1:
        fail("include cycle among %d daemon/ modules: %s" % (len(comp), " ".join(comp)))
        for m in comp:
            for t, why in sorted(edges[m].items()):
                if t in comp:
                    print("      " + why)


# Above both: they create interfaces with the tunnels' hooks, or serve commands for both.
ABOVE = {"main", "daemon", "metrics"}


def is_core(f):
    return not (f.startswith(tunnels + "/") or module(f) in ABOVE or f.startswith("control"))


for f in files:
    if not is_core(f):
        continue
    for h in includes[f]:
        if h.startswith(tunnels + "/"):
            fail("daemon/%s (WireGuard core) includes daemon/%s (localhost tunnels)" % (f, h))

for top in ("common", "daemon", "ctl"):
    for root, _, names in os.walk(os.path.join(src, top)):
        for n in sorted(names):
            if not n.endswith((".c", ".h")):
                continue
            p = os.path.join(root, n)
            rel = os.path.relpath(p, src)
            with open(p, encoding="utf-8") as fh:
                count = sum(1 for _ in fh)
            if count > MAX_LINES:
                fail("%s has %d lines (at most %d)" % (rel, count, MAX_LINES))

if failed:
    sys.exit(1)
print("structure: no include cycle in daemon/, the core includes no tunnel header, "
      "no file over %d lines" % MAX_LINES)
PY
