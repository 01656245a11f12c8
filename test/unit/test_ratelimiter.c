// SPDX-License-Identifier: MIT
/*
 * The handshake rate limiter: burst and refill of one bucket, independence
 * of sources, IPv6 /64 grouping, the bounded table, and collection of idle
 * entries. Time is passed in, so every step is exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "crypto.h"
#include "ratelimiter.h"

#define BURST RATELIMITER_PACKETS_BURSTABLE
#define RATE  RATELIMITER_PACKETS_PER_SECOND

static union sockaddr_inet v4(const char *ip, uint16_t port)
{
	union sockaddr_inet sa;

	memset(&sa, 0, sizeof(sa));
	sa.in.sin_family = AF_INET;
	sa.in.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sa.in.sin_addr), 1);
	return sa;
}

static union sockaddr_inet v6(const char *ip, uint16_t port)
{
	union sockaddr_inet sa;

	memset(&sa, 0, sizeof(sa));
	sa.in6.sin6_family = AF_INET6;
	sa.in6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sa.in6.sin6_addr), 1);
	return sa;
}

/* How many of n packets at time now get through. */
static int allowed_of(struct ratelimiter *rl, const union sockaddr_inet *src, double now, int n)
{
	int ok = 0;

	while (n--)
		ok += ratelimiter_allow(rl, src, now);
	return ok;
}

static int setup(void **state)
{
	struct ratelimiter *rl;

	if (crypto_init() < 0 || ratelimiter_create(&rl) < 0)
		return -1;
	*state = rl;
	return 0;
}

static int teardown(void **state)
{
	ratelimiter_destroy(*state);
	return 0;
}

static void test_burst_then_refusal(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet a = v4("192.0.2.1", 51820);
	int i;

	for (i = 0; i < BURST; i++)
		assert_true(ratelimiter_allow(rl, &a, 1000.0));
	assert_false(ratelimiter_allow(rl, &a, 1000.0));
	assert_false(ratelimiter_allow(rl, &a, 1000.0));
	/* refused packets do not earn anything either */
	assert_false(ratelimiter_allow(rl, &a, 1000.001));
	assert_int_equal(ratelimiter_count(rl), 1);
}

static void test_refill(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet a = v4("192.0.2.2", 1);
	double t = 500.0;

	assert_int_equal(allowed_of(rl, &a, t, 10), BURST);
	/* one packet per 1/RATE seconds: 0.04 s is not enough, 0.05 s is */
	assert_int_equal(allowed_of(rl, &a, t + 0.04, 3), 0);
	assert_int_equal(allowed_of(rl, &a, t + 0.05, 3), 1);
	/* 0.2 s later: four more */
	assert_int_equal(allowed_of(rl, &a, t + 0.25, 10), 4);
	/* a long pause fills the bucket only up to the burst */
	assert_int_equal(allowed_of(rl, &a, t + 0.9, 10), BURST);
	/* partial credit carries over: 0.03 + 0.03 s make one packet */
	assert_int_equal(allowed_of(rl, &a, t + 0.93, 1), 0);
	assert_int_equal(allowed_of(rl, &a, t + 0.96, 1), 1);
	assert_int_equal(allowed_of(rl, &a, t + 0.96, 1), 0);
}

/* A source sending 100 packets a second for 10 s gets the rate plus the burst through. */
static void test_sustained_rate(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet a = v6("2001:db8::77", 9);
	int k, ok = 0;

	for (k = 0; k < 1000; k++)
		ok += ratelimiter_allow(rl, &a, 2000.0 + k * 0.01);
	/* 9.99 s of refill at RATE/s, on top of a full bucket */
	assert_true(ok >= BURST + RATE * 10 - 2 && ok <= BURST + RATE * 10);
}

static void test_sources_independent(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet a = v4("192.0.2.10", 1000), a_other_port = v4("192.0.2.10", 2000);
	union sockaddr_inet b = v4("192.0.2.11", 1000);
	/* IPv6 whose top 64 bits equal a's IPv4 address as a number */
	union sockaddr_inet a_bits_v6 = v6("0:0:c000:20a::", 1000);

	assert_int_equal(allowed_of(rl, &a, 10.0, 10), BURST);
	assert_int_equal(allowed_of(rl, &b, 10.0, 10), BURST);
	/* the port is not part of the source */
	assert_int_equal(allowed_of(rl, &a_other_port, 10.0, 10), 0);
	assert_int_equal(allowed_of(rl, &a_bits_v6, 10.0, 10), BURST);
	assert_int_equal(ratelimiter_count(rl), 3);
}

static void test_ipv6_same_64_shares(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet h1 = v6("2001:db8:1:2::1", 1);
	union sockaddr_inet h2 = v6("2001:db8:1:2:ffff:ffff:ffff:ffff", 2);
	union sockaddr_inet other = v6("2001:db8:1:3::1", 1);

	assert_int_equal(allowed_of(rl, &h1, 20.0, 3), 3);
	assert_int_equal(allowed_of(rl, &h2, 20.0, 10), BURST - 3);
	assert_int_equal(allowed_of(rl, &h1, 20.0, 1), 0);
	assert_int_equal(allowed_of(rl, &other, 20.0, 10), BURST);
	assert_int_equal(ratelimiter_count(rl), 2);
}

