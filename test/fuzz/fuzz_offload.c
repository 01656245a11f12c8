// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the TUN offloads: what a TUN read can bring (a virtio-net
 * header and a packet) goes through offload_split(), and the segments it
 * makes through the coalescer, as the data path would. Input layout:
 *   byte 0       options: 1 = make the header agree with the packet (gso_type,
 *                NEEDS_CSUM at the transport checksum), 2 = set the IP
 *                length field to the packet's length, 4 = allow UDP in the
 *                coalescer, 8 = a small arena (-ENOSPC)
 *   bytes 1-10   struct virtio_net_hdr, host byte order
 *   the rest     the IP packet
 * Invariants checked (abort() on failure): split returns 0, n, -EINVAL or
 * -ENOSPC; nothing is written outside the arena or past the packet; an
 * -ENOSPC leaves segs as it was; every segment has at most gso_size payload,
 * valid IPv4 and TCP/UDP checksums by a byte-wise reference and its slice of
 * the payload; a finished partial checksum equals the reference; the
 * coalescer's outputs cover its inputs in order, a single one unchanged
 * with a zero header, a glued one with a header the kernel takes that
 * splits back into exactly the packets that were glued.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OPT_CONSISTENT 1
#define OPT_IP_LEN     2
#define OPT_UDP	       4
#define OPT_SMALL      8

#define ARENA_CAP  (256 * 1024)
#define SMALL_CAP  4096
#define GUARD	   64
#define MAX_SEGS   1024
#define HEADROOM   16
#define TAILROOM   32
#define PKT_MAX	   65535
#define GRO_CAP	   (OFFLOAD_VNET_HDR_LEN + PKT_MAX)
#define GUARD_BYTE 0x5a

struct arena {
	uint8_t mem[GUARD + ARENA_CAP + GUARD];
	uint8_t *pkt[MAX_SEGS];
	size_t len[MAX_SEGS];
	struct offload_segs segs;
};

static struct arena *A, *B; /* the split, and the split of what the coalescer glued */
static uint8_t *pkt, *copy, *gro_buf;

/* ---- a byte-wise reference, independent of offload.c ---- */

/* Header lengths of a TCP/UDP packet; false when it is not one offload could take. */
static bool ref_hdrs(const uint8_t *p, size_t len, unsigned *ip_len, unsigned *hdr_len,
		     uint8_t *proto)
{
	if (len < 20 || (p[0] >> 4 != 4 && p[0] >> 4 != 6) || (p[0] >> 4 == 6 && len < 40))
		return false;
	*ip_len = p[0] >> 4 == 6 ? 40 : (p[0] & 0xf) * 4u;
	*proto = p[0] >> 4 == 6 ? p[6] : p[9];
	if (*proto == IPPROTO_TCP && len >= *ip_len + 20u)
		*hdr_len = *ip_len + (p[*ip_len + 12] >> 4) * 4u;
	else if (*proto == IPPROTO_UDP)
		*hdr_len = *ip_len + 8;
	else
		return false;
	return *ip_len >= 20 && *hdr_len <= len;
}

static bool ref_valid(const uint8_t *p, size_t len)
{
	unsigned ip_len, hdr_len;
	uint8_t proto;
	uint32_t sum;
	bool v6 = p[0] >> 4 == 6;

	if (!ref_hdrs(p, len, &ip_len, &hdr_len, &proto))
		return false;
	if (!v6 && ts_csum_add(0, p, ip_len) != 0xffff)
		return false;
	sum = ts_csum_add(proto + (uint32_t)(len - ip_len), p + (v6 ? 8 : 12), v6 ? 32 : 8);
	return ts_csum_add(sum, p + ip_len, len - ip_len) == 0xffff;
}

/* ---- setting up one input ---- */

static void arena_init(struct arena *a, size_t cap)
{
	memset(&a->segs, 0, sizeof(a->segs));
	memset(a->mem, GUARD_BYTE, GUARD);
	memset(a->mem + GUARD + cap, GUARD_BYTE, GUARD);
	a->segs.arena = a->mem + GUARD;
	a->segs.cap = cap;
	a->segs.headroom = HEADROOM;
	a->segs.tailroom = TAILROOM;
	a->segs.max = MAX_SEGS;
	a->segs.pkt = a->pkt;
	a->segs.len = a->len;
}

