// SPDX-License-Identifier: MIT
/*
 * The UAPI socket of an interface (uapi_server.h): the listening socket,
 * who may connect, and each connection's requests in and replies out, with
 * bounded buffers and timeouts.
 */
#include "uapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "iface.h"
#include "list.h"
#include "log.h"
#include "uapi.h"
#include "uapi_apply.h"

#define UAPI_DEFAULT_DIR "/var/run/wireguard"
#define UAPI_MAX_CONNS	 16 /* per interface */
#define UAPI_READ_CHUNK	 (64 * 1024)
#define UAPI_IDLE_S	 10.0 /* no byte in or out for this long: closed */
#define UAPI_REQUEST_S	 30.0 /* a request not complete this long after its first byte: closed */
#define UAPI_TURNS	 16 /* requests answered in one go before the loop turns */

struct uapi_server {
	struct iface *iface; /* owner */
	int fd;
	ev_io accept_watcher;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the file we made: removed only if it is still that one */
	ino_t ino;
	struct list_head conns;
	size_t n_conns;
};

struct uapi_conn {
	struct list_head node;
	struct uapi_server *srv;
	int fd;
	ev_io io;
	ev_timer timer;
	double last_progress, request_start;
	bool in_request; /* a request's first byte was read */
	bool closing; /* close once the output is sent */
	struct uapi_parser parser;
	char *in; /* what was read and not parsed yet: in[in_off..in_len) */
	size_t in_off, in_len;
	struct uapi_buf out; /* out.data[out_off..out.len) is not sent yet */
	size_t out_off;
};

static void conn_close(struct uapi_conn *c)
{
	struct ev_loop *loop = c->srv->iface->loop;

	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	uapi_parser_free(&c->parser);
	uapi_buf_free(&c->out);
	if (c->in) {
		memset(c->in, 0, UAPI_READ_CHUNK); /* a set may carry keys */
		free(c->in);
	}
	list_del(&c->node);
	c->srv->n_conns--;
	free(c);
}

static void conn_watch(struct uapi_conn *c, int events)
{
	struct ev_loop *loop = c->srv->iface->loop;

	if (c->io.events == events && ev_is_active(&c->io))
		return;
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(loop, &c->io);
}

/* 1: all sent; 0: the socket is full (EV_WRITE set); -1: c was closed. */
static int conn_flush(struct uapi_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_watch(c, EV_WRITE);
			return 0;
		}
		if (n <= 0) {
			conn_close(c);
			return -1;
		}
		c->out_off += (size_t)n;
		c->last_progress = ev_now(c->srv->iface->loop);
	}
	uapi_buf_free(&c->out);
	c->out_off = 0;
	return 1;
}

/* A complete request (or an error) is in c->parser: answer it. */
static void conn_answer(struct uapi_conn *c)
{
	struct uapi_parser *p = &c->parser;
	struct iface *iface = c->srv->iface;
	int rc;

	switch (p->status) {
	case UAPI_GET:
		uapi_get(iface, &c->out);
		uapi_put_errno(&c->out, 0);
		break;
	case UAPI_SET:
		rc = uapi_apply(iface, &p->set);
		uapi_put_errno(&c->out, rc);
		break;
	case UAPI_FAILED:
		log_debug("%s: UAPI: %s: errno=%d", iface->name, p->why ? p->why : "refused",
			  p->error);
		uapi_put_errno(&c->out, p->error);
		c->closing = true; /* the rest of the request is not a request */
		break;
	case UAPI_CLOSE:
	case UAPI_NEED_MORE:
		log_debug("%s: UAPI: %s; closing", iface->name, p->why ? p->why : "closed");
		c->closing = true;
		break;
	}
	if (c->out.oom) {
		uapi_buf_free(&c->out);
		c->closing = true;
	}
	uapi_parser_reset(p);
	c->in_request = false;
}

/* Parse what was read, answer each request, send: until input runs out or output waits. */
static void conn_pump(struct uapi_conn *c)
{
	for (int turn = 0; turn < UAPI_TURNS; turn++) {
		size_t used;

		if (conn_flush(c) != 1)
			return;
		if (c->closing) {
			conn_close(c);
			return;
		}
		if (c->in_off == c->in_len) {
			conn_watch(c, EV_READ);
			return;
		}
		if (!c->in_request) {
			c->in_request = true;
			c->request_start = ev_now(c->srv->iface->loop);
		}
		used = uapi_parser_feed(&c->parser, c->in + c->in_off, c->in_len - c->in_off);
		c->in_off += used;
		if (c->parser.status == UAPI_NEED_MORE) {
			c->in_off = c->in_len = 0;
			conn_watch(c, EV_READ);
			return;
		}
		conn_answer(c);
	}
	/* Many requests in one read: let the loop turn, come back when writable. */
	conn_watch(c, EV_WRITE);
}

