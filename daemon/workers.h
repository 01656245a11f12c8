/* SPDX-License-Identifier: MIT */
/*
 * Crypto on every core: a pool of worker threads that seal or open a batch
 * of data messages together with the event loop's thread, each with its own
 * lane of the keypairs' cipher contexts (crypto_set_lanes). The loop owns
 * everything else: it prepares a batch (peer, keypair, counter, buffer),
 * hands it to workers_run(), and when that returns every task is done, so
 * packets go on in their original order (the driver's parallel crypt,
 * serial send). Workers touch nothing but the tasks' buffers and contexts.
 */
#ifndef TUND_WORKERS_H
#define TUND_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aead_ctx;

/* One message to seal or open in place. */
struct crypt_task {
	struct aead_ctx *ctx; /* borrowed; alive until workers_run() returns */
	uint64_t counter;
	uint8_t *data;        /* plaintext to seal (tag appended) or ciphertext with tag */
	size_t len;           /* bytes at data: plaintext, or ciphertext + tag */
	bool is_seal;
	bool ok;              /* set by workers_run() */
};

struct workers;

/*
 * A pool of n_threads - 1 threads (the caller is the n-th): n_threads 1
 * makes no thread. Call crypto_set_lanes(n_threads) before any keypair is
 * made. Returns 0 or -errno.
 */
int workers_create(unsigned int n_threads, struct workers **out);
/* Stop and join the threads. NULL is a no-op. */
void workers_destroy(struct workers *w);
/* Threads taking part, the caller's included (1 for NULL). */
unsigned int workers_count(const struct workers *w);
/*
 * Run every task, sharing them with the workers when the batch is big
 * enough to pay for waking them; returns when all are done. w may be NULL
 * (everything runs here, on lane 0).
 */
void workers_run(struct workers *w, struct crypt_task *tasks, unsigned int n);

#endif
