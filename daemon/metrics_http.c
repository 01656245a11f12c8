// SPDX-License-Identifier: MIT
/*
 * The metrics' HTTP listener (metrics_http.h). A connection reads its
 * request head into a fixed buffer, answers once, and closes: the life of
 * one is HEAD (reading, under a deadline from accept, so a client that
 * sends a byte a second gains nothing), BODY (writing; a piece of the scrape
 * is made only when the last one is sent, at most one per callback, so the
 * loop turns between pieces and a slow reader holds one piece of memory),
 * then DRAIN (our side shut, reading what the client still sends until it
 * closes, so that closing does not reset the connection under the reply).
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control_cmd.h"
#include "list.h"
#include "log.h"
#include "metrics.h"

#define MAX_CONNS	  16
#define HEAD_TIMEOUT_S	  10.0 /* from accept to the end of the head */
#define WRITE_TIMEOUT_S	  30.0 /* without the client taking a byte */
#define DRAIN_TIMEOUT_S	  2.0
#define PIECE		  (64 * 1024)
#define ACCEPTS_PER_EVENT 16
#define ACCEPT_PAUSE_S	  1.0

struct metrics_http {
	struct ev_loop *loop;
	struct daemon *d;
	int fd[METRICS_HTTP_MAX_LISTEN];
	ev_io accept_watcher[METRICS_HTTP_MAX_LISTEN];
	size_t n_fd;
	ev_timer pause; /* accept() ran out of descriptors: wait before the next */
	struct list_head conns;
	size_t n_conns;
};

enum conn_state {
	CONN_HEAD,
	CONN_BODY,
	CONN_DRAIN,
};

/* Owned by its server's list. */
struct http_conn {
	struct list_head node;
	struct metrics_http *m;
	int fd;
	enum conn_state state;
	ev_io io;
	ev_timer timer;
	char head[METRICS_HTTP_MAX_HEAD];
	size_t head_len, head_scanned;
	bool scraping; /* the body's scrape has more to write */
	struct metrics_scrape scrape;
	struct textbuf out; /* what is being written */
	size_t out_off;
};

static void conn_close(struct http_conn *c)
{
	ev_io_stop(c->m->loop, &c->io);
	ev_timer_stop(c->m->loop, &c->timer);
	close(c->fd);
	textbuf_free(&c->out);
	list_del(&c->node);
	c->m->n_conns--;
	free(c);
}

/* Switch the watcher to events, and the deadline to timeout_s. */
static void conn_watch(struct http_conn *c, int events, double timeout_s)
{
	ev_io_stop(c->m->loop, &c->io);
	ev_io_set(&c->io, c->fd, events);
	ev_io_start(c->m->loop, &c->io);
	ev_timer_stop(c->m->loop, &c->timer);
	ev_timer_set(&c->timer, timeout_s, timeout_s);
	ev_timer_start(c->m->loop, &c->timer);
}

/* An error reply with a short text body. */
static void conn_error(struct http_conn *c, const char *status, const char *extra)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n%s\n",
			 status, strlen(status) + 1, extra, status);

	textbuf_put(&c->out, buf, (size_t)n);
}

/* The end of the head, a blank line (CRLF or LF), searched from from on; 0 when not there. */
static size_t head_end(const char *buf, size_t len, size_t from)
{
	for (size_t i = from; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

int metrics_http_parse(const char *buf, size_t len, size_t *scanned, bool *get)
{
	char line[METRICS_HTTP_MAX_HEAD + 1], *method, *target, *version, *save;
	size_t end = head_end(buf, len, *scanned > 2 ? *scanned - 2 : 0), n;

	*scanned = len;
	*get = false;
	if (!end)
		return len >= METRICS_HTTP_MAX_HEAD ? 431 : 0;
	/* The request line, as a string of its own (a NUL in it ends it early). */
	n = (size_t)((const char *)memchr(buf, '\n', end) - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	memcpy(line, buf, n);
	line[n] = '\0';
	method = strtok_r(line, " ", &save);
	target = method ? strtok_r(NULL, " ", &save) : NULL;
	version = target ? strtok_r(NULL, " ", &save) : NULL;
	if (!version || strtok_r(NULL, " ", &save) || strncmp(version, "HTTP/1.", 7) != 0 ||
	    !version[7] || version[8])
		return 400;
	if (strcspn(target, "?") != strlen("/metrics") ||
	    strncmp(target, "/metrics", strlen("/metrics")) != 0)
		return 404;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return 405;
	*get = strcmp(method, "GET") == 0;
	return 200;
}

/* The head is complete (or too long): the reply for status, then write it. */
static void conn_answer(struct http_conn *c, int status, bool get)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: " METRICS_CONTENT_TYPE
				 "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";

	switch (status) {
	case 200:
		textbuf_put(&c->out, ok, sizeof(ok) - 1);
		c->scraping = get;
		metrics_scrape_init(&c->scrape, NULL);
		break;
	case 404:
		conn_error(c, "404 Not Found", "");
		break;
	case 405:
		conn_error(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n");
		break;
	case 431:
		conn_error(c, "431 Request Header Fields Too Large", "");
		break;
	default:
		conn_error(c, "400 Bad Request", "");
		break;
	}
	c->state = CONN_BODY;
	conn_watch(c, EV_WRITE, WRITE_TIMEOUT_S);
}

static void conn_read_head(struct http_conn *c)
{
	ssize_t n = recv(c->fd, c->head + c->head_len, sizeof(c->head) - c->head_len, 0);
	bool get;
	int status;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* closed before the head ended */
		conn_close(c);
		return;
	}
	c->head_len += (size_t)n;
	status = metrics_http_parse(c->head, c->head_len, &c->head_scanned, &get);
	if (status)
		conn_answer(c, status, get);
}

/* Our side is written: shut it and read until the client closes. */
static void conn_finish(struct http_conn *c)
{
	textbuf_free(&c->out);
	c->out_off = 0;
	if (shutdown(c->fd, SHUT_WR) != 0) {
		conn_close(c);
		return;
	}
	c->state = CONN_DRAIN;
	conn_watch(c, EV_READ, DRAIN_TIMEOUT_S);
}

/* One piece: made if the last is sent, then written as far as the socket takes it. */
static void conn_write(struct http_conn *c)
{
	ssize_t n;

	if (c->out_off == c->out.len) {
		c->out.len = 0;
		c->out_off = 0;
		if (c->scraping) {
			int rc = metrics_scrape_next(&c->scrape, c->m->d, &c->out, PIECE);

			if (rc < 0) {
				conn_close(c);
				return;
			}
			c->scraping = rc > 0;
		}
		if (c->out.len == 0) {
			conn_finish(c);
			return;
		}
	}
	n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c);
		return;
	}
	c->out_off += (size_t)n;
	ev_timer_again(c->m->loop, &c->timer); /* progress */
}

