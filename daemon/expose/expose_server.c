// SPDX-License-Identifier: MIT
/*
 * Localhost tunnels, server side: a session per control connection of a
 * client peer (one per client tunnel address: a client that reaches us at
 * an IPv4 and an IPv6 address has two), the public listeners each asks for
 * and AllowExpose permits, and for each accepted public connection a new TCP
 * connection through the tunnel to the client's control port, opened by a
 * "connect" line, then relayed. A listener whose session ended keeps its
 * port for the grace period (ExposeGracePeriod), not accepting, so that a
 * client that comes back takes it again.
 */
#include "expose_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "changes.h"
#include "clock.h"
#include "iface.h"
#include "peer.h"

/* ---- Listeners ---- */

static void listener_destroy(struct expose_listener *l)
{
	expose_event(l->ex, "expose-withdrawn", l->peer_key, true, l->name, l->port, NULL, NULL);
	expose_relays_detach(l->ex, l);
	ev_io_stop(l->ex->loop, &l->accept_watcher);
	ev_timer_stop(l->ex->loop, &l->timer);
	if (l->fd >= 0)
		close(l->fd);
	list_del(&l->node);
	free(l);
}

static void describe(const struct expose_listener *l, char *buf, size_t len)
{
	char label[KEY_BASE64_LEN + 1];

	snprintf(buf, len, "public port %u (peer %s, %s)", l->port,
		 expose_peer_label(l->ex, l->peer_key, label, sizeof(label)), l->name);
}

static void listener_relay_done(struct relay *r, void *owner, int err)
{
	struct expose_listener *l = owner;

	list_del(&r->node);
	expose_fds_put(2);
	expose_source_put(r->tag);
	if (l)
		l->n_active--;
	if (err == -ETIME)
		log_debug("expose: a relayed connection was idle too long; reset");
	else if (err)
		log_debug("expose: a relayed connection failed: %s", strerror(-err));
}

/*
 * A user connected from remote to the public port: a connection through the
 * tunnel, then relay. It holds two units of the descriptor budget and src,
 * given back when it ends. -EMFILE or -ENFILE when out of descriptors (the
 * caller pauses).
 */
static int start_relay(struct expose_listener *l, int fd_user, const union sockaddr_inet *remote,
		       struct expose_source *src)
{
	struct expose *ex = l->ex;
	struct expose_session *ss = l->session;
	union sockaddr_inet local;
	socklen_t len = sizeof(local);
	char r[ADDR_STR_LEN], lo[ADDR_STR_LEN], *text;
	struct relay *relay;
	json_t *hdr;
	bool in_progress;
	int fd;

	if (getsockname(fd_user, &local.sa, &len) != 0) {
		relay_close_reset(fd_user);
		expose_fds_put(2);
		expose_source_put(src);
		return 0;
	}
	expose_unmap(&local);
	hdr = json_pack("{s:s,s:i,s:s,s:s,s:s}", "op", "connect", "version",
			EXPOSE_PROTOCOL_VERSION, "name", l->name, "remote",
			sockaddr_format(r, sizeof(r), remote), "local",
			sockaddr_format(lo, sizeof(lo), &local));
	text = hdr ? json_dumps(hdr, JSON_COMPACT) : NULL;
	json_decref(hdr);
	fd = text ? expose_connect(ex, &ss->local, &ss->client, &in_progress) : -ENOMEM;
	if (fd < 0) {
		if (fd != -EMFILE && fd != -ENFILE)
			expose_log_remote(ex, LOG_LEVEL_WARN,
					  "public port %u: cannot reach the client: %s", l->port,
					  strerror(-fd));
		free(text);
		relay_close_reset(fd_user);
		expose_fds_put(2);
		expose_source_put(src);
		return fd == -EMFILE || fd == -ENFILE ? fd : 0;
	}
	len = (socklen_t)strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for its NUL: the line ends there */
	if (expose_relay(ex, fd_user, fd, in_progress, text, len + 1, l, listener_relay_done,
			 &relay) == 0) {
		relay->tag = src;
		l->n_active++;
		l->n_total++;
	} else {
		expose_source_put(src);
	}
	free(text);
	return 0;
}

