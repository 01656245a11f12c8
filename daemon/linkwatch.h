/* SPDX-License-Identifier: MIT */
/*
 * Links changing under tund: a second NETLINK_ROUTE socket, subscribed to
 * RTNLGRP_LINK and read in the event loop, reports each link deleted
 * (`ip link del`, which is how `wg-quick down` ends a userspace interface)
 * and each link changed (its flags and MTU). netlink.c's socket stays
 * request/ack only, so an event can never be taken for an ack.
 */
#ifndef TUND_LINKWATCH_H
#define TUND_LINKWATCH_H

#include <ev.h>
#include <net/if.h>
#include <stdint.h>

enum linkwatch_type {
	LINKWATCH_DELETED, /* RTM_DELLINK */
	LINKWATCH_CHANGED, /* RTM_NEWLINK: flags and mtu */
	/*
	 * The socket's buffer overflowed (ENOBUFS): events were lost, and the
	 * receiver must check every link it cares about itself.
	 */
	LINKWATCH_LOST,
};

struct linkwatch_event {
	enum linkwatch_type type;
	int ifindex;
	char name[IFNAMSIZ]; /* "" when the message had none */
	unsigned int flags; /* IFF_UP, ...: LINKWATCH_CHANGED */
	uint32_t mtu; /* 0 when the message had none */
};

typedef void (*linkwatch_fn)(void *ctx, const struct linkwatch_event *ev);

struct linkwatch;

/*
 * Open the socket and start watching in loop; fn(ctx, ev) is called from
 * the loop for each event. 0 or -errno.
 */
int linkwatch_open(struct ev_loop *loop, linkwatch_fn fn, void *ctx, struct linkwatch **out);
/* Stop and close. NULL is a no-op. */
void linkwatch_close(struct linkwatch *lw);

#endif
