#!/usr/bin/env python3
"""Send hostile UDP datagrams at a tund port, for robustness tests.

Each of the four WireGuard message types with the right length and random
content, every truncation of them, wrong reserved bytes, oversized and
empty datagrams, and pure noise. With --pubkey, initiations also carry a
valid mac1 (so they reach the handshake code, as an attacker who knows the
public key could make them). Bounded: --count datagrams, at most --seconds.
"""
import argparse
import base64
import hashlib
import os
import random
import socket
import struct
import time

SIZES = {1: 148, 2: 92, 3: 64, 4: 32}


def mac1(pubkey, msg):
    key = hashlib.blake2s(b"mac1----" + pubkey).digest()
    return hashlib.blake2s(msg, key=key, digest_size=16).digest()


def datagrams(rnd, pubkey):
    while True:
        kind = rnd.randrange(8)
        t = rnd.choice([1, 2, 3, 4])
        if kind == 0:  # right type and length, random body
            body = os.urandom(SIZES[t] - 4)
            yield struct.pack("<I", t) + body
        elif kind == 1:  # truncated
            full = struct.pack("<I", t) + os.urandom(SIZES[t] - 4 + 64)
            yield full[: rnd.randrange(0, SIZES[t])]
        elif kind == 2:  # reserved bytes set
            yield bytes([t, 1, 2, 3]) + os.urandom(SIZES[t] - 4)
        elif kind == 3:  # large data message
            yield struct.pack("<I", 4) + os.urandom(rnd.randrange(28, 1500))
        elif kind == 4:  # noise of any size
            yield os.urandom(rnd.randrange(0, 1600))
        elif kind == 5 and pubkey:  # initiation with valid mac1, garbage crypto
            msg = struct.pack("<I", 1) + os.urandom(144 - 32)
            yield msg + mac1(pubkey, msg) + bytes(16)
        elif kind == 6:  # data for small indices that might exist
            yield struct.pack("<IIQ", 4, rnd.randrange(1, 1 << 32), rnd.randrange(1 << 64)) + os.urandom(32)
        else:
            yield b""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True, help="host:port or [v6]:port")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--pubkey", help="the target's public key (base64), for valid mac1")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    host, _, port = args.to.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    rnd = random.Random(args.seed)
    pubkey = base64.b64decode(args.pubkey) if args.pubkey else None
    deadline = time.monotonic() + args.seconds
    sent = 0
    for d in datagrams(rnd, pubkey):
        if sent >= args.count or time.monotonic() > deadline:
            break
        try:
            sock.sendto(d, (host, int(port)))
        except OSError:
            time.sleep(0.001)
        sent += 1
    print("garbage: sent %d datagrams" % sent)


if __name__ == "__main__":
    main()
