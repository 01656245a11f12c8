// SPDX-License-Identifier: MIT
/*
 * TUN offloads in software: the kernel's GSO and GRO for a virtio-net TUN.
 * offload_split() cuts the TSO/USO super-packets a TUN read brings into
 * packets of gso_size payload with every checksum done; the coalescer glues
 * consecutive decrypted segments of one flow into one super-packet for one
 * TUN write. It owns no memory and makes no syscall: tun.c, send.c and
 * receive.c own the buffers and the I/O. The rules are the kernel's
 * (virtio_net_hdr_to_skb, tcp_gso_segment, __udp_gso_segment,
 * tcp_gro_receive, udp_gro_receive_segment); header lengths always come
 * from the packet itself, never from hdr_len, which is only a hint.
 */
#include "offload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_MIN  20
#define UDP_HDR_LEN  8
#define TCP_CSUM_AT  16 /* offsetof(struct tcphdr, check) */
#define UDP_CSUM_AT  6 /* offsetof(struct udphdr, check) */
#define IP_MAX_LEN   65535
#define SEG_ALIGN    64
/* The kernel's UDP GRO stops at 64 segments (UDP_GRO_CNT_MAX); TCP at 64 KiB. */
#define GRO_MAX_SEGS 64

#define TCP_FIN 0x01
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

