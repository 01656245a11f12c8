// SPDX-License-Identifier: MIT
/*
 * The set of installed routes (route_set.c): a randomized comparison with a
 * plain array model through adds and removes (so that removal's backward
 * shift is exercised at every fill level and across the wrap of the slots),
 * and keys that differ only in family, length or table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "route_set.h"

#define KEYS 300

static struct route key(unsigned int i)
{
	struct route r = {.table = i % 3 ? 0 : 51820};

	r.prefix.family = i % 2 ? AF_INET6 : AF_INET;
	r.prefix.cidr = (uint8_t)(i % 2 ? 128 : 32);
	r.prefix.addr.bytes[0] = 10;
	r.prefix.addr.bytes[2] = (uint8_t)(i >> 8);
	r.prefix.addr.bytes[3] = (uint8_t)i;
	return r;
}

static void test_model(void **state)
{
	static bool in[KEYS];
	struct route_set s = {0};
	size_t n = 0;

	(void)state;
	srand(13);
	for (int step = 0; step < 20000; step++) {
		unsigned int i = (unsigned int)rand() % KEYS;
		struct route r = key(i);

		if (rand() % 2) {
			assert_int_equal(route_set_reserve(&s), 0);
			route_set_add(&s, &r);
			n += !in[i];
			in[i] = true;
		} else {
			assert_int_equal(route_set_remove(&s, &r), in[i]);
			n -= in[i];
			in[i] = false;
		}
		assert_int_equal(s.n, n);
		if (step % 97 == 0) {
			for (unsigned int j = 0; j < KEYS; j++) {
				struct route k = key(j);

				assert_int_equal(route_set_has(&s, &k), in[j]);
			}
		}
	}
	route_set_clear(&s);
	assert_int_equal(s.n, 0);
}

static void test_distinct_keys(void **state)
{
	struct route a = key(4), b = a, c = a, d = a;
	struct route_set s = {0};

	(void)state;
	b.table = 1234;
	c.prefix.cidr = 24;
	d.prefix.family = AF_INET6;
	assert_false(route_set_has(&s, &a));
	assert_false(route_set_remove(&s, &a));
	assert_int_equal(route_set_reserve(&s), 0);
	route_set_add(&s, &a);
	assert_true(route_set_has(&s, &a));
	assert_false(route_set_has(&s, &b));
	assert_false(route_set_has(&s, &c));
	assert_false(route_set_has(&s, &d));
	route_set_add(&s, &a);
	assert_int_equal(s.n, 1);
	assert_true(route_set_remove(&s, &a));
	assert_false(route_set_has(&s, &a));
	route_set_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_distinct_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
