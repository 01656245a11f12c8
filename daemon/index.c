// SPDX-License-Identifier: MIT
/*
 * The receiver-index table: a chained hash table keyed by indices we choose
 * at random, so the index itself is a good hash and needs no mixing. It
 * grows to keep chains short; it never shrinks below its initial size.
 */
#include "index.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "crypto.h"

#define INITIAL_BUCKETS 256

struct index_table {
	struct index_entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t count;
};

int index_table_create(struct index_table **out)
{
	struct index_table *t;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	t->n_buckets = INITIAL_BUCKETS;
	*out = t;
	return 0;
}

void index_table_destroy(struct index_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		for (struct index_entry *e = t->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = NULL;
			e->is_hashed = 0;
		}
	}
	free(t->buckets);
	free(t);
}

static struct index_entry **bucket(const struct index_table *t, uint32_t index)
{
	return &t->buckets[index & (t->n_buckets - 1)];
}

static void link_entry(struct index_table *t, struct index_entry *e)
{
	struct index_entry **b = bucket(t, e->index);

	e->next = *b;
	*b = e;
	e->is_hashed = 1;
	t->count++;
}

static void unlink_entry(struct index_table *t, struct index_entry *e)
{
	for (struct index_entry **p = bucket(t, e->index); *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	e->next = NULL;
	e->is_hashed = 0;
	t->count--;
}

static bool index_in_use(const struct index_table *t, uint32_t index)
{
	for (const struct index_entry *e = *bucket(t, index); e; e = e->next)
		if (e->index == index)
			return true;
	return false;
}

/* Double the buckets when the load factor passes 1; failure keeps the old size. */
static void maybe_grow(struct index_table *t)
{
	struct index_entry **nb;
	size_t n = t->n_buckets * 2;

	if (t->count < t->n_buckets)
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (size_t i = 0; i < t->n_buckets; i++) {
		for (struct index_entry *e = t->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = nb[e->index & (n - 1)];
			nb[e->index & (n - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->n_buckets = n;
}

uint32_t index_table_insert(struct index_table *t, struct index_entry *entry)
{
	uint32_t index;

	if (entry->is_hashed)
		unlink_entry(t, entry);
	maybe_grow(t);
	/* Zero is reserved for "no index"; collisions are rare, so retry. */
	do {
		if (crypto_random(&index, sizeof(index)) != 0)
			return 0;
	} while (index == 0 || index_in_use(t, index));
	entry->index = index;
	link_entry(t, entry);
	return index;
}

void index_table_replace(struct index_table *t, struct index_entry *old, struct index_entry *new)
{
	if (!old->is_hashed)
		return;
	if (new->is_hashed)
		unlink_entry(t, new);
	unlink_entry(t, old);
	new->index = old->index;
	old->index = 0;
	link_entry(t, new);
}

void index_table_remove(struct index_table *t, struct index_entry *entry)
{
	if (entry->is_hashed)
		unlink_entry(t, entry);
	entry->index = 0;
}

struct index_entry *index_table_lookup(const struct index_table *t, unsigned int type_mask,
				       uint32_t index)
{
	for (struct index_entry *e = *bucket(t, index); e; e = e->next)
		if (e->index == index)
			return (e->type & type_mask) ? e : NULL;
	return NULL;
}

size_t index_table_count(const struct index_table *t)
{
	return t->count;
}
