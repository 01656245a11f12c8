#!/usr/bin/env python3
"""Start a command with a socket passed the way systemd passes one.

Usage: sockact.py [--mode OCTAL] [--group GID] [--pidfile FILE] KIND PATH -- CMD...

Like systemd for a socket unit, this process makes the file descriptor, then
forks; the child moves it to fd 3, sets LISTEN_FDS=1 and LISTEN_PID to its
own pid, and execs CMD. The parent keeps its copy open (as systemd does, so
the socket outlives the service), passes SIGTERM/SIGINT/SIGHUP on to the
child, writes the child's pid to --pidfile, and exits with the child's
status (128 + N when signal N ended it).

KIND is what fd 3 will be:
  unix           a listening AF_UNIX stream socket bound at PATH, then given
                 --mode (default 0660) and --group like SocketMode=/SocketGroup=
  unix-nolisten  the same, bound but not listening
  unix-dgram     an AF_UNIX datagram socket bound at PATH
  udp            a UDP socket on 127.0.0.1 (PATH is ignored)
  file           the regular file PATH (created)
  two            two listening AF_UNIX stream sockets, PATH and PATH.2: LISTEN_FDS=2
  closed         nothing: LISTEN_FDS=1 with fd 3 closed
  garbage        LISTEN_FDS=one (not a number)
"""
import argparse
import fcntl
import os
import signal
import socket
import sys


def make_fds(kind, path, mode, group):
    """The descriptors to pass, in order, and the LISTEN_FDS value."""
    def unix(p, typ=socket.SOCK_STREAM, listen=True):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, typ)
        old = os.umask(0o177)
        try:
            s.bind(p)
        finally:
            os.umask(old)
        if group is not None:
            os.chown(p, -1, group)
        os.chmod(p, mode)
        if listen:
            s.listen(64)
        return s

    if kind == "unix":
        return [unix(path)], "1"
    if kind == "unix-nolisten":
        return [unix(path, listen=False)], "1"
    if kind == "unix-dgram":
        return [unix(path, socket.SOCK_DGRAM, listen=False)], "1"
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        return [s], "1"
    if kind == "file":
        return [open(path, "w")], "1"
    if kind == "two":
        return [unix(path), unix(path + ".2")], "2"
    if kind == "closed":
        return [], "1"
    if kind == "garbage":
        return [], "one"
    raise SystemExit("sockact.py: unknown kind %r" % kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", type=lambda s: int(s, 8), default=0o660)
    ap.add_argument("--group", type=int)
    ap.add_argument("--pidfile")
    ap.add_argument("kind")
    ap.add_argument("path")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")
    objs, listen_fds = make_fds(a.kind, a.path, a.mode, a.group)
    fds = [o.fileno() for o in objs]

    # Block the signals we forward until the child's pid is known.
    forwarded = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    signal.pthread_sigmask(signal.SIG_BLOCK, forwarded)
    pid = os.fork()
    if pid == 0:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, forwarded)
        # Move the fds to 3, 4, ...: first out of the way, then down.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i, inheritable=True)
            os.close(fd)
        if a.kind == "closed":
            try:
                os.close(3)
            except OSError:
                pass
        os.environ["LISTEN_FDS"] = listen_fds
        os.environ["LISTEN_PID"] = str(os.getpid())
        os.environ.pop("LISTEN_FDNAMES", None)
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            print("sockact.py: %s: %s" % (cmd[0], e), file=sys.stderr)
            os._exit(127)
    if a.pidfile:
        with open(a.pidfile + ".tmp", "w") as f:
            f.write("%d\n" % pid)
        os.rename(a.pidfile + ".tmp", a.pidfile)

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for s in forwarded:
        signal.signal(s, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, forwarded)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    # The parent's copies stay open until here, like systemd's.
    for o in objs:
        o.close()
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
