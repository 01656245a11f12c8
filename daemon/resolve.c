// SPDX-License-Identifier: MIT
/* Asynchronous name resolution; see resolve.h. */
#include "resolve.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"

struct resolve_req {
	struct list_head node; /* in pending while glibc has it; loop thread only */
	struct resolve_req *next_done; /* in done_head; under done_lock */
	struct gaicb gai;
	struct addrinfo hints;
	char host[256];
	char port[8];
	resolve_cb cb; /* NULL once cancelled */
	void *ctx;
};

static struct ev_loop *loop;
static ev_async wakeup;
static struct list_head pending = LIST_HEAD_INIT(pending);
/* Finished requests, handed from glibc's notification thread to the loop. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static struct resolve_req *done_head;

/* On glibc's notification thread: hand req to the loop. */
static void on_done_thread(union sigval v)
{
	struct resolve_req *req = v.sival_ptr;

	pthread_mutex_lock(&done_lock);
	req->next_done = done_head;
	done_head = req;
	if (loop) /* under the lock: resolve_shutdown clears it */
		ev_async_send(loop, &wakeup);
	pthread_mutex_unlock(&done_lock);
}

static int first_address(const struct addrinfo *res, union sockaddr_inet *out)
{
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET && ai->ai_addrlen == sizeof(struct sockaddr_in)) ||
		    (ai->ai_family == AF_INET6 && ai->ai_addrlen == sizeof(struct sockaddr_in6))) {
			memset(out, 0, sizeof(*out));
			memcpy(out, ai->ai_addr, ai->ai_addrlen);
			return 0;
		}
	}
	return -EHOSTUNREACH;
}

static void finish(struct resolve_req *req)
{
	union sockaddr_inet addr;
	int rc = gai_error(&req->gai);

	if (rc == 0)
		rc = first_address(req->gai.ar_result, &addr);
	else
		rc = rc == EAI_SYSTEM ? -EIO : -EHOSTUNREACH;
	list_del(&req->node);
	if (req->cb)
		req->cb(req->ctx, rc, rc == 0 ? &addr : NULL);
	if (req->gai.ar_result)
		freeaddrinfo(req->gai.ar_result);
	free(req);
}

static void on_wakeup(struct ev_loop *l, ev_async *w, int revents)
{
	struct resolve_req *list, *next;

	(void)l;
	(void)w;
	(void)revents;
	pthread_mutex_lock(&done_lock);
	list = done_head;
	done_head = NULL;
	pthread_mutex_unlock(&done_lock);
	for (; list; list = next) {
		next = list->next_done;
		finish(list);
	}
}

int resolve_init(struct ev_loop *l)
{
	loop = l;
	ev_async_init(&wakeup, on_wakeup);
	ev_async_start(loop, &wakeup);
	/* The async watcher alone must not keep the loop running. */
	ev_unref(loop);
	return 0;
}

void resolve_shutdown(void)
{
	struct resolve_req *req, *tmp;

	if (!loop)
		return;
	ev_ref(loop);
	ev_async_stop(loop, &wakeup);
	/* Answers that came back already are freed; those still out are left. */
	on_wakeup(loop, &wakeup, 0);
	/*
	 * Those still out stay in pending (reachable, not a leak) because glibc
	 * may yet notify: freeing them would be a use after free at exit.
	 */
	list_for_each_safe(req, tmp, &pending, node) {
		req->cb = NULL;
		(void)gai_cancel(&req->gai);
	}
	pthread_mutex_lock(&done_lock);
	loop = NULL;
	pthread_mutex_unlock(&done_lock);
}

struct resolve_req *resolve_start(const char *host, uint16_t port, resolve_cb cb, void *ctx)
{
	struct gaicb *list[1];
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD};
	struct resolve_req *req;
	int rc;

	if (!loop || strlen(host) >= sizeof(req->host)) {
		errno = loop ? ENAMETOOLONG : ENOTSUP;
		return NULL;
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	snprintf(req->host, sizeof(req->host), "%s", host);
	snprintf(req->port, sizeof(req->port), "%u", port);
	req->hints.ai_socktype = SOCK_DGRAM;
	req->hints.ai_protocol = IPPROTO_UDP;
	req->hints.ai_flags = AI_NUMERICSERV;
	req->gai.ar_name = req->host;
	req->gai.ar_service = req->port;
	req->gai.ar_request = &req->hints;
	req->cb = cb;
	req->ctx = ctx;
	sev.sigev_notify_function = on_done_thread;
	sev.sigev_value.sival_ptr = req;
	list[0] = &req->gai;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	if (rc != 0) {
		free(req);
		errno = rc == EAI_MEMORY ? ENOMEM : EAGAIN;
		return NULL;
	}
	list_add_tail(&req->node, &pending);
	return req;
}

void resolve_cancel(struct resolve_req *req)
{
	if (req)
		req->cb = NULL;
}
