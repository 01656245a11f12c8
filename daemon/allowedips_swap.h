/* SPDX-License-Identifier: MIT */
/*
 * A peer's allowed IPs replaced as one step, so that a failure (no memory
 * for a trie node) leaves the table as it was: the new prefixes are
 * inserted first, each one's previous owner noted, and only then are the
 * old ones the new list lacks removed. Undoing an insert (giving the prefix
 * back, or removing it) and removing never allocate. In between, the
 * caller may do other fallible work and undo on failure (iface.c updates
 * the peer's other settings there). For the k prefixes the peer had and
 * the m it gets, it costs O(k + m log m + k log m) plus a few trie walks
 * (each at most one node per prefix length) per prefix, not the table's size.
 */
#ifndef TUND_ALLOWEDIPS_SWAP_H
#define TUND_ALLOWEDIPS_SWAP_H

#include <stddef.h>

#include "addr.h"

struct allowedips;
struct peer;

struct allowedips_swap {
	struct allowedips *table; /* borrowed */
	struct peer *peer; /* borrowed: whose prefixes are replaced */
	const struct ip_prefix *want; /* borrowed: the new list, n_want long */
	size_t n_want;
	struct peer **prev; /* owned: the owner of want[i] before it was inserted */
	size_t n_inserted;
	struct ip_prefix *old; /* owned: what the peer owned at begin */
	size_t n_old, cap_old;
	struct ip_prefix *sorted; /* owned: want, masked and sorted, to look old ones up */
};

/* Allocate all the swap needs; nothing changes yet. 0 or -ENOMEM (nothing to end). */
int allowedips_swap_begin(struct allowedips_swap *s, struct allowedips *table, struct peer *peer,
			  const struct ip_prefix *want, size_t n_want);
/* Give peer every prefix of the new list. 0, or -errno with the table as it was. */
int allowedips_swap_insert(struct allowedips_swap *s);
/* Undo a successful allowedips_swap_insert(); never fails. */
void allowedips_swap_undo(struct allowedips_swap *s);
/* Remove the old prefixes the new list lacks; never fails. */
void allowedips_swap_commit(struct allowedips_swap *s);
/* Free what begin allocated. */
void allowedips_swap_end(struct allowedips_swap *s);

#endif