/* Out of descriptors: the queue stays readable, so wait instead of spinning. */
static void pause_accept(struct expose_listener *l)
{
	expose_log_remote(l->ex, LOG_LEVEL_WARN,
			  "public port %u: out of file descriptors; pausing for %.0f s", l->port,
			  EXPOSE_PAUSE_S);
	ev_io_stop(l->ex->loop, &l->accept_watcher);
	ev_timer_stop(l->ex->loop, &l->timer);
	ev_timer_set(&l->timer, EXPOSE_PAUSE_S, 0);
	ev_timer_start(l->ex->loop, &l->timer);
}

/*
 * Whether a connection from remote may be relayed: the limits of the port,
 * of its source and of the daemon's descriptors. Takes what it needs (*src
 * and two units of the budget); else says why, and takes nothing.
 */
static bool admit(struct expose_listener *l, const union sockaddr_inet *remote,
		  struct expose_source **src)
{
	struct expose *ex = l->ex;
	char addr[ADDR_STR_LEN];
	size_t n;

	*src = NULL;
	if (l->n_active >= expose_max_connections(ex)) {
		expose_log_remote(
			ex, LOG_LEVEL_WARN,
			"public port %u: %zu connections (ExposeMaxConnections); refusing one",
			l->port, l->n_active);
		return false;
	}
	*src = expose_source_take(ex->sources, remote, expose_max_per_source(ex), &n);
	if (!*src) {
		expose_log_remote(
			ex, LOG_LEVEL_WARN,
			"public port %u: %zu connections from %s (ExposeMaxConnectionsPerSource); refusing one",
			l->port, n, expose_source_format(addr, sizeof(addr), remote));
		return false;
	}
	if (!expose_fds_take_relay()) {
		expose_log_remote(
			ex, LOG_LEVEL_WARN,
			"public port %u: %zu relayed connections, all the open files limit allows; refusing one",
			l->port, expose_fds_held() / 2);
		expose_source_put(*src);
		*src = NULL;
		return false;
	}
	return true;
}

static void expose_on_public_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct expose_listener *l = w->data;

	(void)loop;
	(void)revents;
	for (int i = 0; i < 64 && l->session; i++) {
		union sockaddr_inet remote;
		socklen_t len = sizeof(remote);
		struct expose_source *src;
		int fd = accept4(l->fd, &remote.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				pause_accept(l);
			return;
		}
		expose_unmap(&remote);
		/* Refused at once, with a reset: waiting in the queue would hold others up too. */
		if (!admit(l, &remote, &src)) {
			l->n_refused++;
			relay_close_reset(fd);
			continue;
		}
		if (start_relay(l, fd, &remote, src) != 0) {
			/* This one is lost; those queued behind it wait for descriptors. */
			l->n_refused++;
			pause_accept(l);
			return;
		}
	}
}

static void expose_on_listener_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct expose_listener *l = w->data;
	char what[160];

	(void)revents;
	if (l->session) {
		ev_io_start(loop, &l->accept_watcher); /* the pause is over */
		return;
	}
	describe(l, what, sizeof(what));
	expose_log_remote(l->ex, LOG_LEVEL_INFO,
			  "%s: closed, the peer did not come back within the grace period", what);
	listener_destroy(l);
}

/* The session ended: keep the port (not accepting) for the grace period. */
static void listener_orphan(struct expose_listener *l)
{
	double grace_s = expose_grace_s(l->ex);
	char what[160];

	describe(l, what, sizeof(what));
	l->session = NULL;
	ev_io_stop(l->ex->loop, &l->accept_watcher);
	ev_timer_stop(l->ex->loop, &l->timer);
	if (grace_s <= 0) {
		expose_log_remote(l->ex, LOG_LEVEL_INFO, "%s: closed with its control connection",
				  what);
		listener_destroy(l);
		return;
	}
	expose_log_remote(l->ex, LOG_LEVEL_INFO, "%s: kept for %.0f s for the peer to come back",
			  what, grace_s);
	l->grace_ends_s = clock_now_s() + grace_s;
	ev_timer_set(&l->timer, grace_s, 0);
	ev_timer_start(l->ex->loop, &l->timer);
}

static void listener_attach(struct expose_listener *l, struct expose_session *ss)
{
	l->session = ss;
	ev_timer_stop(l->ex->loop, &l->timer);
	ev_io_start(l->ex->loop, &l->accept_watcher);
}

