#!/usr/bin/env python3
"""Listen on a NOTIFY_SOCKET the way systemd does and log each datagram.

Usage: notifysock.py PATH LOGFILE SECONDS
Binds a Unix datagram socket at PATH, appends every message to LOGFILE as
one line (newlines inside a message become ' | ') with a time stamp, and
exits after SECONDS or when it receives STOPPING=1 (then waits 0.5 s more).
"""
import os
import socket
import sys
import time


def main():
    path, logfile, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    start = time.monotonic()
    deadline = start + seconds
    with open(logfile, "a", buffering=1) as log:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(4096)
            except socket.timeout:
                break
            msg = data.decode(errors="replace").strip().replace("\n", " | ")
            log.write("%.3f %s\n" % (time.monotonic() - start, msg))
            if "STOPPING=1" in msg:
                deadline = min(deadline, time.monotonic() + 0.5)
    os.unlink(path)


if __name__ == "__main__":
    main()
