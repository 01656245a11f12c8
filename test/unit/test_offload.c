// SPDX-License-Identifier: MIT
/*
 * TUN offloads in software: super-packets built here the way the kernel
 * hands them over a virtio-net TUN (TSO/USO, partial checksums), cut by
 * offload_split() and checked field by field with an independent byte-wise
 * checksum; then glued back by the coalescer, which must give the original
 * bytes and a header the kernel takes, and must refuse every packet that
 * the kernel's GRO would not merge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offload.h"
#include "support.h"

#define ARENA_CAP (512 * 1024)
#define MAX_SEGS  1024
#define HEADROOM  16
#define TAILROOM  32
#define GRO_CAP	  (OFFLOAD_VNET_HDR_LEN + 70000) /* more than 64 KiB: the limit is ours */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

/* ---- an independent checksum (ts_csum_add, support.h) and what it needs ---- */

static unsigned ip_len_of(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 6 ? 40 : (pkt[0] & 0xf) * 4u;
}

static uint32_t ref_pseudo(const uint8_t *pkt, size_t l4_len)
{
	bool v6 = pkt[0] >> 4 == 6;
	uint8_t proto = v6 ? pkt[6] : pkt[9];
	uint32_t sum = ts_csum_add(0, pkt + (v6 ? 8 : 12), v6 ? 32 : 8);

	return ts_csum_add(sum + proto + (uint32_t)l4_len, NULL, 0);
}

static bool ref_ipv4_ok(const uint8_t *pkt)
{
	return pkt[0] >> 4 == 6 || ts_csum_add(0, pkt, ip_len_of(pkt)) == 0xffff;
}

static bool ref_l4_ok(const uint8_t *pkt, size_t len)
{
	unsigned ip_len = ip_len_of(pkt);

	return ts_csum_add(ref_pseudo(pkt, len - ip_len), pkt + ip_len, len - ip_len) == 0xffff;
}

static unsigned csum_at(const uint8_t *pkt)
{
	bool v6 = pkt[0] >> 4 == 6;

	return ip_len_of(pkt) + ((v6 ? pkt[6] : pkt[9]) == IPPROTO_TCP ? 16 : 6);
}

/* Recomputes the IPv4 header and full transport checksums of a packet changed by a test. */
static void ref_fix(uint8_t *pkt, size_t len)
{
	unsigned ip_len = ip_len_of(pkt), at = csum_at(pkt);

	if (pkt[0] >> 4 == 4) {
		ts_put16(pkt + 10, 0);
		ts_put16(pkt + 10, (uint16_t)~ts_csum_add(0, pkt, ip_len));
	}
	ts_put16(pkt + at, 0);
	ts_put16(pkt + at,
		 (uint16_t)~ts_csum_add(ref_pseudo(pkt, len - ip_len), pkt + ip_len, len - ip_len));
}

/* ---- packets ---- */

struct spec {
	bool v6;
	uint8_t proto;
	size_t payload;
	uint8_t flags; /* TCP */
	bool timestamps; /* TCP option: NOP NOP TS(10) */
	bool ip_options; /* IPv4: 4 bytes of NOP NOP NOP EOL */
	uint32_t seq;
	uint8_t seed; /* payload pattern */
};

static uint8_t payload_byte(const struct spec *s, size_t i)
{
	return (uint8_t)(i * 131 + (i >> 8) * 7 + s->seed);
}

enum csum_mode {
	CSUM_FULL,
	CSUM_PARTIAL
};

/*
 * An IP packet as spec says: 10.0.0.1 -> 10.0.0.2 or fd00::1 -> fd00::2,
 * ports 40000 -> 5201, TTL 64, DF. CSUM_PARTIAL leaves in the transport
 * checksum field what the kernel leaves for CHECKSUM_PARTIAL: the folded
 * pseudo-header sum, not inverted.
 */
static size_t build(uint8_t *buf, const struct spec *s, enum csum_mode mode)
{
	unsigned ip_len = s->v6 ? 40 : (s->ip_options ? 24 : 20);
	unsigned l4_len = s->proto == IPPROTO_TCP ? (s->timestamps ? 32 : 20) : 8;
	size_t len = ip_len + l4_len + s->payload;
	uint8_t *l4 = buf + ip_len;

	memset(buf, 0, ip_len + l4_len);
	if (s->v6) {
		buf[0] = 0x60;
		buf[1] = 0x0a; /* a flow label */
		buf[3] = 0x42;
		ts_put16(buf + 4, (uint16_t)(len - 40));
		buf[6] = s->proto;
		buf[7] = 64;
		buf[8] = 0xfd;
		buf[23] = 1;
		buf[24] = 0xfd;
		buf[39] = 2;
	} else {
		buf[0] = (uint8_t)(0x40 | ip_len / 4);
		ts_put16(buf + 2, (uint16_t)len);
		ts_put16(buf + 4, 0x1234);
		buf[6] = 0x40; /* DF */
		buf[8] = 64;
		buf[9] = s->proto;
		ts_put32(buf + 12, 0x0a000001);
		ts_put32(buf + 16, 0x0a000002);
		if (s->ip_options)
			memcpy(buf + 20, "\x01\x01\x01\x00", 4);
	}
	ts_put16(l4, 40000);
	ts_put16(l4 + 2, 5201);
	if (s->proto == IPPROTO_TCP) {
		ts_put32(l4 + 4, s->seq);
		ts_put32(l4 + 8, 0xa0b0c0d0);
		l4[12] = (uint8_t)(l4_len / 4 << 4);
		l4[13] = s->flags;
		ts_put16(l4 + 14, 502);
		if (s->timestamps) {
			memcpy(l4 + 20, "\x01\x01\x08\x0a", 4);
			ts_put32(l4 + 24, 0x01020304);
			ts_put32(l4 + 28, 0x05060708);
		}
	} else {
		ts_put16(l4 + 4, (uint16_t)(len - ip_len));
	}
	for (size_t i = 0; i < s->payload; i++)
		buf[ip_len + l4_len + i] = payload_byte(s, i);
	ref_fix(buf, len);
	if (mode == CSUM_PARTIAL)
		ts_put16(buf + csum_at(buf), (uint16_t)ref_pseudo(buf, len - ip_len));
	return len;
}