/* Where the headers of one TCP or UDP packet are, read from the packet. */
struct hdrs {
	bool is_v6;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t ip_len; /* IPv4 header with options, or the fixed IPv6 header */
	uint8_t l4_len; /* TCP header with options, or the UDP header */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The ones' complement sum in the data's own byte order (RFC 1071 1.2(B)),
 * unfolded. 64-bit loads are added as two 32-bit halves into 64-bit
 * accumulators: no carry is lost below 2^31 iterations (far beyond 64 KiB),
 * no carry chain links the iterations, and the loop vectorizes. The carries
 * are folded back in once, at the end.
 */
static uint64_t csum_partial(uint64_t sum, const uint8_t *p, size_t len)
{
	uint64_t s1 = 0, s2 = 0, s3 = 0;

	for (; len >= 32; len -= 32, p += 32) {
		uint64_t a = ld64(p), b = ld64(p + 8), c = ld64(p + 16), d = ld64(p + 24);

		sum += (a & 0xffffffff) + (a >> 32);
		s1 += (b & 0xffffffff) + (b >> 32);
		s2 += (c & 0xffffffff) + (c >> 32);
		s3 += (d & 0xffffffff) + (d >> 32);
	}
	for (; len >= 4; len -= 4, p += 4)
		sum += ld32(p);
	if (len >= 2) {
		sum += ld16(p);
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = {p[0], 0}; /* an odd byte is the high half of its word */

		sum += ld16(last);
	}
	return sum + s1 + s2 + s3;
}

static uint32_t fold32(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

/* ~ of the folded sum: the value for a checksum field, 0 when a sum verifies. */
static uint16_t csum_fold64(uint64_t s)
{
	uint32_t f = fold32(s);

	f = (f & 0xffff) + (f >> 16);
	f = (f & 0xffff) + (f >> 16);
	return (uint16_t)~f;
}

uint32_t offload_csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	return fold32(csum_partial(sum, data, len));
}

uint16_t offload_csum_fold(uint32_t sum)
{
	return csum_fold64(sum);
}

/* The TCP/UDP pseudo-header (RFC 793, RFC 8200 8.1) for l4_len bytes. */
static uint64_t pseudo_sum(const uint8_t *ip, const struct hdrs *h, size_t l4_len)
{
	uint64_t sum = htons(h->proto) + htons((uint16_t)l4_len);

	if (h->is_v6)
		return csum_partial(sum, ip + 8, 32);
	return csum_partial(sum, ip + 12, 8);
}

static void put_csum(uint8_t *field, uint16_t c)
{
	memcpy(field, &c, sizeof(c)); /* already in the data's byte order */
}

static void fix_ipv4_csum(uint8_t *ip, size_t ip_len)
{
	put_csum(ip + 10, 0);
	put_csum(ip + 10, csum_fold64(csum_partial(0, ip, ip_len)));
}

/*
 * The headers of a TCP or UDP packet that GSO and GRO can take: IPv4 that
 * is not a fragment (options allowed), IPv6 with TCP or UDP right after the
 * fixed header, and every header inside len.
 */
static bool parse(const uint8_t *pkt, size_t len, struct hdrs *h)
{
	if (len < IPV4_HDR_MIN)
		return false;
	if (pkt[0] >> 4 == 4) {
		h->is_v6 = false;
		h->ip_len = (uint8_t)((pkt[0] & 0x0f) * 4);
		h->proto = pkt[9];
		if (h->ip_len < IPV4_HDR_MIN || (rd16(pkt + 6) & 0x3fff)) /* MF or offset */
			return false;
	} else if (pkt[0] >> 4 == 6) { /* its 40 bytes are checked with the rest below */
		h->is_v6 = true;
		h->ip_len = IPV6_HDR_LEN;
		h->proto = pkt[6];
	} else {
		return false;
	}
	if (h->proto == IPPROTO_TCP) {
		if (len < (size_t)h->ip_len + TCP_HDR_MIN)
			return false;
		h->l4_len = (uint8_t)((pkt[h->ip_len + 12] >> 4) * 4);
		if (h->l4_len < TCP_HDR_MIN)
			return false;
	} else if (h->proto == IPPROTO_UDP) {
		h->l4_len = UDP_HDR_LEN;
	} else {
		return false;
	}
	return len >= (size_t)h->ip_len + h->l4_len;
}

/* ---- split: one TUN read into packets ---- */

/*
 * gso_type NONE: the packet is whole. With NEEDS_CSUM its checksum field
 * holds the pseudo-header sum; the sum from csum_start to the end, that
 * field included, completes it.
 */
static int finish_partial(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len)
{
	size_t start = vh->csum_start, at = start + vh->csum_offset;
	uint16_t c;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if ((vh->csum_offset & 1) || at + 2 > len)
		return -EINVAL;
	c = csum_fold64(csum_partial(0, pkt + start, len - start));
	/* 0 says "no checksum" in UDP; 0xffff is the same sum for TCP too. */
	put_csum(pkt + at, c ? c : 0xffff);
	return 0;
}

/* gso_type against what the packet is; a NEEDS_CSUM header must point at its checksum. */
static bool gso_matches(const struct virtio_net_hdr *vh, const struct hdrs *h)
{
	bool ok;

	switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		ok = !h->is_v6 && h->proto == IPPROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		ok = h->is_v6 && h->proto == IPPROTO_TCP;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		ok = h->proto == IPPROTO_UDP;
		break;
	default: /* UFO (IP fragmentation) and unknown types */
		return false;
	}
	if (ok && (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		ok = vh->csum_start == h->ip_len &&
		     vh->csum_offset == (h->proto == IPPROTO_TCP ? TCP_CSUM_AT : UDP_CSUM_AT);
	return ok;
}

/*
 * Reserves headroom, a 64-byte aligned packet of seg_len bytes and tailroom
 * after *used; the packet's offset in the arena goes to *at.
 */
static bool slot(const struct offload_segs *s, size_t *used, size_t seg_len, size_t *at)
{
	size_t start;

	if (*used > s->cap || s->headroom > s->cap - *used)
		return false;
	start = *used + s->headroom;
	start += (SEG_ALIGN - ((uintptr_t)s->arena + start) % SEG_ALIGN) % SEG_ALIGN;
	if (start > s->cap || seg_len > s->cap - start || s->tailroom > s->cap - start - seg_len)
		return false;
	*at = start;
	*used = start + seg_len + s->tailroom;
	return true;
}

/* Whether n segments of hdr_len + gso_size (the last one: what remains) fit. */
static bool segs_fit(const struct offload_segs *s, unsigned int n, size_t hdr_len, size_t gso_size,
		     size_t len)
{
	size_t used = s->used, at;

	if (s->n > s->max || n > s->max - s->n)
		return false;
	for (unsigned int i = 0; i + 1 < n; i++)
		if (!slot(s, &used, hdr_len + gso_size, &at))
			return false;
	return slot(s, &used, len - (size_t)(n - 1) * gso_size, &at);
}

/* Segment i of n: lengths, id, sequence number, flags, then both checksums in full. */
static void fix_segment(uint8_t *seg, size_t seg_len, const struct hdrs *h, uint64_t addr_sum,
			unsigned int i, unsigned int n, size_t seq_delta)
{
	uint8_t *l4 = seg + h->ip_len;
	size_t l4_len = seg_len - h->ip_len;
	uint16_t c;

	if (h->is_v6) {
		wr16(seg + 4, (uint16_t)l4_len);
	} else {
		wr16(seg + 2, (uint16_t)seg_len);
		wr16(seg + 4, (uint16_t)(rd16(seg + 4) + i));
		fix_ipv4_csum(seg, h->ip_len);
	}
	if (h->proto == IPPROTO_TCP) {
		wr32(l4 + 4, rd32(l4 + 4) + (uint32_t)seq_delta);
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		if (i + 1 < n)
			l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH | TCP_RST);
		put_csum(l4 + TCP_CSUM_AT, 0);
	} else {
		wr16(l4 + 4, (uint16_t)l4_len);
		put_csum(l4 + UDP_CSUM_AT, 0);
	}
	c = csum_fold64(
		csum_partial(addr_sum + htons(h->proto) + htons((uint16_t)l4_len), l4, l4_len));
	if (h->proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put_csum(l4 + (h->proto == IPPROTO_TCP ? TCP_CSUM_AT : UDP_CSUM_AT), c);
}

static void cut(const uint8_t *pkt, size_t len, const struct hdrs *h, size_t gso_size,
		unsigned int n, struct offload_segs *s)
{
	size_t hdr_len = (size_t)h->ip_len + h->l4_len, off = hdr_len, at = 0;
	uint64_t addr_sum = h->is_v6 ? csum_partial(0, pkt + 8, 32) : csum_partial(0, pkt + 12, 8);

	for (unsigned int i = 0; i < n; i++, off += gso_size) {
		size_t plen = len - off < gso_size ? len - off : gso_size;
		uint8_t *seg;

		slot(s, &s->used, hdr_len + plen, &at); /* cannot fail: segs_fit() said so */
		seg = s->arena + at;
		memcpy(seg, pkt, hdr_len);
		memcpy(seg + hdr_len, pkt + off, plen);
		fix_segment(seg, hdr_len + plen, h, addr_sum, i, n, off - hdr_len);
		s->pkt[s->n] = seg;
		s->len[s->n++] = hdr_len + plen;
	}
}

int offload_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
		  struct offload_segs *segs)
{
	struct hdrs h;
	size_t hdr_len, payload, gso_size = vh->gso_size;
	unsigned int n;

