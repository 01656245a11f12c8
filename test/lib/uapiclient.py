#!/usr/bin/env python3
"""Send stdin to a UAPI socket (wg's /var/run/wireguard/IFACE.sock) and print
the replies, without their blank lines; exit 3 when the server closed the
connection before a complete reply.

uapiclient.py SOCKET [--replies N] [--timeout S] [--garbage MB] [--hold S]
  --replies N   read N replies (each ends with a blank line); default 1
  --garbage MB  after stdin, stream MB megabytes of random bytes (no newline
                guarantees), then read whatever comes back; prints "closed"
                if the server closed the connection
  --hold S      after stdin, keep the connection open S seconds without
                sending, then report "closed after T s" or "open"
  --drip S      send stdin one byte every S seconds (at most 120 s), then
                report "closed after T s" or "open"
"""
import os
import socket
import sys
import time


def main():
    args = sys.argv[1:]
    path = args.pop(0)
    replies, timeout, garbage, hold, drip = 1, 10.0, 0, 0.0, 0.0
    while args:
        opt = args.pop(0)
        if opt == "--replies":
            replies = int(args.pop(0))
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        elif opt == "--garbage":
            garbage = int(args.pop(0))
        elif opt == "--hold":
            hold = float(args.pop(0))
        elif opt == "--drip":
            drip = float(args.pop(0))
        else:
            sys.exit("unknown option " + opt)
    data = sys.stdin.buffer.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    if drip:
        start = time.monotonic()
        try:
            for i in range(len(data)):
                if time.monotonic() - start > 120:
                    break
                s.sendall(data[i:i + 1])
                time.sleep(drip)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            s.settimeout(drip)
            b = s.recv(65536)
            print("closed after %.0f s" % (time.monotonic() - start) if not b else "open")
        except socket.timeout:
            print("open")
        return 0
    if data:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its reply may be there
    if garbage:
        chunk = os.urandom(1 << 20)
        sent = 0
        try:
            for _ in range(garbage):
                s.sendall(chunk)
                sent += 1
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        got = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
        except (ConnectionResetError, socket.timeout):
            pass
        sys.stdout.write(got.decode(errors="replace").replace("\n\n", "\n"))
        print("closed after %d MB sent" % sent)
        return 0
    if hold:
        start = time.monotonic()
        s.settimeout(hold)
        try:
            b = s.recv(65536)
            print("closed after %.0f s" % (time.monotonic() - start) if not b
                  else "reply " + b.decode(errors="replace").strip())
        except socket.timeout:
            print("open")
        return 0
    buf = b""
    done = 0
    while done < replies:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            b = b""
        if not b:
            sys.stdout.write(buf.decode(errors="replace"))
            return 3
        buf += b
        while b"\n\n" in buf and done < replies:
            reply, buf = buf.split(b"\n\n", 1)
            sys.stdout.write(reply.decode(errors="replace") + "\n")
            done += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
