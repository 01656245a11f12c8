// SPDX-License-Identifier: MIT
/*
 * The allowed-IPs trie: hand cases, then a differential test against a
 * naive list with a linear longest-match scan under random prefixes (the
 * idea of the driver's selftest/allowedips.c), remove_peer and walk order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sys/types.h>

#include <cmocka.h>

#include "allowedips.h"
#include "peer_state.h"
#include "support.h"

/* Zeroed peers: the table uses only their allowed_ips lists (empty when zero). */
#define N_TEST_PEERS 1024
static struct peer peer_storage[N_TEST_PEERS];
#define PEER(i) (&peer_storage[(i)])

/* "10.0.0.0/8", "2001:db8::1" (a host prefix without "/N"); host bits kept. */
static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p;
	char buf[64];
	char *slash;

	memset(&p, 0, sizeof(p));
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, p.addr.bytes) == 1) {
		p.family = AF_INET;
		p.cidr = 32;
	} else if (inet_pton(AF_INET6, buf, p.addr.bytes) == 1) {
		p.family = AF_INET6;
		p.cidr = 128;
	} else {
		fail_msg("test bug: bad address %s", s);
	}
	if (slash)
		p.cidr = (uint8_t)atoi(slash + 1);
	return p;
}

static struct peer *lookup_str(const struct allowedips *t, const char *s)
{
	struct ip_prefix p = pfx(s);

	return allowedips_lookup(t, p.family, p.addr.bytes);
}

static void insert_str(struct allowedips *t, const char *s, struct peer *peer)
{
	struct ip_prefix p = pfx(s);

	assert_int_equal(allowedips_insert(t, &p, peer), 0);
}

static int remove_str(struct allowedips *t, const char *s, struct peer *peer)
{
	struct ip_prefix p = pfx(s);

	return allowedips_remove(t, &p, peer);
}

/* Index of a test peer for messages; -1 for none. */
static int peer_index(const struct peer *peer)
{
	return peer ? (int)(peer - peer_storage) : -1;
}

/* ---- hand cases ---- */

struct owner_case {
	const char *prefix;
	int peer; /* index into peer_storage */
};

struct lookup_case {
	const char *addr;
	int peer; /* -1: no owner */
};

enum {
	A,
	B,
	C,
	D,
	E,
	F,
	G,
	H,
	I,
	J,
	K
};

static const struct owner_case hand_inserts[] = {
	{"0.0.0.0/0", A},	  {"10.0.0.0/8", B},	{"10.1.0.0/16", C},
	{"10.1.2.3/32", D},	  {"10.1.2.200/25", E}, /* host bits: means 10.1.2.128/25 */
	{"192.168.0.0/24", F},	  {"2001:db8::/32", G}, {"2001:db8:1::/48", H},
	{"2001:db8:1::1/128", I}, {"::ffff:0:0/96", J}, /* IPv4-mapped: must not answer IPv4 lookups
							 */
	{"fe80::/10", K},
};

