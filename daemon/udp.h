/* SPDX-License-Identifier: MIT */
/*
 * The UDP side of an interface: one IPv4 and one IPv6 socket on the same
 * port, batched receive (recvmmsg, with UDP_GRO: one read may carry many
 * datagrams of one size) and send (sendmmsg, with UDP_SEGMENT: a run of
 * equal-size datagrams to one endpoint goes down as one GSO send), the
 * local address of each datagram (IP_PKTINFO) so replies leave from the
 * address the peer talks to, and the fwmark. Datagrams are never sent to
 * anything but peers' endpoints.
 */
#ifndef TUND_UDP_H
#define TUND_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "offload.h"
#include "pkt.h"
#include "workers.h"

struct peer;
struct rx_batch;

/* pktinfo of either family, then the UDP_SEGMENT or UDP_GRO size. */
#define UDP_CMSG_SPACE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)))

/* Datagrams queued before a flush; a GSO send takes at most UDP_GSO_MAX_SEGS. */
#define UDP_OUT_MAX      1024
#define UDP_GSO_MAX_SEGS 64

/* Segments offload_split() may leave in the arena between flushes. */
#define SEG_ARENA_BYTES (1u << 20)

union udp_cmsg {
	char buf[UDP_CMSG_SPACE];
	struct cmsghdr align;
};

struct udp;

/*
 * Datagrams waiting for the next flush, in order. Each remembers the
 * sockets it must leave by and its peer's endpoint, so whoever flushes sends
 * it the right way; a peer or interface going away flushes first
 * (udp_flush), so no entry outlives what it points to. Buffers are borrowed
 * unless in owned[].
 */
struct udp_out {
	unsigned int n;
	struct iovec iov[UDP_OUT_MAX];
	struct udp *u[UDP_OUT_MAX];
	struct endpoint *owner[UDP_OUT_MAX]; /* the peer's endpoint, queued from (ep[] is a copy) */
	struct endpoint ep[UDP_OUT_MAX];
	void *owned[UDP_OUT_MAX]; /* freed after the send */
	/* Entries still to be sealed, run by the flush on every core (workers.h). */
	struct crypt_task seal[UDP_OUT_MAX];
	unsigned int seal_at[UDP_OUT_MAX]; /* seal[k] belongs to entry seal_at[k] */
	unsigned int n_seal;
	/* Built by the flush: one message per run of datagrams. */
	struct mmsghdr msgs[UDP_OUT_MAX];
	unsigned int first[UDP_OUT_MAX]; /* msgs[k] starts at entry first[k] */
	union sockaddr_inet addr[UDP_OUT_MAX];
	union udp_cmsg cmsg[UDP_OUT_MAX];
};

/*
 * A recvmmsg batch; buffers are PKT_BUF_SIZE, data lands at PKT_HEADROOM.
 * With UDP_GRO, gso[i] is the size of each datagram in message i (the last
 * may be shorter), or 0 when it holds one datagram.
 */
struct udp_in {
	struct mmsghdr msgs[BATCH_SIZE];
	struct iovec iov[BATCH_SIZE];
	union sockaddr_inet addr[BATCH_SIZE];
	union udp_cmsg cmsg[BATCH_SIZE];
	uint8_t *bufs[BATCH_SIZE];
	unsigned int gso[BATCH_SIZE];
};

/*
 * The daemon's data-path state, shared by all interfaces: the loop runs one
 * callback at a time and each finishes its batch before returning.
 */
struct scratch {
	uint8_t *tun_bufs[BATCH_SIZE]; /* TUN reads; room for a virtio-net header before PKT_HEADROOM */
	struct offload_segs segs;      /* super-packets cut by offload_split() */
	uint8_t *seg_pkt[UDP_OUT_MAX];
	size_t seg_len[UDP_OUT_MAX];
	struct offload_gro gro;        /* decrypted packets being glued for one TUN write */
	const void *gro_owner;         /* the keypair whose packets are in gro */
	struct iface *gro_iface;
	struct udp_in in;
	struct udp_out out;
	struct rx_batch *rx;           /* receive.c's decryption batch */
	struct workers *workers;       /* crypto threads (NULL: all on the loop's thread); owned */
	bool use_offloads;             /* false: --no-offload, plain TUN and UDP */
};

int scratch_create(struct scratch **out);
void scratch_destroy(struct scratch *s);

struct udp {
	int fd[2]; /* [0] IPv4, [1] IPv6; -1 when that family is unavailable */
	bool gso[2]; /* UDP_SEGMENT works on that socket */
	bool gro[2]; /* UDP_GRO is on */
	uint16_t port;
	uint32_t fwmark;
};

/*
 * Bind both sockets to port (0: pick one free for both families). IPv6
 * unavailable is not an error; IPv4 unavailable is. With offloads, GSO and
 * GRO are turned on where the kernel has them. Returns 0 or -errno.
 */
int udp_open(struct udp *u, uint16_t port, uint32_t fwmark, bool offloads);
void udp_close(struct udp *u);
int udp_set_fwmark(struct udp *u, uint32_t fwmark);

/*
 * Queue len bytes at data for ep (a peer's endpoint, which must live until
 * the flush) through u's socket; flushes first when the queue is full. If
 * the kernel refuses ep's sticky source address (gone from this host), ep
 * forgets it (udp_endpoint_clear_src) and the flush sends the datagram again
 * from the address the kernel chooses. owned (may be NULL) is freed after
 * the send.
 */
void udp_queue(struct udp *u, struct scratch *s, struct endpoint *ep, uint8_t *data, size_t len,
	       void *owned);
/*
 * The same for a data message whose payload is not sealed yet: the flush
 * seals it (task's ctx, counter, data, len) before sending, on all cores.
 * The keypair behind ctx must live until that flush: only the TUN path,
 * which frees no keypair before its own flush, queues these.
 */
void udp_queue_unsealed(struct udp *u, struct scratch *s, struct endpoint *ep, uint8_t *data,
			size_t len, const struct crypt_task *task);
/*
 * Send everything queued, by whichever interface it was queued for. Returns
 * the number of datagrams the kernel refused.
 */
unsigned int udp_flush(struct scratch *s);
/* Free entries left: the queue's room, in datagrams. */
static inline unsigned int udp_out_room(const struct scratch *s)
{
	return UDP_OUT_MAX - s->out.n;
}
/*
 * Forget ep's sticky local source address: the kernel chooses again (it
 * may be why packets do not get through, e.g. a roamed laptop).
 */
void udp_endpoint_clear_src(struct endpoint *ep);
/* Whether a and b (same address family) are to be sent from the same local address. */
bool udp_endpoint_same_src(const struct endpoint *a, const struct endpoint *b);
/* Send one datagram now. Returns 0 or -errno. A stale source address is dropped and retried. */
int udp_send(struct udp *u, struct endpoint *ep, const void *data, size_t len);

/*
 * Receive up to BATCH_SIZE messages from socket fam (0 or 1) into s->in.
 * Returns the count (0 when none is waiting) or -errno. For each i,
 * from[i] gets the source and the local address it was sent to.
 */
int udp_recv_batch(struct udp *u, int fam, struct scratch *s, struct endpoint *from);

#endif