/* ExposeBindAddress and port, or every address of both families. */
static union sockaddr_inet bind_address(const struct expose *ex, uint16_t port)
{
	const struct iface_config *cfg = ex->iface->cfg;
	union sockaddr_inet a = {0};

	if (cfg->has_expose_bind_address)
		a = cfg->expose_bind;
	else
		a.in6.sin6_family = AF_INET6;
	if (a.sa.sa_family == AF_INET)
		a.in.sin_port = htons(port);
	else
		a.in6.sin6_port = htons(port);
	return a;
}

/* Bind the public port; without IPv6, the IPv4 wildcard. -errno on failure. */
static int bind_public(const struct expose *ex, uint16_t port, union sockaddr_inet *bound)
{
	int fd;

	*bound = bind_address(ex, port);
	fd = expose_listen_tcp(bound);
	if (fd == -EAFNOSUPPORT && !ex->iface->cfg->has_expose_bind_address) {
		memset(bound, 0, sizeof(*bound));
		bound->in.sin_family = AF_INET;
		bound->in.sin_port = htons(port);
		fd = expose_listen_tcp(bound);
	}
	return fd;
}

static int listener_open(struct expose *ex, const uint8_t key[KEY_LEN], const char *name,
			 uint16_t port, struct expose_listener **out)
{
	struct expose_listener *l;
	int fd;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	fd = bind_public(ex, port, &l->bound);
	if (fd < 0) {
		free(l);
		return fd;
	}
	l->ex = ex;
	l->fd = fd;
	memcpy(l->peer_key, key, KEY_LEN);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->port = port;
	ev_io_init(&l->accept_watcher, expose_on_public_accept, fd, EV_READ);
	l->accept_watcher.data = l;
	ev_timer_init(&l->timer, expose_on_listener_timer, 0, 0);
	l->timer.data = l;
	list_add_tail(&l->node, &ex->listeners);
	*out = l;
	return 0;
}

static struct expose_listener *listener_by_port(struct expose *ex, uint16_t port)
{
	struct expose_listener *l;

	list_for_each(l, &ex->listeners, node)
		if (l->port == port)
			return l;
	return NULL;
}

static struct expose_listener *listener_by_name(struct expose *ex, const uint8_t key[KEY_LEN],
						const char *name)
{
	struct expose_listener *l;

	list_for_each(l, &ex->listeners, node)
		if (memcmp(l->peer_key, key, KEY_LEN) == 0 && strcmp(l->name, name) == 0)
			return l;
	return NULL;
}

static size_t listeners_of(struct expose *ex, const uint8_t key[KEY_LEN])
{
	struct expose_listener *l;
	size_t n = 0;

	list_for_each(l, &ex->listeners, node)
		n += memcmp(l->peer_key, key, KEY_LEN) == 0;
	return n;
}

/* ---- Sessions ---- */

static void session_destroy(struct expose_session *ss, const char *why)
{
	struct expose_listener *l, *tmp;
	char label[KEY_BASE64_LEN + 1];

	expose_log_remote(ss->ex, LOG_LEVEL_INFO,
			  "peer %s: localhost-tunnel control connection closed: %s",
			  expose_peer_label(ss->ex, ss->peer_key, label, sizeof(label)), why);
	list_for_each_safe(l, tmp, &ss->ex->listeners, node)
		if (l->session == ss)
			listener_orphan(l);
	ev_timer_stop(ss->ex->loop, &ss->idle);
	jsonline_destroy(ss->conn);
	list_del(&ss->node);
	free(ss);
}

/* Send msg; false (the session closed) when it cannot be queued. */
static bool send_msg(struct expose_session *ss, json_t *msg)
{
	if (jsonline_send(ss->conn, msg) == 0)
		return true;
	session_destroy(ss, "the peer does not read our answers");
	return false;
}

static bool answer_error(struct expose_session *ss, const char *op, const char *name,
			 const char *code, const char *message)
{
	if (strcmp(op, "expose") == 0)
		expose_event(ss->ex, "expose-refused", ss->peer_key, true, name, 0, NULL, message);
	return send_msg(ss, json_pack("{s:s,s:s?,s:b,s:s,s:s}", "op", op, "name", name, "ok", false,
				      "code", code, "message", message));
}