static struct virtio_net_hdr gso_hdr(const uint8_t *pkt, uint8_t type, uint16_t gso_size)
{
	unsigned ip_len = ip_len_of(pkt);
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = type,
		.gso_size = gso_size,
		.csum_start = (uint16_t)ip_len,
		.csum_offset = (uint16_t)(csum_at(pkt) - ip_len),
	};
	/* what the kernel puts there: all the linear bytes, headers and some payload */
	vh.hdr_len = (uint16_t)(ip_len + 100);
	return vh;
}

/* ---- fixtures ---- */

struct fix {
	uint8_t super[70000];
	uint8_t arena[ARENA_CAP];
	uint8_t *pkt[MAX_SEGS];
	size_t len[MAX_SEGS];
	struct offload_segs segs;
	uint8_t gro_buf[GRO_CAP];
	struct offload_gro gro;
	uint8_t tmp[70000];
};

static struct fix *F;

static void segs_init(struct offload_segs *s, uint8_t *arena, size_t cap, unsigned max)
{
	memset(s, 0, sizeof(*s));
	s->arena = arena;
	s->cap = cap;
	s->headroom = HEADROOM;
	s->tailroom = TAILROOM;
	s->max = max;
	s->pkt = F->pkt;
	s->len = F->len;
}

static int setup(void **state)
{
	(void)state;
	F = calloc(1, sizeof(*F));
	if (!F)
		return -1;
	segs_init(&F->segs, F->arena, ARENA_CAP, MAX_SEGS);
	F->gro.buf = F->gro_buf;
	F->gro.cap = GRO_CAP;
	F->gro.allow_udp = true;
	offload_gro_reset(&F->gro);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(F);
	F = NULL;
	return 0;
}

/* ---- checks ---- */

/*
 * Every segment of a split of super (built from sp, cut at gso): headers
 * copied, lengths, id, sequence and flags advanced, checksums valid by the
 * reference, payload the right slice, placement in the arena as promised.
 */
static void check_segments(const uint8_t *super, size_t super_len, const struct spec *sp,
			   size_t gso, unsigned first, unsigned n)
{
	unsigned ip_len = ip_len_of(super);
	unsigned hdr = ip_len + (sp->proto == IPPROTO_TCP ? (super[ip_len + 12] >> 4) * 4u : 8);
	size_t payload = super_len - hdr, off = 0;

	for (unsigned i = 0; i < n; i++, off += gso) {
		const uint8_t *seg = F->segs.pkt[first + i], *l4 = seg + ip_len;
		size_t plen = payload - off < gso ? payload - off : gso,
		       len = F->segs.len[first + i];
		uint8_t want_flags = sp->flags;

		assert_int_equal(len, hdr + plen);
		assert_int_equal((uintptr_t)seg % 64, 0);
		assert_true(seg >= F->segs.arena + HEADROOM);
		if (i > 0)
			assert_true(seg >= F->segs.pkt[first + i - 1] + F->segs.len[first + i - 1] +
						   TAILROOM + HEADROOM);
		assert_true(seg + len + TAILROOM <= F->segs.arena + F->segs.used);
		if (sp->v6) {
			assert_int_equal(ts_get16(seg + 4), len - 40);
			assert_memory_equal(seg, super, 4);
			assert_memory_equal(seg + 6, super + 6, 34);
		} else {
			assert_int_equal(ts_get16(seg + 2), len);
			assert_int_equal(ts_get16(seg + 4), (uint16_t)(ts_get16(super + 4) + i));
			assert_memory_equal(seg + 6, super + 6, 4);
			assert_memory_equal(seg + 12, super + 12, ip_len - 12);
			assert_true(ref_ipv4_ok(seg));
		}
		assert_memory_equal(l4, super + ip_len, 4); /* ports */
		if (sp->proto == IPPROTO_TCP) {
			assert_int_equal(ts_get32(l4 + 4), sp->seq + (uint32_t)off);
			if (i > 0)
				want_flags &= (uint8_t)~TH_CWR;
			if (i + 1 < n)
				want_flags &= (uint8_t) ~(TH_FIN | TH_PSH | TH_RST);
			assert_int_equal(l4[13], want_flags);
			assert_memory_equal(l4 + 8, super + ip_len + 8, 5);
			assert_memory_equal(l4 + 14, super + ip_len + 14, 2);
			assert_memory_equal(l4 + 18, super + ip_len + 18, hdr - ip_len - 18);
		} else {
			assert_int_equal(ts_get16(l4 + 4), len - ip_len);
		}
		assert_true(ref_l4_ok(seg, len));
		assert_memory_equal(seg + hdr, super + hdr + off, plen);
	}
}

