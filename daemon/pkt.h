/* SPDX-License-Identifier: MIT */
/*
 * Packet buffers. One layout everywhere: PKT_HEADROOM bytes in front of the
 * IP packet for the data message header, PKT_TAILROOM behind it for padding
 * and the Poly1305 tag, so encryption and decryption run in place (the
 * driver's DATA_PACKET_HEAD_ROOM). The batch buffers are allocated once per
 * daemon and shared by all interfaces: the loop is single-threaded and a
 * batch is finished before the next callback runs.
 */
#ifndef TUND_PKT_H
#define TUND_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "wire.h"

#define PKT_HEADROOM    64 /* >= sizeof(struct message_data); cache-line aligned payload */
#define PKT_TAILROOM    64 /* >= padding (15) + tag (16) */
#define PKT_MAX_PAYLOAD 65535
#define PKT_BUF_SIZE    (PKT_HEADROOM + PKT_MAX_PAYLOAD + PKT_TAILROOM)

/* Packets moved per read or write batch (recvmmsg/sendmmsg/TUN reads). */
#define BATCH_SIZE 64

/* A packet waiting in a peer's queue for a handshake; owned by that queue. */
struct staged_pkt {
	struct staged_pkt *next;
	size_t len;     /* IP packet length */
	uint8_t buf[]; /* PKT_HEADROOM + len + PKT_TAILROOM; packet at buf + PKT_HEADROOM */
};

/* A bounded FIFO of staged packets, embedded in struct peer. */
struct staged_queue {
	struct staged_pkt *head, *tail;
	unsigned int count;
};

/* The address a datagram came from and the local address it was sent to. */
struct endpoint {
	union sockaddr_inet addr;
	union {
		struct in_addr src4;
		struct in6_addr src6;
	};
	int src_ifindex;
	int has_src; /* src4/src6 valid: reply from the address the peer talks to */
};

#endif