/* Whether peer pc may publish port; else why, in words for the client. */
static bool allowed(const struct peer_config *pc, const char *label, uint16_t port, char *why,
		    size_t len)
{
	char ranges[200];

	if (port_ranges_contain(pc->allow_expose, pc->n_allow_expose, port))
		return true;
	if (pc->n_allow_expose == 0)
		snprintf(
			why, len,
			"peer %s may not publish any port here (its [Peer] on the server has no AllowExpose)",
			label);
	else
		snprintf(why, len, "port %u is not allowed for peer %s (AllowExpose = %s)", port,
			 label,
			 port_ranges_format(ranges, sizeof(ranges), pc->allow_expose,
					    pc->n_allow_expose));
	return false;
}

/* An existing listener for port may go to this session's peer under name, or why not. */
static const char *in_use(struct expose_session *ss, const struct expose_listener *l,
			  const char *name, char *why, size_t len)
{
	if (memcmp(l->peer_key, ss->peer_key, KEY_LEN) != 0)
		snprintf(why, len, "port %u is already published by another peer", l->port);
	else if (strcmp(l->name, name) != 0)
		snprintf(why, len, "port %u is already published by this peer as \"%s\"", l->port,
			 l->name);
	else
		return NULL;
	return why;
}

/* Open the listener; a failure in words for the client. */
static struct expose_listener *open_for(struct expose_session *ss, const char *name, uint16_t port,
					const char **code, char *why, size_t len)
{
	struct expose_listener *l, *old = listener_by_name(ss->ex, ss->peer_key, name);
	int rc;

	/* The service moves to another port (a name is the peer's, whichever session asks). */
	if (old)
		listener_destroy(old);
	if (listeners_of(ss->ex, ss->peer_key) >= EXPOSE_MAX_SERVICES_PER_PEER) {
		*code = "limit";
		snprintf(why, len, "a peer may publish at most %d ports",
			 EXPOSE_MAX_SERVICES_PER_PEER);
		return NULL;
	}
	rc = listener_open(ss->ex, ss->peer_key, name, port, &l);
	if (rc == 0)
		return l;
	*code = rc == -EADDRINUSE ? "in_use" : "failed";
	if (rc == -EADDRINUSE)
		snprintf(why, len, "port %u is in use on the server by another program", port);
	else if (rc == -EACCES)
		snprintf(
			why, len,
			"cannot listen on port %u: permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)",
			port);
	else
		snprintf(why, len, "cannot listen on port %u: %s", port, strerror(-rc));
	return NULL;
}

static bool handle_expose(struct expose_session *ss, json_t *msg)
{
	const char *name = json_string_value(json_object_get(msg, "name")), *code = "not_allowed";
	json_t *port_v = json_object_get(msg, "public_port"),
	       *ver = json_object_get(msg, "version");
	const struct peer_config *pc = expose_peer_config(ss->ex, ss->peer_key);
	char label[KEY_BASE64_LEN + 1], why[300], listen[ADDR_STR_LEN];
	struct expose_listener *l;
	json_int_t port = json_integer_value(port_v);
	bool is_new;

	if (!pc) {
		session_destroy(ss, "its peer was removed");
		return false;
	}
	if (ver && json_integer_value(ver) != EXPOSE_PROTOCOL_VERSION)
		return answer_error(ss, "expose", name, "unsupported_version",
				    "this server speaks version 1");
	if (!name || !expose_name_valid(name) || !json_is_integer(port_v) || port < 1 ||
	    port > 65535)
		return answer_error(
			ss, "expose", name, "bad_request",
			"expected a name (1-32 of A-Z a-z 0-9 . _ -) and a public_port 1-65535");
	expose_peer_label(ss->ex, ss->peer_key, label, sizeof(label));
	if (!allowed(pc, label, (uint16_t)port, why, sizeof(why)))
		return answer_error(ss, "expose", name, "not_allowed", why);
	l = listener_by_port(ss->ex, (uint16_t)port);
	if (l && in_use(ss, l, name, why, sizeof(why)))
		return answer_error(ss, "expose", name, "in_use", why);
	/*
	 * Same peer and name: it takes the listener back, also from the peer's
	 * other session (the service moved to this connection).
	 */
	is_new = !l || !l->session;
	if (!l && !(l = open_for(ss, name, (uint16_t)port, &code, why, sizeof(why))))
		return answer_error(ss, "expose", name, code, why);
	l->proxy_protocol = json_is_true(json_object_get(msg, "proxy_protocol"));
	listener_attach(l, ss);
	expose_format_listen(listen, sizeof(listen), &l->bound);
	if (is_new)
		expose_log_remote(ss->ex, LOG_LEVEL_INFO, "peer %s: published %s on %s", label,
				  name, listen);
	if (is_new)
		expose_event(ss->ex, "expose-published", ss->peer_key, true, name, l->port, listen,
			     NULL);
	return send_msg(ss, json_pack("{s:s,s:s,s:b,s:s}", "op", "expose", "name", name, "ok", true,
				      "listen", listen));
}

