#!/usr/bin/env python3
"""A UDP relay for tests: what netem would do, without netem.

Listens on --listen; the first address that sends to it is the client. Every
datagram from the client goes to --to, and every answer from --to goes back
to the client, optionally delayed, duplicated, reordered, dropped, or kept
and replayed later. Runs until killed; a summary goes to stderr on SIGTERM.

  udprelay.py --listen 198.51.100.1:51820 --to 192.0.2.1:51820 --dup 1.0
"""
import argparse
import heapq
import random
import select
import signal
import socket
import sys
import time


def parse_addr(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, (host, int(port))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--jitter-ms", type=float, default=0.0, help="random extra delay: reorders")
    ap.add_argument("--dup", type=float, default=0.0, help="probability of sending twice")
    ap.add_argument("--drop", type=float, default=0.0)
    ap.add_argument("--replay-after", type=float, default=0.0,
                    help="seconds after which every datagram is sent once more")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)

    lfam, laddr = parse_addr(args.listen)
    tfam, taddr = parse_addr(args.to)
    front = socket.socket(lfam, socket.SOCK_DGRAM)
    front.bind(laddr)
    back = socket.socket(tfam, socket.SOCK_DGRAM)
    back.connect(taddr)
    client = None
    queue = []  # (due, seq, socket, payload, dest)
    seq = 0
    stats = {"in": 0, "out": 0, "dup": 0, "drop": 0, "replay": 0}

    def stop(*_):
        print("udprelay: %r" % stats, file=sys.stderr)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def schedule(sock, data, dest):
        nonlocal seq
        stats["in"] += 1
        if rnd.random() < args.drop:
            stats["drop"] += 1
            return
        now = time.monotonic()
        copies = 2 if rnd.random() < args.dup else 1
        stats["dup"] += copies - 1
        for _ in range(copies):
            due = now + (args.delay_ms + rnd.random() * args.jitter_ms) / 1000.0
            seq += 1
            heapq.heappush(queue, (due, seq, sock, data, dest))
        if args.replay_after > 0:
            seq += 1
            stats["replay"] += 1
            heapq.heappush(queue, (now + args.replay_after, seq, sock, data, dest))

    while True:
        timeout = None
        if queue:
            timeout = max(0.0, queue[0][0] - time.monotonic())
        ready, _, _ = select.select([front, back], [], [], timeout)
        for s in ready:
            if s is front:
                data, src = front.recvfrom(65535)
                client = src
                schedule(back, data, None)
            else:
                data = back.recv(65535)
                if client is not None:
                    schedule(front, data, client)
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, sock, data, dest = heapq.heappop(queue)
            try:
                if dest is None:
                    sock.send(data)
                else:
                    sock.sendto(data, dest)
                stats["out"] += 1
            except OSError:
                pass


if __name__ == "__main__":
    main()
