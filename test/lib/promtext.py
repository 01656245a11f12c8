#!/usr/bin/env python3
"""Prometheus text exposition format 0.0.4, strictly, for tund's tests.

    promtext.py check FILE             exit 0 when FILE is well formed, else
                                       print why and exit 1
    promtext.py get FILE NAME [L=V...] print the value of the one sample of
                                       NAME whose labels include every L=V
                                       (values unescaped); exit 1 if not one
    promtext.py families FILE          print the family names in order

Checked: every line is a HELP, a TYPE, a sample or empty; each family has one
HELP and one TYPE, both before its samples; a family's samples are together
(families never interleave, none comes back); metric and label names are
valid; label values use only the escapes \\\\, \\" and \\n and are closed; no
label twice in a sample; counters end in _total; values are numbers; no two
samples of a family have the same labels; the text ends with a newline.
"""
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_labels(s, i, lineno):
    """Parse {a="b",...} from s[i] == '{'; return (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s.startswith("}", i):
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad(f"line {lineno}: bad label name at column {i}")
        name = m.group(0)
        i = m.end()
        if not s.startswith('="', i):
            raise Bad(f"line {lineno}: expected =\" after label {name}")
        i += 2
        value = []
        while True:
            if i >= len(s):
                raise Bad(f"line {lineno}: unterminated value of label {name}")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1 : i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise Bad(f"line {lineno}: bad escape \\{nxt} in label {name}")
                value.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                value.append(c)
                i += 1
        if name in labels:
            raise Bad(f"line {lineno}: label {name} twice")
        labels[name] = "".join(value)
        if s.startswith(",", i):
            i += 1
        elif not s.startswith("}", i):
            raise Bad(f"line {lineno}: expected , or }} after label {name}")


def parse(text):
    """Return [(family, type, help, [(labels, value)])] in order, or raise Bad."""
    if text and not text.endswith("\n"):
        raise Bad("the text does not end with a newline")
    families = []
    by_name = {}
    current = None
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
                continue  # a comment
            kind, name = parts[1], parts[2]
            if not NAME.fullmatch(name):
                raise Bad(f"line {lineno}: bad metric name {name!r}")
            fam = by_name.get(name)
            if fam is None:
                fam = {"name": name, "type": None, "help": None, "samples": []}
                by_name[name] = fam
                families.append(fam)
            elif fam is not current:
                raise Bad(f"line {lineno}: family {name} comes back after another")
            if fam["samples"]:
                raise Bad(f"line {lineno}: {kind} of {name} after its samples")
            key = kind.lower()
            if fam[key] is not None:
                raise Bad(f"line {lineno}: a second {kind} for {name}")
            value = parts[3] if len(parts) > 3 else ""
            if key == "type" and value not in TYPES:
                raise Bad(f"line {lineno}: unknown type {value!r}")
            fam[key] = value
            current = fam
            continue
        m = NAME.match(line)
        if not m:
            raise Bad(f"line {lineno}: not a sample: {line[:80]!r}")
        name = m.group(0)
        i = m.end()
        labels = {}
        if line.startswith("{", i):
            labels, i = parse_labels(line, i, lineno)
        if not line.startswith(" ", i):
            raise Bad(f"line {lineno}: expected a space before the value")
        fields = line[i + 1 :].split(" ")
        if len(fields) not in (1, 2):
            raise Bad(f"line {lineno}: expected a value and maybe a timestamp")
        try:
            value = float(fields[0])
        except ValueError:
            raise Bad(f"line {lineno}: bad value {fields[0]!r}") from None
        fam = by_name.get(name)
        if fam is None or fam is not current:
            raise Bad(f"line {lineno}: sample of {name} outside its family's block")
        if fam["type"] is None or fam["help"] is None:
            raise Bad(f"line {lineno}: sample of {name} before its HELP and TYPE")
        key = tuple(sorted(labels.items()))
        if any(tuple(sorted(l.items())) == key for l, _ in fam["samples"]):
            raise Bad(f"line {lineno}: {name} twice with the same labels")
        fam["samples"].append((labels, value))
    for fam in families:
        if fam["type"] is None or fam["help"] is None:
            raise Bad(f"family {fam['name']} lacks its HELP or TYPE")
        if fam["type"] == "counter" and not fam["name"].endswith("_total"):
            raise Bad(f"counter {fam['name']} does not end in _total")
    return families


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2], encoding="utf-8") as f:
        text = f.read()
    try:
        families = parse(text)
    except Bad as e:
        print(f"promtext: {argv[2]}: {e}", file=sys.stderr)
        return 1
    if argv[1] == "check":
        return 0
    if argv[1] == "families":
        for fam in families:
            print(fam["name"])
        return 0
    if argv[1] == "get":
        want = dict(a.split("=", 1) for a in argv[4:])
        fam = next((f for f in families if f["name"] == argv[3]), None)
        hits = [v for l, v in (fam["samples"] if fam else []) if all(l.get(k) == v for k, v in want.items())]
        if len(hits) != 1:
            print(f"promtext: {len(hits)} samples of {argv[3]} match {want}", file=sys.stderr)
            return 1
        v = hits[0]
        print(int(v) if v == int(v) else v)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