/* What virtio_net_hdr_to_skb() and tun_get_user() demand of a header we write. */
static void assert_kernel_takes(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len)
{
	unsigned ip_len = ip_len_of(pkt);
	bool v6 = pkt[0] >> 4 == 6, tcp = (v6 ? pkt[6] : pkt[9]) == IPPROTO_TCP;
	unsigned l4_hdr = tcp ? (pkt[ip_len + 12] >> 4) * 4u : 8;
	static uint8_t done[65535];

	assert_int_equal(vh->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	if (tcp)
		assert_int_equal(vh->gso_type,
				 v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
	else
		assert_int_equal(vh->gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(vh->csum_start, ip_len);
	assert_int_equal(vh->csum_offset, tcp ? 16 : 6);
	assert_int_equal(vh->hdr_len, ip_len + l4_hdr);
	assert_true(vh->csum_start + vh->csum_offset + 2u <= vh->hdr_len);
	assert_true(vh->hdr_len <= len);
	assert_true(vh->gso_size > 0);
	assert_true(len - vh->hdr_len > vh->gso_size); /* else the kernel ignores GSO */
	assert_true(len <= 65535);
	if (v6)
		assert_int_equal(ts_get16(pkt + 4), len - 40);
	else
		assert_int_equal(ts_get16(pkt + 2), len);
	assert_true(ref_ipv4_ok(pkt));
	if (!tcp)
		assert_int_equal(ts_get16(pkt + ip_len + 4), len - ip_len);
	/* the partial checksum: the pseudo-header sum for the whole length, not inverted */
	assert_int_equal(ts_get16(pkt + csum_at(pkt)), ref_pseudo(pkt, len - ip_len));
	/* and the checksum the kernel completes from it (skb_checksum_help) is right */
	memcpy(done, pkt, len);
	ts_put16(done + csum_at(pkt), (uint16_t)~ts_csum_add(0, pkt + ip_len, len - ip_len));
	assert_true(ref_l4_ok(done, len));
}

/* Splits super as gso_type/gso says and returns the count; the result is checked. */
static unsigned split_checked(const struct spec *sp, uint8_t type, uint16_t gso)
{
	size_t len = build(F->super, sp, CSUM_PARTIAL);
	struct virtio_net_hdr vh = gso_hdr(F->super, type, gso);
	unsigned first = F->segs.n;
	size_t payload = len - ip_len_of(F->super) -
			 (sp->proto == IPPROTO_TCP ? (sp->timestamps ? 32 : 20) : 8);
	unsigned want = payload > gso ? (unsigned)((payload + gso - 1) / gso) : 1;
	int rc;

	memcpy(F->tmp, F->super, len);
	rc = offload_split(&vh, F->super, len, &F->segs);
	assert_int_equal(rc, want);
	assert_memory_equal(F->super, F->tmp, len); /* a super-packet is only read */
	check_segments(F->super, len, sp, gso, first, (unsigned)rc);
	return (unsigned)rc;
}

/* ---- checksum ---- */

static void test_csum_rfc1071(void **state)
{
	static const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint8_t buf[2100];
	uint16_t c;

	(void)state;
	/* RFC 1071 section 3: the sum of these words is 0xddf2 */
	c = offload_csum_fold(offload_csum_add(0, rfc, sizeof(rfc)));
	assert_int_equal(ntohs(c), (uint16_t)~0xddf2);

	/* every length and alignment against the reference, in pieces too */
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len < 2000; len += off + 1) {
			size_t half = (len / 2) & ~(size_t)1;
			uint32_t whole = offload_csum_add(0, buf + off, len);
			uint32_t parts = offload_csum_add(offload_csum_add(0, buf + off, half),
							  buf + off + half, len - half);

			c = (uint16_t)~ts_csum_add(0, buf + off, len);
			assert_int_equal(ntohs(offload_csum_fold(whole)), c);
			assert_int_equal(ntohs(offload_csum_fold(parts)), c);
		}
	}
	/* a running sum near 2^32 keeps its carries */
	assert_int_equal(
		ntohs(offload_csum_fold(offload_csum_add(0xffffffff, buf, 1000))),
		(uint16_t)~ts_csum_add(ts_csum_add(0, NULL, 0) + 0xffff + 0xffff, buf, 1000));
	/* running sums whose carries need both folding rounds, in both byte orders */
	for (unsigned i = 0; i < 4; i++) {
		static const uint8_t data[][8] = {
			{0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00},
			{0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01},
		};
		static const uint32_t init[] = {0xffffffff, 0xfffffffe, 0x80000000, 0x0001ffff};
		uint32_t f = init[i];
		uint16_t f16;
		uint8_t fb[2];

		f = (f & 0xffff) + (f >> 16);
		f16 = (uint16_t)((f & 0xffff) + (f >> 16));
		memcpy(fb, &f16, 2); /* the start value as the words it stands for */
		for (unsigned d = 0; d < 2; d++)
			assert_int_equal(
				ntohs(offload_csum_fold(offload_csum_add(init[i], data[d], 8))),
				(uint16_t)~ts_csum_add(ts_csum_add(0, fb, 2), data[d], 8));
	}
	/* all-ones data */
	memset(buf, 0xff, 64);
	assert_int_equal(offload_csum_fold(offload_csum_add(0, buf, 64)), 0);
}

/* ---- split ---- */

static void test_split_tcp4_timestamps_odd_last(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP,
			  .payload = 10000,
			  .flags = TH_ACK | TH_PSH,
			  .timestamps = true,
			  .seq = 0xfffff000, /* wraps inside the packet */
			  .seed = 1};

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4, 1448), 7);
	assert_int_equal(F->segs.len[6], 20 + 32 + 10000 - 6 * 1448);
}

static void test_split_tcp4_ip_options(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP,
			  .payload = 3000,
			  .flags = TH_ACK,
			  .ip_options = true,
			  .seed = 2};

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4, 1000), 3);
}

static void test_split_tcp6_exact_multiple(void **state)
{
	struct spec sp = {.v6 = true,
			  .proto = IPPROTO_TCP,
			  .payload = 4 * 1380,
			  .flags = TH_ACK,
			  .timestamps = true,
			  .seq = 77,
			  .seed = 3};

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV6, 1380), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(F->segs.len[i], 40 + 32 + 1380);
}

