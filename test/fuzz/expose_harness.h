/* SPDX-License-Identifier: MIT */
/*
 * What the localhost-tunnel fuzz targets share (fuzz_expose_lines.c,
 * fuzz_expose_connect.c): one real interface object, detached from the
 * system, that is a server to peer "laptop" (10.0.0.2, fd00::2, AllowExpose
 * 47000-47009) and a client of peer "server" (10.0.0.3: services web,
 * px with PROXY v2, secret), beside a peer "hub" that routes 10.0.0.0/24 and
 * 192.168.0.0/16; for each input a struct expose at rest (fresh, or the
 * last one when its connections all ended), and socketpairs that stand for
 * TCP connections through the tunnel. The daemon's event loop
 * runs until the input is consumed. When it may, the harness moves into a
 * network namespace of its own (unshare), so that the public ports and the
 * local services it opens are private to it.
 */
#ifndef TUND_FUZZ_EXPOSE_HARNESS_H
#define TUND_FUZZ_EXPOSE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct expose;

/* Once per process. */
void harness_init(void);
/* A struct expose of the interface at rest: no session, listener, relay or pending connection. */
struct expose *harness_expose(void);
/*
 * Keep ex for the next input when it is at rest again, else destroy it; and
 * check what must hold then: every unit of the descriptor budget given back.
 */
void harness_expose_free(struct expose *ex);
/*
 * A connected pair: *ours is the fuzzer's end, *theirs goes to the code
 * under test (non-blocking).
 */
void harness_pair(int *ours, int *theirs);
/*
 * Write data to ours (then half-close it when eof), running the loop
 * meanwhile and until the other end has read everything (or a bound is
 * reached); what comes back is read and dropped.
 */
void harness_feed(int ours, const void *data, size_t len, bool eof);
/*
 * Users connect to every public port ex listens on, n times each, and go
 * (the limits, the source table and the connections to the client run).
 */
void harness_knock(struct expose *ex, unsigned int n);
/* remote picked by sel: the server (10.0.0.3), the laptop (10.0.0.2, fd00::2), others. */
union sockaddr_inet harness_remote(unsigned int sel);
/* Our tunnel address of remote's family, on the control port: where it connected to. */
union sockaddr_inet harness_local(const union sockaddr_inet *remote);
/* The server's control port (10.0.0.3:51821): what the client's link goes to. */
union sockaddr_inet harness_server(void);

#endif