static void check_guards(const struct arena *a)
{
	for (size_t i = 0; i < GUARD; i++) {
		check(a->mem[i] == GUARD_BYTE);
		check(a->mem[GUARD + a->segs.cap + i] == GUARD_BYTE);
	}
}

static void make_consistent(struct virtio_net_hdr *vh, uint8_t opts, uint8_t *p, size_t len)
{
	unsigned ip_len, hdr_len;
	uint8_t proto;

	if ((opts & OPT_IP_LEN) && len >= 20 && len <= PKT_MAX) {
		if (p[0] >> 4 == 4)
			ts_put16(p + 2, (uint16_t)len);
		else if (len >= 40)
			ts_put16(p + 4, (uint16_t)(len - 40));
	}
	if (!(opts & OPT_CONSISTENT) || !ref_hdrs(p, len, &ip_len, &hdr_len, &proto))
		return;
	if (proto == IPPROTO_UDP)
		vh->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	else
		vh->gso_type = p[0] >> 4 == 6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	vh->gso_type |= vh->flags & VIRTIO_NET_HDR_GSO_ECN; /* a spare bit of the input */
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)ip_len;
	vh->csum_offset = proto == IPPROTO_TCP ? 16 : 6;
}

/* ---- split ---- */

/* gso_type NONE: only the checksum field may change, to the reference's value. */
static void check_partial(const struct virtio_net_hdr *vh, size_t len)
{
	size_t at = (size_t)vh->csum_start + vh->csum_offset;
	uint16_t want;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		check(memcmp(pkt, copy, len) == 0);
		return;
	}
	check(at + 2 <= len);
	want = (uint16_t)~ts_csum_add(0, copy + vh->csum_start, len - vh->csum_start);
	check(ts_get16(pkt + at) == (want ? want : 0xffff));
	check(memcmp(pkt, copy, at) == 0);
	check(memcmp(pkt + at + 2, copy + at + 2, len - at - 2) == 0);
}

static void check_segments(const struct arena *a, unsigned first, unsigned n, const uint8_t *super,
			   size_t len, size_t gso_size)
{
	unsigned ip_len, hdr_len;
	uint8_t proto;
	size_t off, end = 0;

	check(ref_hdrs(super, len, &ip_len, &hdr_len, &proto));
	off = hdr_len;
	for (unsigned i = first; i < first + n; i++) {
		const uint8_t *seg = a->pkt[i];
		size_t seg_len = a->len[i];

		check(seg >= a->segs.arena + HEADROOM + end);
		check((uintptr_t)seg % 64 == 0);
		check(seg_len >= hdr_len && seg_len - hdr_len <= gso_size);
		check(i + 1 == first + n || seg_len - hdr_len == gso_size);
		end = (size_t)(seg - a->segs.arena) + seg_len + TAILROOM;
		check(end <= a->segs.used && a->segs.used <= a->segs.cap);
		check(ref_valid(seg, seg_len));
		check(memcmp(seg + hdr_len, super + off, seg_len - hdr_len) == 0);
		off += seg_len - hdr_len;
	}
	check(off == len);
}

/* ---- the coalescer ---- */

/* A glued output: the header the kernel takes, and it splits back into what went in. */
static void check_glued(const uint8_t *out, size_t len, unsigned from, unsigned count)
{
	struct virtio_net_hdr vh;
	const uint8_t *ip = out + OFFLOAD_VNET_HDR_LEN;
	unsigned ip_len, hdr_len, first = B->segs.n;
	uint8_t proto;
	int rc;

	memcpy(&vh, out, sizeof(vh));
	len -= OFFLOAD_VNET_HDR_LEN;
	check(ref_hdrs(ip, len, &ip_len, &hdr_len, &proto));
	check(vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && vh.csum_start == ip_len);
	check(vh.csum_offset == (proto == IPPROTO_TCP ? 16 : 6) && vh.hdr_len == hdr_len);
	check(vh.gso_size > 0 && len - hdr_len > vh.gso_size && len <= PKT_MAX);
	check(vh.gso_type == (proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
			      : ip[0] >> 4 == 6	   ? VIRTIO_NET_HDR_GSO_TCPV6
						   : VIRTIO_NET_HDR_GSO_TCPV4));
	memcpy(copy, ip, len);
	rc = offload_split(&vh, copy, len, &B->segs);
	check(rc == (int)count);
	for (unsigned i = 0; i < count; i++) {
		check(B->len[first + i] == A->len[from + i]);
		check(memcmp(B->pkt[first + i], A->pkt[from + i], A->len[from + i]) == 0);
	}
	B->segs.n = 0;
	B->segs.used = 0;
}