/* A full 64 KiB super-packet, the largest TSO hands over. */
static void test_split_tcp6_64k(void **state)
{
	struct spec sp = {.v6 = true,
			  .proto = IPPROTO_TCP,
			  .payload = 65535 - 40 - 32,
			  .flags = TH_ACK | TH_PSH,
			  .timestamps = true,
			  .seed = 4};

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV6, 1368), 48);
}

/* Payload <= gso_size: one packet, still fully checksummed, header untouched. */
static void test_split_single_segment(void **state)
{
	struct spec sp = {
		.proto = IPPROTO_TCP, .payload = 1000, .flags = TH_ACK | TH_FIN, .seed = 5};
	struct spec empty = {.v6 = true, .proto = IPPROTO_UDP, .payload = 0};

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4, 1000), 1);
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4, 65535), 1); /* huge */
	assert_int_equal(split_checked(&empty, VIRTIO_NET_HDR_GSO_UDP_L4, 1200), 1);
}

/* FIN, PSH and RST on the last segment only, CWR on the first only (tcp_gso_segment). */
static void test_split_flags(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP,
			  .payload = 2500,
			  .flags = TH_ACK | TH_PSH | TH_FIN | TH_CWR | TH_ECE,
			  .seed = 6};
	struct spec rst = {.v6 = true,
			   .proto = IPPROTO_TCP,
			   .payload = 2500,
			   .flags = TH_ACK | TH_RST,
			   .seed = 7};

	(void)state;
	assert_int_equal(
		split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1000), 3);
	assert_int_equal(F->segs.pkt[0][20 + 13], TH_ACK | TH_CWR | TH_ECE);
	assert_int_equal(F->segs.pkt[1][20 + 13], TH_ACK | TH_ECE);
	assert_int_equal(F->segs.pkt[2][20 + 13], TH_ACK | TH_ECE | TH_PSH | TH_FIN);
	assert_int_equal(split_checked(&rst, VIRTIO_NET_HDR_GSO_TCPV6, 1000), 3);
	assert_int_equal(F->segs.pkt[3][40 + 13], TH_ACK);
	assert_int_equal(F->segs.pkt[5][40 + 13], TH_ACK | TH_RST);
}

static void test_split_udp(void **state)
{
	struct spec v4 = {.proto = IPPROTO_UDP, .payload = 5000, .seed = 8};
	struct spec v6 = {.v6 = true, .proto = IPPROTO_UDP, .payload = 4 * 1200, .seed = 9};

	(void)state;
	assert_int_equal(split_checked(&v4, VIRTIO_NET_HDR_GSO_UDP_L4, 1200), 5);
	assert_int_equal(F->segs.len[4], 20 + 8 + 200);
	assert_int_equal(split_checked(&v6, VIRTIO_NET_HDR_GSO_UDP_L4, 1200), 4);
}

/* gso_type NONE with NEEDS_CSUM: the checksum is finished in place. */
static void test_split_partial_csum(void **state)
{
	struct spec tcp = {.proto = IPPROTO_TCP, .payload = 333, .flags = TH_ACK, .seed = 10};
	struct spec udp = {.v6 = true, .proto = IPPROTO_UDP, .payload = 100, .seed = 11};
	struct virtio_net_hdr vh;
	size_t len;
	uint32_t s;

	(void)state;
	len = build(F->super, &tcp, CSUM_PARTIAL);
	vh = gso_hdr(F->super, VIRTIO_NET_HDR_GSO_NONE, 0);
	assert_false(ref_l4_ok(F->super, len));
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), 0);
	assert_true(ref_l4_ok(F->super, len));
	assert_int_equal(F->segs.n, 0);
	assert_int_equal(F->segs.used, 0);

	/* without NEEDS_CSUM nothing is touched */
	len = build(F->super, &tcp, CSUM_PARTIAL);
	memcpy(F->tmp, F->super, len);
	vh.flags = 0;
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), 0);
	assert_memory_equal(F->super, F->tmp, len);

	/* a UDP sum that comes to 0 is sent as 0xffff (0 would mean "none") */
	len = build(F->super, &udp, CSUM_PARTIAL);
	ts_put16(F->super + 48, 0);
	s = ts_csum_add(0, F->super + 40, len - 40);
	ts_put16(F->super + 48, (uint16_t)~s); /* the first payload word makes the sum 0xffff */
	vh = gso_hdr(F->super, VIRTIO_NET_HDR_GSO_NONE, 0);
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), 0);
	assert_int_equal(ts_get16(F->super + 46), 0xffff);
	assert_true(ref_l4_ok(F->super, len));
}

static int split_copy(struct virtio_net_hdr vh, const uint8_t *pkt, size_t len)
{
	memcpy(F->tmp, pkt, len);
	return offload_split(&vh, F->tmp, len, &F->segs);
}

