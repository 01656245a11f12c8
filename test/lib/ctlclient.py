#!/usr/bin/env python3
"""Misbehaving and raw clients of tund's control socket, for tests.

ctlclient.py SOCKET raw LINE            send LINE, print the reply line
ctlclient.py SOCKET partial SECONDS     send half a request, hold it SECONDS
ctlclient.py SOCKET huge MEGABYTES      send a line of that size, print the reply
ctlclient.py SOCKET noread COUNT SECONDS
        send COUNT show requests, never read, hold the connection SECONDS
ctlclient.py SOCKET slowshow BYTES_PER_READ INTERVAL SECONDS OUTFILE [STARTED]
        send a show then a status request at once, read the replies
        BYTES_PER_READ at a time every INTERVAL seconds (for at most
        SECONDS), write what came to OUTFILE; print the bytes read;
        create the file STARTED once the first bytes have come
"""
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_line(s, timeout=10):
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode()


def main():
    path, mode = sys.argv[1], sys.argv[2]
    s = connect(path)
    if mode == "raw":
        s.sendall(sys.argv[3].encode() + b"\n")
        print(read_line(s))
    elif mode == "partial":
        s.sendall(b'{"version":1,"command":"sta')
        time.sleep(float(sys.argv[3]))
    elif mode == "huge":
        size = int(float(sys.argv[3]) * 1024 * 1024)
        s.settimeout(10)
        sent = 0
        chunk = b"x" * 65536
        try:
            while sent < size:
                sent += s.send(chunk[: min(len(chunk), size - sent)])
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # tund closed the connection after refusing the line
        try:
            print(read_line(s))
        except (ConnectionResetError, socket.timeout):
            print("")
    elif mode == "noread":
        req = b'{"version":1,"command":"show"}\n'
        s.setblocking(False)
        count = 0
        deadline = time.monotonic() + float(sys.argv[4])
        for _ in range(int(sys.argv[3])):
            try:
                s.send(req)
                count += 1
            except BlockingIOError:
                break
        print(count, flush=True)
        while time.monotonic() < deadline:
            time.sleep(0.1)
    elif mode == "slowshow":
        step, interval = int(sys.argv[3]), float(sys.argv[4])
        deadline = time.monotonic() + float(sys.argv[5])
        s.sendall(b'{"version":1,"command":"show"}\n{"version":1,"command":"status"}\n')
        s.settimeout(max(interval, 10))
        got = b""
        while got.count(b"\n") < 2 and time.monotonic() < deadline:
            chunk = s.recv(step)
            if not chunk:
                break
            if not got and len(sys.argv) > 7:
                open(sys.argv[7], "wb").close()
            got += chunk
            time.sleep(interval)
        with open(sys.argv[6], "wb") as f:
            f.write(got)
        print(len(got))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
