/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing (WireGuard paper section 2): a longest-prefix-match
 * table from IPv4 and IPv6 prefixes to the peer that owns them. An allowed
 * IP belongs to at most one peer; inserting it for another peer moves it.
 * Used both ways: the destination of an outgoing packet picks the peer, and
 * the source of a decrypted incoming packet must map back to its sender.
 */
#ifndef TUND_ALLOWEDIPS_H
#define TUND_ALLOWEDIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"

struct peer;
struct allowedips;

/*
 * Each peer lists the prefixes it owns (struct allowedips_list, in struct
 * peer: peer_state.h), so that the per-peer calls below cost that peer's
 * prefixes, not the table's size. Only the table changes those lists.
 */

int allowedips_create(struct allowedips **out);
/* Frees the table, not the peers (their lists are left empty). NULL is a no-op. */
void allowedips_destroy(struct allowedips *t);

/*
 * Map prefix p (host bits are ignored) to peer, replacing any previous owner.
 * Returns 0, -ENOMEM (the table is then unchanged), or -EINVAL for a NULL
 * peer, a family other than AF_INET/AF_INET6 or a length beyond 32/128.
 */
int allowedips_insert(struct allowedips *t, const struct ip_prefix *p, struct peer *peer);
/* Remove p if peer owns it: 0, or -ENOENT when p is absent or owned by another. */
int allowedips_remove(struct allowedips *t, const struct ip_prefix *p, struct peer *peer);
/* Remove every prefix peer owns: O(its prefixes). */
void allowedips_remove_peer(struct allowedips *t, struct peer *peer);

/* Longest-prefix match; addr is 4 or 16 bytes in network order. NULL when none. */
struct peer *allowedips_lookup(const struct allowedips *t, sa_family_t family, const void *addr);

/* The owner of exactly prefix p (masked), or NULL. */
struct peer *allowedips_owner(const struct allowedips *t, const struct ip_prefix *p);

/*
 * Call fn for each prefix peer owns (masked; IPv4 first, then IPv6, each in
 * address order, a shorter prefix before a longer one at the same address:
 * the order routes are listed and compared in). O(k log k) for the peer's k
 * prefixes; it sorts them in a buffer (on the stack while k is small), and
 * only if that allocation fails walks the whole trie instead.
 * fn must not change the table.
 */
typedef void (*allowedips_walk_fn)(const struct ip_prefix *p, void *ctx);
void allowedips_for_peer(const struct allowedips *t, const struct peer *peer, allowedips_walk_fn fn,
			 void *ctx);
/* As allowedips_for_peer in no particular order: O(k), never allocates. */
void allowedips_for_peer_unordered(const struct allowedips *t, const struct peer *peer,
				   allowedips_walk_fn fn, void *ctx);
/* How many prefixes peer owns: O(1). */
size_t allowedips_count(const struct allowedips *t, const struct peer *peer);

/*
 * For tests and statistics: trie nodes in use (prefixes plus the joining
 * nodes between them, never more than twice the prefixes), and a check of
 * the trie's internal invariants and of every owner's list (true when sound).
 */
size_t allowedips_nodes(const struct allowedips *t);
bool allowedips_selfcheck(const struct allowedips *t);

#endif
