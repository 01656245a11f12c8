// SPDX-License-Identifier: MIT
/*
 * The crypto worker pool (workers.h). A batch is a job: the loop publishes
 * it under the lock and wakes the workers, then claims chunks of tasks
 * with an atomic counter like everyone else, so a worker that wakes late
 * finds the work done and costs nothing but its wake-up. The job lives on
 * the caller's stack, so workers_run() returns only when no worker still
 * holds it. Small batches run inline: waking a thread costs more than
 * sealing a few packets.
 */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "crypto.h"
#include "log.h"

/* Tasks claimed at a time; batches smaller than two chunks run inline. */
#define CHUNK 8

struct job {
	struct crypt_task *tasks;
	unsigned int n;
	atomic_uint next; /* the first task not yet claimed */
};

/* Owned by the daemon's scratch (udp.h); one per process. */
struct workers {
	unsigned int n_threads; /* the caller included */
	pthread_t *tids;
	pthread_mutex_t lock;
	pthread_cond_t go;       /* a job was published, or stop */
	pthread_cond_t left;     /* a worker let go of the job */
	struct job *job;         /* under lock: the open job, or NULL */
	uint64_t generation;     /* under lock: bumped per job */
	unsigned int holders;    /* under lock: workers inside the job */
	bool stopping;
};

struct worker_arg {
	struct workers *w;
	unsigned int lane;
};

static void run_task(struct crypt_task *t, unsigned int lane)
{
	if (t->is_seal)
		t->ok = aead_ctx_seal(t->ctx, lane, t->counter, t->data, t->data, t->len);
	else
		t->ok = aead_ctx_open(t->ctx, lane, t->counter, t->data, t->data, t->len);
}

static void drain(struct job *job, unsigned int lane)
{
	unsigned int i;

	while ((i = atomic_fetch_add(&job->next, CHUNK)) < job->n) {
		unsigned int end = i + CHUNK < job->n ? i + CHUNK : job->n;

		for (; i < end; i++)
			run_task(&job->tasks[i], lane);
	}
}

static void *worker_main(void *arg)
{
	struct worker_arg *wa = arg;
	struct workers *w = wa->w;
	unsigned int lane = wa->lane;
	uint64_t seen = 0;

	free(wa);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stopping && (!w->job || w->generation == seen))
			pthread_cond_wait(&w->go, &w->lock);
		if (w->stopping)
			break;
		seen = w->generation;
		w->holders++;
		{
			struct job *job = w->job;

			pthread_mutex_unlock(&w->lock);
			drain(job, lane);
			pthread_mutex_lock(&w->lock);
		}
		if (--w->holders == 0)
			pthread_cond_signal(&w->left);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int workers_create(unsigned int n_threads, struct workers **out)
{
	struct workers *w;

	*out = NULL;
	if (n_threads < 1 || n_threads > CRYPTO_MAX_LANES)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->tids = calloc(n_threads, sizeof(*w->tids));
	if (!w->tids) {
		free(w);
		return -ENOMEM;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->go, NULL);
	pthread_cond_init(&w->left, NULL);
	w->n_threads = 1;
	for (unsigned int lane = 1; lane < n_threads; lane++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		int rc;

		if (!wa) {
			workers_destroy(w);
			return -ENOMEM;
		}
		*wa = (struct worker_arg){w, lane};
		rc = pthread_create(&w->tids[lane], NULL, worker_main, wa);
		if (rc != 0) {
			free(wa);
			workers_destroy(w);
			return -rc;
		}
		w->n_threads++;
	}
	*out = w;
	return 0;
}

void workers_destroy(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->lock);
	for (unsigned int lane = 1; lane < w->n_threads; lane++)
		pthread_join(w->tids[lane], NULL);
	pthread_cond_destroy(&w->go);
	pthread_cond_destroy(&w->left);
	pthread_mutex_destroy(&w->lock);
	free(w->tids);
	free(w);
}

unsigned int workers_count(const struct workers *w)
{
	return w ? w->n_threads : 1;
}

void workers_run(struct workers *w, struct crypt_task *tasks, unsigned int n)
{
	struct job job = {.tasks = tasks, .n = n};

	atomic_init(&job.next, 0);
	if (!w || w->n_threads == 1 || n < 2 * CHUNK) {
		drain(&job, 0);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->job = &job;
	w->generation++;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->lock);

	drain(&job, 0);

	/* Close the job; wait for the workers that are still inside it. */
	pthread_mutex_lock(&w->lock);
	w->job = NULL;
	while (w->holders)
		pthread_cond_wait(&w->left, &w->lock);
	pthread_mutex_unlock(&w->lock);
}
