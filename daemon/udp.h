/* SPDX-License-Identifier: MIT */
/*
 * The UDP side of an interface: one IPv4 and one IPv6 socket on the same
 * port, batched receive (recvmmsg) and send (sendmmsg), the local address of
 * each datagram (IP_PKTINFO) so replies leave from the address the peer
 * talks to, and the fwmark. Datagrams are never sent to anything but peers'
 * endpoints.
 */
#ifndef TUND_UDP_H
#define TUND_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pkt.h"

struct peer;

#define UDP_CMSG_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

union udp_cmsg {
	char buf[UDP_CMSG_SPACE];
	struct cmsghdr align;
};

/* A sendmmsg batch for one socket. Buffers are borrowed unless in owned[]. */
struct udp_out {
	unsigned int n;
	struct mmsghdr msgs[BATCH_SIZE];
	struct iovec iov[BATCH_SIZE];
	union sockaddr_inet addr[BATCH_SIZE];
	union udp_cmsg cmsg[BATCH_SIZE];
	struct peer *peer[BATCH_SIZE]; /* valid until the flush at the end of the callback */
	void *owned[BATCH_SIZE];       /* freed after the send */
};

/* A recvmmsg batch; buffers are PKT_BUF_SIZE, data lands at PKT_HEADROOM. */
struct udp_in {
	struct mmsghdr msgs[BATCH_SIZE];
	struct iovec iov[BATCH_SIZE];
	union sockaddr_inet addr[BATCH_SIZE];
	union udp_cmsg cmsg[BATCH_SIZE];
	uint8_t *bufs[BATCH_SIZE];
};

/* The daemon's batch buffers, shared by all interfaces (one callback at a time). */
struct scratch {
	uint8_t *tun_bufs[BATCH_SIZE];
	struct udp_in in;
	struct udp_out out[2]; /* [0] IPv4 socket, [1] IPv6 socket */
};

int scratch_create(struct scratch **out);
void scratch_destroy(struct scratch *s);

struct udp {
	int fd[2]; /* [0] IPv4, [1] IPv6; -1 when that family is unavailable */
	uint16_t port;
	uint32_t fwmark;
};

/*
 * Bind both sockets to port (0: pick one free for both families). IPv6
 * unavailable is not an error; IPv4 unavailable is. Returns 0 or -errno.
 */
int udp_open(struct udp *u, uint16_t port, uint32_t fwmark);
void udp_close(struct udp *u);
int udp_set_fwmark(struct udp *u, uint32_t fwmark);

/* Queue len bytes at data for ep; flushes first when the batch is full. */
void udp_queue(struct udp *u, struct scratch *s, struct peer *peer, const struct endpoint *ep,
	       uint8_t *data, size_t len, void *owned);
/* Send what is queued; returns the number of datagrams the kernel refused. */
unsigned int udp_flush(struct udp *u, struct scratch *s);
/* Send one datagram now. Returns 0 or -errno. A stale source address is dropped and retried. */
int udp_send(struct udp *u, struct endpoint *ep, const void *data, size_t len);

/*
 * Receive up to BATCH_SIZE datagrams from socket fam (0 or 1) into s->in.
 * Returns the count (0 when none is waiting) or -errno. For each i,
 * from[i] gets the source and the local address it was sent to.
 */
int udp_recv_batch(struct udp *u, int fam, struct scratch *s, struct endpoint *from);

#endif
