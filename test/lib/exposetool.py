#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Clients and services for the localhost-tunnel tests (test/e2e/expose*.sh).

  exposetool.py serve PORT [--proxy] [--flood] [--stats FILE]
      An asyncio TCP service on 127.0.0.1:PORT. Each connection gets a first
      line "HELLO <src> <dst>" (with --proxy: the addresses of the PROXY v2
      header it must begin with, else those of the socket), then its input
      echoed back; with --flood, an endless stream instead of the echo, and
      the bytes written so far in FILE (updated twice a second).
  exposetool.py http PORT DIR [--bind ADDR]
      A minimal HTTP/1.0 file server on ADDR (default 127.0.0.1):PORT with a
      deep listen queue (python's http.server has 5).
  exposetool.py burst HOST PORT N URL SHA256 [--timeout S]
      N concurrent HTTP GETs of URL; each body's SHA-256 must be SHA256.
  exposetool.py hold HOST PORT N [--timeout S] [--ready FILE] [--release FILE]
      Open N connections to an echo service and keep all of them open (each
      answers its greeting and an echo), write "held N" to FILE, then wait
      until the file RELEASE exists and close them all, checking each still
      echoes. Prints "held N" and "released N".
  exposetool.py count HOST PORT N [--why] [--timeout S]
      Open N connections; print how many got a greeting (served) and how
      many were closed or reset without one (refused); with --why, how many
      of those were turned away (reset or closed) and how many got nothing
      for 5 s ("served A turned away B silent C").
  exposetool.py grab HOST PORT N --ready FILE --release FILE [--bind ADDR] [--timeout S]
      Open N connections to an echo service (from ADDR), 200 at a time;
      write "served A refused B" to FILE (refused: reset, closed or no
      greeting within 5 s), keep the served ones open until the file
      RELEASE exists, then print how many still echo ("still C").
  exposetool.py chatty HOST PORT SECONDS [--every S]
      One connection that sends a line every S seconds (default 1) for
      SECONDS and checks each echo; prints "alive" when all came back.
  exposetool.py idle HOST PORT N WAIT [--again S] [--greeting] [--timeout S]
      Open N connections and send nothing (with --greeting: read the
      service's greeting line first); after WAIT seconds print how many
      the other side has left open ("open A closed B"); with --again, S
      seconds later print "later open C".
  exposetool.py slowreader HOST PORT SECONDS
      Connect to a flooding service and read nothing for SECONDS.
  exposetool.py proxycheck HOST PORT
      Connect and print the greeting's source and destination.
  exposetool.py send HOST PORT HEXDATA [--bind ADDR] [--device DEV] [--shutdown] [--wait S]
      Connect (from ADDR, through DEV), send the bytes (then half-close
      with --shutdown), print what comes back before the close, or before
      S seconds (default 15) pass without a close ("<timeout>" at the end).
"""
import asyncio
import hashlib
import os
import socket
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def parse_proxy_v2(head):
    """(src, dst, header length) of a PROXY v2 header at the start of head, or None."""
    if len(head) < 16 or head[:12] != SIG:
        return None
    ver_cmd, fam, length = head[12], head[13], struct.unpack("!H", head[14:16])[0]
    if ver_cmd >> 4 != 2 or len(head) < 16 + length:
        return None
    body = head[16:16 + length]
    if ver_cmd & 0xF == 0:
        return ("LOCAL", "LOCAL", 16 + length)
    if fam == 0x11 and length >= 12:
        src = socket.inet_ntop(socket.AF_INET, body[0:4])
        dst = socket.inet_ntop(socket.AF_INET, body[4:8])
        sp, dp = struct.unpack("!HH", body[8:12])
        return (f"{src}:{sp}", f"{dst}:{dp}", 16 + length)
    if fam == 0x21 and length >= 36:
        src = socket.inet_ntop(socket.AF_INET6, body[0:16])
        dst = socket.inet_ntop(socket.AF_INET6, body[16:32])
        sp, dp = struct.unpack("!HH", body[32:36])
        return (f"[{src}]:{sp}", f"[{dst}]:{dp}", 16 + length)
    return None


async def serve(port, proxy, flood, stats):
    written = [0]

    async def report():
        while True:
            with open(stats + ".tmp", "w") as f:
                f.write(f"{written[0]}\n")
            os.rename(stats + ".tmp", stats)
            await asyncio.sleep(0.5)

    async def handle(reader, writer):
        try:
            if proxy:
                head = await reader.readexactly(16)
                length = struct.unpack("!H", head[14:16])[0]
                head += await reader.readexactly(length)
                parsed = parse_proxy_v2(head)
                if not parsed:
                    writer.write(b"BAD PROXY HEADER\n")
                    await writer.drain()
                    writer.close()
                    return
                src, dst = parsed[0], parsed[1]
            else:
                p, s = writer.get_extra_info("peername"), writer.get_extra_info("sockname")
                src, dst = f"{p[0]}:{p[1]}", f"{s[0]}:{s[1]}"
            writer.write(f"HELLO {src} {dst}\n".encode())
            await writer.drain()
            if flood:
                chunk = b"x" * 65536
                while True:
                    writer.write(chunk)
                    await writer.drain()
                    written[0] += len(chunk)
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.close()
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096, limit=1 << 20)
    print(f"serving on 127.0.0.1:{port}", flush=True)
    if stats:
        asyncio.ensure_future(report())
    async with server:
        await server.serve_forever()


async def http_serve(port, root, bind):
    async def handle(reader, writer):
        try:
            request = await reader.readline()
            while (await reader.readline()).strip():
                pass
            parts = request.split()
            path = os.path.join(root, parts[1].decode().lstrip("/")) if len(parts) > 1 else ""
            if not os.path.isfile(path):
                writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            else:
                body = open(path, "rb").read()
                writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
                writer.write(body)
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    server = await asyncio.start_server(handle, bind, port, backlog=4096)
    print(f"serving {root} on {bind}:{port}", flush=True)
    async with server:
        await server.serve_forever()


async def http_get(host, port, path):
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(f"bad answer: {head[:80]!r}")
    return body


async def burst(host, port, n, url, digest, timeout):
    async def one(i):
        body = await http_get(host, port, url)
        if hashlib.sha256(body).hexdigest() != digest:
            raise RuntimeError(f"connection {i}: body of {len(body)} bytes differs")

    t0 = time.monotonic()
    results = await asyncio.wait_for(
        asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True), timeout)
    bad = [r for r in results if isinstance(r, BaseException)]
    print(f"{n - len(bad)} of {n} completed in {time.monotonic() - t0:.2f} s", flush=True)
    for r in bad[:5]:
        print(f"  error: {r!r}", file=sys.stderr)
    return 0 if not bad else 1


async def open_echo(host, port, i):
    reader, writer = await asyncio.open_connection(host, port)
    hello = await reader.readline()
    if not hello.startswith(b"HELLO "):
        raise RuntimeError(f"connection {i}: greeting {hello!r}")
    msg = f"ping {i}\n".encode()
    writer.write(msg)
    await writer.drain()
    if await reader.readline() != msg:
        raise RuntimeError(f"connection {i}: no echo")
    return reader, writer


async def hold(host, port, n, timeout, ready, release):
    t0 = time.monotonic()
    sem = asyncio.Semaphore(200)  # do not flood the listen queues all at once

    async def one(i):
        async with sem:
            return await open_echo(host, port, i)

    conns = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout)
    print(f"held {len(conns)} in {time.monotonic() - t0:.2f} s", flush=True)
    if ready:
        with open(ready + ".tmp", "w") as f:
            f.write(f"held {len(conns)}\n")
        os.rename(ready + ".tmp", ready)
    deadline = time.monotonic() + timeout
    while release and not os.path.exists(release):
        if time.monotonic() > deadline:
            raise RuntimeError("never released")
        await asyncio.sleep(0.1)

    async def check(i, rw):
        reader, writer = rw
        msg = f"again {i}\n".encode()
        writer.write(msg)
        await writer.drain()
        if await reader.readline() != msg:
            raise RuntimeError(f"connection {i}: no echo after holding")
        writer.close()

    await asyncio.wait_for(asyncio.gather(*(check(i, c) for i, c in enumerate(conns))), timeout)
    print(f"released {len(conns)}", flush=True)
    return 0


async def count(host, port, n, why, timeout):
    async def one(i):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            return "away"
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
        except asyncio.TimeoutError:
            return "silent"
        except OSError:
            line = b""
        return (reader, writer) if line.startswith(b"HELLO ") else "away"

    conns = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout)
    served = [c for c in conns if isinstance(c, tuple)]
    if why:
        away = sum(1 for c in conns if c == "away")
        print(f"served {len(served)} turned away {away} silent {n - len(served) - away}", flush=True)
    else:
        print(f"served {len(served)} refused {n - len(served)}", flush=True)
    for _, w in served:
        w.close()
    return 0


async def open_from(host, port, bind):
    return await asyncio.open_connection(host, port, local_addr=(bind, 0) if bind else None)


async def grab(host, port, n, ready, release, bind, timeout):
    sem = asyncio.Semaphore(200)  # do not flood the listen queues all at once

    async def one(i):
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(open_from(host, port, bind), 10)
                line = await asyncio.wait_for(reader.readline(), 5)
            except (OSError, asyncio.TimeoutError):
                return None
            if not line.startswith(b"HELLO "):
                writer.close()
                return None
            return reader, writer

    conns = [c for c in await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout) if c]
    with open(ready + ".tmp", "w") as f:
        f.write(f"served {len(conns)} refused {n - len(conns)}\n")
    os.rename(ready + ".tmp", ready)
    print(f"served {len(conns)} refused {n - len(conns)}", flush=True)
    deadline = time.monotonic() + timeout
    while not os.path.exists(release):
        if time.monotonic() > deadline:
            raise RuntimeError("never released")
        await asyncio.sleep(0.1)

    async def echoes(i, rw):
        reader, writer = rw
        msg = f"again {i}\n".encode()
        try:
            writer.write(msg)
            await writer.drain()
            ok = await asyncio.wait_for(reader.readline(), 5) == msg
        except (OSError, asyncio.TimeoutError):
            ok = False
        writer.close()
        return ok

    still = sum(await asyncio.gather(*(echoes(i, c) for i, c in enumerate(conns))))
    print(f"still {still}", flush=True)
    return 0


async def chatty(host, port, seconds, every):
    reader, writer = await asyncio.open_connection(host, port)
    if not (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HELLO "):
        raise RuntimeError("no greeting")
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        await asyncio.sleep(every)
        msg = f"chat {i}\n".encode()
        writer.write(msg)
        await writer.drain()
        if await asyncio.wait_for(reader.readline(), 5) != msg:
            raise RuntimeError(f"no echo of line {i}")
        i += 1
    writer.close()
    print("alive", flush=True)
    return 0


async def idle(host, port, n, wait, again, greeting, timeout):
    sem = asyncio.Semaphore(200)  # do not flood the listen queues all at once

    async def one(i):
        async with sem:
            try:
                reader, writer = await asyncio.open_connection(host, port)
                if greeting and not (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HELLO "):
                    raise RuntimeError(f"connection {i}: no greeting")
                return reader, writer
            except OSError:
                return None

    async def is_open(c):
        # Closed by the other side: an EOF or a reset is there to read at once.
        try:
            await asyncio.wait_for(c[0].read(1), 0.5)
        except asyncio.TimeoutError:
            return True
        except OSError:
            pass
        return False

    async def n_open(conns):
        return sum(await asyncio.gather(*(is_open(c) for c in conns)))

    conns = [c for c in await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout) if c]
    await asyncio.sleep(wait)
    still = await n_open(conns)
    print(f"open {still} closed {n - still}", flush=True)
    if again is not None:
        await asyncio.sleep(again)
        print(f"later open {await n_open(conns)}", flush=True)
    for _, w in conns:
        w.close()
    return 0


def slowreader(host, port, seconds):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    print("connected, not reading", flush=True)
    time.sleep(seconds)
    s.close()
    return 0


def proxycheck(host, port):
    s = socket.create_connection((host, port), timeout=10)
    line = s.makefile("rb").readline().decode().strip()
    me = s.getsockname()
    host = f"[{me[0]}]" if ":" in me[0] else me[0]
    print(f"{line} ME {host}:{me[1]}", flush=True)
    s.close()
    return 0


def send(host, port, data, bind, device, shut, wait):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(15)
    if device:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, device.encode())
    if bind:
        s.bind((bind, 0))
    try:
        s.connect((host, port))
    except OSError as e:
        print(f"<connect failed: {e.strerror}>", flush=True)
        return 0
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # reset already: what came back says why
    s.settimeout(wait)
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        got += b"<reset>"
    except socket.timeout:
        got += b"<timeout>"
    print(got.decode(errors="replace"), flush=True)
    return 0


def opt(args, name, default=None):
    if name in args:
        i = args.index(name)
        value = args[i + 1]
        del args[i:i + 2]
        return value
    return default


def flag(args, name):
    if name in args:
        args.remove(name)
        return True
    return False


def main(argv):
    args = argv[1:]
    timeout = float(opt(args, "--timeout", "60"))
    if not args:
        print(__doc__)
        return 2
    cmd = args[0]
    if cmd == "serve":
        proxy, flood, stats = flag(args, "--proxy"), flag(args, "--flood"), opt(args, "--stats")
        asyncio.run(serve(int(args[1]), proxy, flood, stats))
        return 0
    if cmd == "http":
        bind = opt(args, "--bind", "127.0.0.1")
        asyncio.run(http_serve(int(args[1]), args[2], bind))
        return 0
    if cmd == "burst":
        return asyncio.run(burst(args[1], int(args[2]), int(args[3]), args[4], args[5], timeout))
    if cmd == "hold":
        ready, release = opt(args, "--ready"), opt(args, "--release")
        return asyncio.run(hold(args[1], int(args[2]), int(args[3]), timeout, ready, release))
    if cmd == "count":
        why = flag(args, "--why")
        return asyncio.run(count(args[1], int(args[2]), int(args[3]), why, timeout))
    if cmd == "grab":
        ready, release, bind = opt(args, "--ready"), opt(args, "--release"), opt(args, "--bind")
        return asyncio.run(grab(args[1], int(args[2]), int(args[3]), ready, release, bind, timeout))
    if cmd == "chatty":
        every = float(opt(args, "--every", "1"))
        return asyncio.run(chatty(args[1], int(args[2]), float(args[3]), every))
    if cmd == "idle":
        again, greeting = opt(args, "--again"), flag(args, "--greeting")
        return asyncio.run(idle(args[1], int(args[2]), int(args[3]), float(args[4]),
                                float(again) if again else None, greeting, timeout))
    if cmd == "slowreader":
        return slowreader(args[1], int(args[2]), float(args[3]))
    if cmd == "proxycheck":
        return proxycheck(args[1], int(args[2]))
    if cmd == "send":
        bind, device, shut = opt(args, "--bind"), opt(args, "--device"), flag(args, "--shutdown")
        wait = float(opt(args, "--wait", "15"))
        return send(args[1], int(args[2]), bytes.fromhex(args[3]), bind, device, shut, wait)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
