// SPDX-License-Identifier: MIT
/*
 * Micro-benchmark of the allowed-IPs table (daemon/allowedips.c) at the size
 * of a large server: one IPv4 /32 and one IPv6 /128 for each of N peers
 * (default 100,000). Prints, at table sizes of 10k, 50k and N peers, the time
 * per insertion and per removal of a prefix (flat or not in the table's
 * size), longest-prefix lookups per second (random hits), and what the
 * per-peer operations cost (remove_peer, count, for_peer: once walks of the
 * whole table, now of the peer's own list). One core, no I/O, no root. Run
 * by hand (not a CTest test):
 * build/test/bench/bench_allowedips [PEERS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allowedips.h"
#include "peer_state.h"

#define SAMPLE	  1000 /* prefixes inserted and removed per sample */
#define SAMPLES	  5 /* samples per table size; the median is printed */
#define LOOKUPS	  1000000 /* lookups per family and table size */
#define MAX_PEERS 10000000
#define VICTIMS	  1000 /* peers timed per table size for count, for_peer, remove_peer */
#define VICTIM_S  0.5 /* ... or fewer (3 at least) when they take this long */

/* Zeroed peers: the table uses only their allowed_ips lists (empty when zero). */
static struct peer *peer_storage;
#define PEER(i) (&peer_storage[(i)])

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A bijection on 64 bits (the splitmix64 finaliser): distinct i, distinct addresses. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A bijection on 32 bits (murmur3's finaliser). */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bU;
	x ^= x >> 13;
	x *= 0xc2b2ae35U;
	return x ^ (x >> 16);
}

/* Peer i's IPv4 /32: random-looking, and distinct for distinct i. */
static struct ip_prefix v4_of(size_t i)
{
	struct ip_prefix p = {.family = AF_INET, .cidr = 32};
	uint32_t a = mix32((uint32_t)i);

	memcpy(p.addr.bytes, &a, 4);
	return p;
}

/* Peer i's IPv6 /128: 2001:db8::/32 and 96 bits from i (distinct for every i). */
static struct ip_prefix v6_of(size_t i)
{
	struct ip_prefix p = {.family = AF_INET6, .cidr = 128};
	uint64_t lo = mix64(i), hi = mix64(~(uint64_t)i);

	p.addr.bytes[0] = 0x20;
	p.addr.bytes[1] = 0x01;
	p.addr.bytes[2] = 0x0d;
	p.addr.bytes[3] = 0xb8;
	memcpy(p.addr.bytes + 4, &hi, 4);
	memcpy(p.addr.bytes + 8, &lo, 8); /* lo alone is a bijection of i */
	return p;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_allowedips: %s: %s\n", what, strerror(-rc));
	exit(1);
}

