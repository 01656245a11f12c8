// SPDX-License-Identifier: MIT
/* Replacing a peer's allowed IPs all or nothing; see allowedips_swap.h. */
#include "allowedips_swap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"

static int prefix_cmp(const void *pa, const void *pb)
{
	const struct ip_prefix *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->cidr != b->cidr)
		return a->cidr < b->cidr ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes, a->family == AF_INET ? 4 : 16);
}

static void collect_old(const struct ip_prefix *p, void *ctx)
{
	struct allowedips_swap *s = ctx;

	if (s->n_old < s->cap_old)
		s->old[s->n_old++] = *p;
}

void allowedips_swap_end(struct allowedips_swap *s)
{
	free(s->prev);
	free(s->old);
	free(s->sorted);
	s->prev = NULL;
	s->old = s->sorted = NULL;
}

int allowedips_swap_begin(struct allowedips_swap *s, struct allowedips *table, struct peer *peer,
			  const struct ip_prefix *want, size_t n_want)
{
	size_t n = n_want ? n_want : 1;

	*s = (struct allowedips_swap){.table = table, .peer = peer, .want = want, .n_want = n_want};
	s->cap_old = allowedips_count(table, peer);
	s->prev = calloc(n, sizeof(*s->prev));
	s->sorted = calloc(n, sizeof(*s->sorted));
	s->old = calloc(s->cap_old ? s->cap_old : 1, sizeof(*s->old));
	if (!s->prev || !s->sorted || !s->old) {
		allowedips_swap_end(s);
		return -ENOMEM;
	}
	allowedips_for_peer_unordered(table, peer, collect_old, s);
	for (size_t i = 0; i < n_want; i++) {
		s->sorted[i] = want[i];
		prefix_mask(&s->sorted[i]);
	}
	qsort(s->sorted, n_want, sizeof(*s->sorted), prefix_cmp);
	return 0;
}

int allowedips_swap_insert(struct allowedips_swap *s)
{
	for (size_t i = 0; i < s->n_want; i++) {
		int rc;

		s->prev[i] = allowedips_owner(s->table, &s->want[i]);
		rc = allowedips_insert(s->table, &s->want[i], s->peer);
		if (rc != 0) {
			allowedips_swap_undo(s);
			return rc;
		}
		s->n_inserted++;
	}
	return 0;
}

/* The latest first: a prefix listed twice was its own previous owner the second time. */
void allowedips_swap_undo(struct allowedips_swap *s)
{
	while (s->n_inserted) {
		size_t i = --s->n_inserted;

		/* The prefix's node exists: giving it back an owner allocates nothing. */
		if (s->prev[i])
			(void)allowedips_insert(s->table, &s->want[i], s->prev[i]);
		else
			(void)allowedips_remove(s->table, &s->want[i], s->peer);
	}
}

void allowedips_swap_commit(struct allowedips_swap *s)
{
	for (size_t i = 0; i < s->n_old; i++)
		if (!bsearch(&s->old[i], s->sorted, s->n_want, sizeof(*s->sorted), prefix_cmp))
			(void)allowedips_remove(s->table, &s->old[i], s->peer);
}
