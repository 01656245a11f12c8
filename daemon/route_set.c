// SPDX-License-Identifier: MIT
/* The installed routes as a hash set; see route_set.h. */
#include "route_set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define INITIAL_CAP 16

static size_t addr_bytes(const struct ip_prefix *p)
{
	return p->family == AF_INET ? 4 : 16;
}

static bool same(const struct route *a, const struct route *b)
{
	return a->table == b->table && a->prefix.family == b->prefix.family &&
	       a->prefix.cidr == b->prefix.cidr &&
	       memcmp(a->prefix.addr.bytes, b->prefix.addr.bytes, addr_bytes(&a->prefix)) == 0;
}

/* FNV-1a over the key, then a final mix: prefixes are often consecutive. */
static size_t hash(const struct route *r)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t head[6] = {(uint8_t)r->prefix.family, r->prefix.cidr,
			   (uint8_t)r->table,	      (uint8_t)(r->table >> 8),
			   (uint8_t)(r->table >> 16), (uint8_t)(r->table >> 24)};

	for (size_t i = 0; i < sizeof(head); i++)
		h = (h ^ head[i]) * 0x100000001b3ULL;
	for (size_t i = 0; i < addr_bytes(&r->prefix); i++)
		h = (h ^ r->prefix.addr.bytes[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

/* The slot of r, or the free slot where it would go. */
static size_t find(const struct route_set *s, const struct route *r)
{
	size_t mask = s->cap - 1, i = hash(r) & mask;

	while (s->slots[i].prefix.family && !same(&s->slots[i], r))
		i = (i + 1) & mask;
	return i;
}

int route_set_reserve(struct route_set *s)
{
	struct route *old = s->slots, *slots;
	size_t old_cap = s->cap, cap;

	/* At most three quarters full. */
	if ((s->n + 1) * 4 <= s->cap * 3)
		return 0;
	cap = s->cap ? s->cap * 2 : INITIAL_CAP;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	s->slots = slots;
	s->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].prefix.family)
			s->slots[find(s, &old[i])] = old[i];
	free(old);
	return 0;
}

bool route_set_has(const struct route_set *s, const struct route *r)
{
	return s->n && s->slots[find(s, r)].prefix.family != 0;
}

void route_set_add(struct route_set *s, const struct route *r)
{
	size_t i = find(s, r);

	if (s->slots[i].prefix.family)
		return;
	s->slots[i] = *r;
	s->n++;
}

bool route_set_remove(struct route_set *s, const struct route *r)
{
	size_t mask = s->cap - 1, i, j;

	if (!s->n)
		return false;
	i = find(s, r);
	if (!s->slots[i].prefix.family)
		return false;
	/* Backward shift: move up what would otherwise be cut off from its home slot. */
	for (j = (i + 1) & mask; s->slots[j].prefix.family; j = (j + 1) & mask) {
		size_t home = hash(&s->slots[j]) & mask;

		/* Does home lie cyclically in (i, j]? Then it stays. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		s->slots[i] = s->slots[j];
		i = j;
	}
	memset(&s->slots[i], 0, sizeof(s->slots[i]));
	s->n--;
	return true;
}

void route_set_clear(struct route_set *s)
{
	free(s->slots);
	*s = (struct route_set){0};
}