static void insert(struct allowedips *t, size_t i)
{
	struct ip_prefix p4 = v4_of(i), p6 = v6_of(i);
	int rc;

	rc = allowedips_insert(t, &p4, PEER(i));
	if (rc == 0)
		rc = allowedips_insert(t, &p6, PEER(i));
	if (rc != 0)
		die("insert", rc);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * ns per insertion and per removal of SAMPLE prefixes of family fam, for new
 * peers from first on; every sample takes other prefixes (SAMPLES * SAMPLE
 * peers in all), so that none finds its path in the cache from the last.
 */
static void sample_insert_remove(struct allowedips *t, size_t first, int fam, double *ins_ns,
				 double *rem_ns)
{
	double ins[SAMPLES], rem[SAMPLES], t0;
	struct ip_prefix p;
	int rc;

	for (size_t s = 0; s < SAMPLES; s++) {
		size_t from = first + s * SAMPLE;

		t0 = now_s();
		for (size_t i = from; i < from + SAMPLE; i++) {
			p = fam == AF_INET ? v4_of(i) : v6_of(i);
			rc = allowedips_insert(t, &p, PEER(i));
			if (rc != 0)
				die("insert", rc);
		}
		ins[s] = (now_s() - t0) * 1e9 / SAMPLE;
		t0 = now_s();
		for (size_t i = from; i < from + SAMPLE; i++) {
			p = fam == AF_INET ? v4_of(i) : v6_of(i);
			rc = allowedips_remove(t, &p, PEER(i));
			if (rc != 0)
				die("remove", rc);
		}
		rem[s] = (now_s() - t0) * 1e9 / SAMPLE;
	}
	*ins_ns = median(ins, SAMPLES);
	*rem_ns = median(rem, SAMPLES);
}

/* Lookups per second of random addresses of the first n peers; wrong answers counted. */
static double lookups(const struct allowedips *t, size_t n, int fam, size_t *wrong)
{
	uint64_t r = 42;
	double t0 = now_s(), secs;
	struct ip_prefix p;
	size_t i;

	*wrong = 0;
	for (size_t k = 0; k < LOOKUPS; k++) {
		r = mix64(r);
		i = r % n;
		p = fam == AF_INET ? v4_of(i) : v6_of(i);
		if (allowedips_lookup(t, (sa_family_t)fam, p.addr.bytes) != PEER(i))
			(*wrong)++;
	}
	secs = now_s() - t0;
	return LOOKUPS / secs;
}

static void count_fn(const struct ip_prefix *p, void *ctx)
{
	(void)p;
	(*(size_t *)ctx)++;
}

/*
 * Median ns of count, for_peer and remove_peer of one peer, over up to
 * VICTIMS peers of the n in the table (spread over them), each put back
 * after; fewer when that takes VICTIM_S (the walks of the whole table did).
 * Medians, as a mean over so few calls would be the machine's preemptions.
 */
static void per_peer_ops(struct allowedips *t, size_t n, double *count_ns, double *walk_ns,
			 double *remove_ns)
{
	static double cnt[VICTIMS], walk[VICTIMS], rm[VICTIMS];
	double start = now_s(), t0;
	size_t v;

	for (v = 0; v < VICTIMS && (v < 3 || now_s() - start < VICTIM_S); v++) {
		size_t victim = (size_t)(mix64(v) % n), seen = 0, c;

		t0 = now_s();
		c = allowedips_count(t, PEER(victim));
		cnt[v] = (now_s() - t0) * 1e9;
		t0 = now_s();
		allowedips_for_peer(t, PEER(victim), count_fn, &seen);
		walk[v] = (now_s() - t0) * 1e9;
		if (c != seen || c != 2)
			die("count and for_peer disagree", -EINVAL);
		t0 = now_s();
		allowedips_remove_peer(t, PEER(victim));
		rm[v] = (now_s() - t0) * 1e9;
		if (allowedips_count(t, PEER(victim)) != 0)
			die("remove_peer left a prefix", -EINVAL);
		insert(t, victim); /* back to the same size */
	}
	*count_ns = median(cnt, v);
	*walk_ns = median(walk, v);
	*remove_ns = median(rm, v);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000, sizes[3], filled = 0, wrong4,
	       wrong6;
	double t0, fill_s, i4, r4, i6, r6, l4, l6, cnt, walk, rm;
	struct allowedips *t;
	int rc;

	if (n < 1000 || n > MAX_PEERS) {
		fprintf(stderr, "usage: bench_allowedips [PEERS, 1000..%d, default 100000]\n",
			MAX_PEERS);
		return 2;
	}
	sizes[0] = n / 10;
	sizes[1] = n / 2;
	sizes[2] = n;
	peer_storage = calloc(n + SAMPLES * SAMPLE, sizeof(*peer_storage));
	rc = allowedips_create(&t);
	if (!peer_storage || rc != 0)
		die("allocate", -ENOMEM);
	/* Peers exist before their prefixes: no page faults inside the timings. */
	memset(peer_storage, 0, (n + SAMPLES * SAMPLE) * sizeof(*peer_storage));

	printf("allowed-IPs table, one IPv4 /32 and one IPv6 /128 per peer; medians of %d "
	       "samples of %d prefixes, %d random-hit lookups\n\n",
	       SAMPLES, SAMPLE, LOOKUPS);
	printf("%8s %9s %8s %8s %8s %8s %11s %11s %9s %9s %9s %8s\n", "peers", "fill ns/p",
	       "ins4 ns", "rem4 ns", "ins6 ns", "rem6 ns", "lookup4/s", "lookup6/s", "count ns",
	       "walk ns", "rmpeer ns", "nodes");
	for (size_t s = 0; s < 3; s++) {
		t0 = now_s();
		for (; filled < sizes[s]; filled++)
			insert(t, filled);
		fill_s = now_s() - t0;
		sample_insert_remove(t, n, AF_INET, &i4, &r4);
		sample_insert_remove(t, n, AF_INET6, &i6, &r6);
		l4 = lookups(t, filled, AF_INET, &wrong4);
		l6 = lookups(t, filled, AF_INET6, &wrong6);
		per_peer_ops(t, filled, &cnt, &walk, &rm);
		if (wrong4 + wrong6 != 0)
			die("a lookup found the wrong peer", -EINVAL);
		printf("%8zu %9.0f %8.0f %8.0f %8.0f %8.0f %11.0f %11.0f %9.0f %9.0f %9.0f %8zu\n",
		       filled, fill_s * 1e9 / (2.0 * (double)(sizes[s] - (s ? sizes[s - 1] : 0))),
		       i4, r4, i6, r6, l4, l6, cnt, walk, rm, allowedips_nodes(t));
	}
	printf("\nfill ns/p: mean time per prefix while growing to that size (both families);\n"
	       "ins/rem: one prefix in and out at that size (allowedips_insert, _remove);\n"
	       "lookup/s: random addresses of the table's peers (every answer checked);\n"
	       "count/walk/rmpeer: allowedips_count, _for_peer, _remove_peer of one peer\n"
	       "(median over up to %d peers of the table).\n",
	       VICTIMS);
	if (!allowedips_selfcheck(t))
		die("the trie's invariants do not hold", -EINVAL);
	allowedips_destroy(t);
	free(peer_storage);
	return 0;
}
