// SPDX-License-Identifier: MIT
/*
 * The crypto worker pool: batches of every size, sealed on four threads
 * with several keys interleaved, give exactly what lane 0 alone gives, in
 * place and in order; opening them back on the pool restores the
 * plaintext and flags a tampered message, and only that one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "log.h"
#include "workers.h"

#define THREADS 4
#define KEYS    3
#define MAXN    700
#define MSG     1420

static uint8_t plain[MAXN][MSG + 16], pool_out[MAXN][MSG + 16], ref_out[MAXN][MSG + 16];

static void batches_match_one_thread(void **state)
{
	struct aead_ctx *enc[KEYS], *dec[KEYS];
	static struct crypt_task tasks[MAXN];
	struct workers *w;
	uint8_t key[KEYS][32];
	static const unsigned int sizes[] = {0, 1, 15, 16, 17, 64, 65, 333, MAXN};

	(void)state;
	assert_int_equal(crypto_set_lanes(THREADS), 0);
	assert_int_equal(workers_create(THREADS, &w), 0);
	assert_int_equal(workers_count(w), THREADS);
	for (int k = 0; k < KEYS; k++) {
		assert_int_equal(crypto_random(key[k], 32), 0);
		assert_int_equal(aead_ctx_create(&enc[k], key[k], true), 0);
		assert_int_equal(aead_ctx_create(&dec[k], key[k], false), 0);
	}
	for (unsigned int s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned int n = sizes[s];

		for (unsigned int i = 0; i < n; i++) {
			size_t len = (i * 37) % MSG;

			assert_int_equal(crypto_random(plain[i], len), 0);
			memcpy(pool_out[i], plain[i], len);
			memcpy(ref_out[i], plain[i], len);
			assert_true(aead_ctx_seal(enc[i % KEYS], 0, 1000 + i, ref_out[i], ref_out[i], len));
			tasks[i] = (struct crypt_task){.ctx = enc[i % KEYS],
						       .counter = 1000 + i,
						       .data = pool_out[i],
						       .len = len,
						       .is_seal = true};
		}
		workers_run(w, tasks, n);
		for (unsigned int i = 0; i < n; i++) {
			assert_true(tasks[i].ok);
			assert_memory_equal(pool_out[i], ref_out[i], (i * 37) % MSG + 16);
		}
		/* Open them back on the pool; one tampered message fails alone. */
		if (n)
			pool_out[n / 2][0] ^= 1;
		for (unsigned int i = 0; i < n; i++)
			tasks[i] = (struct crypt_task){.ctx = dec[i % KEYS],
						       .counter = 1000 + i,
						       .data = pool_out[i],
						       .len = (i * 37) % MSG + 16,
						       .is_seal = false};
		workers_run(w, tasks, n);
		for (unsigned int i = 0; i < n; i++) {
			size_t len = (i * 37) % MSG;

			if (i == n / 2) {
				assert_false(tasks[i].ok);
				continue;
			}
			assert_true(tasks[i].ok);
			assert_memory_equal(pool_out[i], plain[i], len);
		}
	}
	/* NULL runs everything on the caller's lane. */
	tasks[0] = (struct crypt_task){.ctx = enc[0], .counter = 1, .data = pool_out[0], .len = 10,
				       .is_seal = true};
	workers_run(NULL, tasks, 1);
	assert_true(tasks[0].ok);
	for (int k = 0; k < KEYS; k++) {
		aead_ctx_destroy(enc[k]);
		aead_ctx_destroy(dec[k]);
	}
	workers_destroy(w);
	workers_destroy(NULL);
	assert_int_equal(workers_create(0, &w), -EINVAL);
	assert_null(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(batches_match_one_thread),
	};

	log_init(LOG_LEVEL_ERROR);
	if (crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
