// SPDX-License-Identifier: MIT
/*
 * Cryptokey routing (WireGuard paper section 2): one path-compressed binary
 * trie per address family, mapping prefixes to the peer that owns them.
 * Lookup walks at most one node per prefix length on the path, with no
 * allocation and no locking; this file does not know what a peer is.
 */
#include "allowedips.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * A node is a prefix. Nodes with a peer are prefixes someone inserted;
 * nodes without one only join two subtrees that diverge at bit cidr, and
 * exist only while they have two children (remove keeps that invariant, so
 * the trie never holds more than twice as many nodes as prefixes).
 * Owned by the table; children and parent are links inside it.
 */
struct node {
	/* The prefix in host order, host bits clear; IPv4 uses hi's top 32 bits. */
	uint64_t hi, lo;
	struct node *child[2]; /* by the bit at index cidr, counted from the top */
	struct node *parent;
	struct peer *peer; /* borrowed; NULL for a joining node */
	uint8_t cidr;
};

struct allowedips {
	struct node *root4;
	struct node *root6;
};

/* Address bits as two host-order words, so that matching is xor and count. */
struct key {
	uint64_t hi, lo;
};

static unsigned int family_bits(sa_family_t family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

static struct key key_from(sa_family_t family, const void *addr)
{
	struct key k;

	if (family == AF_INET) {
		uint32_t v4;

		memcpy(&v4, addr, sizeof(v4));
		k.hi = (uint64_t)be32toh(v4) << 32;
		k.lo = 0;
	} else {
		uint64_t w[2];

		memcpy(w, addr, sizeof(w));
		k.hi = be64toh(w[0]);
		k.lo = be64toh(w[1]);
	}
	return k;
}

static struct key key_mask(struct key k, unsigned int cidr)
{
	if (cidr == 0) {
		k.hi = 0;
		k.lo = 0;
	} else if (cidr < 64) {
		k.hi &= ~UINT64_C(0) << (64 - cidr);
		k.lo = 0;
	} else if (cidr == 64) {
		k.lo = 0;
	} else if (cidr < 128) {
		k.lo &= ~UINT64_C(0) << (128 - cidr);
	}
	return k;
}

/* How many leading bits the node's prefix and k share (128 when all). */
static unsigned int common_bits(const struct node *n, struct key k)
{
	uint64_t x = n->hi ^ k.hi;

	if (x)
		return (unsigned int)__builtin_clzll(x);
	x = n->lo ^ k.lo;
	if (x)
		return 64 + (unsigned int)__builtin_clzll(x);
	return 128;
}

/*
 * The bit at index pos (0 = most significant). pos 128 only occurs below a
 * /128 node, which has no children; the mask keeps that shift defined.
 */
static unsigned int bit_at(struct key k, unsigned int pos)
{
	if (pos < 64)
		return (unsigned int)(k.hi >> (63 - pos)) & 1;
	return (unsigned int)(k.lo >> ((127 - pos) & 63)) & 1;
}

static struct key node_key(const struct node *n)
{
	return (struct key){.hi = n->hi, .lo = n->lo};
}

static struct node *node_new(struct key k, unsigned int cidr, struct peer *peer,
			     struct node *parent)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->hi = k.hi;
	n->lo = k.lo;
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	n->parent = parent;
	return n;
}

