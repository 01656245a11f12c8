/* SPDX-License-Identifier: MIT */
/*
 * Name resolution that never blocks the event loop: getaddrinfo_a(3) runs
 * the lookup on glibc's helper thread and an ev_async brings the answer back
 * to the loop, where the callback runs. A numeric address needs none of
 * this (sockaddr_parse_numeric); a name in Endpoint= or `tunctl add-peer
 * --endpoint` does, since a slow or dead DNS server would otherwise stall
 * every peer's traffic for as long as the resolver's timeouts.
 */
#ifndef TUND_RESOLVE_H
#define TUND_RESOLVE_H

#include <ev.h>
#include <stdint.h>

#include "addr.h"

struct resolve_req;

/*
 * Called on the loop: rc 0 with the first IPv4 or IPv6 address (the port
 * set), or -errno / -EHOSTUNREACH with addr NULL.
 */
typedef void (*resolve_cb)(void *ctx, int rc, const union sockaddr_inet *addr);

/* Once, before the first resolve_start, on the loop that runs the callbacks. */
int resolve_init(struct ev_loop *loop);
/*
 * Forget every request: no callback runs after this. Requests still on
 * glibc's thread are cancelled if they can be and otherwise left to finish;
 * they are not freed (this is for exit).
 */
void resolve_shutdown(void);

/*
 * Start resolving host (a name) for UDP port. Returns the request (cancel it
 * with resolve_cancel when ctx goes away), or NULL with errno set.
 */
struct resolve_req *resolve_start(const char *host, uint16_t port, resolve_cb cb, void *ctx);
/* The callback of req will not run. NULL is a no-op. */
void resolve_cancel(struct resolve_req *req);

#endif
