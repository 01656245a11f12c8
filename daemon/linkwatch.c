// SPDX-License-Identifier: MIT
/*
 * Link events (RTNLGRP_LINK) on their own non-blocking rtnetlink socket,
 * read in the event loop. Only the kernel's messages count: any process
 * may send a datagram to our port id, and a forged RTM_DELLINK must not
 * take an interface down.
 */
#include "linkwatch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

/* A link message with every attribute (stats, VF info) fits with room to spare. */
#define LINKWATCH_BUFFER 32768
/* Asked of the kernel; a burst of link changes beyond it costs a LINKWATCH_LOST. */
#define LINKWATCH_RCVBUF (1 << 20)
/* Reads per callback, so that a storm of link changes cannot hold the loop. */
#define LINKWATCH_READS 64

struct linkwatch {
	struct mnl_socket *sock;
	struct ev_loop *loop;
	ev_io watcher;
	linkwatch_fn fn;
	void *ctx;
	char buf[LINKWATCH_BUFFER];
};

static int link_attr(const struct nlattr *attr, void *data)
{
	struct linkwatch_event *ev = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
		    mnl_attr_get_payload_len(attr) <= sizeof(ev->name))
			memcpy(ev->name, mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr));
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			ev->mtu = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int on_message(const struct nlmsghdr *nlh, void *data)
{
	struct linkwatch *lw = data;
	struct linkwatch_event ev = {0};
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	ev.type = nlh->nlmsg_type == RTM_DELLINK ? LINKWATCH_DELETED : LINKWATCH_CHANGED;
	ev.ifindex = ifi->ifi_index;
	ev.flags = ifi->ifi_flags;
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr, &ev) != MNL_CB_OK)
		return MNL_CB_OK;
	lw->fn(lw->ctx, &ev);
	return MNL_CB_OK;
}

/* One datagram from the kernel: its length, 0 when none is waiting, or -errno. */
static ssize_t read_one(struct linkwatch *lw)
{
	struct sockaddr_nl from;
	struct iovec iov = {.iov_base = lw->buf, .iov_len = sizeof(lw->buf)};
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	for (;;) {
		n = recvmsg(mnl_socket_get_fd(lw->sock), &msg, 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
	if (msg.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0 ||
	    (msg.msg_flags & MSG_TRUNC))
		return -EPERM; /* not the kernel's, or cut: ignored */
	return n;
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct linkwatch *lw = w->data;
	struct linkwatch_event lost = {.type = LINKWATCH_LOST};

	(void)loop;
	(void)revents;
	for (int i = 0; i < LINKWATCH_READS; i++) {
		ssize_t n = read_one(lw);

		if (n == 0)
			return;
		if (n == -ENOBUFS) {
			log_warn("link events were lost (the socket's buffer overflowed); "
				 "checking every interface's link");
			lw->fn(lw->ctx, &lost);
			continue;
		}
		if (n < 0) {
			if (n != -EPERM)
				log_debug("link events: %s", strerror((int)-n));
			continue;
		}
		(void)mnl_cb_run(lw->buf, (size_t)n, 0, 0, on_message, lw);
	}
}

int linkwatch_open(struct ev_loop *loop, linkwatch_fn fn, void *ctx, struct linkwatch **out)
{
	struct linkwatch *lw;
	int rcvbuf = LINKWATCH_RCVBUF, fd, rc;

	*out = NULL;
	lw = calloc(1, sizeof(*lw));
	if (!lw)
		return -ENOMEM;
	lw->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!lw->sock || mnl_socket_bind(lw->sock, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		if (lw->sock)
			mnl_socket_close(lw->sock);
		free(lw);
		return rc;
	}
	fd = mnl_socket_get_fd(lw->sock);
	/* Past rmem_max with CAP_NET_ADMIN, else as far as it goes. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	lw->loop = loop;
	lw->fn = fn;
	lw->ctx = ctx;
	ev_io_init(&lw->watcher, on_readable, fd, EV_READ);
	lw->watcher.data = lw;
	ev_io_start(loop, &lw->watcher);
	*out = lw;
	return 0;
}

void linkwatch_close(struct linkwatch *lw)
{
	if (!lw)
		return;
	ev_io_stop(lw->loop, &lw->watcher);
	mnl_socket_close(lw->sock);
	free(lw);
}