static const struct lookup_case hand_lookups[] = {
	{"10.2.3.4", B},
	{"10.1.9.9", C},
	{"10.1.2.3", D},
	{"10.1.2.4", C},
	{"10.1.2.127", C},
	{"10.1.2.128", E},
	{"10.1.2.200", E},
	{"10.1.2.255", E},
	{"10.255.255.255", B},
	{"11.0.0.0", A},
	{"9.255.255.255", A},
	{"192.168.0.77", F},
	{"192.168.1.1", A},
	{"0.0.0.0", A},
	{"255.255.255.255", A},
	{"2001:db8::1", G},
	{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", G},
	{"2001:db8:1::1", I},
	{"2001:db8:1::2", H},
	{"2001:db8:1:ffff::", H},
	{"2001:db9::", -1},
	{"2001:db7:ffff::", -1},
	{"::ffff:10.1.2.3", J},
	{"::ffff:1.2.3.4", J},
	{"::fffe:10.1.2.3", -1},
	{"::", -1},
	{"a01:203::", -1}, /* 10.1.2.3's bytes at the front of an IPv6 address */
	{"fe80::1", K},
	{"febf:ffff::", K},
	{"fec0::", -1},
	{"fe7f:ffff::", -1},
};

static void check_lookups(const struct allowedips *t, const struct lookup_case *cases, size_t n)
{
	size_t i;
	int failures = 0;

	for (i = 0; i < n; i++) {
		struct peer *want = cases[i].peer < 0 ? NULL : PEER(cases[i].peer);
		struct peer *got = lookup_str(t, cases[i].addr);

		if (got != want) {
			print_error("lookup %s: got peer %d, expected %d\n", cases[i].addr,
				    peer_index(got), cases[i].peer);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static struct allowedips *hand_table(void)
{
	struct allowedips *t;
	size_t i;

	assert_int_equal(allowedips_create(&t), 0);
	for (i = 0; i < sizeof(hand_inserts) / sizeof(hand_inserts[0]); i++)
		insert_str(t, hand_inserts[i].prefix, PEER(hand_inserts[i].peer));
	assert_true(allowedips_selfcheck(t));
	return t;
}

static void test_hand_lookups(void **state)
{
	struct allowedips *t = hand_table();

	(void)state;
	check_lookups(t, hand_lookups, sizeof(hand_lookups) / sizeof(hand_lookups[0]));
	allowedips_destroy(t);
}

/* The same table inserted in reverse order gives the same answers. */
static void test_hand_lookups_reverse_order(void **state)
{
	struct allowedips *t;
	size_t i = sizeof(hand_inserts) / sizeof(hand_inserts[0]);

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	while (i--)
		insert_str(t, hand_inserts[i].prefix, PEER(hand_inserts[i].peer));
	assert_true(allowedips_selfcheck(t));
	check_lookups(t, hand_lookups, sizeof(hand_lookups) / sizeof(hand_lookups[0]));
	allowedips_destroy(t);
}

static void test_owner_exact(void **state)
{
	struct allowedips *t = hand_table();
	struct ip_prefix p;

	(void)state;
	p = pfx("10.1.0.0/16");
	assert_ptr_equal(allowedips_owner(t, &p), PEER(C));
	p = pfx("10.1.255.255/16"); /* host bits ignored */
	assert_ptr_equal(allowedips_owner(t, &p), PEER(C));
	p = pfx("10.1.0.0/17"); /* inside C, but not C */
	assert_null(allowedips_owner(t, &p));
	p = pfx("10.1.2.128/25");
	assert_ptr_equal(allowedips_owner(t, &p), PEER(E));
	p = pfx("0.0.0.0/0");
	assert_ptr_equal(allowedips_owner(t, &p), PEER(A));
	p = pfx("::/0");
	assert_null(allowedips_owner(t, &p));
	p = pfx("::ffff:0:0/96");
	assert_ptr_equal(allowedips_owner(t, &p), PEER(J));
	/* a joining node between 10.1.2.3/32 and 10.1.2.128/25 is no prefix */
	p = pfx("10.1.2.0/24");
	assert_null(allowedips_owner(t, &p));
	allowedips_destroy(t);
}

static void test_families_separate(void **state)
{
	struct allowedips *t;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	insert_str(t, "::/0", PEER(A));
	assert_ptr_equal(lookup_str(t, "::1"), PEER(A));
	assert_null(lookup_str(t, "1.2.3.4"));
	assert_null(lookup_str(t, "0.0.0.0"));
	insert_str(t, "0.0.0.0/0", PEER(B));
	assert_ptr_equal(lookup_str(t, "1.2.3.4"), PEER(B));
	assert_ptr_equal(lookup_str(t, "::ffff:1.2.3.4"), PEER(A));
	assert_int_equal(remove_str(t, "::/0", PEER(A)), 0);
	assert_null(lookup_str(t, "::ffff:1.2.3.4"));
	assert_ptr_equal(lookup_str(t, "1.2.3.4"), PEER(B));
	insert_str(t, "::ffff:1.2.3.4/128", PEER(C));
	assert_ptr_equal(lookup_str(t, "1.2.3.4"), PEER(B));
	assert_ptr_equal(lookup_str(t, "::ffff:1.2.3.4"), PEER(C));
	assert_int_equal(allowedips_count(t, PEER(A)), 0);
	assert_int_equal(allowedips_count(t, PEER(B)), 1);
	assert_int_equal(allowedips_count(t, PEER(C)), 1);
	allowedips_destroy(t);
}

static void test_replace_owner(void **state)
{
	struct allowedips *t;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	insert_str(t, "10.0.0.0/8", PEER(A));
	insert_str(t, "10.0.0.0/8", PEER(B));
	assert_ptr_equal(lookup_str(t, "10.9.9.9"), PEER(B));
	assert_int_equal(allowedips_count(t, PEER(A)), 0);
	assert_int_equal(allowedips_count(t, PEER(B)), 1);
	/* the same prefix written with host bits is still the same prefix */
	insert_str(t, "10.7.7.7/8", PEER(C));
	assert_ptr_equal(lookup_str(t, "10.9.9.9"), PEER(C));
	assert_int_equal(allowedips_nodes(t), 1);
	/* only the owner removes it */
	assert_int_equal(remove_str(t, "10.0.0.0/8", PEER(A)), -ENOENT);
	assert_int_equal(remove_str(t, "10.0.0.0/8", PEER(B)), -ENOENT);
	assert_ptr_equal(lookup_str(t, "10.9.9.9"), PEER(C));
	assert_int_equal(remove_str(t, "10.255.0.0/8", PEER(C)), 0);
	assert_null(lookup_str(t, "10.9.9.9"));
	assert_int_equal(allowedips_nodes(t), 0);
	/* v6 likewise, with an owner moving between two peers and back */
	insert_str(t, "2001:db8::/32", PEER(A));
	insert_str(t, "2001:db8::/32", PEER(B));
	insert_str(t, "2001:db8::/32", PEER(A));
	assert_ptr_equal(lookup_str(t, "2001:db8::5"), PEER(A));
	assert_int_equal(allowedips_count(t, PEER(B)), 0);
	allowedips_destroy(t);
}

static void test_remove_keeps_shorter(void **state)
{
	struct allowedips *t;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	insert_str(t, "10.0.0.0/8", PEER(A));
	insert_str(t, "10.1.0.0/16", PEER(B));
	insert_str(t, "10.1.2.0/24", PEER(C));
	insert_str(t, "10.1.3.0/24", PEER(D));
	assert_int_equal(allowedips_nodes(t), 5); /* one joining node for the two /24s */
	assert_ptr_equal(lookup_str(t, "10.1.2.9"), PEER(C));

	assert_int_equal(remove_str(t, "10.1.0.0/16", PEER(B)), 0);
	assert_true(allowedips_selfcheck(t));
	assert_ptr_equal(lookup_str(t, "10.1.9.9"), PEER(A));
	assert_ptr_equal(lookup_str(t, "10.1.2.9"), PEER(C));
	assert_ptr_equal(lookup_str(t, "10.1.3.9"), PEER(D));
	/* B's node had one child (the joining /23): it is spliced out */
	assert_int_equal(allowedips_nodes(t), 4);
	assert_int_equal(remove_str(t, "10.1.0.0/16", PEER(B)), -ENOENT);

	assert_int_equal(remove_str(t, "10.1.2.0/24", PEER(C)), 0);
	assert_true(allowedips_selfcheck(t));
	assert_ptr_equal(lookup_str(t, "10.1.2.9"), PEER(A));
	assert_ptr_equal(lookup_str(t, "10.1.3.9"), PEER(D));
	/* the joining /23 above D went with C */
	assert_int_equal(allowedips_nodes(t), 2);

	/* a prefix that only exists as a joining node cannot be removed */
	insert_str(t, "10.1.2.0/24", PEER(C));
	assert_int_equal(allowedips_nodes(t), 4);
	assert_int_equal(remove_str(t, "10.1.2.0/23", PEER(C)), -ENOENT);
	assert_int_equal(remove_str(t, "10.1.2.0/23", NULL), -ENOENT);
	assert_ptr_equal(lookup_str(t, "10.1.2.9"), PEER(C));

	assert_int_equal(remove_str(t, "10.0.0.0/8", PEER(A)), 0);
	assert_null(lookup_str(t, "10.9.9.9"));
	assert_ptr_equal(lookup_str(t, "10.1.3.9"), PEER(D));
	assert_int_equal(remove_str(t, "10.1.3.0/24", PEER(D)), 0);
	assert_int_equal(remove_str(t, "10.1.2.0/24", PEER(C)), 0);
	assert_int_equal(allowedips_nodes(t), 0);
	assert_null(lookup_str(t, "10.1.2.9"));
	allowedips_destroy(t);
}

static void test_edges(void **state)
{
	struct allowedips *t;
	struct ip_prefix p;
	static const uint8_t any[16];

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	insert_str(t, "255.255.255.255/32", PEER(A));
	insert_str(t, "0.0.0.0/32", PEER(B));
	insert_str(t, "255.255.255.254/31", PEER(C));
	insert_str(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", PEER(D));
	insert_str(t, "::/128", PEER(E));
	insert_str(t, "::1/128", PEER(F));
	insert_str(t, "ffff:ffff:ffff:ffff::/64", PEER(G));
	insert_str(t, "ffff:ffff:ffff:ffff:8000::/65", PEER(H));
	assert_true(allowedips_selfcheck(t));
	assert_ptr_equal(lookup_str(t, "255.255.255.255"), PEER(A));
	assert_ptr_equal(lookup_str(t, "255.255.255.254"), PEER(C));
	assert_ptr_equal(lookup_str(t, "0.0.0.0"), PEER(B));
	assert_null(lookup_str(t, "0.0.0.1"));
	assert_null(lookup_str(t, "255.255.255.253"));
	assert_ptr_equal(lookup_str(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), PEER(D));
	assert_ptr_equal(lookup_str(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), PEER(H));
	assert_ptr_equal(lookup_str(t, "ffff:ffff:ffff:ffff:7fff::"), PEER(G));
	assert_ptr_equal(lookup_str(t, "::"), PEER(E));
	assert_ptr_equal(lookup_str(t, "::1"), PEER(F));
	assert_null(lookup_str(t, "::2"));
	assert_null(lookup_str(t, "ffff:ffff:ffff:fffe::"));

	/* /0 answers for everything the longer prefixes do not */
	insert_str(t, "0.0.0.0/0", PEER(I));
	insert_str(t, "::/0", PEER(J));
	assert_ptr_equal(lookup_str(t, "0.0.0.1"), PEER(I));
	assert_ptr_equal(lookup_str(t, "0.0.0.0"), PEER(B));
	assert_ptr_equal(lookup_str(t, "::2"), PEER(J));
	assert_ptr_equal(lookup_str(t, "::"), PEER(E));
	/* host bits under /0 are ignored */
	insert_str(t, "1.2.3.4/0", PEER(K));
	assert_ptr_equal(lookup_str(t, "0.0.0.1"), PEER(K));
	assert_int_equal(allowedips_count(t, PEER(I)), 0);

	/* what the table refuses */
	p = pfx("10.0.0.0/33");
	assert_int_equal(allowedips_insert(t, &p, PEER(A)), -EINVAL);
	p = pfx("::/129");
	assert_int_equal(allowedips_insert(t, &p, PEER(A)), -EINVAL);
	p = pfx("10.0.0.0/8");
	assert_int_equal(allowedips_insert(t, &p, NULL), -EINVAL);
	p.family = AF_UNIX;
	assert_int_equal(allowedips_insert(t, &p, PEER(A)), -EINVAL);
	assert_int_equal(allowedips_remove(t, &p, PEER(A)), -ENOENT);
	assert_null(allowedips_owner(t, &p));
	assert_null(allowedips_lookup(t, AF_UNIX, any));
	assert_ptr_equal(lookup_str(t, "10.0.0.1"), PEER(K));
	assert_true(allowedips_selfcheck(t));
	allowedips_destroy(t);
	allowedips_destroy(NULL);
}

/* ---- walk order and remove_peer ---- */

struct walk_log {
	char lines[64][ADDR_STR_LEN];
	size_t n;
};

static void log_prefix(const struct ip_prefix *p, void *ctx)
{
	struct walk_log *log = ctx;
	char addr[INET6_ADDRSTRLEN];

	assert_true(log->n < 64);
	inet_ntop(p->family, p->addr.bytes, addr, sizeof(addr));
	snprintf(log->lines[log->n++], ADDR_STR_LEN, "%s/%u", addr, p->cidr);
}

static void test_for_peer_order(void **state)
{
	/* P's prefixes, in the order the walk must give them (masked) */
	static const char *const expected[] = {
		"0.0.0.0/0",	      "10.0.0.0/8",    "10.0.0.0/16",
		"10.0.0.0/24",	      "10.0.0.128/25", "10.1.0.0/16",
		"10.128.0.0/9",	      "172.16.0.0/12", "192.168.1.1/32",
		"255.255.255.255/32", "::/0",	       "::ffff:0.0.0.0/96",
		"2001:db8::/32",      "2001:db8::/48", "2001:db8:0:1::/64",
		"2001:db8:8000::/33", "fd00::1/128",
	};
	/* inserted shuffled, with host bits, among other peers' prefixes */
	static const char *const inserted[] = {
		"2001:db8:8000::/33", "10.0.0.200/25",	"fd00::1",
		"10.1.2.3/16",	      "::ffff:0:0/96",	"255.255.255.255/32",
		"10.0.0.0/24",	      "172.16.99.1/12", "2001:db8::/48",
		"0.0.0.0/0",	      "10.128.0.0/9",	"2001:db8:0:1::5/64",
		"192.168.1.1",	      "::/0",		"2001:db8::1/32",
		"10.0.0.0/8",	      "10.0.0.0/16",
	};
	static const char *const others[] = {
		"10.0.0.0/12",	  "10.0.0.64/26", "2001:db8::/40", "fd00::/8",
		"192.168.0.0/16", "10.0.0.0/32",  "::1",
	};
	struct allowedips *t;
	struct walk_log log = {.n = 0};
	size_t i;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	for (i = 0; i < sizeof(inserted) / sizeof(inserted[0]); i++) {
		insert_str(t, inserted[i], PEER(0));
		if (i < sizeof(others) / sizeof(others[0]))
			insert_str(t, others[i], PEER(1));
	}
	assert_true(allowedips_selfcheck(t));
	assert_int_equal(allowedips_count(t, PEER(0)), sizeof(expected) / sizeof(expected[0]));
	allowedips_for_peer(t, PEER(0), log_prefix, &log);
	assert_int_equal(log.n, sizeof(expected) / sizeof(expected[0]));
	for (i = 0; i < log.n; i++)
		assert_string_equal(log.lines[i], expected[i]);

	log.n = 0;
	allowedips_for_peer(t, PEER(2), log_prefix, &log);
	assert_int_equal(log.n, 0);
	allowedips_destroy(t);
}

static void test_remove_peer(void **state)
{
	struct allowedips *t;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	insert_str(t, "10.0.0.0/8", PEER(A));
	insert_str(t, "10.1.0.0/16", PEER(B));
	insert_str(t, "10.1.1.0/24", PEER(A));
	insert_str(t, "10.1.1.1/32", PEER(B));
	insert_str(t, "10.2.0.0/16", PEER(B));
	insert_str(t, "2001:db8::/32", PEER(B));
	insert_str(t, "2001:db8:1::/48", PEER(A));
	insert_str(t, "0.0.0.0/0", PEER(C));

	allowedips_remove_peer(t, PEER(B));
	assert_true(allowedips_selfcheck(t));
	assert_int_equal(allowedips_count(t, PEER(B)), 0);
	assert_int_equal(allowedips_count(t, PEER(A)), 3);
	assert_ptr_equal(lookup_str(t, "10.1.1.1"), PEER(A));
	assert_ptr_equal(lookup_str(t, "10.1.2.1"), PEER(A));
	assert_ptr_equal(lookup_str(t, "10.2.0.1"), PEER(A));
	assert_ptr_equal(lookup_str(t, "11.0.0.1"), PEER(C));
	assert_null(lookup_str(t, "2001:db8::1"));
	assert_ptr_equal(lookup_str(t, "2001:db8:1::1"), PEER(A));
	assert_int_equal(allowedips_nodes(t), 4);

	allowedips_remove_peer(t, PEER(B)); /* nothing left: no effect */
	allowedips_remove_peer(t, NULL);
	assert_int_equal(allowedips_nodes(t), 4);

	allowedips_remove_peer(t, PEER(A));
	assert_ptr_equal(lookup_str(t, "10.1.1.1"), PEER(C));
	assert_null(lookup_str(t, "2001:db8:1::1"));
	assert_int_equal(allowedips_nodes(t), 1);
	allowedips_remove_peer(t, PEER(C));
	assert_int_equal(allowedips_nodes(t), 0);
	assert_null(lookup_str(t, "10.1.1.1"));
	allowedips_destroy(t);
}

/* ---- differential test against a naive list ---- */

static uint64_t rng_state;

/* xorshift64* (support.h): reproducible from the seed in the failure message */
static uint64_t rng(void)
{
	return ts_rng(&rng_state);
}

#define NAIVE_MAX 8192
#define N_PEERS	  48
#define N_BASES	  16

struct naive {
	struct ip_prefix p[NAIVE_MAX]; /* masked */
	struct peer *owner[NAIVE_MAX];
	size_t n;
};

static bool naive_contains(const struct ip_prefix *p, const uint8_t *addr)
{
	unsigned int full = p->cidr / 8, rest = p->cidr % 8;

	if (memcmp(p->addr.bytes, addr, full))
		return false;
	if (rest && ((p->addr.bytes[full] ^ addr[full]) & (uint8_t)(0xff00 >> rest)))
		return false;
	return true;
}

static void mask_bytes(struct ip_prefix *p)
{
	unsigned int i, len = p->family == AF_INET ? 4 : 16;

	for (i = 0; i < len; i++) {
		if (i * 8 >= p->cidr)
			p->addr.bytes[i] = 0;
		else if (i * 8 + 8 > p->cidr)
			p->addr.bytes[i] &= (uint8_t)(0xff00 >> (p->cidr - i * 8));
	}
}

static ssize_t naive_find(const struct naive *nv, const struct ip_prefix *p)
{
	size_t i;

	for (i = 0; i < nv->n; i++)
		if (nv->p[i].cidr == p->cidr && !memcmp(nv->p[i].addr.bytes, p->addr.bytes, 16))
			return (ssize_t)i;
	return -1;
}

static struct peer *naive_lookup(const struct naive *nv, const uint8_t *addr)
{
	struct peer *best = NULL;
	int best_cidr = -1;
	size_t i;

	for (i = 0; i < nv->n; i++) {
		if (nv->p[i].cidr > best_cidr && naive_contains(&nv->p[i], addr)) {
			best = nv->owner[i];
			best_cidr = nv->p[i].cidr;
		}
	}
	return best;
}

static void naive_delete(struct naive *nv, size_t i)
{
	nv->p[i] = nv->p[nv->n - 1];
	nv->owner[i] = nv->owner[nv->n - 1];
	nv->n--;
}

/*
 * Addresses cluster around a few random bases, with random bits from a
 * random position on, so that prefixes nest and overlap often.
 */
static void random_addr(sa_family_t family, uint8_t bases[N_BASES][16], uint8_t *out)
{
	unsigned int len = family == AF_INET ? 4 : 16, from, i;

	memcpy(out, bases[rng() % N_BASES], 16);
	from = (unsigned int)(rng() % (len * 8 + 1));
	for (i = from; i < len * 8; i++) {
		if (rng() & 1)
			out[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
	}
	if (family == AF_INET)
		memset(out + 4, 0, 12);
}

static void random_prefix(sa_family_t family, uint8_t bases[N_BASES][16], struct ip_prefix *p)
{
	unsigned int bits = family == AF_INET ? 32 : 128;

	memset(p, 0, sizeof(*p));
	p->family = family;
	random_addr(family, bases, p->addr.bytes);
	/* favour lengths around the middle, with /0 and the full length reachable */
	if (rng() % 8 == 0)
		p->cidr = (uint8_t)(rng() % (bits + 1));
	else
		p->cidr = (uint8_t)(bits / 4 + rng() % (bits / 2 + 1));
}

static size_t count_mismatches(const struct allowedips *t, const struct naive *nv,
			       sa_family_t family, uint8_t bases[N_BASES][16], int lookups)
{
	size_t bad = 0;
	int i;

	for (i = 0; i < lookups; i++) {
		uint8_t addr[16];

		random_addr(family, bases, addr);
		if (allowedips_lookup(t, family, addr) != naive_lookup(nv, addr))
			bad++;
	}
	/* the prefixes themselves answer for their own start and owner */
	for (i = 0; i < (int)nv->n; i += 7) {
		if (allowedips_lookup(t, family, nv->p[i].addr.bytes) !=
		    naive_lookup(nv, nv->p[i].addr.bytes))
			bad++;
		if (allowedips_owner(t, &nv->p[i]) != nv->owner[i])
			bad++;
	}
	return bad;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct ip_prefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	c = memcmp(x->addr.bytes, y->addr.bytes, 16);
	if (c)
		return c;
	return (int)x->cidr - (int)y->cidr;
}

struct collected {
	struct ip_prefix p[NAIVE_MAX];
	size_t n;
};

static void collect(const struct ip_prefix *p, void *ctx)
{
	struct collected *c = ctx;

	assert_true(c->n < NAIVE_MAX);
	c->p[c->n++] = *p;
}

static bool same_prefixes(const struct collected *got, const struct collected *want)
{
	size_t i;

	if (got->n != want->n)
		return false;
	for (i = 0; i < got->n; i++)
		if (prefix_cmp(&got->p[i], &want->p[i]) || got->p[i].family != want->p[i].family)
			return false;
	return true;
}

/*
 * for_peer gives exactly who's prefixes, masked, in sorted order; the
 * unordered walk the same ones in some order, and count how many.
 */
static bool walk_matches(const struct allowedips *t, const struct naive *nv, struct peer *who)
{
	static struct collected got, want;
	size_t i;

	got.n = 0;
	want.n = 0;
	allowedips_for_peer(t, who, collect, &got);
	for (i = 0; i < nv->n; i++)
		if (nv->owner[i] == who)
			want.p[want.n++] = nv->p[i];
	qsort(want.p, want.n, sizeof(want.p[0]), prefix_cmp);
	if (!same_prefixes(&got, &want) || allowedips_count(t, who) != want.n)
		return false;
	got.n = 0;
	allowedips_for_peer_unordered(t, who, collect, &got);
	qsort(got.p, got.n, sizeof(got.p[0]), prefix_cmp);
	return same_prefixes(&got, &want);
}

static void run_differential(sa_family_t family, uint64_t seed, int ops)
{
	static struct naive nv;
	uint8_t bases[N_BASES][16];
	struct allowedips *t;
	unsigned int len = family == AF_INET ? 4 : 16;
	size_t inserts = 0, removes = 0, peer_removes = 0, replaces = 0, max_n = 0;
	int op, j;

	rng_state = seed;
	nv.n = 0;
	for (j = 0; j < N_BASES; j++) {
		unsigned int b;

		for (b = 0; b < 16; b++)
			bases[j][b] = (uint8_t)rng();
	}
	/* some bases share long starts with others */
	memcpy(bases[1], bases[0], len / 2);
	memcpy(bases[2], bases[0], len - 1);
	assert_int_equal(allowedips_create(&t), 0);

	for (op = 0; op < ops; op++) {
		uint64_t kind = rng() % 100;
		struct ip_prefix p;

		if (kind < 10 && nv.n) {
			/* give an existing prefix to another (or the same) peer */
			size_t i = rng() % nv.n;
			struct peer *owner = PEER(rng() % N_PEERS);

			p = nv.p[i];
			assert_int_equal(allowedips_insert(t, &p, owner), 0);
			nv.owner[i] = owner;
			replaces++;
		} else if (kind < 60 || nv.n == 0) {
			struct peer *owner = PEER(rng() % N_PEERS);
			ssize_t at;

			random_prefix(family, bases, &p);
			assert_int_equal(allowedips_insert(t, &p, owner), 0);
			mask_bytes(&p);
			at = naive_find(&nv, &p);
			if (at >= 0) {
				nv.owner[at] = owner;
			} else {
				assert_true(nv.n < NAIVE_MAX);
				nv.p[nv.n] = p;
				nv.owner[nv.n++] = owner;
			}
			inserts++;
		} else if (kind < 90) {
			/* remove an existing prefix, sometimes naming the wrong owner */
			size_t i = rng() % nv.n;
			struct peer *claimed = rng() % 5 ? nv.owner[i] : PEER(rng() % N_PEERS);

			p = nv.p[i];
			if (rng() % 3 == 0 && p.cidr < len * 8) /* host bits must not matter */
				p.addr.bytes[len - 1] |= 1;
			if (claimed == nv.owner[i]) {
				assert_int_equal(allowedips_remove(t, &p, claimed), 0);
				naive_delete(&nv, i);
				removes++;
			} else {
				assert_int_equal(allowedips_remove(t, &p, claimed), -ENOENT);
			}
		} else if (kind < 95) {
			/* remove a prefix that is absent */
			random_prefix(family, bases, &p);
			mask_bytes(&p);
			if (naive_find(&nv, &p) < 0)
				assert_int_equal(allowedips_remove(t, &p, PEER(0)), -ENOENT);
		} else {
			struct peer *victim = PEER(rng() % N_PEERS);
			size_t i = 0;

			allowedips_remove_peer(t, victim);
			while (i < nv.n) {
				if (nv.owner[i] == victim)
					naive_delete(&nv, i);
				else
					i++;
			}
			assert_int_equal(allowedips_count(t, victim), 0);
			peer_removes++;
		}
		if (nv.n > max_n)
			max_n = nv.n;

		if (op % 64 == 63) {
			size_t bad = count_mismatches(t, &nv, family, bases, 64);

			if (bad)
				fail_msg("family %d seed %llu op %d: %zu mismatches", family,
					 (unsigned long long)seed, op, bad);
			if (!allowedips_selfcheck(t))
				fail_msg("family %d seed %llu op %d: trie invariants broken",
					 family, (unsigned long long)seed, op);
			if (nv.n && allowedips_nodes(t) > 2 * nv.n - 1)
				fail_msg("op %d: %zu nodes for %zu prefixes", op,
					 allowedips_nodes(t), nv.n);
			/* every peer's list, those with no prefix left included */
			for (j = 0; j < N_PEERS; j++)
				if (!walk_matches(t, &nv, PEER(j)))
					fail_msg(
						"family %d seed %llu op %d: peer %d's prefixes differ",
						family, (unsigned long long)seed, op, j);
		}
	}
	assert_true(inserts + replaces > (size_t)ops / 2);
	assert_true(removes > (size_t)ops / 10);
	assert_true(peer_removes > 0);
	assert_true(replaces > (size_t)ops / 20);
	assert_true(max_n > 100);
	assert_int_equal(count_mismatches(t, &nv, family, bases, 2000), 0);

	/* empty it prefix by prefix: nothing may stay behind */
	while (nv.n) {
		size_t i = rng() % nv.n;

		assert_int_equal(allowedips_remove(t, &nv.p[i], nv.owner[i]), 0);
		naive_delete(&nv, i);
	}
	assert_int_equal(allowedips_nodes(t), 0);
	for (j = 0; j < N_PEERS; j++) {
		assert_int_equal(allowedips_count(t, PEER(j)), 0);
		assert_null(PEER(j)->allowed_ips.first);
	}
	allowedips_destroy(t);
}

static void test_differential_v4(void **state)
{
	(void)state;
	run_differential(AF_INET, 1, 6000);
	run_differential(AF_INET, 0xdeadbeefcafef00dULL, 6000);
}

static void test_differential_v6(void **state)
{
	(void)state;
	run_differential(AF_INET6, 2, 6000);
	run_differential(AF_INET6, 0x0123456789abcdefULL, 6000);
}

/* 1000 peers with 4 prefixes each, then destroy with everything in: ASan checks the frees. */
static void test_many_peers_destroy(void **state)
{
	struct allowedips *t;
	int i;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	for (i = 0; i < 1000; i++) {
		char s[64];

		snprintf(s, sizeof(s), "10.%d.%d.0/24", i / 256, i % 256);
		insert_str(t, s, PEER(i));
		snprintf(s, sizeof(s), "10.%d.%d.1/32", 100 + i / 256, i % 256);
		insert_str(t, s, PEER(i));
		snprintf(s, sizeof(s), "fd00:%x::/64", i);
		insert_str(t, s, PEER(i));
		snprintf(s, sizeof(s), "2001:db8:%x::%x/128", i, i);
		insert_str(t, s, PEER(i));
	}
	assert_true(allowedips_selfcheck(t));
	for (i = 0; i < 1000; i += 37)
		assert_int_equal(allowedips_count(t, PEER(i)), 4);
	assert_ptr_equal(lookup_str(t, "10.3.231.77"), PEER(999));
	assert_ptr_equal(lookup_str(t, "fd00:1f4::9"), PEER(500));
	allowedips_destroy(t);
}

/*
 * One peer with more prefixes than for_peer sorts on the stack, inserted in
 * a scrambled order among another peer's: the walk still comes in order.
 */
static void test_for_peer_many_sorted(void **state)
{
	static struct collected got;
	struct allowedips *t;
	struct ip_prefix p;
	size_t i;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	for (i = 0; i < 1000; i++) {
		uint32_t scrambled = (uint32_t)((i * 7919) % 1000);
		char s[64];

		snprintf(s, sizeof(s), "10.%u.%u.0/%u", scrambled / 256, scrambled % 256,
			 24 + (unsigned int)(i % 3) * 4);
		insert_str(t, s, PEER(0));
		snprintf(s, sizeof(s), "fd00:%x::/%u", scrambled, 32 + (unsigned int)(i % 5) * 8);
		insert_str(t, s, PEER(i % 2 ? 0 : 1));
	}
	assert_true(allowedips_selfcheck(t));
	got.n = 0;
	allowedips_for_peer(t, PEER(0), collect, &got);
	assert_int_equal(got.n, 1500);
	assert_int_equal(allowedips_count(t, PEER(0)), 1500);
	for (i = 1; i < got.n; i++)
		assert_true(prefix_cmp(&got.p[i - 1], &got.p[i]) < 0);
	assert_int_equal(got.p[0].family, AF_INET);
	assert_int_equal(got.p[got.n - 1].family, AF_INET6);
	/* taking the peer's prefixes away leaves the other peer's alone */
	allowedips_remove_peer(t, PEER(0));
	assert_true(allowedips_selfcheck(t));
	assert_int_equal(allowedips_count(t, PEER(0)), 0);
	assert_int_equal(allowedips_count(t, PEER(1)), 500);
	assert_int_equal(allowedips_nodes(t), 500 + 499);
	p = pfx("fd00::/32"); /* i = 0's */
	assert_ptr_equal(allowedips_owner(t, &p), PEER(1));
	assert_ptr_equal(lookup_str(t, "fd00:0:1::1"), PEER(1));
	assert_null(lookup_str(t, "10.0.0.1"));
	allowedips_destroy(t);
}

/* Peers outlive the table: destroying it leaves their lists empty, to use again. */
static void test_destroy_empties_lists(void **state)
{
	struct allowedips *t;

	(void)state;
	assert_int_equal(allowedips_create(&t), 0);
	insert_str(t, "10.0.0.0/8", PEER(A));
	insert_str(t, "10.1.0.0/16", PEER(B));
	insert_str(t, "2001:db8::/32", PEER(A));
	assert_int_equal(PEER(A)->allowed_ips.n, 2);
	allowedips_destroy(t);
	assert_null(PEER(A)->allowed_ips.first);
	assert_int_equal(PEER(A)->allowed_ips.n, 0);
	assert_null(PEER(B)->allowed_ips.first);
	assert_int_equal(PEER(B)->allowed_ips.n, 0);

	assert_int_equal(allowedips_create(&t), 0);
	insert_str(t, "10.0.0.0/8", PEER(B));
	assert_int_equal(allowedips_count(t, PEER(A)), 0);
	assert_int_equal(allowedips_count(t, PEER(B)), 1);
	assert_true(allowedips_selfcheck(t));
	allowedips_destroy(t);
}

/* The self-check sees a list that disagrees with the trie. */
static void test_selfcheck_sees_lists(void **state)
{
	struct allowedips *t = hand_table();
	struct allowedips_list b = PEER(B)->allowed_ips, c = PEER(C)->allowed_ips;

	(void)state;
	assert_true(allowedips_selfcheck(t));
	PEER(B)->allowed_ips.n++; /* a count that is wrong */
	assert_false(allowedips_selfcheck(t));
	PEER(B)->allowed_ips = b;
	assert_true(allowedips_selfcheck(t));
	PEER(C)->allowed_ips.first = NULL; /* a node its owner does not list */
	PEER(C)->allowed_ips.n = 0;
	assert_false(allowedips_selfcheck(t));
	PEER(C)->allowed_ips.first = b.first; /* another's node */
	PEER(C)->allowed_ips.n = 1;
	assert_false(allowedips_selfcheck(t));
	PEER(C)->allowed_ips = c;
	assert_true(allowedips_selfcheck(t));
	allowedips_destroy(t);
}

/* Each test starts from peers with empty lists, whatever a failed one left. */
static int reset_peers(void **state)
{
	(void)state;
	memset(peer_storage, 0, sizeof(peer_storage));
	return 0;
}

#define TEST(f) cmocka_unit_test_setup(f, reset_peers)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_hand_lookups),
		TEST(test_hand_lookups_reverse_order),
		TEST(test_owner_exact),
		TEST(test_families_separate),
		TEST(test_replace_owner),
		TEST(test_remove_keeps_shorter),
		TEST(test_edges),
		TEST(test_for_peer_order),
		TEST(test_remove_peer),
		TEST(test_differential_v4),
		TEST(test_differential_v6),
		TEST(test_many_peers_destroy),
		TEST(test_for_peer_many_sorted),
		TEST(test_destroy_empties_lists),
		TEST(test_selfcheck_sees_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