static void conn_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct uapi_conn *c = w->data;
	ssize_t n;

	if (revents & EV_WRITE) {
		conn_pump(c);
		return;
	}
	n = read(c->fd, c->in, UAPI_READ_CHUNK);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->last_progress = ev_now(loop);
	c->in_off = 0;
	c->in_len = (size_t)n;
	conn_pump(c);
}

static void conn_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct uapi_conn *c = w->data;
	double now = ev_now(loop), idle_left, req_left;

	(void)revents;
	idle_left = c->last_progress + UAPI_IDLE_S - now;
	req_left = c->in_request ? c->request_start + UAPI_REQUEST_S - now : UAPI_IDLE_S;
	if (idle_left <= 0 || req_left <= 0) {
		log_debug("%s: UAPI: connection closed (%s)", c->srv->iface->name,
			  idle_left <= 0 ? "idle" : "request not finished in time");
		conn_close(c);
		return;
	}
	ev_timer_set(w, idle_left < req_left ? idle_left : req_left, 0.);
	ev_timer_start(loop, w);
}

/* Root, or tund's own user: the socket's mode says the same, this is a second lock. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void srv_on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct uapi_server *srv = w->data;
	struct uapi_conn *c;
	int fd;

	(void)revents;
	fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (srv->n_conns >= UAPI_MAX_CONNS || !peer_allowed(fd)) {
		log_debug("%s: UAPI: connection refused (%s)", srv->iface->name,
			  srv->n_conns >= UAPI_MAX_CONNS ? "too many" : "not root");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->in = malloc(UAPI_READ_CHUNK);
	if (!c || !c->in) {
		if (c)
			free(c->in);
		free(c);
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->last_progress = ev_now(loop);
	uapi_parser_init(&c->parser);
	list_add_tail(&c->node, &srv->conns);
	srv->n_conns++;
	ev_io_init(&c->io, conn_on_io, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	ev_timer_init(&c->timer, conn_on_timer, UAPI_IDLE_S, 0.);
	c->timer.data = c;
	ev_timer_start(loop, &c->timer);
}

/* Whether a process answers at path (wireguard-go's test before replacing a socket). */
static bool socket_in_use(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return used;
}

static int srv_bind(struct uapi_server *srv, const char *dir)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old_umask;
	int rc;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s.sock", dir,
			     srv->iface->name) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0)
		return -errno;
	/* Never reachable by others, not even between bind() and chmod(). */
	old_umask = umask(0177);
	rc = bind(srv->fd, (struct sockaddr *)&sun, sizeof(sun));
	if (rc != 0 && errno == EADDRINUSE) {
		if (socket_in_use(&sun)) {
			umask(old_umask);
			return -EADDRINUSE;
		}
		unlink(sun.sun_path);
		rc = bind(srv->fd, (struct sockaddr *)&sun, sizeof(sun));
	}
	umask(old_umask);
	if (rc != 0 || listen(srv->fd, 16) != 0)
		return -errno;
	if (chmod(sun.sun_path, 0600) != 0 || stat(sun.sun_path, &st) != 0) {
		rc = -errno;
		unlink(sun.sun_path);
		return rc;
	}
	memcpy(srv->path, sun.sun_path, sizeof(srv->path));
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	return 0;
}

const char *uapi_server_dir(void)
{
	const char *dir = getenv("TUND_UAPI_DIR");

	return dir && *dir ? dir : UAPI_DEFAULT_DIR;
}

int uapi_server_open(struct iface *iface)
{
	const char *dir = uapi_server_dir();
	struct uapi_server *srv;
	int rc;

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->iface = iface;
	srv->fd = -1;
	list_init(&srv->conns);
	rc = srv_bind(srv, dir);
	if (rc != 0) {
		if (rc == -EADDRINUSE)
			log_warn("%s: %s/%s.sock is served by another process: no UAPI for `wg`",
				 iface->name, dir, iface->name);
		else
			log_warn("%s: cannot serve %s/%s.sock: %s: no UAPI for `wg`", iface->name,
				 dir, iface->name, strerror(-rc));
		if (srv->fd >= 0)
			close(srv->fd);
		free(srv);
		return rc;
	}
	ev_io_init(&srv->accept_watcher, srv_on_accept, srv->fd, EV_READ);
	srv->accept_watcher.data = srv;
	ev_io_start(iface->loop, &srv->accept_watcher);
	iface->uapi = srv;
	log_debug("%s: UAPI on %s", iface->name, srv->path);
	return 0;
}

const char *uapi_server_path(const struct iface *iface)
{
	return iface->uapi ? iface->uapi->path : NULL;
}

void uapi_server_close(struct iface *iface)
{
	struct uapi_server *srv = iface->uapi;
	struct uapi_conn *c, *tmp;
	struct stat st;

	if (!srv)
		return;
	iface->uapi = NULL;
	list_for_each_safe(c, tmp, &srv->conns, node)
		conn_close(c);
	ev_io_stop(iface->loop, &srv->accept_watcher);
	close(srv->fd);
	/* Another process may have taken the name since (a test, wireguard-go): leave it. */
	if (stat(srv->path, &st) == 0 && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}
