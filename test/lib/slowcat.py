#!/usr/bin/env python3
"""Copy stdin to stdout at about RATE bytes per second (for transfers that
must still be running while a test changes something underneath)."""
import sys
import time

rate = float(sys.argv[1])
chunk = 16384
start = time.monotonic()
sent = 0
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    data = inp.read(chunk)
    if not data:
        break
    out.write(data)
    out.flush()
    sent += len(data)
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