static bool handle_unexpose(struct expose_session *ss, json_t *msg)
{
	const char *name = expose_str(msg, "name");
	struct expose_listener *l = listener_by_name(ss->ex, ss->peer_key, name);
	char what[160];

	/*
	 * Another session of this peer may have taken the name since: a
	 * service that moved to another server address is withdrawn on the old
	 * connection and asked for on the new one, in no set order.
	 */
	if (l && (!l->session || l->session == ss)) {
		describe(l, what, sizeof(what));
		expose_log_remote(ss->ex, LOG_LEVEL_INFO, "%s: closed at the peer's request", what);
		listener_destroy(l);
	}
	return send_msg(ss, json_pack("{s:s,s:s,s:b}", "op", "unexpose", "name", name, "ok", true));
}

static bool session_on_msg(struct jsonline *conn, json_t *msg)
{
	struct expose_session *ss = conn->owner;
	const char *op = expose_str(msg, "op");
	char label[KEY_BASE64_LEN + 1];

	ev_timer_again(ss->ex->loop, &ss->idle);
	if (!msg) {
		expose_log_remote(ss->ex, LOG_LEVEL_WARN,
				  "peer %s: a control line that is not a JSON object; closing",
				  expose_peer_label(ss->ex, ss->peer_key, label, sizeof(label)));
		session_destroy(ss, "protocol error");
		return false;
	}
	if (strcmp(op, "ping") == 0)
		return send_msg(ss, json_pack("{s:s}", "op", "pong"));
	if (strcmp(op, "expose") == 0)
		return handle_expose(ss, msg);
	if (strcmp(op, "unexpose") == 0)
		return handle_unexpose(ss, msg);
	return answer_error(ss, op, NULL, "unknown_op", "this server does not know that op");
}

static void session_on_close(struct jsonline *conn, int err)
{
	struct expose_session *ss = conn->owner;

	session_destroy(ss, err == 0	       ? "closed by the peer"
			    : err == -EMSGSIZE ? "a line that is too long"
					       : strerror(-err));
}

static void expose_on_session_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	session_destroy(w->data, "nothing heard for 30 s");
}

/* Sessions of peer_key now. */
static size_t sessions_of(const struct expose *ex, const uint8_t peer_key[KEY_LEN])
{
	const struct expose_session *ss;
	size_t n = 0;

	list_for_each(ss, &ex->sessions, node)
		n += memcmp(ss->peer_key, peer_key, KEY_LEN) == 0;
	return n;
}

/* Over the limit: say so on conn (a fresh socket takes one short line at once), and close it. */
static void refuse_session(struct expose *ex, const uint8_t peer_key[KEY_LEN],
			   struct jsonline *conn)
{
	static const char line[] =
		"{\"op\":\"expose\",\"ok\":false,\"code\":\"limit\",\"message\":\"too many control connections from this peer\"}\n";
	char label[KEY_BASE64_LEN + 1];

	(void)!send(conn->fd, line, sizeof(line) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	jsonline_destroy(conn);
	expose_log_remote(ex, LOG_LEVEL_WARN,
			  "peer %s: %d localhost-tunnel control connections already; refusing one",
			  expose_peer_label(ex, peer_key, label, sizeof(label)),
			  EXPOSE_MAX_SESSIONS_PER_PEER);
}

bool expose_server_session(struct expose *ex, const uint8_t peer_key[KEY_LEN],
			   const union sockaddr_inet *client, const union sockaddr_inet *local,
			   struct jsonline *conn, json_t *msg)
{
	struct expose_session *ss, *old;
	char label[KEY_BASE64_LEN + 1], addr[ADDR_STR_LEN];

