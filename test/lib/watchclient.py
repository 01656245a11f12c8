#!/usr/bin/env python3
"""The event stream (tunctl watch) for tests.

watchclient.py slow SOCKET READY_FILE GO_FILE OUT_FILE [--rcvbuf N] [--limit S]
    subscribe to every interface's events, touch READY_FILE once the reply
    came, then read nothing until GO_FILE exists (at most S seconds, default
    60); then read to the end (10 s at most) and write what came to
    OUT_FILE, and a last line "EOF" if tund closed the connection.

watchclient.py follow SOCKET READY_FILE OUT_FILE
    subscribe to every interface's events, touch READY_FILE once the reply
    came, then append each event line to OUT_FILE as it comes, until tund
    closes the connection (or 600 s).

watchclient.py expect EVENTS_FILE SPEC...
    check the JSON lines of EVENTS_FILE: each SPEC is one expected event,
    EVENT[,FIELD=VALUE]... (VALUE "null" for null, "*" for present and not
    null, "TEXT*" for a string that starts with TEXT, an item for a list); SPECs must be found in this order (other lines may come between).
    "!EVENT[,FIELD=VALUE]..." instead says no line matches at all.
    Exits 1, saying which one is missing, on failure.

watchclient.py many SOCKET N READY_FILE GO_FILE
    open N watch connections at once, write the replies' ok or error codes
    to READY_FILE, hold them until GO_FILE exists (30 s at most), close.
"""
import json
import os
import socket
import sys
import time


def subscribe(path, rcvbuf=0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(path)
    s.sendall(b'{"version":1,"command":"watch"}\n')
    return s


def read_reply(s, timeout=10):
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(1)
        if not chunk:
            break
        buf += chunk
    return buf.decode()


def slow(args):
    path, ready, go, out = args[:4]
    rcvbuf, limit = 0, 60.0
    rest = args[4:]
    while rest:
        opt = rest.pop(0)
        if opt == "--rcvbuf":
            rcvbuf = int(rest.pop(0))
        elif opt == "--limit":
            limit = float(rest.pop(0))
    s = subscribe(path, rcvbuf)
    reply = read_reply(s)
    if '"ok":true' not in reply:
        print("watch refused: " + reply, file=sys.stderr)
        return 1
    open(ready, "w").close()
    end = time.monotonic() + limit
    while not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.1)
    data, eof = b"", False
    s.settimeout(10)
    end = time.monotonic() + 10
    try:
        while time.monotonic() < end:
            chunk = s.recv(65536)
            if not chunk:
                eof = True
                break
            data += chunk
    except socket.timeout:
        pass
    with open(out, "wb") as f:
        f.write(data)
        if eof:
            f.write(b"EOF\n")
    return 0


def follow(args):
    path, ready, out = args[:3]
    s = subscribe(path)
    reply = read_reply(s)
    if '"ok":true' not in reply:
        print("watch refused: " + reply, file=sys.stderr)
        return 1
    open(ready, "w").close()
    end = time.monotonic() + 600
    with open(out, "ab", buffering=0) as f:
        while time.monotonic() < end:
            s.settimeout(max(0.1, end - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            f.write(chunk)
    return 0


def matches(ev, spec):
    parts = spec.split(",")
    if ev.get("event") != parts[0]:
        return False
    for p in parts[1:]:
        key, _, want = p.partition("=")
        have = ev.get(key)
        if want == "null":
            if have is not None:
                return False
        elif want == "*":
            if have is None:
                return False
        elif want.endswith("*"):
            if not isinstance(have, str) or not have.startswith(want[:-1]):
                return False
        elif isinstance(have, list):
            if want not in [str(x) for x in have]:
                return False
        elif str(have) != want:
            return False
    return True


def expect(args):
    path, specs = args[0], args[1:]
    events = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            ev = json.loads(line)
            for key in ("event", "time"):
                if key not in ev:
                    print("a line without %s: %s" % (key, line))
                    return 1
            events.append(ev)
    i = 0
    for spec in specs:
        if spec.startswith("!"):
            bad = [e for e in events if matches(e, spec[1:])]
            if bad:
                print("unexpected event %s: %s" % (spec[1:], json.dumps(bad[0])))
                return 1
            continue
        while i < len(events) and not matches(events[i], spec):
            i += 1
        if i == len(events):
            print("missing (in this order): %s" % spec)
            return 1
        i += 1
    print("%d events, %d expectations met" % (len(events), len(specs)))
    return 0


def many(args):
    path, n, ready, go = args[0], int(args[1]), args[2], args[3]
    socks, codes = [], []
    for _ in range(n):
        s = subscribe(path)
        socks.append(s)
        reply = json.loads(read_reply(s))
        codes.append("ok" if reply.get("ok") else reply["error"]["code"])
    with open(ready + ".tmp", "w") as f:
        f.write(" ".join(codes) + "\n")
    os.rename(ready + ".tmp", ready)
    end = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.1)
    for s in socks:
        s.close()
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    return {"slow": slow, "follow": follow, "expect": expect, "many": many}[cmd](args)


if __name__ == "__main__":
    sys.exit(main())
