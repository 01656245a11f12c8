// SPDX-License-Identifier: MIT
/*
 * Addresses (addr.c): tables for prefix_parse (with host bits kept and then
 * masked), prefix_contains, formatting, endpoint_split, and the numeric
 * socket-address helpers built on it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define NOT_IP "is not an IP address"
#define LEN4   "prefix length must be 0-32"
#define LEN6   "prefix length must be 0-128"
/* A row that must be refused with this reason. */
#define BAD(s, reason)                     \
	{                                  \
		.in = (s), .why = (reason) \
	}

struct prefix_case {
	const char *in;
	const char *why; /* NULL: parses */
	sa_family_t family; /* the rest only when it parses */
	unsigned int cidr;
	const char *kept; /* prefix_format() right after parsing */
	bool host_bits;
	const char *masked; /* prefix_format() after prefix_mask() */
};

static const struct prefix_case prefix_cases[] = {
	/* IPv4 */
	{"10.0.0.0/8", NULL, AF_INET, 8, "10.0.0.0/8", false, "10.0.0.0/8"},
	{"10.1.2.3/8", NULL, AF_INET, 8, "10.1.2.3/8", true, "10.0.0.0/8"},
	{"192.0.2.1", NULL, AF_INET, 32, "192.0.2.1/32", false, "192.0.2.1/32"},
	{"192.0.2.1/32", NULL, AF_INET, 32, "192.0.2.1/32", false, "192.0.2.1/32"},
	{"0.0.0.0/0", NULL, AF_INET, 0, "0.0.0.0/0", false, "0.0.0.0/0"},
	{"255.255.255.255/0", NULL, AF_INET, 0, "255.255.255.255/0", true, "0.0.0.0/0"},
	{"10.0.0.255/31", NULL, AF_INET, 31, "10.0.0.255/31", true, "10.0.0.254/31"},
	{"10.0.0.129/25", NULL, AF_INET, 25, "10.0.0.129/25", true, "10.0.0.128/25"},
	{"172.31.255.255/12", NULL, AF_INET, 12, "172.31.255.255/12", true, "172.16.0.0/12"},
	{"128.0.0.1/1", NULL, AF_INET, 1, "128.0.0.1/1", true, "128.0.0.0/1"},
	{"10.0.0.1/08", NULL, AF_INET, 8, "10.0.0.1/8", true, "10.0.0.0/8"},
	BAD("10.0.0.0/33", LEN4),
	BAD("10.0.0.0/", LEN4),
	BAD("10.0.0.0/-1", LEN4),
	BAD("10.0.0.0/+8", LEN4),
	BAD("10.0.0.0/ 8", LEN4),
	BAD("10.0.0.0/8 ", LEN4),
	BAD("10.0.0.0/8/8", LEN4),
	BAD("10.0.0.0/4294967304", LEN4), /* 2^32 + 8: no wrap to 8 */
	BAD("10.0.0.0/18446744073709551624", LEN4), /* beyond unsigned long */
	BAD("10.0.0/8", NOT_IP),
	BAD("10.0.0.256", NOT_IP),
	BAD("010.0.0.1", NOT_IP),
	BAD(" 10.0.0.1", NOT_IP),
	BAD("10.0.0.1 ", NOT_IP),
	BAD("", NOT_IP),
	BAD("/8", NOT_IP),
	BAD("example.com/24", NOT_IP),
	/* IPv6 */
	{"2001:db8::/32", NULL, AF_INET6, 32, "2001:db8::/32", false, "2001:db8::/32"},
	{"2001:db8::1", NULL, AF_INET6, 128, "2001:db8::1/128", false, "2001:db8::1/128"},
	{"2001:db8::1/128", NULL, AF_INET6, 128, "2001:db8::1/128", false, "2001:db8::1/128"},
	{"::/0", NULL, AF_INET6, 0, "::/0", false, "::/0"},
	{"ffff::1/0", NULL, AF_INET6, 0, "ffff::1/0", true, "::/0"},
	{"fd00::1:2/112", NULL, AF_INET6, 112, "fd00::1:2/112", true, "fd00::1:0/112"},
	{"2001:db8:ffff::/33", NULL, AF_INET6, 33, "2001:db8:ffff::/33", true,
	 "2001:db8:8000::/33"},
	{"FD00::ABCD/127", NULL, AF_INET6, 127, "fd00::abcd/127", true, "fd00::abcc/127"},
	{"::ffff:192.0.2.1/128", NULL, AF_INET6, 128, "::ffff:192.0.2.1/128", false,
	 "::ffff:192.0.2.1/128"},
	{"2001:0db8:0000:0000:0000:0000:0000:0001/64", NULL, AF_INET6, 64, "2001:db8::1/64", true,
	 "2001:db8::/64"},
	BAD("2001:db8::/129", LEN6),
	BAD("2001:db8::/256", LEN6),
	BAD("2001:db8::/", LEN6),
	BAD("2001:db8:::1", NOT_IP),
	BAD("2001:db8::g", NOT_IP),
	BAD("[2001:db8::1]", NOT_IP),
	BAD("fe80::1%eth0", NOT_IP),
	BAD("1:2:3:4:5:6:7:8:9", NOT_IP),
	/* longer than any address text */
	BAD("2001:0db8:0000:0000:0000:0000:0000:0001:0000:00/64", NOT_IP),
};