static void test_table_full(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet sa, fresh = v4("198.51.100.1", 1), first;
	uint32_t i;

	/* 10.0.0.0 + i for every entry the table holds */
	for (i = 0; i < RATELIMITER_MAX_ENTRIES; i++) {
		memset(&sa, 0, sizeof(sa));
		sa.in.sin_family = AF_INET;
		sa.in.sin_addr.s_addr = htonl(0x0a000000u + i);
		assert_true(ratelimiter_allow(rl, &sa, 50.0));
	}
	first = v4("10.0.0.0", 1);
	assert_int_equal(ratelimiter_count(rl), RATELIMITER_MAX_ENTRIES);
	/* a new source is refused and takes no entry; known sources still work */
	assert_false(ratelimiter_allow(rl, &fresh, 50.0));
	assert_false(ratelimiter_allow(rl, &fresh, 50.9));
	assert_true(ratelimiter_allow(rl, &first, 50.9));
	assert_int_equal(ratelimiter_count(rl), RATELIMITER_MAX_ENTRIES);
	/* once the others have been idle for over a second, there is room again */
	assert_true(ratelimiter_allow(rl, &fresh, 51.5));
	assert_int_equal(ratelimiter_count(rl), 2);
	assert_int_equal(allowed_of(rl, &fresh, 51.5, 10), BURST - 1);
}

static void test_gc_frees_idle(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet a = v4("192.0.2.21", 1), b = v4("192.0.2.22", 1);
	union sockaddr_inet c = v6("2001:db8:5::1", 1);

	assert_int_equal(allowed_of(rl, &a, 10.0, 10), BURST);
	assert_true(ratelimiter_allow(rl, &b, 10.5));
	assert_true(ratelimiter_allow(rl, &c, 10.9));
	ratelimiter_gc(rl, 11.0); /* a has been idle exactly 1 s: kept */
	assert_int_equal(ratelimiter_count(rl), 3);
	ratelimiter_gc(rl, 11.2);
	assert_int_equal(ratelimiter_count(rl), 2);
	assert_int_equal(allowed_of(rl, &b, 11.2, 10), BURST); /* b still known: 4 + refill */
	ratelimiter_gc(rl, 12.0); /* c idle 1.1 s; b 0.8 s */
	assert_int_equal(ratelimiter_count(rl), 1);
	ratelimiter_gc(rl, 13.0);
	assert_int_equal(ratelimiter_count(rl), 0);
	/* forgotten sources start again with a full bucket */
	assert_int_equal(allowed_of(rl, &a, 13.0, 10), BURST);
	ratelimiter_gc(rl, 20.0);
	assert_int_equal(ratelimiter_count(rl), 0);
}

/* Many sources at once: chains in the hash buckets keep each bucket apart. */
static void test_many_sources(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet sa;
	uint32_t i;
	int round;

	memset(&sa, 0, sizeof(sa));
	sa.in6.sin6_family = AF_INET6;
	for (round = 0; round <= BURST; round++) {
		for (i = 0; i < RATELIMITER_MAX_ENTRIES; i++) {
			uint32_t be = htonl(i);

			memcpy(&sa.in6.sin6_addr.s6_addr[4], &be, sizeof(be));
			sa.in6.sin6_addr.s6_addr[0] = 0x20;
			if (ratelimiter_allow(rl, &sa, 300.0) != (round < BURST))
				fail_msg("round %d source %u", round, i);
		}
	}
	assert_int_equal(ratelimiter_count(rl), RATELIMITER_MAX_ENTRIES);
	ratelimiter_gc(rl, 301.5);
	assert_int_equal(ratelimiter_count(rl), 0);
	/* every entry went back to the free list */
	for (i = 0; i < RATELIMITER_MAX_ENTRIES; i++) {
		sa.in.sin_family = AF_INET;
		sa.in.sin_addr.s_addr = htonl(i);
		assert_true(ratelimiter_allow(rl, &sa, 302.0));
	}
	assert_int_equal(ratelimiter_count(rl), RATELIMITER_MAX_ENTRIES);
}

static void test_clock_backwards(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet a = v4("192.0.2.30", 1);

	assert_int_equal(allowed_of(rl, &a, 100.0, 10), BURST);
	assert_int_equal(allowed_of(rl, &a, 99.0, 10), 0);
	/* credit is counted from the latest time seen, not from the step back */
	assert_int_equal(allowed_of(rl, &a, 100.04, 1), 0);
	assert_int_equal(allowed_of(rl, &a, 100.05, 1), 1);
}

static void test_other_family(void **state)
{
	struct ratelimiter *rl = *state;
	union sockaddr_inet sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa.sa_family = AF_UNIX;
	assert_false(ratelimiter_allow(rl, &sa, 1.0));
	assert_int_equal(ratelimiter_count(rl), 0);
	ratelimiter_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_burst_then_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sustained_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources_independent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_same_64_shares, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc_frees_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_backwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_family, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	crypto_cleanup();
	return rc;
}
