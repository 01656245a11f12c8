// SPDX-License-Identifier: MIT
/*
 * Token buckets for handshake packets, one per source (IPv4 address, IPv6
 * /64), so that one flooding host cannot keep the daemon busy with
 * Curve25519 work (WireGuard paper section 5.3 leaves this to the
 * implementation; the driver's ratelimiter.c does the same). All memory is
 * taken at create: a flood makes the table full, never bigger.
 */
#include "ratelimiter.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define NSEC_PER_SEC INT64_C(1000000000)
/* Tokens are counted in nanoseconds of credit: one packet costs this much. */
#define PACKET_COST (NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND)
#define TOKEN_MAX   (PACKET_COST * RATELIMITER_PACKETS_BURSTABLE)
#define IDLE_NS	    (RATELIMITER_IDLE_TIMEOUT_S * NSEC_PER_SEC)
#define N_BUCKETS   RATELIMITER_MAX_ENTRIES
#define NONE	    UINT32_MAX

_Static_assert((N_BUCKETS & (N_BUCKETS - 1)) == 0, "bucket count must be a power of two");
_Static_assert(IDLE_NS >= TOKEN_MAX, "an entry must refill completely before it is forgotten");

/* One source. Lives in the table's array; linked by index into a bucket or the free list. */
struct entry {
	uint64_t src[2]; /* family, then the IPv4 address or the IPv6 /64 */
	int64_t last_ns; /* when tokens was last brought up to date */
	int64_t tokens; /* ns of credit, 0..TOKEN_MAX */
	uint32_t next;
};

struct ratelimiter {
	uint64_t hash_key[2]; /* random, so that sources cannot aim at one bucket */
	uint32_t buckets[N_BUCKETS];
	uint32_t free_head;
	size_t used;
	int64_t last_gc_ns;
	struct entry entries[RATELIMITER_MAX_ENTRIES];
};

/*
 * SipHash-2-4 of the 16 bytes src[0] || src[1] (little-endian words): the
 * standard keyed hash for tables whose keys an attacker chooses.
 */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static void sipcompress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

static uint64_t siphash_2words(const uint64_t key[2], const uint64_t m[2])
{
	uint64_t v[4] = {
		key[0] ^ UINT64_C(0x736f6d6570736575),
		key[1] ^ UINT64_C(0x646f72616e646f6d),
		key[0] ^ UINT64_C(0x6c7967656e657261),
		key[1] ^ UINT64_C(0x7465646279746573),
	};

	sipcompress(v, m[0]);
	sipcompress(v, m[1]);
	sipcompress(v, UINT64_C(16) << 56); /* the length block */
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The caller's seconds as ns, clamped so that differences cannot overflow. */
static int64_t to_ns(double now_s)
{
	double ns = now_s * 1e9;

	if (!(ns < 4e18))
		return INT64_C(4000000000000000000);
	if (!(ns > -4e18))
		return -INT64_C(4000000000000000000);
	return (int64_t)(ns < 0 ? ns - 0.5 : ns + 0.5);
}

/* IPv6 sources are grouped by /64: one host usually owns a whole /64. */
static bool source_key(const union sockaddr_inet *sa, uint64_t src[2])
{
	if (sa->sa.sa_family == AF_INET) {
		uint32_t v4;

		memcpy(&v4, &sa->in.sin_addr, sizeof(v4));
		src[0] = AF_INET;
		src[1] = be32toh(v4);
		return true;
	}
	if (sa->sa.sa_family == AF_INET6) {
		uint64_t top;

		memcpy(&top, sa->in6.sin6_addr.s6_addr, sizeof(top));
		src[0] = AF_INET6;
		src[1] = be64toh(top);
		return true;
	}
	return false;
}

int ratelimiter_create(struct ratelimiter **out)
{
	struct ratelimiter *rl;
	uint32_t i;

	*out = NULL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	if (crypto_random(rl->hash_key, sizeof(rl->hash_key)) < 0) {
		free(rl);
		return -EIO;
	}
	for (i = 0; i < N_BUCKETS; i++)
		rl->buckets[i] = NONE;
	for (i = 0; i < RATELIMITER_MAX_ENTRIES; i++)
		rl->entries[i].next = i + 1 < RATELIMITER_MAX_ENTRIES ? i + 1 : NONE;
	rl->free_head = 0;
	rl->last_gc_ns = INT64_MIN;
	*out = rl;
	return 0;
}

void ratelimiter_destroy(struct ratelimiter *rl)
{
	if (!rl)
		return;
	crypto_wipe(rl->hash_key, sizeof(rl->hash_key));
	free(rl);
}

static void gc(struct ratelimiter *rl, int64_t now_ns)
{
	uint32_t b, *link;

	rl->last_gc_ns = now_ns;
	if (!rl->used)
		return;
	for (b = 0; b < N_BUCKETS; b++) {
		link = &rl->buckets[b];
		while (*link != NONE) {
			struct entry *e = &rl->entries[*link];
			uint32_t idx = *link;

			if (now_ns - e->last_ns > IDLE_NS) {
				*link = e->next;
				e->next = rl->free_head;
				rl->free_head = idx;
				rl->used--;
			} else {
				link = &e->next;
			}
		}
	}
}

void ratelimiter_gc(struct ratelimiter *rl, double now_s)
{
	gc(rl, to_ns(now_s));
}

bool ratelimiter_allow(struct ratelimiter *rl, const union sockaddr_inet *src, double now_s)
{
	int64_t now_ns = to_ns(now_s), tokens;
	uint64_t key[2];
	uint32_t b, idx;
	struct entry *e;

	if (!source_key(src, key))
		return false;
	/* Amortised: one pass over the table per idle period at most. */
	if (rl->last_gc_ns == INT64_MIN || now_ns - rl->last_gc_ns >= IDLE_NS)
		gc(rl, now_ns);

	b = (uint32_t)siphash_2words(rl->hash_key, key) & (N_BUCKETS - 1);
	for (idx = rl->buckets[b]; idx != NONE; idx = e->next) {
		e = &rl->entries[idx];
		if (e->src[0] != key[0] || e->src[1] != key[1])
			continue;
		/* Refill for the time since the last packet; a clock going back adds nothing. */
		tokens = e->tokens;
		if (now_ns > e->last_ns) {
			int64_t elapsed = now_ns - e->last_ns;

			tokens = elapsed >= TOKEN_MAX - tokens ? TOKEN_MAX : tokens + elapsed;
			e->last_ns = now_ns;
		}
		if (tokens < PACKET_COST) {
			e->tokens = tokens;
			return false;
		}
		e->tokens = tokens - PACKET_COST;
		return true;
	}

	/* A new source: refused while the table is full, never grown. */
	idx = rl->free_head;
	if (idx == NONE)
		return false;
	e = &rl->entries[idx];
	rl->free_head = e->next;
	e->src[0] = key[0];
	e->src[1] = key[1];
	e->last_ns = now_ns;
	e->tokens = TOKEN_MAX - PACKET_COST;
	e->next = rl->buckets[b];
	rl->buckets[b] = idx;
	rl->used++;
	return true;
}

size_t ratelimiter_count(const struct ratelimiter *rl)
{
	return rl->used;
}