static void test_prefix_parse(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(prefix_cases); i++) {
		const struct prefix_case *c = &prefix_cases[i];
		struct ip_prefix p, before;
		const char *why = "(untouched)";
		bool host_bits = !c->host_bits;
		char kept[ADDR_STR_LEN], masked[ADDR_STR_LEN];
		int rc;

		memset(&p, 0xa5, sizeof(p));
		before = p;
		rc = prefix_parse(c->in, &p, &host_bits, &why);
		if (c->why) {
			if (rc != -EINVAL || strcmp(why, c->why) != 0 ||
			    memcmp(&p, &before, sizeof(p)) != 0) {
				print_error(
					"%zu: \"%s\": rc %d why \"%s\", expected -EINVAL \"%s\" and *out untouched\n",
					i + 1, c->in, rc, why, c->why);
				failures++;
			}
			continue;
		}
		if (rc != 0) {
			print_error("%zu: \"%s\": rc %d (%s), expected 0\n", i + 1, c->in, rc, why);
			failures++;
			continue;
		}
		prefix_format(kept, sizeof(kept), &p);
		if (p.family != c->family || p.cidr != c->cidr || strcmp(kept, c->kept) != 0 ||
		    host_bits != c->host_bits) {
			print_error("%zu: \"%s\": got family %u /%u \"%s\" host bits %d\n", i + 1,
				    c->in, p.family, p.cidr, kept, host_bits);
			failures++;
			continue;
		}
		prefix_mask(&p);
		prefix_format(masked, sizeof(masked), &p);
		if (strcmp(masked, c->masked) != 0 || p.cidr != c->cidr) {
			print_error("%zu: \"%s\": masked \"%s\", expected \"%s\"\n", i + 1, c->in,
				    masked, c->masked);
			failures++;
		}
		/* Masking is idempotent, and a masked prefix has no host bits. */
		prefix_mask(&p);
		if (strcmp(prefix_format(masked, sizeof(masked), &p), c->masked) != 0 ||
		    prefix_parse(masked, &p, &host_bits, NULL) != 0 || host_bits) {
			print_error("%zu: \"%s\": re-parse of \"%s\"\n", i + 1, c->in, masked);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* has_host_bits and why may be NULL. */
static void test_prefix_parse_null_outputs(void **state)
{
	struct ip_prefix p;

	(void)state;
	assert_int_equal(prefix_parse("10.1.2.3/8", &p, NULL, NULL), 0);
	assert_int_equal(p.cidr, 8);
	assert_int_equal(prefix_parse("10.0.0.0/33", &p, NULL, NULL), -EINVAL);
	assert_int_equal(prefix_parse("nope", &p, NULL, NULL), -EINVAL);
}

struct contains_case {
	const char *prefix;
	const char *addr;
	bool inside;
};

static const struct contains_case contains_cases[] = {
	{"10.0.0.0/8", "10.255.255.255", true},
	{"10.0.0.0/8", "11.0.0.0", false},
	{"10.0.0.0/8", "9.255.255.255", false},
	{"192.0.2.0/25", "192.0.2.127", true},
	{"192.0.2.0/25", "192.0.2.128", false},
	{"192.0.2.1/32", "192.0.2.1", true},
	{"192.0.2.1/32", "192.0.2.0", false},
	{"0.0.0.0/0", "203.0.113.9", true},
	{"0.0.0.0/0", "::", false}, /* other family */
	{"10.1.2.3/8", "10.9.9.9", true}, /* host bits do not matter */
	{"128.0.0.0/1", "127.255.255.255", false},
	{"128.0.0.0/1", "255.0.0.0", true},
	{"2001:db8::/32", "2001:db8:ffff::1", true},
	{"2001:db8::/32", "2001:db9::", false},
	{"2001:db8::/33", "2001:db8:7fff::", true},
	{"2001:db8::/33", "2001:db8:8000::", false},
	{"::/0", "ffff::ffff", true},
	{"::/0", "0.0.0.0", false},
	{"fd00::1/128", "fd00::1", true},
	{"fd00::1/128", "fd00::", false},
	{"fd00::/127", "fd00::1", true},
	{"fd00::/127", "fd00::2", false},
	{"::ffff:192.0.2.0/120", "192.0.2.1", false}, /* v4-mapped is v6 */
};

static void test_prefix_contains(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(contains_cases); i++) {
		const struct contains_case *c = &contains_cases[i];
		struct ip_prefix p;
		uint8_t a[16];
		sa_family_t family = strchr(c->addr, ':') ? AF_INET6 : AF_INET;

		assert_int_equal(prefix_parse(c->prefix, &p, NULL, NULL), 0);
		assert_int_equal(inet_pton(family, c->addr, a), 1);
		if (prefix_contains(&p, family, a) != c->inside) {
			print_error("%zu: %s in %s: expected %s\n", i + 1, c->addr, c->prefix,
				    c->inside ? "inside" : "outside");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_prefix_format(void **state)
{
	struct ip_prefix p;
	char buf[ADDR_STR_LEN], small[8];

	(void)state;
	assert_int_equal(
		prefix_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", &p, NULL, NULL), 0);
	assert_string_equal(prefix_format(buf, sizeof(buf), &p),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_string_equal(prefix_format_addr(buf, sizeof(buf), &p),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(prefix_parse("10.0.0.1/24", &p, NULL, NULL), 0);
	assert_string_equal(prefix_format_addr(buf, sizeof(buf), &p), "10.0.0.1");
	/* A short buffer is cut, never overrun, and the result is a string. */
	assert_ptr_equal(prefix_format(small, sizeof(small), &p), small);
	assert_string_equal(small, "10.0.0.");
	assert_string_equal(prefix_format_addr(small, sizeof(small), &p), "?");
}

struct endpoint_case {
	const char *in;
	const char *why; /* NULL: splits */
	const char *host;
	uint16_t port;
};

static const struct endpoint_case endpoint_cases[] = {
	{"192.0.2.1:51820", NULL, "192.0.2.1", 51820},
	{"[::1]:51820", NULL, "::1", 51820},
	{"[2001:db8::1]:1", NULL, "2001:db8::1", 1},
	{"[fe80::1%eth0]:51820", NULL, "fe80::1%eth0", 51820},
	{"vpn.example.com:443", NULL, "vpn.example.com", 443},
	{"host:65535", NULL, "host", 65535},
	{"host:00080", NULL, "host", 80},
	BAD("host", "expected host:port"),
	BAD("192.0.2.1", "expected host:port"),
	BAD("", "expected host:port"),
	BAD("host:", "port must be 1-65535"),
	BAD("host:0", "port must be 1-65535"),
	BAD("host:65536", "port must be 1-65535"),
	BAD("host:-1", "port must be 1-65535"),
	BAD("host:+80", "port must be 1-65535"),
	BAD("host:80 ", "port must be 1-65535"),
	BAD("host:http", "port must be 1-65535"),
	BAD("host:99999999999999999999999", "port must be 1-65535"),
	BAD(":51820", "the host is empty"),
	BAD("[]:51820", "the host is empty"),
	BAD("::1:51820", "an IPv6 address needs brackets: [address]:port"),
	BAD("2001:db8::1", "an IPv6 address needs brackets: [address]:port"),
	BAD("[::1]", "expected [IPv6]:port"),
	BAD("[::1]51820", "expected [IPv6]:port"),
	BAD("[::1", "expected [IPv6]:port"),
	BAD("[::1]:", "port must be 1-65535"),
	BAD("[::1]:65536", "port must be 1-65535"),
};

static void test_endpoint_split(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(endpoint_cases); i++) {
		const struct endpoint_case *c = &endpoint_cases[i];
		char host[256] = "(untouched)";
		const char *why = "(untouched)";
		uint16_t port = 7;
		int rc = endpoint_split(c->in, host, sizeof(host), &port, &why);

		if (c->why) {
			if (rc != -EINVAL || strcmp(why, c->why) != 0) {
				print_error("%zu: \"%s\": rc %d why \"%s\", expected \"%s\"\n",
					    i + 1, c->in, rc, why, c->why);
				failures++;
			}
		} else if (rc != 0 || strcmp(host, c->host) != 0 || port != c->port) {
			print_error("%zu: \"%s\": rc %d host \"%s\" port %u\n", i + 1, c->in, rc,
				    host, port);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* The host must fit with its NUL: hostlen - 1 characters at most. */
static void test_endpoint_host_len(void **state)
{
	char host[8];
	const char *why = NULL;
	uint16_t port = 0;

	(void)state;
	assert_int_equal(endpoint_split("abcdefg:1", host, sizeof(host), &port, &why), 0);
	assert_string_equal(host, "abcdefg");
	assert_int_equal(endpoint_split("abcdefgh:1", host, sizeof(host), &port, &why), -EINVAL);
	assert_string_equal(why, "the host name is too long");
	assert_int_equal(endpoint_split("[1:2:3:4::]:1", host, sizeof(host), &port, &why), -EINVAL);
	assert_string_equal(why, "the host name is too long");
	assert_int_equal(endpoint_split("nope", host, sizeof(host), &port, NULL), -EINVAL);
}

static void test_sockaddr(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: refused */
	} cases[] = {
		{"192.0.2.1:51820", "192.0.2.1:51820"},
		{"[2001:db8::1]:443", "[2001:db8::1]:443"},
		{"[2001:0db8::0001]:1", "[2001:db8::1]:1"},
		{"[::ffff:192.0.2.1]:9", "[::ffff:192.0.2.1]:9"},
		{"vpn.example.com:443", NULL},
		{"192.0.2.1", NULL},
		{"[192.0.2.1]:1", "192.0.2.1:1"},
		{"2001:db8::1:1", NULL},
		{"192.0.2.1:0", NULL},
	};
	union sockaddr_inet a, b;
	char buf[ADDR_STR_LEN];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int rc = sockaddr_parse_numeric(cases[i].in, &a);

		if (!cases[i].out) {
			if (rc != -EINVAL)
				fail_msg("\"%s\" parsed", cases[i].in);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\" refused", cases[i].in);
		assert_string_equal(sockaddr_format(buf, sizeof(buf), &a), cases[i].out);
		assert_int_equal(sockaddr_len(&a), a.sa.sa_family == AF_INET
							   ? sizeof(struct sockaddr_in)
							   : sizeof(struct sockaddr_in6));
		/* What it prints parses back to the same address. */
		assert_int_equal(sockaddr_parse_numeric(buf, &b), 0);
		assert_true(sockaddr_equal(&a, &b));
	}

	assert_int_equal(sockaddr_parse_numeric("192.0.2.1:1", &a), 0);
	assert_int_equal(sockaddr_parse_numeric("192.0.2.1:2", &b), 0);
	assert_false(sockaddr_equal(&a, &b));
	assert_int_equal(sockaddr_parse_numeric("192.0.2.2:1", &b), 0);
	assert_false(sockaddr_equal(&a, &b));
	assert_int_equal(sockaddr_parse_numeric("[::ffff:192.0.2.1]:1", &b), 0);
	assert_false(sockaddr_equal(&a, &b)); /* families differ */

	assert_int_equal(sockaddr_parse_numeric("[fe80::1]:51820", &a), 0);
	b = a;
	a.in6.sin6_scope_id = 3;
	assert_string_equal(sockaddr_format(buf, sizeof(buf), &a), "[fe80::1%3]:51820");
	assert_false(sockaddr_equal(&a, &b));
	b.in6.sin6_scope_id = 3;
	assert_true(sockaddr_equal(&a, &b));

	memset(&a, 0, sizeof(a));
	assert_string_equal(sockaddr_format(buf, sizeof(buf), &a), "(none)");
	assert_false(sockaddr_equal(&a, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_parse_null_outputs),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_prefix_format),
		cmocka_unit_test(test_endpoint_split),
		cmocka_unit_test(test_endpoint_host_len),
		cmocka_unit_test(test_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
