// SPDX-License-Identifier: MIT
/* A JSON-lines connection: see jsonline.h. */
#include "jsonline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto.h"

/*
 * A tunnel connection stops reading while this much output waits: a peer
 * that does not read is not fed.
 */
#define OUT_HIGH_WATER (16 * 1024)

size_t jsonline_pending(const struct jsonline *c)
{
	return c->out_len - c->out_off;
}

/* A session hands out no line while a reply streams or its output is at the mark. */
static bool holding(const struct jsonline *c)
{
	return c->is_session && (c->stream || jsonline_pending(c) >= c->high_water);
}

static void update_read(struct jsonline *c)
{
	if (!c->connecting && !c->input_ended && jsonline_pending(c) < c->high_water &&
	    c->in_len < c->max_line)
		ev_io_start(c->loop, &c->rw);
	else
		ev_io_stop(c->loop, &c->rw);
}

/*
 * A session whose input ended closes once every reply is written. True when
 * it did (on_close called: c may be gone).
 */
static bool session_done(struct jsonline *c)
{
	if (!c->is_session || !c->input_ended || c->stream || jsonline_pending(c) > 0)
		return false;
	c->on_close(c, c->end_err);
	return true;
}

/* After lines were handed out: reading on or off, and a session that is done closed. */
static void settle(struct jsonline *c)
{
	update_read(c);
	(void)session_done(c);
}

/*
 * A full buffer without a newline: a line too long. A tunnel connection
 * ends; a session's input ends, and its owner answers. False when c is gone.
 */
static bool overlong(struct jsonline *c)
{
	if (!c->is_session) {
		c->on_close(c, -EMSGSIZE);
		return false;
	}
	crypto_wipe(c->in, c->in_len);
	c->in_len = 0;
	c->input_ended = true;
	c->end_err = -EMSGSIZE;
	return c->on_overlong(c);
}

/* Hand out each complete line; false when the owner destroyed c or it must close. */
static bool process(struct jsonline *c)
{
	char *nl;

	while (!holding(c) && (nl = memchr(c->in, '\n', c->in_len))) {
		size_t len = (size_t)(nl - c->in);
		json_t *msg = NULL;
		bool go_on;

		if (len > 0) {
			msg = json_loadb(c->in, len, JSON_REJECT_DUPLICATES, NULL);
			if (msg && !json_is_object(msg)) {
				json_decref(msg);
				msg = NULL;
			}
		}
		/* Consume the line first: the owner may take the rest of the bytes. */
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
		/* A session's line may hold a preshared key: wipe what the move left behind. */
		if (c->is_session)
			crypto_wipe(c->in + c->in_len, len + 1);
		if (len == 0)
			continue;
		go_on = c->on_msg(c, msg);
		json_decref(msg);
		if (!go_on)
			return false;
	}
	/* While a session holds its lines, a full buffer waits: lines may be in it. */
	if (c->in_len >= c->max_line && !holding(c))
		return overlong(c);
	return true;
}

static void jsonline_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct jsonline *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recv(c->fd, c->in + c->in_len, c->max_line - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 && !c->is_session) {
		c->on_close(c, n == 0 ? 0 : -errno);
		return;
	}
	if (n <= 0) {
		/* A session answers the lines before EOF, then closes. */
		c->input_ended = true;
		settle(c);
		return;
	}
	c->in_len += (size_t)n;
	if (c->is_session)
		ev_timer_again(c->loop, &c->idle);
	if (process(c))
		settle(c);
}

/* All output written: a session's stream goes on, or the lines that waited are handed out. */
static bool session_drained(struct jsonline *c)
{
	int rc;

	if (!c->stream)
		return process(c);
	rc = c->stream(c);
	if (rc < 0) {
		c->on_close(c, rc);
		return false;
	}
	if (rc == 0)
		c->stream = NULL;
	return true;
}

static void jsonline_on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct jsonline *c = w->data;

	(void)loop;
	(void)revents;
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err) {
			c->on_close(c, -err);
			return;
		}
		c->connecting = false;
	}
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			c->on_close(c, -errno);
			return;
		}
		c->out_off += (size_t)n;
		if (c->is_session)
			ev_timer_again(c->loop, &c->idle);
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_off = c->out_len = c->out_cap = 0;
		ev_io_stop(c->loop, &c->ww);
		if (c->is_session && !session_drained(c))
			return;
	}
	settle(c);
}

static void jsonline_on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct jsonline *c = w->data;

	(void)loop;
	(void)revents;
	c->on_close(c, -ETIMEDOUT);
}

