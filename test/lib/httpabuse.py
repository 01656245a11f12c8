#!/usr/bin/env python3
"""Bad HTTP clients against tund's metrics listener (test/e2e/metrics.sh).

    httpabuse.py HOST PORT

Each case runs with a deadline; the script fails (exit 1) if the server
answers wrongly or keeps a bad client longer than it should:
  garbage      random bytes and a blank line: 400, then closed
  huge         9000 bytes of head without its end: 431, then closed
  half         half a request line, then our side closed: nothing breaks
  slowloris    20 connections (the cap is 16) sending a byte every 0.5 s:
               every one closed by the server within 14 s (the head's
               deadline is 10 s from accept)
  slow reader  GET /metrics read only after 3 s of not reading: complete
"""
import os
import socket
import sys
import time


def connect(host, port):
    s = socket.create_connection((host, port), timeout=5)
    return s


def read_all(s, deadline_s=10):
    s.settimeout(deadline_s)
    data = b""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def status(data):
    line = data.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def expect(name, cond, detail=""):
    if not cond:
        print(f"httpabuse: {name}: FAILED {detail}", file=sys.stderr)
        sys.exit(1)
    print(f"httpabuse: {name}: ok {detail}", file=sys.stderr)


def main(host, port):
    s = connect(host, port)
    s.sendall(os.urandom(200).replace(b"\n", b"x") + b"\r\n\r\n")
    r = read_all(s)
    expect("garbage", status(r) == 400, repr(r[:40]))
    s.close()

    s = connect(host, port)
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 9000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = read_all(s)
    expect("huge", status(r) == 431, repr(r[:40]))
    s.close()

    s = connect(host, port)
    s.sendall(b"GET /metr")
    s.shutdown(socket.SHUT_WR)
    r = read_all(s)
    expect("half", r == b"", repr(r[:40]))
    s.close()

    conns = []
    for _ in range(20):
        try:
            c = connect(host, port)
            c.setblocking(False)
            conns.append(c)
        except OSError:
            pass
    start = time.monotonic()
    open_ = list(conns)
    while open_ and time.monotonic() - start < 14:
        for c in list(open_):
            try:
                c.send(b"G")
                if c.recv(1, socket.MSG_PEEK) == b"":
                    open_.remove(c)
            except BlockingIOError:
                pass
            except OSError:
                open_.remove(c)
        time.sleep(0.5)
    elapsed = time.monotonic() - start
    expect("slowloris", not open_, f"{len(conns)} connections, all closed after {elapsed:.1f} s")
    for c in conns:
        c.close()

    s = connect(host, port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    time.sleep(3)
    r = read_all(s)
    expect("slow reader", status(r) == 200 and r.endswith(b"\n") and b"wireguard_latest_handshake_seconds" in r,
           f"{len(r)} bytes")
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