static void test_split_rejects(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP, .payload = 3000, .flags = TH_ACK, .seed = 12};
	struct spec s6 = {.v6 = true, .proto = IPPROTO_TCP, .payload = 3000, .flags = TH_ACK};
	struct spec u4 = {.proto = IPPROTO_UDP, .payload = 3000};
	struct virtio_net_hdr vh, none;
	uint8_t *p = F->super, v6[4000], udp[4000];
	size_t len = build(p, &sp, CSUM_PARTIAL), len6 = build(v6, &s6, CSUM_PARTIAL);
	size_t ulen = build(udp, &u4, CSUM_PARTIAL);

	(void)state;
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	assert_int_equal(split_copy(vh, p, len), 3); /* the good one */
	F->segs.n = F->segs.used = 0;

	/* partial checksum offsets: must lie inside the packet, field included */
	none = gso_hdr(p, VIRTIO_NET_HDR_GSO_NONE, 0);
	none.csum_start = (uint16_t)(len - 2);
	none.csum_offset = 0;
	assert_int_equal(split_copy(none, p, len), 0); /* the last two bytes: still inside */
	none.csum_start = (uint16_t)(len - 1);
	assert_int_equal(split_copy(none, p, len), -EINVAL);
	none.csum_start = 20;
	none.csum_offset = (uint16_t)(len - 20 - 1);
	assert_int_equal(split_copy(none, p, len), -EINVAL);
	none.csum_start = 0xffff;
	none.csum_offset = 0xffff;
	assert_int_equal(split_copy(none, p, len), -EINVAL);
	none.csum_start = 20;
	none.csum_offset = 17; /* odd: no checksum field is */
	assert_int_equal(split_copy(none, p, len), -EINVAL);

	/* gso_size */
	vh.gso_size = 0;
	assert_int_equal(split_copy(vh, p, len), -EINVAL);

	/* gso_type against the packet (no NEEDS_CSUM: the packet alone must tell) */
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV6, 1000);
	vh.flags = 0;
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	vh = gso_hdr(v6, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	vh.flags = 0;
	assert_int_equal(split_copy(vh, v6, len6), -EINVAL);
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_UDP_L4, 1000);
	vh.flags = 0;
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	vh = gso_hdr(udp, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	vh.flags = 0;
	assert_int_equal(split_copy(vh, udp, ulen), -EINVAL);
	vh = gso_hdr(udp, VIRTIO_NET_HDR_GSO_UDP, 1000); /* UFO: IP fragments, never asked for */
	assert_int_equal(split_copy(vh, udp, ulen), -EINVAL);
	vh = gso_hdr(p, 0x42, 1000);
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV4, 1000); /* without NEEDS_CSUM it is fine */
	vh.flags = 0;
	assert_int_equal(split_copy(vh, p, len), 3);
	vh = gso_hdr(udp, VIRTIO_NET_HDR_GSO_UDP_L4, 1000);
	vh.flags = 0;
	assert_int_equal(split_copy(vh, udp, ulen), 3);
	F->segs.n = F->segs.used = 0;
	/* a NEEDS_CSUM header that points elsewhere than the transport checksum */
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	vh.csum_start = 24;
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	vh.csum_offset = 6;
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	/* hdr_len is a hint: a wrong one changes nothing */
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	vh.hdr_len = 7;
	assert_int_equal(split_copy(vh, p, len), 3);
	F->segs.n = F->segs.used = 0;

	/* truncated and malformed headers (no NEEDS_CSUM: the packet alone must tell) */
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	vh.flags = 0;
	for (size_t cut = 0; cut < 40; cut++)
		assert_int_equal(split_copy(vh, p, cut), -EINVAL);
	vh = gso_hdr(v6, VIRTIO_NET_HDR_GSO_TCPV6, 1000);
	vh.flags = 0;
	for (size_t cut = 0; cut < 60; cut++)
		assert_int_equal(split_copy(vh, v6, cut), -EINVAL);
	vh = gso_hdr(p, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	vh.flags = 0;
	p[0] = 0x44; /* IHL 4 */
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	p[0] = 0x4f; /* IHL 15: options over the TCP header */
	assert_int_equal(split_copy(vh, p, 70), -EINVAL);
	p[0] = 0x45;
	p[32] = 0x40; /* TCP data offset 4 */
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	p[32] = 0xf0; /* 60 bytes of TCP header, 58 present */
	assert_int_equal(split_copy(vh, p, 20 + 58), -EINVAL);
	p[32] = 0x50;
	p[6] = 0x20; /* MF: a fragment */
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	p[6] = 0x40;
	p[7] = 0x01; /* fragment offset 8 */
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	p[7] = 0;
	p[0] = 0x55; /* version 5 */
	assert_int_equal(split_copy(vh, p, len), -EINVAL);
	p[0] = 0x45;
	assert_int_equal(split_copy(vh, p, 65536), -EINVAL); /* more than an IP packet */
	/* IPv6 with a hop-by-hop header before TCP */
	vh = gso_hdr(v6, VIRTIO_NET_HDR_GSO_TCPV6, 1000);
	vh.flags = 0;
	v6[6] = 0;
	assert_int_equal(split_copy(vh, v6, len6), -EINVAL);
	assert_int_equal(F->segs.n, 0);
	assert_int_equal(F->segs.used, 0);
}

/* The arena bytes n segments of these lengths take, laid out as offload.h says. */
static size_t arena_need(const size_t *lens, unsigned n)
{
	size_t off = 0;

	for (unsigned i = 0; i < n; i++) {
		off = (off + HEADROOM + 63) / 64 * 64;
		off += lens[i] + TAILROOM;
	}
	return off;
}

/* -ENOSPC appends nothing and leaves the arena alone; after a flush the packet fits. */
static void test_split_enospc(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP, .payload = 10000, .flags = TH_ACK, .seed = 13};
	size_t len = build(F->super, &sp, CSUM_PARTIAL);
	struct virtio_net_hdr vh = gso_hdr(F->super, VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	static uint8_t buf[16384 + 64];
	uint8_t *arena = buf + (64 - (uintptr_t)buf % 64); /* aligned: arena_need() is exact */
	const size_t lens[7] = {1488, 1488, 1488, 1488, 1488, 1488, 40 + 10000 - 6 * 1448};
	size_t need = arena_need(lens, 7);

	(void)state;
	segs_init(&F->segs, arena, need - 1, MAX_SEGS);
	memset(arena, 0xa5, 16384);
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), -ENOSPC);
	assert_int_equal(F->segs.n, 0);
	assert_int_equal(F->segs.used, 0);
	for (size_t i = 0; i < 16384; i++)
		assert_int_equal(arena[i], 0xa5);
	F->segs.cap++;
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), 7);
	assert_int_equal(F->segs.used, need);
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(F->segs.len[i], lens[i]);

	/* full: -ENOSPC, nothing appended; after the flush it fits again */
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), -ENOSPC);
	assert_int_equal(F->segs.n, 7);
	assert_int_equal(F->segs.used, need);
	F->segs.n = F->segs.used = 0;
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), 7);

	/* the pkt[] array bounds it too */
	segs_init(&F->segs, F->arena, ARENA_CAP, 10);
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), 7);
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), -ENOSPC);
	assert_int_equal(F->segs.n, 7);

	/* never fits: an empty segs too small for one segment */
	segs_init(&F->segs, arena, 64 + 1000, MAX_SEGS);
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), -ENOSPC);
	segs_init(&F->segs, arena, 0, MAX_SEGS);
	assert_int_equal(offload_split(&vh, F->super, len, &F->segs), -ENOSPC);
}

