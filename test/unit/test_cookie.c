// SPDX-License-Identifier: MIT
/*
 * The cookie secret R_m of section 5.4.7 when the random source fails
 * (crypto_random wrapped with -Wl,--wrap): with no secret yet no cookie is
 * made or accepted, and a renewal that fails keeps the old secret rather
 * than a predictable one. The attacker's test: a cookie computed with an
 * all-zero R_m, which anyone can do without ever receiving our reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cookie.h"
#include "crypto.h"
#include "support.h"
#include "wire.h"

static size_t fail_len; /* crypto_random fails for requests of this size; 0: never */

int __real_crypto_random(void *buf, size_t len);
int __wrap_crypto_random(void *buf, size_t len);

int __wrap_crypto_random(void *buf, size_t len)
{
	if (fail_len && len == fail_len)
		return -EIO;
	return __real_crypto_random(buf, len);
}

struct fixture {
	struct cookie_checker checker; /* ours */
	struct cookie theirs; /* the sender's MAC state for messages to us */
	union sockaddr_inet src;
	struct message_handshake_initiation msg;
};

static int setup(void **state)
{
	static struct fixture f;
	uint8_t pub[NOISE_PUBLIC_KEY_LEN];

	memset(&f, 0, sizeof(f));
	fail_len = 0;
	ts_keypair(NULL, pub);
	cookie_checker_init(&f.checker, pub);
	cookie_init(&f.theirs, pub);
	f.src.in.sin_family = AF_INET;
	f.src.in.sin_port = htons(51820);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &f.src.in.sin_addr), 1);
	assert_int_equal(crypto_random(&f.msg, sizeof(f.msg)), 0);
	*state = &f;
	return 0;
}

/* The cookie of src under R_m = 0: MAC(0, address || port). */
static void zero_secret_cookie(uint8_t out[COOKIE_LEN], const union sockaddr_inet *src)
{
	static const uint8_t zero[NOISE_HASH_LEN];
	uint8_t a[6];

	memcpy(a, &src->in.sin_addr, 4);
	memcpy(a + 4, &src->in.sin_port, 2);
	blake2s_mac(out, zero, sizeof(zero), a, sizeof(a));
}

/* The sender's message with mac1, and mac2 made with cookie. */
static void sign_with(struct fixture *f, const uint8_t cookie[COOKIE_LEN], double now_s)
{
	memcpy(f->theirs.cookie, cookie, COOKIE_LEN);
	f->theirs.is_valid = true;
	f->theirs.birthdate_s = now_s;
	cookie_add_mac_to_packet((uint8_t *)&f->msg, sizeof(f->msg), &f->theirs, now_s);
}

static enum cookie_mac_state validate(struct fixture *f, double now_s)
{
	return cookie_validate_packet(&f->checker, (uint8_t *)&f->msg, sizeof(f->msg), &f->src,
				      true, NULL, now_s);
}

/* The random source fails from the start: no cookie is valid and none is sent. */
static void test_no_secret_no_cookies(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_cookie reply;
	uint8_t forged[COOKIE_LEN];

	zero_secret_cookie(forged, &f->src);
	sign_with(f, forged, 100.0);
	fail_len = NOISE_HASH_LEN;
	assert_int_equal(validate(f, 100.0), VALID_MAC_BUT_NO_COOKIE);
	assert_false(cookie_message_create(&reply, (uint8_t *)&f->msg, sizeof(f->msg), 1,
					   &f->checker, &f->src, 100.0));
	/* Once the source works again, cookies work again. */
	fail_len = 0;
	assert_true(cookie_message_create(&reply, (uint8_t *)&f->msg, sizeof(f->msg), 1,
					  &f->checker, &f->src, 101.0));
	assert_true(cookie_message_consume(&reply, &f->theirs, 101.0));
	cookie_add_mac_to_packet((uint8_t *)&f->msg, sizeof(f->msg), &f->theirs, 101.0);
	assert_int_equal(validate(f, 101.0), VALID_MAC_WITH_COOKIE);
}

/* A renewal that fails keeps the secret in force; the next use tries again. */
static void test_failed_renewal_keeps_the_secret(void **state)
{
	struct fixture *f = *state;
	struct message_handshake_cookie reply;
	uint8_t cookie[COOKIE_LEN], forged[COOKIE_LEN];
	double later = 100.0 + COOKIE_SECRET_MAX_AGE + 1;

	/* A genuine cookie, received at 100 s. */
	cookie_add_mac_to_packet((uint8_t *)&f->msg, sizeof(f->msg), &f->theirs, 100.0);
	assert_true(cookie_message_create(&reply, (uint8_t *)&f->msg, sizeof(f->msg), 1,
					  &f->checker, &f->src, 100.0));
	assert_true(cookie_message_consume(&reply, &f->theirs, 100.0));
	memcpy(cookie, f->theirs.cookie, COOKIE_LEN);

	/* Past the secret's age the renewal fails: the old cookie still counts, a zero one not. */
	fail_len = NOISE_HASH_LEN;
	sign_with(f, cookie, later);
	assert_int_equal(validate(f, later), VALID_MAC_WITH_COOKIE);
	zero_secret_cookie(forged, &f->src);
	sign_with(f, forged, later);
	assert_int_equal(validate(f, later), VALID_MAC_BUT_NO_COOKIE);

	/* The source is back: the secret is renewed and the old cookie is void. */
	fail_len = 0;
	sign_with(f, cookie, later + 1);
	assert_int_equal(validate(f, later + 1), VALID_MAC_BUT_NO_COOKIE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_secret_no_cookies, setup),
		cmocka_unit_test_setup(test_failed_renewal_keeps_the_secret, setup),
	};

	if (crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
