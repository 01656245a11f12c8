// SPDX-License-Identifier: MIT
/* A JSON-lines connection: see jsonline.h. */
#include "jsonline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Stop reading while this much output waits: a peer that does not read is not fed. */
#define OUT_HIGH_WATER (16 * 1024)

static void update_read(struct jsonline *c)
{
	if (!c->connecting && c->out_len - c->out_off < OUT_HIGH_WATER)
		ev_io_start(c->loop, &c->rw);
	else
		ev_io_stop(c->loop, &c->rw);
}

/* Hand out each complete line; false when the owner destroyed c or it must close. */
static bool process(struct jsonline *c)
{
	char *nl;

	while ((nl = memchr(c->in, '\n', c->in_len))) {
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
		if (len == 0)
			continue;
		go_on = c->on_msg(c, msg);
		json_decref(msg);
		if (!go_on)
			return false;
	}
	if (c->in_len >= JSONLINE_MAX) {
		c->on_close(c, -EMSGSIZE);
		return false;
	}
	return true;
}

static void jsonline_on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct jsonline *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recv(c->fd, c->in + c->in_len, JSONLINE_MAX - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->on_close(c, n == 0 ? 0 : -errno);
		return;
	}
	c->in_len += (size_t)n;
	process(c);
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
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_off = c->out_len = c->out_cap = 0;
		ev_io_stop(c->loop, &c->ww);
	}
	update_read(c);
}

int jsonline_create(struct ev_loop *loop, int fd, bool connecting, jsonline_msg_fn on_msg,
		    jsonline_close_fn on_close, void *owner, struct jsonline **out)
{
	struct jsonline *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->loop = loop;
	c->fd = fd;
	c->connecting = connecting;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->owner = owner;
	ev_io_init(&c->rw, jsonline_on_readable, fd, EV_READ);
	ev_io_init(&c->ww, jsonline_on_writable, fd, EV_WRITE);
	c->rw.data = c->ww.data = c;
	if (connecting)
		ev_io_start(loop, &c->ww);
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
	close(c->fd);
	free(c->out);
	free(c);
}

/*
 * Room for len more bytes of output: what was sent goes first, then the
 * buffer grows by doubling, up to JSONLINE_OUT_MAX (a connection that
 * answers a ping does not hold 64 KiB). 0, -ENOBUFS or -ENOMEM.
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
	if (need > JSONLINE_OUT_MAX)
		return -ENOBUFS;
	if (need <= c->out_cap)
		return 0;
	for (cap = c->out_cap ? c->out_cap : 1024; cap < need; cap *= 2)
		;
	cap = cap < JSONLINE_OUT_MAX ? cap : JSONLINE_OUT_MAX;
	p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
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
	rc = reserve(c, len + 1);
	if (rc != 0) {
		free(text);
		return rc;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	free(text);
	ev_io_start(c->loop, &c->ww);
	update_read(c);
	return 0;
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