/* ---- the coalescer ---- */

static size_t gro_add_all(unsigned from, unsigned n)
{
	for (unsigned i = from; i < from + n; i++)
		assert_true(offload_gro_add(&F->gro, F->segs.pkt[i], F->segs.len[i]));
	return offload_gro_finish(&F->gro);
}

/*
 * Split, glue the segments back: one super-packet, byte for byte the
 * original (whose checksum field held the partial sum), with a header the
 * kernel takes; and split again, the same segments.
 */
static void roundtrip(const struct spec *sp, uint8_t type, uint16_t gso)
{
	unsigned n = split_checked(sp, type, gso);
	size_t len = build(F->super, sp, CSUM_PARTIAL), out;
	struct virtio_net_hdr vh;
	const uint8_t *glued = F->gro_buf + OFFLOAD_VNET_HDR_LEN;

	out = gro_add_all(0, n);
	assert_int_equal(out, OFFLOAD_VNET_HDR_LEN + len);
	memcpy(&vh, F->gro_buf, sizeof(vh));
	assert_kernel_takes(&vh, glued, len);
	assert_int_equal(vh.gso_size, gso);
	assert_memory_equal(glued, F->super, len);

	memcpy(F->tmp, glued, len);
	assert_int_equal(offload_split(&vh, F->tmp, len, &F->segs), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(F->segs.len[n + i], F->segs.len[i]);
		assert_memory_equal(F->segs.pkt[n + i], F->segs.pkt[i], F->segs.len[i]);
	}
	offload_gro_reset(&F->gro);
}

static void test_roundtrip(void **state)
{
	struct spec t4 = {.proto = IPPROTO_TCP,
			  .payload = 20000,
			  .flags = TH_ACK | TH_PSH,
			  .timestamps = true,
			  .seq = 0xffffff00,
			  .seed = 14};
	struct spec t6 = {.v6 = true,
			  .proto = IPPROTO_TCP,
			  .payload = 65535 - 40 - 32,
			  .flags = TH_ACK,
			  .timestamps = true,
			  .seed = 15};
	struct spec o4 = {.proto = IPPROTO_TCP,
			  .payload = 4000,
			  .flags = TH_ACK,
			  .ip_options = true,
			  .seed = 16};
	struct spec u4 = {.proto = IPPROTO_UDP, .payload = 6000, .seed = 17};
	struct spec u6 = {.v6 = true, .proto = IPPROTO_UDP, .payload = 3 * 1232, .seed = 18};

	(void)state;
	roundtrip(&t4, VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	F->segs.n = F->segs.used = 0;
	roundtrip(&t6, VIRTIO_NET_HDR_GSO_TCPV6, 1368);
	F->segs.n = F->segs.used = 0;
	roundtrip(&o4, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	F->segs.n = F->segs.used = 0;
	roundtrip(&u4, VIRTIO_NET_HDR_GSO_UDP_L4, 1400);
	F->segs.n = F->segs.used = 0;
	roundtrip(&u6, VIRTIO_NET_HDR_GSO_UDP_L4, 1232);
}

/* One packet: written as it came, with an all-zero header. */
static void test_gro_single(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP, .payload = 1000, .flags = TH_ACK, .seed = 19};
	size_t len = build(F->tmp, &sp, CSUM_FULL);
	static const uint8_t zero[OFFLOAD_VNET_HDR_LEN];

	(void)state;
	assert_int_equal(offload_gro_finish(&F->gro), 0); /* empty */
	assert_true(offload_gro_add(&F->gro, F->tmp, 0)); /* nothing: a keepalive */
	assert_int_equal(offload_gro_finish(&F->gro), 0);
	assert_true(offload_gro_add(&F->gro, F->tmp, len));
	assert_int_equal(offload_gro_finish(&F->gro), OFFLOAD_VNET_HDR_LEN + len);
	assert_memory_equal(F->gro_buf, zero, sizeof(zero));
	assert_memory_equal(F->gro_buf + OFFLOAD_VNET_HDR_LEN, F->tmp, len);
	offload_gro_reset(&F->gro);
	assert_int_equal(offload_gro_finish(&F->gro), 0);
}

/*
 * seg0 is taken, then the changed seg1 must be refused: the caller writes
 * seg0 alone (zero header), and seg1 then goes into an empty coalescer.
 */
static void refuse(const uint8_t *seg0, size_t len0, const uint8_t *seg1, size_t len1)
{
	static const uint8_t zero[OFFLOAD_VNET_HDR_LEN];

	offload_gro_reset(&F->gro);
	assert_true(offload_gro_add(&F->gro, seg0, len0));
	assert_false(offload_gro_add(&F->gro, seg1, len1));
	assert_int_equal(offload_gro_finish(&F->gro), OFFLOAD_VNET_HDR_LEN + len0);
	assert_memory_equal(F->gro_buf, zero, sizeof(zero));
	assert_memory_equal(F->gro_buf + OFFLOAD_VNET_HDR_LEN, seg0, len0);
	offload_gro_reset(&F->gro);
	assert_true(offload_gro_add(&F->gro, seg1, len1));
	offload_gro_reset(&F->gro);
}

/* A copy of segment i of the current split, changed by the caller. */
static uint8_t *seg_copy(unsigned i, uint8_t *to)
{
	memcpy(to, F->segs.pkt[i], F->segs.len[i]);
	return to;
}

static void test_gro_refuses_tcp(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP,
			  .payload = 5000,
			  .flags = TH_ACK,
			  .timestamps = true,
			  .seq = 1000,
			  .seed = 20};
	uint8_t c[2000];
	uint8_t *const *s = F->segs.pkt;
	const size_t *l = F->segs.len;
	const unsigned tcp = 20, L = 20 + 32 + 1000;

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4, 1000), 5);
	/* the unchanged pair glues: the refusals below are the change's doing */
	offload_gro_reset(&F->gro);
	assert_true(offload_gro_add(&F->gro, s[0], l[0]));
	assert_true(offload_gro_add(&F->gro, s[1], l[1]));

	refuse(s[0], l[0], s[2], l[2]); /* a gap in seq */
	refuse(s[1], l[1], s[0], l[0]); /* going back */
	ts_put16(seg_copy(1, c) + tcp + 2, 5202); /* another flow */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	ts_put32(seg_copy(1, c) + 16, 0x0a000003); /* another destination */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	ts_put32(seg_copy(1, c) + tcp + 8, 0xa0b0c0d1); /* another ack */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	ts_put16(seg_copy(1, c) + tcp + 14, 503); /* another window */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	seg_copy(1, c)[tcp + 27]++; /* another TSval */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	seg_copy(1, c)[8] = 63; /* TTL */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	seg_copy(1, c)[1] = 0x02; /* TOS (ECN ECT(0)) */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	seg_copy(1, c)[6] = 0; /* DF off */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	seg_copy(1, c)[L - 1] ^= 1; /* a bad checksum */
	refuse(s[0], l[0], c, L);
	seg_copy(1, c)[11] ^= 1; /* a bad IPv4 header checksum */
	refuse(s[0], l[0], c, L);
	ts_put16(seg_copy(1, c) + 2, (uint16_t)(L - 1)); /* trailing bytes past the IP length */
	ref_fix(c, L - 1);
	refuse(s[0], l[0], c, L);
	for (unsigned f = 0; f < 8; f++) { /* any flag but ACK and PSH */
		if ((1u << f) == TH_ACK || (1u << f) == TH_PSH)
			continue;
		seg_copy(1, c)[tcp + 13] = (uint8_t)(TH_ACK | 1u << f);
		ref_fix(c, L);
		refuse(s[0], l[0], c, L);
	}
	seg_copy(1, c)[tcp + 13] = 0; /* no ACK */
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
	/* options of another length */
	seg_copy(1, c)[tcp + 12] = 0x70;
	ref_fix(c, L);
	refuse(s[0], l[0], c, L);
}