static int create(struct ev_loop *loop, int fd, size_t max_line, jsonline_msg_fn on_msg,
		  jsonline_close_fn on_close, void *owner, struct jsonline **out)
{
	struct jsonline *c;

	*out = NULL;
	c = calloc(1, sizeof(*c) + max_line);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->loop = loop;
	c->fd = fd;
	c->max_line = max_line;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->owner = owner;
	ev_io_init(&c->rw, jsonline_on_readable, fd, EV_READ);
	ev_io_init(&c->ww, jsonline_on_writable, fd, EV_WRITE);
	c->rw.data = c->ww.data = c;
	*out = c;
	return 0;
}

int jsonline_create(struct ev_loop *loop, int fd, bool connecting, jsonline_msg_fn on_msg,
		    jsonline_close_fn on_close, void *owner, struct jsonline **out)
{
	struct jsonline *c;
	int rc = create(loop, fd, JSONLINE_MAX, on_msg, on_close, owner, &c);

	if (rc != 0)
		return rc;
	c->connecting = connecting;
	c->high_water = OUT_HIGH_WATER;
	c->out_max = JSONLINE_OUT_MAX;
	if (connecting)
		ev_io_start(loop, &c->ww);
	update_read(c);
	*out = c;
	return 0;
}

int jsonline_create_session(struct ev_loop *loop, int fd, const struct jsonline_session *s,
			    jsonline_msg_fn on_msg, jsonline_close_fn on_close, void *owner,
			    struct jsonline **out)
{
	struct jsonline *c;
	int rc = create(loop, fd, s->max_line, on_msg, on_close, owner, &c);

	if (rc != 0)
		return rc;
	c->is_session = true;
	c->high_water = s->high_water;
	c->on_overlong = s->on_overlong;
	ev_init(&c->idle, jsonline_on_idle);
	c->idle.repeat = s->idle_timeout_s;
	c->idle.data = c;
	ev_timer_again(loop, &c->idle);
	update_read(c);
	*out = c;
	return 0;
}

void jsonline_destroy(struct jsonline *c)
{
	if (!c)
		return;
	ev_io_stop(c->loop, &c->rw);
	ev_io_stop(c->loop, &c->ww);
	if (c->is_session) {
		ev_timer_stop(c->loop, &c->idle);
		/* A line not yet handled may hold a preshared key. */
		crypto_wipe(c->in, c->max_line);
	}
	close(c->fd);
	free(c->out);
	free(c);
}

/*
 * Room for len more bytes of output: what was sent goes first, then the
 * buffer grows by doubling, up to out_max (a connection that answers a ping
 * does not hold 64 KiB). 0, -ENOBUFS or -ENOMEM.
 */
static int reserve(struct jsonline *c, size_t len)
{
	size_t need, cap;
	char *p;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + len;
	if (c->out_max && need > c->out_max)
		return -ENOBUFS;
	if (need <= c->out_cap)
		return 0;
	for (cap = c->out_cap ? c->out_cap : 1024; cap < need; cap *= 2)
		;
	if (c->out_max && cap > c->out_max)
		cap = c->out_max;
	p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

int jsonline_put(struct jsonline *c, const void *text, size_t len)
{
	int rc = reserve(c, len);

	if (rc != 0)
		return rc;
	memcpy(c->out + c->out_len, text, len);
	c->out_len += len;
	ev_io_start(c->loop, &c->ww);
	update_read(c);
	return 0;
}

int jsonline_send(struct jsonline *c, json_t *msg)
{
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	size_t len;
	int rc;

	json_decref(msg);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n'; /* in place of the terminating NUL, which is not sent */
	rc = jsonline_put(c, text, len + 1);
	free(text);
	return rc;
}

int jsonline_stream(struct jsonline *c, jsonline_stream_fn fn)
{
	int rc = fn(c);

	if (rc > 0)
		c->stream = fn;
	return rc;
}

void jsonline_flush(struct jsonline *c)
{
	while (!c->connecting && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0)
			return;
		c->out_off += (size_t)n;
	}
}

void jsonline_end_input(struct jsonline *c)
{
	c->input_ended = true;
	c->end_err = 0;
	ev_io_stop(c->loop, &c->rw);
	/* The writable callback settles it on the loop's next turn, even with nothing queued. */
	ev_io_start(c->loop, &c->ww);
}

int jsonline_release(struct jsonline *c, void *rest, size_t cap, size_t *rest_len)
{
	int fd = c->fd;

	*rest_len = c->in_len < cap ? c->in_len : cap;
	memcpy(rest, c->in, *rest_len);
	ev_io_stop(c->loop, &c->rw);
	ev_io_stop(c->loop, &c->ww);
	free(c->out);
	free(c);
	return fd;
}