static void conn_on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_conn *c = w->data;
	char sink[4096];
	ssize_t n;

	(void)loop;
	(void)revents;
	switch (c->state) {
	case CONN_HEAD:
		conn_read_head(c);
		break;
	case CONN_BODY:
		conn_write(c);
		break;
	case CONN_DRAIN:
		n = recv(c->fd, sink, sizeof(sink), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		break;
	}
}

static void conn_on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_conn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->state != CONN_DRAIN)
		log_debug("metrics: closing a connection that made no progress");
	conn_close(c);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct metrics_http *m = w->data;

	(void)revents;
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct http_conn *c;

		if (fd < 0) {
			int err = errno;

			/*
			 * Out of descriptors or memory, the pending connection stays
			 * and the socket readable: pause, or the loop would spin.
			 */
			if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
				for (size_t j = 0; j < m->n_fd; j++)
					ev_io_stop(loop, &m->accept_watcher[j]);
				ev_timer_start(loop, &m->pause);
				log_warn("metrics: cannot accept: %s; pausing for %.0f s",
					 strerror(err), ACCEPT_PAUSE_S);
			}
			return;
		}
		if (m->n_conns >= MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			log_debug("metrics: refusing a connection (%zu open)", m->n_conns);
			close(fd);
			continue;
		}
		c->m = m;
		c->fd = fd;
		c->state = CONN_HEAD;
		ev_io_init(&c->io, conn_on_io, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_init(&c->timer, conn_on_timeout, HEAD_TIMEOUT_S, 0);
		c->timer.data = c;
		ev_timer_start(loop, &c->timer);
		list_add_tail(&c->node, &m->conns);
		m->n_conns++;
	}
}

static void on_pause_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct metrics_http *m = w->data;

	(void)revents;
	for (size_t i = 0; i < m->n_fd; i++)
		ev_io_start(loop, &m->accept_watcher[i]);
}

/* Loopback: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104. */
static bool is_loopback(const union sockaddr_inet *a)
{
	const uint8_t *b = a->in6.sin6_addr.s6_addr;

	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr) && b[12] == 127);
}

static int listen_on(struct metrics_http *m, const union sockaddr_inet *a)
{
	char text[ADDR_STR_LEN];
	int fd, one = 1, rc;

	sockaddr_format(text, sizeof(text), a);
	fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->sa.sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a->sa, sockaddr_len(a)) != 0 || listen(fd, 16) != 0)
		goto fail;
	m->fd[m->n_fd] = fd;
	ev_io_init(&m->accept_watcher[m->n_fd], on_accept, fd, EV_READ);
	m->accept_watcher[m->n_fd].data = m;
	ev_io_start(m->loop, &m->accept_watcher[m->n_fd]);
	m->n_fd++;
	log_info("metrics: listening on http://%s/metrics", text);
	if (!is_loopback(a))
		log_warn("metrics: %s is not a loopback address: whoever reaches it can read every "
			 "peer's public key and allowed IPs; bind it to 127.0.0.1, ::1 or a "
			 "management address",
			 text);
	return 0;
fail:
	rc = -errno;
	log_error("metrics: cannot listen on %s: %s", text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int metrics_http_create(struct ev_loop *loop, struct daemon *d, const union sockaddr_inet *addrs,
			size_t n, struct metrics_http **out)
{
	struct metrics_http *m;

	*out = NULL;
	if (n > METRICS_HTTP_MAX_LISTEN)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->d = d;
	list_init(&m->conns);
	ev_timer_init(&m->pause, on_pause_end, ACCEPT_PAUSE_S, 0);
	m->pause.data = m;
	for (size_t i = 0; i < n; i++) {
		int rc = listen_on(m, &addrs[i]);

		if (rc != 0) {
			metrics_http_destroy(m);
			return rc;
		}
	}
	*out = m;
	return 0;
}

void metrics_http_destroy(struct metrics_http *m)
{
	if (!m)
		return;
	while (!list_empty(&m->conns))
		conn_close(list_entry(m->conns.next, struct http_conn, node));
	ev_timer_stop(m->loop, &m->pause);
	for (size_t i = 0; i < m->n_fd; i++) {
		ev_io_stop(m->loop, &m->accept_watcher[i]);
		close(m->fd[i]);
	}
	free(m);
}