/* The bad packet is taken alone, and nothing is glued to it. */
static void test_gro_bad_alone(void **state)
{
	struct spec sp = {
		.v6 = true, .proto = IPPROTO_TCP, .payload = 3000, .flags = TH_ACK, .seed = 21};
	static const uint8_t zero[OFFLOAD_VNET_HDR_LEN];
	uint8_t c[2000];

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV6, 1000), 3);
	seg_copy(0, c)[100] ^= 0x10;
	assert_true(offload_gro_add(&F->gro, c, F->segs.len[0]));
	assert_false(offload_gro_add(&F->gro, F->segs.pkt[1], F->segs.len[1]));
	assert_int_equal(offload_gro_finish(&F->gro), OFFLOAD_VNET_HDR_LEN + F->segs.len[0]);
	assert_memory_equal(F->gro_buf, zero, sizeof(zero));
	offload_gro_reset(&F->gro);
	/* the following good ones still glue */
	assert_int_equal(gro_add_all(1, 2), OFFLOAD_VNET_HDR_LEN + 40 + 20 + 2000);
	assert_int_equal(F->gro_buf[1], VIRTIO_NET_HDR_GSO_TCPV6);
}

/* Equal payloads, then one shorter that ends it; a longer one never follows. */
static void test_gro_short_then_long(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP, .payload = 2500, .flags = TH_ACK, .seed = 22};
	struct spec sh = {.proto = IPPROTO_TCP, .payload = 500, .flags = TH_ACK, .seed = 23};
	uint8_t a[1100], b[1100];
	size_t la, lb;
	struct virtio_net_hdr vh;

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4, 1000), 3);
	offload_gro_reset(&F->gro);
	assert_true(offload_gro_add(&F->gro, F->segs.pkt[0], F->segs.len[0]));
	/* a short seg 1 */
	sh.seq = 1000;
	la = build(a, &sh, CSUM_FULL);
	assert_true(offload_gro_add(&F->gro, a, la)); /* shorter: glued, and closes */
	sp.payload = 1000;
	sp.seq = 1500;
	lb = build(b, &sp, CSUM_FULL);
	assert_false(offload_gro_add(&F->gro, b, lb));
	assert_int_equal(offload_gro_finish(&F->gro), OFFLOAD_VNET_HDR_LEN + 20 + 20 + 1500);
	memcpy(&vh, F->gro_buf, sizeof(vh));
	assert_kernel_takes(&vh, F->gro_buf + OFFLOAD_VNET_HDR_LEN, 1540);
	assert_int_equal(vh.gso_size, 1000);

	/* a short first one: the next, longer, is refused */
	sh.seq = 0;
	la = build(a, &sh, CSUM_FULL);
	sp.seq = 500;
	lb = build(b, &sp, CSUM_FULL);
	refuse(a, la, b, lb);
}

