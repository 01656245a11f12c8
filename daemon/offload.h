/* SPDX-License-Identifier: MIT */
/*
 * TUN offloads done in software. With IFF_VNET_HDR the TUN device puts a
 * virtio-net header in front of each packet and, once TUNSETOFFLOAD allows
 * it, hands over TCP/UDP super-packets of up to 64 KiB (TSO/USO) whose
 * checksums are left partial. offload_split() turns one such read into the
 * MTU-sized, fully checksummed IP packets WireGuard encrypts one by one;
 * the coalescer does the reverse on receive, gluing consecutive decrypted
 * segments of one flow into one super-packet for a single TUN write (the
 * kernel's GRO). Pure functions on caller buffers: no syscalls, no
 * allocation, nothing kept between calls but what the caller passes in.
 */
#ifndef TUND_OFFLOAD_H
#define TUND_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Newer than Debian 12's headers (kernel 6.2). */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/*
 * The header's 16-bit fields are in host byte order: the TUN device's legacy
 * virtio-net header is native-endian unless TUNSETVNETLE/BE says otherwise.
 */
#define OFFLOAD_VNET_HDR_LEN sizeof(struct virtio_net_hdr) /* 10 */

/*
 * Where offload_split() puts segments: an arena the caller owns, filled
 * front to back. Each segment gets `headroom` free bytes before it and
 * `tailroom` after (for the data message header, padding and tag, so
 * encryption runs in place), and starts 64-byte aligned. pkt[] and len[]
 * are caller arrays of `max` entries. Reset with n = used = 0.
 */
struct offload_segs {
	uint8_t *arena;
	size_t cap; /* arena bytes */
	size_t used; /* arena bytes taken */
	size_t headroom, tailroom;
	unsigned int n, max;
	uint8_t **pkt; /* pkt[i]: segment i's IP packet, inside the arena */
	size_t *len; /* len[i]: its length in bytes */
};

/*
 * One packet read from the TUN device: vh, then the len bytes of IP packet
 * at pkt. Returns:
 *   0        pkt is a single packet, complete now: a partial checksum
 *            (VIRTIO_NET_HDR_F_NEEDS_CSUM) was finished in place; nothing
 *            was appended to segs;
 *   n > 0    the super-packet (TCPv4/v6 or UDP_L4, with or without
 *            GSO_ECN) was cut into n IP packets of at most gso_size payload,
 *            appended to segs: IPv4 total length, id (+1 per segment) and
 *            header checksum, IPv6 payload length, TCP sequence numbers,
 *            flags (FIN/PSH/RST only on the last, CWR only on the first),
 *            UDP length, and every TCP/UDP checksum computed in full;
 *   -ENOSPC  segs has not room for all of them (nothing appended): flush
 *            and call again; on an empty segs it means the packet never fits;
 *   -EINVAL  malformed: drop it. That is: len > 65535; a partial checksum
 *            field (csum_start + csum_offset + 2) past len or at an odd
 *            csum_offset; gso_size 0; a gso_type other than TCPV4, TCPV6,
 *            UDP_L4 (+ ECN) or not matching the packet (IPv4/IPv6, TCP/UDP);
 *            IP or TCP header lengths out of range or past len; an IPv4
 *            fragment; IPv6 extension headers before TCP/UDP; with
 *            NEEDS_CSUM, csum_start/csum_offset not at the TCP/UDP checksum.
 *            IPv4 options are allowed.
 * The header lengths come from the packet: hdr_len is ignored (the kernel's
 * is only a hint), and so are the super-packet's IP length fields (len is
 * the packet, as for the kernel's skb). A super-packet is only read; the
 * NEEDS_CSUM case of gso_type NONE writes its checksum field in place.
 */
int offload_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
		  struct offload_segs *segs);

/*
 * The coalescer: one super-packet under construction in a caller buffer of
 * cap bytes (OFFLOAD_VNET_HDR_LEN + 65535 is enough for anything). The
 * virtio-net header is written at buf[0] by offload_gro_finish(); the IP
 * packet starts at buf + OFFLOAD_VNET_HDR_LEN. Set buf, cap and allow_udp,
 * then offload_gro_reset() (or zero the rest) before the first add.
 */
struct offload_gro {
	uint8_t *buf;
	size_t cap;
	bool allow_udp; /* the TUN device took USO: UDP may be coalesced too */
	/* private to offload.c below this line */
	size_t len; /* IP bytes in buf after the header; 0 = empty */
	unsigned int segs; /* packets glued so far */
	uint16_t seg_payload; /* payload bytes of the first segment = gso_size */
	uint8_t proto; /* IPPROTO_TCP/UDP of the flow, 0 = cannot grow */
	uint8_t ip_hdr_len, l4_hdr_len;
	bool closed; /* a short or PSH segment ended the flow (FIN is never glued) */
	uint32_t next_seq; /* TCP: the sequence number the next segment must carry */
};

/*
 * Add one decrypted IP packet (complete, as a peer sent it). Appends it to
 * the super-packet in g when it continues the same flow exactly (same
 * addresses, ports, IP header fields but length/id/checksum, same TCP
 * options and ack, the next sequence number, payload == the first
 * segment's, only ACK/PSH flags, checksum valid, total <= 65535) and
 * returns true. Returns false when it does not: the caller then finishes
 * and writes g, calls offload_gro_reset(), and adds pkt again (a packet
 * added to an empty g is always taken, whatever it is, unless it is longer
 * than cap - OFFLOAD_VNET_HDR_LEN: then false again, and the caller must
 * write it some other way or drop it). A packet that can never be glued
 * (bad checksum, fragment, other protocol, IP length field != len) is taken
 * alone and closes g so the next add returns false. At most 64 packets are
 * glued (the kernel's UDP GRO limit). len 0 is taken and adds nothing.
 * pkt's len must be its IP length (WireGuard's padding cut off) for it to
 * be glued.
 */
bool offload_gro_add(struct offload_gro *g, const uint8_t *pkt, size_t len);

/*
 * Fill the virtio-net header in front of the packet in g: no flags for a
 * single packet (its checksum is the sender's), GSO_TCPV4/TCPV6/UDP_L4 with
 * gso_size, NEEDS_CSUM, csum_start/offset and the pseudo-header sum in the
 * checksum field for a glued one, and fix the IP header (length, IPv4
 * header checksum). Returns the bytes to write from g->buf, or 0 when g is
 * empty. g keeps its packet until offload_gro_reset().
 */
size_t offload_gro_finish(struct offload_gro *g);
void offload_gro_reset(struct offload_gro *g);

/*
 * The Internet checksum helpers the data path shares (RFC 1071). Sums are
 * in the data's own byte order, so results are stored with memcpy, not
 * htons. offload_csum_add() adds len bytes to a running sum (start with 0;
 * every piece but the last must have an even length). offload_csum_fold()
 * folds and inverts, as the kernel's csum_fold(): the value for a checksum
 * field, and 0 when the sum over data that includes its checksum verifies.
 */
uint32_t offload_csum_add(uint32_t sum, const uint8_t *data, size_t len);
uint16_t offload_csum_fold(uint32_t sum);

#endif
