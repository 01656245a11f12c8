// SPDX-License-Identifier: MIT
/*
 * Cryptokey routing (WireGuard paper section 2): one path-compressed binary
 * trie per address family, mapping prefixes to the peer that owns them.
 * Lookup walks at most one node per prefix length on the path, with no
 * allocation and no locking. Of a peer this file knows only the list of the
 * nodes it owns (struct allowedips_list in struct peer), which makes every
 * per-peer call cost that peer's prefixes rather than the table's size.
 */
#include "allowedips.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peer_state.h"

/*
 * A node is a prefix. Nodes with a peer are prefixes someone inserted;
 * nodes without one only join two subtrees that diverge at bit cidr, and
 * exist only while they have two children (remove keeps that invariant, so
 * the trie never holds more than twice as many nodes as prefixes).
 * Owned by the table; children and parent are links inside it. A node with
 * a peer is on that peer's list (peer->allowed_ips), and only then; the
 * fields a walk down reads come first.
 */
struct allowedips_node {
	/* The prefix in host order, host bits clear; IPv4 uses hi's top 32 bits. */
	uint64_t hi, lo;
	struct allowedips_node *child[2]; /* by the bit at index cidr, counted from the top */
	uint8_t cidr;
	bool v6; /* in root6 */
	struct peer *peer; /* borrowed; NULL for a joining node */
	struct allowedips_node *parent;
	struct allowedips_node *peer_next, **peer_pprev; /* on peer->allowed_ips */
};

