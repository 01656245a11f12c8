// SPDX-License-Identifier: MIT
/*
 * The PROXY protocol v2 encoder (daemon/expose/proxyv2.c) against headers written
 * out by hand from HAProxy's proxy-protocol.txt, section 2.2: signature,
 * version and command, family and protocol, length, addresses, ports.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "proxyv2.h"

#define SIG 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a

static union sockaddr_inet sa(const char *s)
{
	union sockaddr_inet a;

	assert_int_equal(sockaddr_parse_numeric(s, &a), 0);
	return a;
}

static void expect(const union sockaddr_inet *src, const union sockaddr_inet *dst,
		   const uint8_t *want, size_t want_len)
{
	uint8_t buf[PROXYV2_MAX_LEN];
	size_t len;

	memset(buf, 0xaa, sizeof(buf));
	len = proxyv2_encode(buf, src, dst);
	assert_int_equal(len, want_len);
	assert_memory_equal(buf, want, want_len);
}

static void test_tcp4(void **state)
{
	/* clang-format off */
	static const uint8_t want[] = {
		SIG,
		0x21,                 /* version 2, PROXY */
		0x11,                 /* AF_INET, STREAM */
		0x00, 0x0c,           /* 12 bytes follow */
		198, 51, 100, 7,      /* source 198.51.100.7 */
		203, 0, 113, 1,       /* destination 203.0.113.1 */
		0x15, 0xb3,           /* source port 5555 */
		0x1f, 0x90,           /* destination port 8080 */
	};
	/* clang-format on */
	union sockaddr_inet src = sa("198.51.100.7:5555"), dst = sa("203.0.113.1:8080");

	(void)state;
	expect(&src, &dst, want, sizeof(want));
}

static void test_tcp6(void **state)
{
	/* clang-format off */
	static const uint8_t want[] = {
		SIG,
		0x21, 0x21, 0x00, 0x24, /* version 2, PROXY; AF_INET6, STREAM; 36 bytes */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, /* 2001:db8::7 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* 2001:db8::1 */
		0xff, 0xff,             /* source port 65535 */
		0x00, 0x01,             /* destination port 1 */
	};
	/* clang-format on */
	union sockaddr_inet src = sa("[2001:db8::7]:65535"), dst = sa("[2001:db8::1]:1");

	(void)state;
	expect(&src, &dst, want, sizeof(want));
}

/* An IPv4 address beside an IPv6 one is written IPv4-mapped, as TCP6. */
static void test_mixed(void **state)
{
	/* clang-format off */
	static const uint8_t want[] = {
		SIG,
		0x21, 0x21, 0x00, 0x24,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 9,          /* ::ffff:192.0.2.9 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* 2001:db8::1 */
		0x30, 0x39,             /* 12345 */
		0x00, 0x50,             /* 80 */
	};
	/* clang-format on */
	union sockaddr_inet src = sa("192.0.2.9:12345"), dst = sa("[2001:db8::1]:80");

	(void)state;
	expect(&src, &dst, want, sizeof(want));
}

/* Two IPv4-mapped IPv6 addresses (a dual-stack socket) are plain TCP4. */
static void test_mapped(void **state)
{
	/* clang-format off */
	static const uint8_t want[] = {
		SIG,
		0x21, 0x11, 0x00, 0x0c,
		192, 0, 2, 9,           /* 192.0.2.9 */
		10, 0, 0, 1,            /* 10.0.0.1 */
		0x30, 0x39, 0x00, 0x50, /* 12345, 80 */
	};
	/* clang-format on */
	union sockaddr_inet src = sa("[::ffff:192.0.2.9]:12345"), dst = sa("[::ffff:10.0.0.1]:80");

	(void)state;
	expect(&src, &dst, want, sizeof(want));
}

/* No usable addresses: LOCAL, so that the receiver uses the connection's own. */
static void test_local(void **state)
{
	static const uint8_t want[] = {SIG, 0x20, 0x00, 0x00, 0x00};
	union sockaddr_inet src = sa("192.0.2.9:1"), none = {0};

	(void)state;
	expect(NULL, &src, want, sizeof(want));
	expect(&src, NULL, want, sizeof(want));
	expect(&none, &src, want, sizeof(want));
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),  cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_mixed), cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_local),
	};

	return cmocka_run_group_tests_name("proxyv2", tests, NULL, NULL);
}