	/*
	 * One session per peer, client tunnel address and our tunnel address:
	 * a client that restarted comes back between the same two addresses
	 * (from another port) and replaces its stale session, while a client
	 * with a connection to each of our addresses (IPv4 and IPv6, or two of
	 * one family) keeps them all.
	 */
	list_for_each(old, &ex->sessions, node) {
		if (memcmp(old->peer_key, peer_key, KEY_LEN) == 0 &&
		    expose_same_address(&old->client, client) &&
		    expose_same_address(&old->local, local)) {
			session_destroy(old, "replaced by a new connection from the peer");
			break;
		}
	}
	if (sessions_of(ex, peer_key) >= EXPOSE_MAX_SESSIONS_PER_PEER) {
		refuse_session(ex, peer_key, conn);
		return false;
	}
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		jsonline_destroy(conn);
		return false;
	}
	ss->ex = ex;
	memcpy(ss->peer_key, peer_key, KEY_LEN);
	ss->client = *client;
	ss->local = *local;
	ss->conn = conn;
	conn->owner = ss;
	conn->on_msg = session_on_msg;
	conn->on_close = session_on_close;
	ev_init(&ss->idle, expose_on_session_idle);
	ss->idle.repeat = EXPOSE_DEAD_AFTER_S;
	ss->idle.data = ss;
	list_add_tail(&ss->node, &ex->sessions);
	/* Data connections go to the client's control port, from the address it reached. */
	if (ss->client.sa.sa_family == AF_INET)
		ss->client.in.sin_port = htons(ex->control_port);
	else
		ss->client.in6.sin6_port = htons(ex->control_port);
	expose_log_remote(ex, LOG_LEVEL_INFO,
			  "peer %s: localhost-tunnel control connection from %s",
			  expose_peer_label(ex, peer_key, label, sizeof(label)),
			  sockaddr_format(addr, sizeof(addr), client));
	return session_on_msg(conn, msg);
}

/* ---- Applying the configuration ---- */

bool expose_server_is_client(const struct peer_config *pc, const union sockaddr_inet *remote)
{
	if (!pc->n_allow_expose)
		return false;
	if (remote->sa.sa_family == AF_INET)
		return expose_config_client_allowed(pc, AF_INET, &remote->in.sin_addr);
	return expose_config_client_allowed(pc, AF_INET6, &remote->in6.sin6_addr);
}

bool expose_server_wanted(const struct expose *ex)
{
	/* Counted as peers come and go: a walk of 100,000 peers on each change cost 1 ms. */
	return ex->iface->cfg->n_expose_peers > 0;
}

/*
 * Move l to the ExposeBindAddress now in force; on failure it stays where it
 * is, unless its old socket had to be closed first: then it is gone.
 */
static void rebind(struct expose_listener *l, json_t *changes)
{
	union sockaddr_inet want = bind_address(l->ex, l->port), bound;
	char what[160], buf[ADDR_STR_LEN];
	int fd;

	if (sockaddr_equal(&want, &l->bound) ||
	    (!l->ex->iface->cfg->has_expose_bind_address && l->bound.sa.sa_family == AF_INET &&
	     l->bound.in.sin_addr.s_addr == htonl(INADDR_ANY)))
		return;
	describe(l, what, sizeof(what));
	/* The same port on another address may collide with ours: free it first if need be. */
	fd = bind_public(l->ex, l->port, &bound);
	if (fd == -EADDRINUSE) {
		ev_io_stop(l->ex->loop, &l->accept_watcher);
		close(l->fd);
		l->fd = -1;
		fd = bind_public(l->ex, l->port, &bound);
	}
	if (fd < 0) {
		char why[ADDR_STR_LEN + 100], old[ADDR_STR_LEN];

		snprintf(why, sizeof(why), "cannot listen on %s: %s",
			 expose_format_listen(buf, sizeof(buf), &want), strerror(-fd));
		log_error("%s: %s: %s", l->ex->iface->name, what, why);
		if (l->fd >= 0) {
			note_change(changes, true, "%s: %s: stays on %s (%s)", l->ex->iface->name,
				    what, expose_format_listen(old, sizeof(old), &l->bound), why);
			return;
		}
		/* The old port is closed too: the client must not go on showing it active. */
		if (l->session)
			(void)jsonline_send(l->session->conn,
					    json_pack("{s:s,s:s,s:s,s:s}", "op", "closed", "name",
						      l->name, "code", "failed", "message", why));
		note_change(changes, true, "%s: %s: closed (%s)", l->ex->iface->name, what, why);
		listener_destroy(l);
		return;
	}
	ev_io_stop(l->ex->loop, &l->accept_watcher);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	l->bound = bound;
	ev_io_set(&l->accept_watcher, fd, EV_READ);
	if (l->session)
		ev_io_start(l->ex->loop, &l->accept_watcher);
	note_change(changes, false, "%s: %s: now on %s", l->ex->iface->name, what,
		    expose_format_listen(buf, sizeof(buf), &bound));
}