static void check_output(struct offload_gro *g, const uint8_t *const *in, const size_t *in_len,
			 unsigned from, unsigned count)
{
	static const uint8_t zero[OFFLOAD_VNET_HDR_LEN];
	size_t out = offload_gro_finish(g);

	check(count > 0 && out > OFFLOAD_VNET_HDR_LEN);
	if (count == 1) {
		check(memcmp(gro_buf, zero, sizeof(zero)) == 0);
		check(out == OFFLOAD_VNET_HDR_LEN + in_len[from]);
		check(memcmp(gro_buf + OFFLOAD_VNET_HDR_LEN, in[from], in_len[from]) == 0);
	} else {
		check(in == (const uint8_t *const *)A->pkt); /* only split segments glue */
		check_glued(gro_buf, out, from, count);
	}
}

static void coalesce(const uint8_t *const *in, const size_t *in_len, unsigned n, bool allow_udp)
{
	struct offload_gro g = {.buf = gro_buf, .cap = GRO_CAP, .allow_udp = allow_udp};
	unsigned from = 0;

	offload_gro_reset(&g);
	for (unsigned i = 0; i < n; i++) {
		if (offload_gro_add(&g, in[i], in_len[i]))
			continue;
		check(i > from);
		check_output(&g, in, in_len, from, i - from);
		offload_gro_reset(&g);
		from = i;
		check(offload_gro_add(&g, in[i], in_len[i])); /* an empty one takes anything */
	}
	if (n > from && in_len[from] > 0)
		check_output(&g, in, in_len, from, n - from);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr vh;
	size_t len;
	uint8_t opts;
	int rc;

	if (!A) {
		A = malloc(sizeof(*A));
		B = malloc(sizeof(*B));
		pkt = malloc(PKT_MAX + 1);
		copy = malloc(PKT_MAX + 1);
		gro_buf = malloc(GRO_CAP);
		check(A && B && pkt && copy && gro_buf);
	}
	if (size < 1 + sizeof(vh) || size - 1 - sizeof(vh) > PKT_MAX + 1)
		return 0;
	opts = data[0];
	memcpy(&vh, data + 1, sizeof(vh));
	len = size - 1 - sizeof(vh);
	memcpy(pkt, data + 1 + sizeof(vh), len);
	make_consistent(&vh, opts, pkt, len);
	memcpy(copy, pkt, len);
	arena_init(A, opts & OPT_SMALL ? SMALL_CAP : ARENA_CAP);
	arena_init(B, ARENA_CAP);

	rc = offload_split(&vh, pkt, len, &A->segs);
	check_guards(A);
	check(rc == -EINVAL || rc == -ENOSPC || rc >= 0);
	if (rc == -ENOSPC)
		check(A->segs.n == 0 && A->segs.used == 0);
	if (rc < 0) {
		check(memcmp(pkt, copy, len) == 0);
		return 0;
	}
	if (rc == 0) {
		check(vh.gso_type == VIRTIO_NET_HDR_GSO_NONE && A->segs.n == 0);
		check_partial(&vh, len);
		coalesce((const uint8_t *const *)&pkt, &len, 1, opts & OPT_UDP);
		return 0;
	}
	check(memcmp(pkt, copy, len) == 0); /* a super-packet is only read */
	check(A->segs.n == (unsigned)rc);
	check_segments(A, 0, (unsigned)rc, copy, len, vh.gso_size);
	coalesce((const uint8_t *const *)A->pkt, A->len, (unsigned)rc, opts & OPT_UDP);
	check_guards(B);
	return 0;
}