	if (len > IP_MAX_LEN)
		return -EINVAL;
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return finish_partial(vh, pkt, len);
	if (gso_size == 0 || !parse(pkt, len, &h) || !gso_matches(vh, &h))
		return -EINVAL;
	hdr_len = (size_t)h.ip_len + h.l4_len;
	payload = len - hdr_len;
	n = payload > gso_size ? (unsigned int)((payload + gso_size - 1) / gso_size) : 1;
	if (!segs_fit(segs, n, hdr_len, gso_size, len))
		return -ENOSPC;
	cut(pkt, len, &h, gso_size, n, segs);
	return (int)n;
}

/* ---- the coalescer: consecutive segments of one flow into one packet ---- */

static uint8_t *gro_head(const struct offload_gro *g)
{
	return g->buf + OFFLOAD_VNET_HDR_LEN;
}

/*
 * What every glued packet must be, the first included: whole (its IP
 * length is len), ACK or ACK+PSH only for TCP, with a payload, and its
 * IPv4 header and transport checksums valid, because the kernel will trust
 * the checksum of the super-packet and never look at the segments'.
 */
static bool gro_candidate(const struct offload_gro *g, const uint8_t *pkt, size_t len,
			  struct hdrs *h)
{
	const uint8_t *l4;

	if (len > IP_MAX_LEN || !parse(pkt, len, h) || len == (size_t)h->ip_len + h->l4_len)
		return false;
	l4 = pkt + h->ip_len;
	if (h->is_v6 ? rd16(pkt + 4) != len - IPV6_HDR_LEN : rd16(pkt + 2) != len)
		return false;
	if (!h->is_v6 && csum_fold64(csum_partial(0, pkt, h->ip_len)) != 0)
		return false;
	if (h->proto == IPPROTO_TCP && (l4[13] & ~TCP_PSH) != TCP_ACK)
		return false;
	if (h->proto == IPPROTO_UDP &&
	    (!g->allow_udp || rd16(l4 + 4) != len - h->ip_len || ld16(l4 + UDP_CSUM_AT) == 0))
		return false;
	return csum_fold64(
		       csum_partial(pseudo_sum(pkt, h, len - h->ip_len), l4, len - h->ip_len)) == 0;
}

/* Everything in the IP header but length, id and checksum, as in the first packet. */
static bool same_ip(const uint8_t *a, const uint8_t *b, size_t ip_len)
{
	if (a[0] >> 4 == 6)
		return memcmp(a, b, 4) == 0 && rd16(a + 6) == rd16(b + 6) &&
		       memcmp(a + 8, b + 8, 32) == 0;
	return a[0] == b[0] && a[1] == b[1] && rd16(a + 6) == rd16(b + 6) &&
	       rd16(a + 8) == rd16(b + 8) && memcmp(a + 12, b + 12, ip_len - 12) == 0;
}

/* Ports; for TCP also ack, header length, window, options, and the next sequence number. */
static bool same_l4(const struct offload_gro *g, const uint8_t *a, const uint8_t *b)
{
	if (memcmp(a, b, 4) != 0)
		return false;
	if (g->proto == IPPROTO_UDP)
		return true;
	return rd32(b + 4) == g->next_seq && memcmp(a + 8, b + 8, 5) == 0 &&
	       rd16(a + 14) == rd16(b + 14) &&
	       memcmp(a + TCP_HDR_MIN, b + TCP_HDR_MIN, g->l4_hdr_len - TCP_HDR_MIN) == 0;
}

static bool gro_start(struct offload_gro *g, const uint8_t *pkt, size_t len)
{
	struct hdrs h;

	if (g->cap < OFFLOAD_VNET_HDR_LEN || len > g->cap - OFFLOAD_VNET_HDR_LEN)
		return false;
	memcpy(gro_head(g), pkt, len);
	g->len = len;
	g->segs = 1;
	g->proto = 0; /* alone unless it can be glued to */
	g->closed = false;
	if (!gro_candidate(g, pkt, len, &h))
		return true;
	g->proto = h.proto;
	g->ip_hdr_len = h.ip_len;
	g->l4_hdr_len = h.l4_len;
	g->seg_payload = (uint16_t)(len - h.ip_len - h.l4_len);
	if (h.proto == IPPROTO_TCP) {
		g->next_seq = rd32(pkt + h.ip_len + 4) + g->seg_payload;
		g->closed = pkt[h.ip_len + 13] & TCP_PSH;
	}
	return true;
}

bool offload_gro_add(struct offload_gro *g, const uint8_t *pkt, size_t len)
{
	const uint8_t *head = gro_head(g);
	size_t hdr_len = (size_t)g->ip_hdr_len + g->l4_hdr_len, payload;
	struct hdrs h;

	if (len == 0)
		return true; /* nothing to write */
	if (g->len == 0)
		return gro_start(g, pkt, len);
	if (g->proto == 0 || g->closed || g->segs >= GRO_MAX_SEGS || len <= hdr_len)
		return false;
	payload = len - hdr_len;
	if (payload > g->seg_payload || payload > IP_MAX_LEN - g->len ||
	    payload > g->cap - OFFLOAD_VNET_HDR_LEN - g->len)
		return false;
	if (!same_ip(head, pkt, g->ip_hdr_len) ||
	    !same_l4(g, head + g->ip_hdr_len, pkt + g->ip_hdr_len) ||
	    !gro_candidate(g, pkt, len, &h))
		return false;

	memcpy(gro_head(g) + g->len, pkt + hdr_len, payload);
	g->len += payload;
	g->segs++;
	if (payload < g->seg_payload)
		g->closed = true; /* a short segment ends a super-packet */
	if (g->proto == IPPROTO_TCP) {
		g->next_seq += (uint32_t)payload;
		if (pkt[g->ip_hdr_len + 13] & TCP_PSH) {
			gro_head(g)[g->ip_hdr_len + 13] |= TCP_PSH;
			g->closed = true;
		}
	}
	return true;
}

/* A glued packet: IP and UDP lengths, and the partial checksum CHECKSUM_PARTIAL expects. */
static void gro_seal(struct offload_gro *g, struct virtio_net_hdr *vh)
{
	uint8_t *ip = gro_head(g), *l4 = ip + g->ip_hdr_len;
	struct hdrs h = {.is_v6 = ip[0] >> 4 == 6, .proto = g->proto};
	size_t l4_len = g->len - g->ip_hdr_len;
	size_t csum_at = g->proto == IPPROTO_TCP ? TCP_CSUM_AT : UDP_CSUM_AT;

	if (h.is_v6) {
		wr16(ip + 4, (uint16_t)l4_len);
	} else {
		wr16(ip + 2, (uint16_t)g->len);
		fix_ipv4_csum(ip, g->ip_hdr_len);
	}
	if (g->proto == IPPROTO_UDP)
		wr16(l4 + 4, (uint16_t)l4_len);
	/* The pseudo-header sum, folded and not inverted: the kernel adds the rest. */
	put_csum(l4 + csum_at, (uint16_t)~csum_fold64(pseudo_sum(ip, &h, l4_len)));

	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if (g->proto == IPPROTO_UDP)
		vh->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	else
		vh->gso_type = h.is_v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	vh->hdr_len = (uint16_t)(g->ip_hdr_len + g->l4_hdr_len);
	vh->gso_size = g->seg_payload;
	vh->csum_start = g->ip_hdr_len;
	vh->csum_offset = (uint16_t)csum_at;
}

size_t offload_gro_finish(struct offload_gro *g)
{
	struct virtio_net_hdr vh;

	if (g->len == 0)
		return 0;
	memset(&vh, 0, sizeof(vh));
	if (g->segs > 1)
		gro_seal(g, &vh);
	memcpy(g->buf, &vh, sizeof(vh));
	return OFFLOAD_VNET_HDR_LEN + g->len;
}

void offload_gro_reset(struct offload_gro *g)
{
	g->len = 0;
	g->segs = 0;
	g->seg_payload = 0;
	g->proto = 0;
	g->ip_hdr_len = 0;
	g->l4_hdr_len = 0;
	g->closed = false;
	g->next_seq = 0;
}
