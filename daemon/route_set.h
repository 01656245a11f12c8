/* SPDX-License-Identifier: MIT */
/*
 * The routes netconf.c installed, as a hash set of (prefix, table): finding,
 * adding and removing one costs the same with ten routes or a million, so
 * a peer's change touches only its own prefixes.
 */
#ifndef TUND_ROUTE_SET_H
#define TUND_ROUTE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct route {
	struct ip_prefix prefix; /* masked */
	uint32_t table; /* 0 = main */
};

/* Open addressing, linear probing; a slot with family 0 is free. */
struct route_set {
	struct route *slots;
	size_t cap; /* 0 or a power of two */
	size_t n;
};

/* Room for one more route, so that route_set_add() cannot fail: 0 or -ENOMEM. */
int route_set_reserve(struct route_set *s);
bool route_set_has(const struct route_set *s, const struct route *r);
/* Add r (route_set_reserve() first); nothing when it is there already. */
void route_set_add(struct route_set *s, const struct route *r);
/* Remove r; false when it was not there. */
bool route_set_remove(struct route_set *s, const struct route *r);
/* Free the slots; the set is empty and usable again. */
void route_set_clear(struct route_set *s);

#endif
