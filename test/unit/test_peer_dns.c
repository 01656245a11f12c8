// SPDX-License-Identifier: MIT
/* peer_dns_decide(): when a DNS answer replaces a peer's endpoint (peer_dns.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "peer_dns.h"

static enum peer_dns_verdict decide(bool has_endpoint, bool endpoint_is_answer, bool has_last,
				    bool endpoint_is_last, bool session_live)
{
	struct peer_dns_facts f = {
		.has_endpoint = has_endpoint,
		.endpoint_is_answer = endpoint_is_answer,
		.has_last = has_last,
		.endpoint_is_last = endpoint_is_last,
		.session_live = session_live,
	};

	return peer_dns_decide(&f);
}

/* No endpoint yet: the first answer, or one after roaming never happened. */
static void test_no_endpoint(void **state)
{
	(void)state;
	assert_int_equal(decide(false, false, false, false, false), PEER_DNS_APPLY);
	assert_int_equal(decide(false, false, true, false, false), PEER_DNS_APPLY);
	assert_int_equal(decide(false, false, true, false, true), PEER_DNS_APPLY);
}

/* The answer is what is in force: nothing, whatever else holds. */
static void test_same(void **state)
{
	(void)state;
	for (int i = 0; i < 8; i++)
		assert_int_equal(decide(true, true, i & 1, i & 2, i & 4), PEER_DNS_SAME);
}

/* The name moved and the peer did not roam: follow the name. */
static void test_name_moved(void **state)
{
	(void)state;
	assert_int_equal(decide(true, false, true, true, true), PEER_DNS_APPLY);
	assert_int_equal(decide(true, false, true, true, false), PEER_DNS_APPLY);
}

/* The peer roamed: a live session keeps the roamed address, a dead one takes the answer. */
static void test_roamed(void **state)
{
	(void)state;
	/* The answer is the last one (stale DNS) or a new one: the same verdict. */
	assert_int_equal(decide(true, false, true, false, true), PEER_DNS_ROAMED);
	assert_int_equal(decide(true, false, false, false, true), PEER_DNS_ROAMED);
	assert_int_equal(decide(true, false, true, false, false), PEER_DNS_APPLY);
	assert_int_equal(decide(true, false, false, false, false), PEER_DNS_APPLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_endpoint),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_name_moved),
		cmocka_unit_test(test_roamed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