/* PSH ends a super-packet and is kept on it. */
static void test_gro_psh(void **state)
{
	struct spec sp = {.proto = IPPROTO_TCP, .payload = 4000, .flags = TH_ACK, .seed = 24};
	uint8_t c[1100];
	size_t len;

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV4, 1000), 4);
	offload_gro_reset(&F->gro);
	assert_true(offload_gro_add(&F->gro, F->segs.pkt[0], F->segs.len[0]));
	len = F->segs.len[1];
	seg_copy(1, c)[20 + 13] |= TH_PSH;
	ref_fix(c, len);
	assert_true(offload_gro_add(&F->gro, c, len));
	assert_false(offload_gro_add(&F->gro, F->segs.pkt[2], F->segs.len[2]));
	offload_gro_finish(&F->gro);
	assert_int_equal(F->gro_buf[OFFLOAD_VNET_HDR_LEN + 20 + 13], TH_ACK | TH_PSH);
	/* a PSH first packet ends it at once */
	refuse(c, len, F->segs.pkt[2], F->segs.len[2]);
}

static void test_gro_udp(void **state)
{
	struct spec sp = {.proto = IPPROTO_UDP, .payload = 3000, .seed = 25};
	uint8_t c[1100];
	const size_t L = 20 + 8 + 1000;

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_UDP_L4, 1000), 3);
	ts_put16(seg_copy(1, c) + 20, 1); /* another source port */
	ref_fix(c, L);
	refuse(F->segs.pkt[0], L, c, L);
	seg_copy(1, c)[L - 3] ^= 0x80; /* a bad checksum */
	refuse(F->segs.pkt[0], L, c, L);
	/* no checksum (0), with data that would verify as if it had one */
	ts_put16(seg_copy(1, c) + 26, 0);
	ts_put16(c + 28, 0);
	ts_put16(c + 28, (uint16_t)~ts_csum_add(ref_pseudo(c, L - 20), c + 20, L - 20));
	assert_true(ref_l4_ok(c, L));
	refuse(F->segs.pkt[0], L, c, L);
	/* without USO on the TUN device, UDP is never glued */
	F->gro.allow_udp = false;
	refuse(F->segs.pkt[0], L, F->segs.pkt[1], L);
}

/* Adds full segments of payload bytes, seq continuing, until one is refused. */
static unsigned gro_fill(struct offload_gro *g, size_t payload)
{
	struct spec sp = {.proto = IPPROTO_TCP,
			  .payload = payload,
			  .flags = TH_ACK,
			  .timestamps = true,
			  .seed = 26};
	unsigned n = 0;
	size_t len;

	offload_gro_reset(g);
	for (;; n++) {
		sp.seq = (uint32_t)(n * payload);
		len = build(F->tmp, &sp, CSUM_FULL);
		if (!offload_gro_add(g, F->tmp, len))
			return n;
		assert_true(n < 1000);
	}
}

/* At most 64 KiB, at most what the buffer holds, at most 64 segments. */
static void test_gro_limits(void **state)
{
	uint8_t small[OFFLOAD_VNET_HDR_LEN + 3000];
	struct offload_gro g = {.buf = small, .cap = sizeof(small)};

	(void)state;
	assert_int_equal(gro_fill(&F->gro, 1448), 45); /* 52 + 45 * 1448 = 65212; one more: 66660 */
	assert_int_equal(offload_gro_finish(&F->gro), OFFLOAD_VNET_HDR_LEN + 52 + 45 * 1448);
	assert_int_equal(gro_fill(&F->gro, 1483), 44); /* 52 + 44 * 1483 = 65304 */
	assert_int_equal(gro_fill(&F->gro, 100), 64);
	assert_int_equal(offload_gro_finish(&F->gro), OFFLOAD_VNET_HDR_LEN + 52 + 64 * 100);
	assert_int_equal(gro_fill(&g, 1448), 2); /* 52 + 2 * 1448 = 2948 of 3000 */

	/* a packet too long for an empty buffer is refused, not cut */
	g.cap = OFFLOAD_VNET_HDR_LEN + 1000;
	assert_int_equal(gro_fill(&g, 1448), 0);
	g.cap = 3;
	assert_int_equal(gro_fill(&g, 1448), 0);
}

static void test_gro_ipv6_fields(void **state)
{
	struct spec sp = {
		.v6 = true, .proto = IPPROTO_TCP, .payload = 2000, .flags = TH_ACK, .seed = 28};
	uint8_t c[1100];
	const size_t L = 40 + 20 + 1000;

	(void)state;
	assert_int_equal(split_checked(&sp, VIRTIO_NET_HDR_GSO_TCPV6, 1000), 2);
	seg_copy(1, c)[3] ^= 1; /* flow label */
	ref_fix(c, L);
	refuse(F->segs.pkt[0], L, c, L);
	seg_copy(1, c)[7] = 1; /* hop limit */
	ref_fix(c, L);
	refuse(F->segs.pkt[0], L, c, L);
	seg_copy(1, c)[1] |= 0x30; /* traffic class */
	ref_fix(c, L);
	refuse(F->segs.pkt[0], L, c, L);
	ts_put16(seg_copy(1, c) + 4, 999); /* payload length short of the packet */
	ref_fix(c, L);
	refuse(F->segs.pkt[0], L, c, L);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071),
		cmocka_unit_test_setup_teardown(test_split_tcp4_timestamps_odd_last, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp4_ip_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp6_exact_multiple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_tcp6_64k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_single_segment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_partial_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_refuses_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_bad_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_short_then_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_psh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gro_ipv6_fields, setup, teardown),
	};

	return cmocka_run_group_tests_name("offload", tests, NULL, NULL);
}