static struct node **root_of(struct allowedips *t, sa_family_t family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

static struct node *const *root_of_const(const struct allowedips *t, sa_family_t family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

/* The link that points at n: its parent's child slot, or the root. */
static struct node **slot_of(struct node **root, struct node *n)
{
	if (!n->parent)
		return root;
	return &n->parent->child[n->parent->child[1] == n];
}

/* Validate p and return its masked key; false for a bad family or length. */
static bool prefix_key(const struct ip_prefix *p, struct key *k)
{
	unsigned int bits = family_bits(p->family);

	if (!bits || p->cidr > bits)
		return false;
	*k = key_mask(key_from(p->family, p->addr.bytes), p->cidr);
	return true;
}

/* The node for exactly (k, cidr), joining nodes included, or NULL. */
static struct node *find_exact(struct node *n, struct key k, unsigned int cidr)
{
	while (n && n->cidr <= cidr && common_bits(n, k) >= n->cidr) {
		if (n->cidr == cidr)
			return n;
		n = n->child[bit_at(k, n->cidr)];
	}
	return NULL;
}

int allowedips_create(struct allowedips **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void free_tree(struct node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	free(n);
}

void allowedips_destroy(struct allowedips *t)
{
	if (!t)
		return;
	free_tree(t->root4);
	free_tree(t->root6);
	free(t);
}

int allowedips_insert(struct allowedips *t, const struct ip_prefix *p, struct peer *peer)
{
	struct node **slot, *n, *parent = NULL, *fresh, *join;
	unsigned int cidr = p->cidr, common;
	struct key k;

	if (!peer || !prefix_key(p, &k))
		return -EINVAL;

	/* Walk down while the node on the path is a (shorter) prefix of p. */
	slot = root_of(t, p->family);
	for (n = *slot; n && n->cidr <= cidr && common_bits(n, k) >= n->cidr; n = *slot) {
		if (n->cidr == cidr) {
			n->peer = peer; /* new prefix, or a joining node taking an owner */
			return 0;
		}
		parent = n;
		slot = &n->child[bit_at(k, n->cidr)];
	}

	fresh = node_new(k, cidr, peer, parent);
	if (!fresh)
		return -ENOMEM;
	if (!n) {
		*slot = fresh;
		return 0;
	}

	common = common_bits(n, k);
	if (common >= cidr) {
		/* p contains n: p takes n's place and n hangs below it. */
		fresh->child[bit_at(node_key(n), cidr)] = n;
		n->parent = fresh;
		*slot = fresh;
		return 0;
	}

	/* p and n diverge at bit common: a joining node holds both. */
	join = node_new(key_mask(k, common), common, NULL, parent);
	if (!join) {
		free(fresh);
		return -ENOMEM;
	}
	join->child[bit_at(k, common)] = fresh;
	join->child[bit_at(node_key(n), common)] = n;
	fresh->parent = join;
	n->parent = join;
	*slot = join;
	return 0;
}

/*
 * n has just lost its owner: unlink it if it is no longer needed, and its
 * ancestors that this leaves as joining nodes with fewer than two children.
 */
static void tidy(struct node **root, struct node *n)
{
	while (n && !n->peer && !(n->child[0] && n->child[1])) {
		struct node *child = n->child[0] ? n->child[0] : n->child[1];
		struct node *parent = n->parent;

		*slot_of(root, n) = child;
		if (child)
			child->parent = parent;
		free(n);
		n = parent;
	}
}

int allowedips_remove(struct allowedips *t, const struct ip_prefix *p, struct peer *peer)
{
	struct node **root, *n;
	struct key k;

	if (!peer || !prefix_key(p, &k))
		return -ENOENT;
	root = root_of(t, p->family);
	n = find_exact(*root, k, p->cidr);
	if (!n || n->peer != peer)
		return -ENOENT;
	n->peer = NULL;
	tidy(root, n);
	return 0;
}

/* Post-order: clear peer's prefixes below n; returns what now stands in n's place. */
static struct node *prune(struct node *n, const struct peer *peer)
{
	struct node *child;
	int i;

	if (!n)
		return NULL;
	for (i = 0; i < 2; i++) {
		n->child[i] = prune(n->child[i], peer);
		if (n->child[i])
			n->child[i]->parent = n;
	}
	if (n->peer == peer)
		n->peer = NULL;
	if (n->peer || (n->child[0] && n->child[1]))
		return n;
	child = n->child[0] ? n->child[0] : n->child[1];
	free(n);
	return child;
}

void allowedips_remove_peer(struct allowedips *t, struct peer *peer)
{
	if (!peer)
		return;
	t->root4 = prune(t->root4, peer);
	if (t->root4)
		t->root4->parent = NULL;
	t->root6 = prune(t->root6, peer);
	if (t->root6)
		t->root6->parent = NULL;
}

struct peer *allowedips_lookup(const struct allowedips *t, sa_family_t family, const void *addr)
{
	const struct node *n;
	struct peer *best = NULL;
	struct key k;

	if (family == AF_INET)
		n = t->root4;
	else if (family == AF_INET6)
		n = t->root6;
	else
		return NULL;
	k = key_from(family, addr);
	/* Every node on the path that still matches is a longer prefix than the last. */
	while (n && common_bits(n, k) >= n->cidr) {
		if (n->peer)
			best = n->peer;
		n = n->child[bit_at(k, n->cidr)];
	}
	return best;
}

struct peer *allowedips_owner(const struct allowedips *t, const struct ip_prefix *p)
{
	const struct node *n;
	struct key k;

	if (!prefix_key(p, &k))
		return NULL;
	n = find_exact(*root_of_const(t, p->family), k, p->cidr);
	return n ? n->peer : NULL;
}

static void node_prefix(const struct node *n, sa_family_t family, struct ip_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	p->cidr = n->cidr;
	if (family == AF_INET) {
		uint32_t v4 = htobe32((uint32_t)(n->hi >> 32));

		memcpy(p->addr.bytes, &v4, sizeof(v4));
	} else {
		uint64_t w[2] = {htobe64(n->hi), htobe64(n->lo)};

		memcpy(p->addr.bytes, w, sizeof(w));
	}
}

/*
 * Pre-order visits a prefix before everything inside it and the 0 side
 * before the 1 side: address order, shorter first when addresses are equal.
 */
static void walk(const struct node *n, sa_family_t family, const struct peer *peer,
		 allowedips_walk_fn fn, void *ctx)
{
	for (; n; n = n->child[1]) {
		if (n->peer == peer) {
			struct ip_prefix p;

			node_prefix(n, family, &p);
			fn(&p, ctx);
		}
		walk(n->child[0], family, peer, fn, ctx);
	}
}

void allowedips_for_peer(const struct allowedips *t, const struct peer *peer, allowedips_walk_fn fn,
			 void *ctx)
{
	if (!peer)
		return;
	walk(t->root4, AF_INET, peer, fn, ctx);
	walk(t->root6, AF_INET6, peer, fn, ctx);
}

static size_t count(const struct node *n, const struct peer *peer)
{
	size_t c = 0;

	for (; n; n = n->child[1])
		c += (n->peer == peer) + count(n->child[0], peer);
	return c;
}

size_t allowedips_count(const struct allowedips *t, const struct peer *peer)
{
	if (!peer)
		return 0;
	return count(t->root4, peer) + count(t->root6, peer);
}

static size_t nodes(const struct node *n)
{
	size_t c = 0;

	for (; n; n = n->child[1])
		c += 1 + nodes(n->child[0]);
	return c;
}

size_t allowedips_nodes(const struct allowedips *t)
{
	return nodes(t->root4) + nodes(t->root6);
}

/* The bits after the first cidr, shifted to the top; written apart from key_mask(). */
static uint64_t host_bits(struct key k, unsigned int cidr)
{
	if (cidr < 64)
		return (k.hi << cidr) | k.lo;
	if (cidr < 128)
		return k.lo << (cidr - 64);
	return 0;
}

/*
 * Below parent, at side `side`: each node is a strictly longer prefix of
 * its parent on the right side, has host bits clear, links back, and is a
 * joining node only while it has two children.
 */
static bool check(const struct node *n, const struct node *parent, unsigned int side,
		  unsigned int bits)
{
	for (; n; parent = n, n = n->child[1], side = 1) {
		struct key k = node_key(n);

		if (n->parent != parent || n->cidr > bits)
			return false;
		if (host_bits(k, n->cidr))
			return false;
		if (bits == 32 && (k.hi & 0xffffffffu))
			return false;
		if (!n->peer && !(n->child[0] && n->child[1]))
			return false;
		if (parent && (n->cidr <= parent->cidr || common_bits(parent, k) < parent->cidr ||
			       bit_at(k, parent->cidr) != side))
			return false;
		if (!check(n->child[0], n, 0, bits))
			return false;
	}
	return true;
}

bool allowedips_selfcheck(const struct allowedips *t)
{
	return check(t->root4, NULL, 0, 32) && check(t->root6, NULL, 0, 128);
}
