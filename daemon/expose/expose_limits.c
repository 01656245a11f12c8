// SPDX-License-Identifier: MIT
/*
 * Localhost tunnels, how much the public side may take (docs/localhost-
 * tunnels.md, "Limits"):
 *  - a budget of descriptors for relayed connections and for connections
 *    waiting for their first line on a control port, shared by every
 *    interface, since the open files limit is the process's: the limit
 *    less a reserve that keeps the daemon's own sockets working (UDP, TUN,
 *    netlink, the control socket and its clients, the public listeners and
 *    the tunnels' control connections) when users take all the rest.
 *    Relays get three quarters of it at most: the last quarter lets a
 *    client's new control session and a server's data connections in
 *    (they wait for their first line) while users hold every relay;
 *  - per interface, the relayed connections of one source on the public
 *    ports: an IPv4 address, or an IPv6 /64 (one host usually owns a whole
 *    /64), in a hash table with a random key, so that sources cannot aim
 *    at one bucket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "crypto.h"
#include "expose_int.h"

/* Descriptors the daemon keeps for itself: this many, and a sixteenth of the limit. */
#define FD_RESERVE_MIN 256

#define SOURCES_MIN_BUCKETS 64

/* Units of the budget in use, in every interface: one per descriptor. */
static size_t fds_held;

size_t expose_fd_budget(void)
{
	struct rlimit rl;
	rlim_t limit, reserve;

	/* Asked each time: prlimit(1) may change it while we run. */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	limit = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
	reserve = FD_RESERVE_MIN + limit / 16;
	return limit > reserve ? (size_t)(limit - reserve) : 0;
}

static bool take(size_t n, size_t max)
{
	if (fds_held + n > max)
		return false;
	fds_held += n;
	return true;
}

size_t expose_relay_cap(void)
{
	size_t budget = expose_fd_budget();

	return (budget - budget / 4) / 2;
}

bool expose_fds_take_relay(void)
{
	size_t budget = expose_fd_budget();

	return take(2, budget - budget / 4);
}

bool expose_fds_take_pending(void)
{
	return take(1, expose_fd_budget());
}

void expose_fds_put(size_t n)
{
	fds_held = n > fds_held ? 0 : fds_held - n;
}

size_t expose_fds_held(void)
{
	return fds_held;
}

/* ---- Relayed connections per source ---- */

struct expose_source {
	struct expose_source *next; /* in its bucket */
	struct expose_sources *table;
	uint8_t key[17]; /* family, then the IPv4 address or the IPv6 /64, zero-padded */
	size_t n;
};

struct expose_sources {
	uint8_t hash_key[16];
	struct expose_source **buckets;
	size_t n_buckets; /* a power of two */
	size_t n_entries;
};

static bool source_key(const union sockaddr_inet *sa, uint8_t key[17])
{
	memset(key, 0, 17);
	key[0] = (uint8_t)sa->sa.sa_family;
	if (sa->sa.sa_family == AF_INET) {
		memcpy(key + 1, &sa->in.sin_addr, 4);
		return true;
	}
	if (sa->sa.sa_family == AF_INET6) {
		memcpy(key + 1, &sa->in6.sin6_addr, 8);
		return true;
	}
	return false;
}

static size_t hash_of(const struct expose_sources *t, const uint8_t key[17])
{
	uint64_t h;

	blake2s_keyed((uint8_t *)&h, sizeof(h), t->hash_key, sizeof(t->hash_key), key, 17);
	return (size_t)h;
}

static size_t bucket_of(const struct expose_sources *t, const uint8_t key[17])
{
	return hash_of(t, key) & (t->n_buckets - 1);
}

int expose_sources_create(struct expose_sources **out)
{
	struct expose_sources *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t || !(t->buckets = calloc(SOURCES_MIN_BUCKETS, sizeof(*t->buckets)))) {
		free(t);
		return -ENOMEM;
	}
	t->n_buckets = SOURCES_MIN_BUCKETS;
	if (crypto_random(t->hash_key, sizeof(t->hash_key)) < 0) {
		expose_sources_destroy(t);
		return -EIO;
	}
	*out = t;
	return 0;
}

void expose_sources_destroy(struct expose_sources *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		while (t->buckets[i]) {
			struct expose_source *s = t->buckets[i];

			t->buckets[i] = s->next;
			free(s);
		}
	}
	free(t->buckets);
	free(t);
}

/* Twice the buckets when the chains grow long; on failure the table stays as it is. */
static void grow(struct expose_sources *t)
{
	size_t n = t->n_buckets * 2;
	struct expose_source **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		while (t->buckets[i]) {
			struct expose_source *s = t->buckets[i];
			size_t j = hash_of(t, s->key) & (n - 1);

			t->buckets[i] = s->next;
			s->next = b[j];
			b[j] = s;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n;
}

struct expose_source *expose_source_take(struct expose_sources *t, const union sockaddr_inet *sa,
					 size_t max, size_t *n)
{
	uint8_t key[17];
	struct expose_source *s;
	size_t b;

	*n = 0;
	if (!source_key(sa, key))
		return NULL;
	b = bucket_of(t, key);
	for (s = t->buckets[b]; s && memcmp(s->key, key, sizeof(key)) != 0; s = s->next)
		;
	if (s) {
		*n = s->n;
		if (s->n >= max)
			return NULL;
		s->n++;
		return s;
	}
	if (max == 0 || !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->table = t;
	memcpy(s->key, key, sizeof(key));
	s->n = 1;
	s->next = t->buckets[b];
	t->buckets[b] = s;
	if (++t->n_entries > 2 * t->n_buckets)
		grow(t);
	return s;
}

char *expose_source_format(char *buf, size_t len, const union sockaddr_inet *sa)
{
	char host[INET6_ADDRSTRLEN];
	struct in6_addr net;

	if (sa->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &sa->in.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s", host);
		return buf;
	}
	memset(&net, 0, sizeof(net));
	memcpy(&net, &sa->in6.sin6_addr, 8);
	inet_ntop(AF_INET6, &net, host, sizeof(host));
	snprintf(buf, len, "%s/64", host);
	return buf;
}

void expose_source_put(struct expose_source *s)
{
	struct expose_sources *t;
	struct expose_source **p;

	if (!s || --s->n > 0)
		return;
	t = s->table;
	for (p = &t->buckets[bucket_of(t, s->key)]; *p != s; p = &(*p)->next)
		;
	*p = s->next;
	t->n_entries--;
	free(s);
}
