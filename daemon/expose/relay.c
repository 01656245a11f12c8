// SPDX-License-Identifier: MIT
/*
 * The relay's state machine. Per direction i (fd[i] -> fd[1 - i]):
 *   reading:  rd[i] on, nothing waits;
 *   waiting:  rd[i] off, dir[i].buf holds what fd[1 - i] did not take, wr[1 - i] on;
 *   finished: fd[i] sent FIN and it was passed on (dir[i].shut).
 * Bytes are read into the owner's scratch and sent on at once; only what the
 * other side does not take is copied into a buffer of the relay's own (just
 * that many bytes), so a relay that keeps up allocates nothing. Both finished: both fds closed.
 * One idle timer, armed once connected, re-armed lazily from the time a
 * byte last moved (libev's pattern for timeouts that are mostly pushed back).
 */
#include "relay.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void relay_close_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void stop_all(struct relay *r)
{
	for (int i = 0; i < 2; i++) {
		ev_io_stop(r->loop, &r->rd[i]);
		ev_io_stop(r->loop, &r->wr[i]);
		free(r->dir[i].buf);
		r->dir[i].buf = NULL;
	}
	ev_timer_stop(r->loop, &r->connect_timer);
	ev_timer_stop(r->loop, &r->idle_timer);
}

/* End the relay: reset both sides on failure (err < 0), tell the owner, free. */
static void finish(struct relay *r, int err)
{
	stop_all(r);
	for (int i = 0; i < 2; i++) {
		if (err)
			relay_close_reset(r->fd[i]);
		else
			close(r->fd[i]);
		r->fd[i] = -1;
	}
	r->done(r, r->owner, err);
	free(r);
}

/* Both directions have passed their FIN on: the connection is over. */
static bool maybe_finish(struct relay *r)
{
	if (!r->dir[0].shut || !r->dir[1].shut)
		return false;
	finish(r, 0);
	return true;
}

/* fd[i] sent FIN and every byte before it is written: pass the FIN on. */
static bool pass_fin(struct relay *r, int i)
{
	r->dir[i].shut = true;
	if (shutdown(r->fd[1 - i], SHUT_WR) != 0 && errno != ENOTCONN) {
		finish(r, -errno);
		return true;
	}
	return maybe_finish(r);
}

/* Keep what fd[1 - i] did not take; stop reading fd[i] until it is written. */
static int keep(struct relay *r, int i, const uint8_t *data, size_t len)
{
	struct relay_dir *d = &r->dir[i];

	d->buf = malloc(len);
	if (!d->buf)
		return -ENOMEM;
	memcpy(d->buf, data, len);
	d->off = 0;
	d->len = len;
	ev_io_stop(r->loop, &r->rd[i]);
	ev_io_start(r->loop, &r->wr[1 - i]);
	return 0;
}

static void relay_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay *r = w->data;
	int i = w == &r->rd[0] ? 0 : 1;
	ssize_t n, m;
	int rc;

	(void)loop;
	(void)revents;
	n = recv(r->fd[i], r->scratch, RELAY_BUF_LEN, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			finish(r, -errno);
		return;
	}
	r->last_s = ev_now(r->loop);
	if (n == 0) {
		r->dir[i].eof = true;
		ev_io_stop(r->loop, &r->rd[i]);
		pass_fin(r, i);
		return;
	}
	r->dir[i].bytes += (uint64_t)n;
	m = send(r->fd[1 - i], r->scratch, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (m < 0 && errno != EAGAIN && errno != EINTR) {
		finish(r, -errno);
		return;
	}
	if (m < 0)
		m = 0;
	if (m < n) {
		rc = keep(r, i, r->scratch + m, (size_t)(n - m));
		if (rc != 0)
			finish(r, rc);
	}
}

/* fd[1]'s connect finished: fail, or start both directions. */
static bool connected(struct relay *r)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(r->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return false;
	if (err) {
		finish(r, -err);
		return false;
	}
	r->connecting = false;
	ev_timer_stop(r->loop, &r->connect_timer);
	ev_io_start(r->loop, &r->rd[1]);
	relay_set_idle_timeout(r, r->idle_s);
	return true;
}

