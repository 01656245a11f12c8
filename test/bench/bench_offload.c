// SPDX-License-Identifier: MIT
/*
 * Micro-benchmark of the software offloads on one core: offload_split() of
 * 64 KiB TCP and UDP super-packets into MTU-sized segments, and the
 * coalescer gluing those segments back, in Gbit/s of inner payload. Run by
 * hand (not a CTest test): build/test/bench/bench_offload [seconds per case]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "offload.h"
#include "util.h"

#define MAX_SEGS 128
#define GRO_CAP	 (OFFLOAD_VNET_HDR_LEN + 65535)

struct bench_case {
	const char *name;
	bool v6;
	uint8_t proto;
	uint8_t gso_type;
	uint16_t gso_size; /* payload of a 1420-byte tunnel packet */
};

static const struct bench_case cases[] = {
	{"TCPv4 + timestamps", false, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 1420 - 20 - 32},
	{"TCPv6 + timestamps", true, IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV6, 1420 - 40 - 32},
	{"UDPv4", false, IPPROTO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4, 1420 - 20 - 8},
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 64 KiB super-packet as a TUN read brings it; returns its length, *hdr_len its headers. */
static size_t build(uint8_t *p, const struct bench_case *c, size_t *hdr_len)
{
	size_t ip_len = c->v6 ? 40 : 20, l4_len = c->proto == IPPROTO_TCP ? 32 : 8;
	size_t len = 65535;
	uint8_t *l4 = p + ip_len;

	memset(p, 0, ip_len + l4_len);
	for (size_t i = ip_len + l4_len; i < len; i++)
		p[i] = (uint8_t)rand();
	if (c->v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = c->proto;
		p[7] = 64;
		p[8] = p[24] = 0xfd;
		p[23] = 1;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[6] = 0x40;
		p[8] = 64;
		p[9] = c->proto;
		p[12] = p[16] = 10;
		p[15] = 1;
		p[19] = 2;
	}
	l4[1] = 80;
	l4[3] = 81;
	if (c->proto == IPPROTO_TCP) {
		l4[12] = 8 << 4;
		l4[13] = 0x18; /* ACK PSH */
		l4[15] = 255;
		memcpy(l4 + 20, "\x01\x01\x08\x0a\x01\x02\x03\x04\x05\x06\x07\x08", 12);
	}
	*hdr_len = ip_len + l4_len;
	return len;
}

static void run(const struct bench_case *c, double secs, uint8_t *super, uint8_t *arena,
		size_t arena_cap, uint8_t *gro_buf)
{
	uint8_t *pkt[MAX_SEGS];
	size_t seg_len[MAX_SEGS], hdr_len, len = build(super, c, &hdr_len);
	struct offload_segs segs = {.arena = arena,
				    .cap = arena_cap,
				    .headroom = 16,
				    .tailroom = 32,
				    .max = MAX_SEGS,
				    .pkt = pkt,
				    .len = seg_len};
	struct offload_gro g = {.buf = gro_buf, .cap = GRO_CAP, .allow_udp = true};
	struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = c->gso_type,
				    .gso_size = c->gso_size,
				    .csum_start = c->v6 ? 40 : 20,
				    .csum_offset = c->proto == IPPROTO_TCP ? 16 : 6};
	double t0, split_s, gro_s, payload_bits = (double)(len - hdr_len) * 8;
	unsigned long iters = 0, glued = 0;
	int n = 0;

	t0 = now_s();
	do {
		for (int i = 0; i < 64; i++, iters++) {
			segs.n = 0;
			segs.used = 0;
			n = offload_split(&vh, super, len, &segs);
		}
	} while ((split_s = now_s() - t0) < secs);
	if (n <= 0) {
		fprintf(stderr, "%s: split failed: %d\n", c->name, n);
		exit(1);
	}
	printf("%-20s split    %7.1f Gbit/s  %6.0f ns per 64 KiB (%d segments)\n", c->name,
	       payload_bits * (double)iters / split_s / 1e9, split_s / (double)iters * 1e9, n);

	/* n segments glue into one super-packet, or into several when over 64 KiB */
	iters = 0;
	t0 = now_s();
	do {
		for (int i = 0; i < 64; i++, iters++) {
			offload_gro_reset(&g);
			for (int k = 0; k < n; k++) {
				if (!offload_gro_add(&g, pkt[k], seg_len[k])) {
					offload_gro_finish(&g);
					offload_gro_reset(&g);
					offload_gro_add(&g, pkt[k], seg_len[k]);
					glued++;
				}
			}
			offload_gro_finish(&g);
		}
	} while ((gro_s = now_s() - t0) < secs);
	printf("%-20s coalesce %7.1f Gbit/s  %6.0f ns per 64 KiB (%lu writes)\n", c->name,
	       payload_bits * (double)iters / gro_s / 1e9, gro_s / (double)iters * 1e9,
	       1 + glued / iters);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	size_t arena_cap = MAX_SEGS * 2048;
	uint8_t *super = aligned_alloc(64, 65536), *arena = aligned_alloc(64, arena_cap);
	uint8_t *gro_buf = aligned_alloc(64, GRO_CAP + 64 - GRO_CAP % 64);
	uint8_t csum_buf[1500];
	unsigned long iters = 0;
	volatile uint32_t sink = 0;
	double t0, s;

	if (!super || !arena || !gro_buf || secs <= 0)
		return 1;
	srand(1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run(&cases[i], secs, super, arena, arena_cap, gro_buf);

	for (size_t i = 0; i < sizeof(csum_buf); i++)
		csum_buf[i] = (uint8_t)rand();
	t0 = now_s();
	do {
		for (int i = 0; i < 1024; i++, iters++)
			sink += offload_csum_add(sink, csum_buf, sizeof(csum_buf));
	} while ((s = now_s() - t0) < secs);
	printf("%-20s          %7.1f Gbit/s  %6.1f ns per 1500 bytes\n", "checksum",
	       (double)sizeof(csum_buf) * 8 * (double)iters / s / 1e9, s / (double)iters * 1e9);
	free(super);
	free(arena);
	free(gro_buf);
	return 0;
}