struct allowedips {
	struct allowedips_node *root4;
	struct allowedips_node *root6;
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
static unsigned int common_bits(const struct allowedips_node *n, struct key k)
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

static struct key node_key(const struct allowedips_node *n)
{
	return (struct key){.hi = n->hi, .lo = n->lo};
}

/* A node without an owner. */
static struct allowedips_node *node_new(struct key k, unsigned int cidr, bool v6,
					struct allowedips_node *parent)
{
	struct allowedips_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->hi = k.hi;
	n->lo = k.lo;
	n->cidr = (uint8_t)cidr;
	n->v6 = v6;
	n->parent = parent;
	return n;
}

/* Give n (without an owner) to peer: onto the front of its list. */
static void own(struct allowedips_node *n, struct peer *peer)
{
	struct allowedips_list *l = &peer->allowed_ips;

	n->peer = peer;
	n->peer_next = l->first;
	if (l->first)
		l->first->peer_pprev = &n->peer_next;
	l->first = n;
	n->peer_pprev = &l->first;
	l->n++;
}

/* Take n from its owner: off the owner's list, O(1). */
static void disown(struct allowedips_node *n)
{
	*n->peer_pprev = n->peer_next;
	if (n->peer_next)
		n->peer_next->peer_pprev = n->peer_pprev;
	n->peer->allowed_ips.n--;
	n->peer = NULL;
	n->peer_next = NULL;
	n->peer_pprev = NULL;
}

static struct allowedips_node **root_of(struct allowedips *t, sa_family_t family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

static struct allowedips_node *const *root_of_const(const struct allowedips *t, sa_family_t family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

/* The link that points at n: its parent's child slot, or the root. */
static struct allowedips_node **slot_of(struct allowedips_node **root, struct allowedips_node *n)
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
static struct allowedips_node *find_exact(struct allowedips_node *n, struct key k,
					  unsigned int cidr)
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

/* Owners' lists are emptied node by node: the peers may outlive the table. */
static void free_tree(struct allowedips_node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	if (n->peer)
		disown(n);
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
	struct allowedips_node **slot, *n, *parent = NULL, *fresh, *join;
	unsigned int cidr = p->cidr, common;
	bool v6 = p->family == AF_INET6;
	struct key k;

	if (!peer || !prefix_key(p, &k))
		return -EINVAL;

	/* Walk down while the node on the path is a (shorter) prefix of p. */
	slot = root_of(t, p->family);
	for (n = *slot; n && n->cidr <= cidr && common_bits(n, k) >= n->cidr; n = *slot) {
		if (n->cidr == cidr) {
			/* A new owner, or a joining node taking one. */
			if (n->peer != peer) {
				if (n->peer)
					disown(n);
				own(n, peer);
			}
			return 0;
		}
		parent = n;
		slot = &n->child[bit_at(k, n->cidr)];
	}

	fresh = node_new(k, cidr, v6, parent);
	if (!fresh)
		return -ENOMEM;
	if (!n) {
		*slot = fresh;
	} else if ((common = common_bits(n, k)) >= cidr) {
		/* p contains n: p takes n's place and n hangs below it. */
		fresh->child[bit_at(node_key(n), cidr)] = n;
		n->parent = fresh;
		*slot = fresh;
	} else {
		/* p and n diverge at bit common: a joining node holds both. */
		join = node_new(key_mask(k, common), common, v6, parent);
		if (!join) {
			free(fresh);
			return -ENOMEM;
		}
		join->child[bit_at(k, common)] = fresh;
		join->child[bit_at(node_key(n), common)] = n;
		fresh->parent = join;
		n->parent = join;
		*slot = join;
	}
	own(fresh, peer);
	return 0;
}

/*
 * n has just lost its owner: unlink it if it is no longer needed, and its
 * ancestors that this leaves as joining nodes with fewer than two children.
 */
static void tidy(struct allowedips_node **root, struct allowedips_node *n)
{
	while (n && !n->peer && !(n->child[0] && n->child[1])) {
		struct allowedips_node *child = n->child[0] ? n->child[0] : n->child[1];
		struct allowedips_node *parent = n->parent;

		*slot_of(root, n) = child;
		if (child)
			child->parent = parent;
		free(n);
		n = parent;
	}
}

int allowedips_remove(struct allowedips *t, const struct ip_prefix *p, struct peer *peer)
{
	struct allowedips_node **root, *n;
	struct key k;

	if (!peer || !prefix_key(p, &k))
		return -ENOENT;
	root = root_of(t, p->family);
	n = find_exact(*root, k, p->cidr);
	if (!n || n->peer != peer)
		return -ENOENT;
	disown(n);
	tidy(root, n);
	return 0;
}

/*
 * From the peer's list: tidy() frees the node and at most its parent (a
 * joining node left with one child), neither of them on any list.
 */
void allowedips_remove_peer(struct allowedips *t, struct peer *peer)
{
	struct allowedips_node *n;

	if (!peer)
		return;
	while ((n = peer->allowed_ips.first)) {
		bool v6 = n->v6;

		disown(n);
		tidy(v6 ? &t->root6 : &t->root4, n);
	}
}

struct peer *allowedips_lookup(const struct allowedips *t, sa_family_t family, const void *addr)
{
	const struct allowedips_node *n;
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
	const struct allowedips_node *n;
	struct key k;

	if (!prefix_key(p, &k))
		return NULL;
	n = find_exact(*root_of_const(t, p->family), k, p->cidr);
	return n ? n->peer : NULL;
}

static void node_prefix(const struct allowedips_node *n, sa_family_t family, struct ip_prefix *p)
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
static void walk(const struct allowedips_node *n, sa_family_t family, const struct peer *peer,
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

/* The walk's order: IPv4 first, then by address, then shorter first. */
static int node_cmp(const void *pa, const void *pb)
{
	const struct allowedips_node *a = *(const struct allowedips_node *const *)pa;
	const struct allowedips_node *b = *(const struct allowedips_node *const *)pb;

	if (a->v6 != b->v6)
		return a->v6 ? 1 : -1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (int)a->cidr - (int)b->cidr;
}

static void emit(const struct allowedips_node *n, allowedips_walk_fn fn, void *ctx)
{
	struct ip_prefix p;

	node_prefix(n, n->v6 ? AF_INET6 : AF_INET, &p);
	fn(&p, ctx);
}

/* Peers own a few prefixes each, as a rule: those sort on the stack. */
#define SORT_ON_STACK 32

void allowedips_for_peer(const struct allowedips *t, const struct peer *peer, allowedips_walk_fn fn,
			 void *ctx)
{
	const struct allowedips_node *stack[SORT_ON_STACK], **v = stack, *n;
	size_t k, i = 0;

	if (!peer)
		return;
	k = peer->allowed_ips.n;
	if (k > SORT_ON_STACK) {
		v = malloc(k * sizeof(*v));
		if (!v) {
			/* No memory for the order: the whole trie is in it already. */
			walk(t->root4, AF_INET, peer, fn, ctx);
			walk(t->root6, AF_INET6, peer, fn, ctx);
			return;
		}
	}
	for (n = peer->allowed_ips.first; n && i < k; n = n->peer_next)
		v[i++] = n;
	qsort(v, i, sizeof(*v), node_cmp);
	for (size_t j = 0; j < i; j++)
		emit(v[j], fn, ctx);
	if (v != stack)
		free(v);
}

void allowedips_for_peer_unordered(const struct allowedips *t, const struct peer *peer,
				   allowedips_walk_fn fn, void *ctx)
{
	const struct allowedips_node *n;

	(void)t;
	if (!peer)
		return;
	for (n = peer->allowed_ips.first; n; n = n->peer_next)
		emit(n, fn, ctx);
}

size_t allowedips_count(const struct allowedips *t, const struct peer *peer)
{
	(void)t;
	return peer ? peer->allowed_ips.n : 0;
}

static size_t nodes(const struct allowedips_node *n)
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
 * n's owner's list, from its first node n: linked both ways, all the same
 * owner, as long as the owner says. Adds its length to *listed.
 */
static bool check_list(const struct allowedips_node *n, size_t *listed)
{
	const struct peer *owner = n->peer;
	size_t len = 0;

	for (; n && len <= owner->allowed_ips.n; n = n->peer_next, len++) {
		if (n->peer != owner || *n->peer_pprev != n)
			return false;
		if (n->peer_next && n->peer_next->peer_pprev != &n->peer_next)
			return false;
	}
	*listed += len;
	return len == owner->allowed_ips.n;
}

/* What check() counts: nodes with an owner in the trie, and on the owners' lists. */
struct check_counts {
	size_t owned, listed;
};

/*
 * Below parent, at side `side`: each node is a strictly longer prefix of
 * its parent on the right side, has host bits clear, links back, and is a
 * joining node only while it has two children; a node is on its owner's
 * list (whole lists checked from their first node) and only then on one.
 */
static bool check(const struct allowedips_node *n, const struct allowedips_node *parent,
		  unsigned int side, unsigned int bits, struct check_counts *c)
{
	for (; n; parent = n, n = n->child[1], side = 1) {
		struct key k = node_key(n);

		if (n->parent != parent || n->cidr > bits || n->v6 != (bits == 128))
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
		if (!n->peer && (n->peer_next || n->peer_pprev))
			return false;
		if (n->peer) {
			c->owned++;
			if (!n->peer_pprev || *n->peer_pprev != n)
				return false;
			if (n->peer_pprev == &n->peer->allowed_ips.first &&
			    !check_list(n, &c->listed))
				return false;
		}
		if (!check(n->child[0], n, 0, bits, c))
			return false;
	}
	return true;
}

/* Every list is found from its first node, so lists hold just the trie's owned nodes. */
bool allowedips_selfcheck(const struct allowedips *t)
{
	struct check_counts c = {0, 0};

	if (!check(t->root4, NULL, 0, 32, &c) || !check(t->root6, NULL, 0, 128, &c))
		return false;
	return c.owned == c.listed;
}