void expose_server_sync(struct expose *ex, json_t *changes)
{
	struct expose_session *ss, *stmp;
	struct expose_listener *l, *ltmp;
	char what[160], why[300], label[KEY_BASE64_LEN + 1];

	/*
	 * "changed": AllowExpose may be wider now; the client asks again for
	 * what it was refused (before any "closed" below, which it should keep).
	 */
	list_for_each_safe(ss, stmp, &ex->sessions, node) {
		const struct peer_config *pc = expose_peer_config(ex, ss->peer_key);
		struct peer *owner = expose_peer_of(ex, &ss->client);

		if (!pc)
			session_destroy(ss, "its peer was removed");
		else if (!owner || memcmp(owner->public_key, ss->peer_key, KEY_LEN) != 0)
			/* Data connections to that address would reach another peer now. */
			session_destroy(ss, "its address is no longer in its AllowedIPs");
		else if (pc->n_allow_expose && !expose_server_is_client(pc, &ss->client))
			session_destroy(ss, "its address is no longer the peer's own (AllowExposeFrom)");
		else
			(void)send_msg(ss, json_pack("{s:s}", "op", "changed"));
	}
	list_for_each_safe(l, ltmp, &ex->listeners, node) {
		const struct peer_config *pc = expose_peer_config(ex, l->peer_key);

		describe(l, what, sizeof(what));
		if (pc && allowed(pc, expose_peer_label(ex, l->peer_key, label, sizeof(label)),
				  l->port, why, sizeof(why))) {
			rebind(l, changes);
			continue;
		}
		if (l->session)
			(void)jsonline_send(l->session->conn,
					    json_pack("{s:s,s:s,s:s,s:s}", "op", "closed", "name",
						      l->name, "code", "not_allowed", "message",
						      pc ? why : "the peer was removed"));
		note_change(changes, false, "%s: %s: closed (%s)", ex->iface->name, what,
			    pc ? "no longer in AllowExpose" : "its peer was removed");
		listener_destroy(l);
	}
}

/* ---- show ---- */

json_t *expose_server_json(const struct expose_listener *l)
{
	char label[KEY_BASE64_LEN + 1], key[KEY_BASE64_LEN + 1], listen[ADDR_STR_LEN];
	double left_s = l->grace_ends_s - clock_now_s();

	key_to_base64(key, l->peer_key);
	return json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I}", "port", (int)l->port,
			 "listen", expose_format_listen(listen, sizeof(listen), &l->bound), "peer",
			 expose_peer_label(l->ex, l->peer_key, label, sizeof(label)), "public_key",
			 key, "name", l->name, "state", l->session ? "active" : "grace",
			 "proxy_protocol", l->proxy_protocol, "grace_left",
			 (json_int_t)(l->session || left_s < 0 ? 0 : left_s + 0.5),
			 "active_connections", (json_int_t)l->n_active, "total_connections",
			 (json_int_t)l->n_total, "refused_connections", (json_int_t)l->n_refused);
}

void expose_server_destroy_all(struct expose *ex)
{
	while (!list_empty(&ex->listeners))
		listener_destroy(list_entry(ex->listeners.next, struct expose_listener, node));
	while (!list_empty(&ex->sessions)) {
		struct expose_session *ss =
			list_entry(ex->sessions.next, struct expose_session, node);

		ev_timer_stop(ex->loop, &ss->idle);
		jsonline_destroy(ss->conn);
		list_del(&ss->node);
		free(ss);
	}
}