static void relay_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay *r = w->data;
	int j = w == &r->wr[0] ? 0 : 1, i = 1 - j;
	struct relay_dir *d = &r->dir[i];

	(void)loop;
	(void)revents;
	if (r->connecting && j == 1 && !connected(r))
		return;
	while (d->len > 0) {
		ssize_t m = send(r->fd[j], d->buf + d->off, d->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (m < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (m < 0) {
			finish(r, -errno);
			return;
		}
		d->off += (size_t)m;
		d->len -= (size_t)m;
		r->last_s = ev_now(r->loop);
	}
	free(d->buf);
	d->buf = NULL;
	ev_io_stop(r->loop, &r->wr[j]);
	if (d->eof)
		pass_fin(r, i);
	else
		ev_io_start(r->loop, &r->rd[i]);
}

static void relay_on_connect_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay *r = w->data;

	(void)loop;
	(void)revents;
	finish(r, -ETIMEDOUT);
}

static void relay_on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay *r = w->data;
	double left_s = r->last_s + r->idle_s - ev_now(loop);

	(void)revents;
	if (left_s > 0.001) {
		ev_timer_set(w, left_s, 0);
		ev_timer_start(loop, w);
		return;
	}
	finish(r, -ETIME);
}

void relay_set_idle_timeout(struct relay *r, double idle_s)
{
	double left_s;

	r->idle_s = idle_s > 0 ? idle_s : 0;
	ev_timer_stop(r->loop, &r->idle_timer);
	/* While connecting, the connect timeout is in charge. */
	if (r->idle_s == 0 || r->connecting)
		return;
	left_s = r->last_s + r->idle_s - ev_now(r->loop);
	ev_timer_set(&r->idle_timer, left_s > 0 ? left_s : 0, 0);
	ev_timer_start(r->loop, &r->idle_timer);
}

/* Latency over batching (each read is sent on at once), and dead peers found in minutes. */
static void tune(int fd)
{
	int on = 1, idle_s = 60, intvl_s = 10, cnt = 6;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl_s, sizeof(intvl_s));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

int relay_start(struct ev_loop *loop, int fd_a, int fd_b, bool b_connecting,
		double connect_timeout_s, const void *pre, size_t len, uint8_t *scratch,
		relay_done_fn done, void *owner, struct relay **out)
{
	struct relay *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r || len > RELAY_BUF_LEN || (len && !(r->dir[0].buf = malloc(len)))) {
		free(r);
		relay_close_reset(fd_a);
		relay_close_reset(fd_b);
		return -ENOMEM;
	}
	list_init(&r->node);
	r->loop = loop;
	r->fd[0] = fd_a;
	r->fd[1] = fd_b;
	r->scratch = scratch;
	r->done = done;
	r->owner = owner;
	r->connecting = b_connecting;
	for (int i = 0; i < 2; i++) {
		tune(r->fd[i]);
		ev_io_init(&r->rd[i], relay_on_readable, r->fd[i], EV_READ);
		ev_io_init(&r->wr[i], relay_on_writable, r->fd[i], EV_WRITE);
		r->rd[i].data = r->wr[i].data = r;
	}
	ev_timer_init(&r->connect_timer, relay_on_connect_timeout, connect_timeout_s, 0);
	r->connect_timer.data = r;
	ev_timer_init(&r->idle_timer, relay_on_idle, 0, 0);
	r->idle_timer.data = r;
	r->last_s = ev_now(loop);
	if (len) {
		memcpy(r->dir[0].buf, pre, len);
		r->dir[0].len = len;
	}
	if (b_connecting) {
		/* Nothing moves until fd_b is connected; then pre, then both ways. */
		ev_io_start(loop, &r->wr[1]);
		ev_timer_start(loop, &r->connect_timer);
	} else {
		ev_io_start(loop, len ? &r->wr[1] : &r->rd[0]);
		ev_io_start(loop, &r->rd[1]);
	}
	*out = r;
	return 0;
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	stop_all(r);
	relay_close_reset(r->fd[0]);
	relay_close_reset(r->fd[1]);
	free(r);
}
